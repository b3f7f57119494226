//! Token usage per client per day, and secrets' last use, counted in the isolate and written
//! in the background, so the token endpoint never waits for (or pays for) a KV write.
//!
//! Usage: each isolate keeps, per client and UTC day, the number of tokens it issued, and
//! writes that running total to `usage:{client_id}:{yyyy-mm-dd}:{isolate_id}` at most once
//! per [`USAGE_FLUSH_MS`] per client. Only this isolate writes that key, so isolates never
//! overwrite each other, and a failed write is healed by the next one (it carries the total).
//! Readers sum the keys. Keys expire after [`USAGE_TTL_SECS`]. Tokens issued since an
//! isolate's last flush are lost if the isolate is evicted before another request arrives.
//!
//! Last use: `used:{client_id}:{secret_id}` holds epoch seconds, written at most once per
//! [`LAST_USED_INTERVAL_SECS`] per secret per isolate. It is its own key, never the client
//! record, so the token path cannot race an admin edit; admin reads merge it in.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::clients::{ClientId, ClientRecord};
use crate::encoding::b64url;
use crate::error::Error;
use crate::platform::{ActivityStore, Random};

/// Shortest time between two usage writes for one client from one isolate.
pub const USAGE_FLUSH_MS: u64 = 60_000;
/// How long a usage key lives (35 days: the 30 shown, and some slack).
pub const USAGE_TTL_SECS: u64 = 35 * 86_400;
/// Days shown by the usage endpoint, today included.
pub const USAGE_DAYS: u64 = 30;
/// Shortest time between two last-use writes for one secret from one isolate (about an hour).
pub const LAST_USED_INTERVAL_SECS: u64 = 3_600;

/// Prefix of a client's usage keys: `usage:{client_id}:{yyyy-mm-dd}:{isolate_id}`.
pub fn usage_prefix(client: &ClientId) -> String {
    format!("usage:{}:", client.as_str())
}

/// One isolate's usage key for a client and day.
pub fn usage_key(client: &ClientId, date: &str, isolate: &str) -> String {
    format!("{}{date}:{isolate}", usage_prefix(client))
}

/// Prefix of a client's last-use keys: `used:{client_id}:{secret_id}`.
pub fn used_prefix(client: &ClientId) -> String {
    format!("used:{}:", client.as_str())
}

/// The last-use key of one secret.
pub fn used_key(client: &ClientId, secret_id: &str) -> String {
    format!("{}{secret_id}", used_prefix(client))
}

/// The UTC calendar date of a day number (days since 1970-01-01), as `yyyy-mm-dd`.
pub fn date_of_day(day: u64) -> String {
    // Howard Hinnant's civil_from_days, for days on or after the epoch.
    let z = day + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A background write the isolate owes the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityWrite {
    /// This isolate's running total for a client on a day.
    Usage {
        /// The client.
        client: ClientId,
        /// `yyyy-mm-dd`.
        date: String,
        /// This isolate's id.
        isolate: String,
        /// Tokens issued by this isolate to the client that day.
        tokens: u64,
    },
    /// A secret's last use.
    LastUsed {
        /// The client.
        client: ClientId,
        /// The secret.
        secret_id: String,
        /// Epoch seconds.
        at: u64,
    },
}

#[derive(Debug, Default)]
struct Counter {
    total: u64,
    written: u64,
}

#[derive(Debug, Default)]
struct State {
    isolate: Option<String>,
    /// Per client and day number: issued and already written.
    usage: HashMap<(ClientId, u64), Counter>,
    /// Per client: when its usage was last written (ms).
    flushed_at: HashMap<ClientId, u64>,
    /// Per client and secret: when a last use was last queued (s).
    used_at: HashMap<(ClientId, String), u64>,
    /// Last-use writes waiting to go out.
    pending: Vec<ActivityWrite>,
}

/// The isolate's activity counters.
#[derive(Debug, Default)]
pub struct Activity(RefCell<State>);

impl Activity {
    /// Counts one token issued to `client` with `secret_id` (if it used a secret) at `now_ms`.
    pub fn record_token(&self, client: &ClientId, secret_id: Option<&str>, now_ms: u64) {
        let mut state = self.0.borrow_mut();
        let day = now_ms / 86_400_000;
        state.usage.entry((client.clone(), day)).or_default().total += 1;
        if let Some(secret) = secret_id {
            let now = now_ms / 1000;
            let key = (client.clone(), secret.to_string());
            let due = state
                .used_at
                .get(&key)
                .is_none_or(|at| now.saturating_sub(*at) >= LAST_USED_INTERVAL_SECS);
            if due {
                state.used_at.insert(key, now);
                state.pending.push(ActivityWrite::LastUsed {
                    client: client.clone(),
                    secret_id: secret.to_string(),
                    at: now,
                });
            }
        }
    }

    /// The writes due at `now_ms`: queued last uses, and the usage totals of every client not
    /// written in the last [`USAGE_FLUSH_MS`]. Called after every request, so a later
    /// request of any kind carries the counts out.
    pub fn take_due(&self, now_ms: u64, rng: &impl Random) -> Vec<ActivityWrite> {
        let mut state = self.0.borrow_mut();
        let State {
            isolate,
            usage,
            flushed_at,
            pending,
            ..
        } = &mut *state;
        let mut writes = std::mem::take(pending);
        let dirty: Vec<(ClientId, u64)> = usage
            .iter()
            .filter(|((client, _), c)| {
                c.total != c.written
                    && flushed_at
                        .get(client)
                        .is_none_or(|at| now_ms.saturating_sub(*at) >= USAGE_FLUSH_MS)
            })
            .map(|(k, _)| k.clone())
            .collect();
        if !dirty.is_empty() && isolate.is_none() {
            let mut b = [0u8; 9];
            // Without randomness no key can be made; keep counting and try next time.
            if rng.fill(&mut b).is_err() {
                return writes;
            }
            *isolate = Some(b64url(b));
        }
        let isolate_id = isolate.clone().unwrap_or_default();
        for key in dirty {
            let Some(counter) = usage.get_mut(&key) else {
                continue;
            };
            counter.written = counter.total;
            flushed_at.insert(key.0.clone(), now_ms);
            writes.push(ActivityWrite::Usage {
                client: key.0,
                date: date_of_day(key.1),
                isolate: isolate_id.clone(),
                tokens: counter.total,
            });
        }
        // Past days that are fully written are done with.
        let today = now_ms / 86_400_000;
        usage.retain(|(_, day), c| *day >= today || c.total != c.written);
        writes
    }
}

/// Performs background writes; each failure is reported, the rest still go out.
pub async fn write<S: ActivityStore>(store: &S, writes: Vec<ActivityWrite>) -> Vec<Error> {
    let mut errors = Vec::new();
    for w in writes {
        let result = match &w {
            ActivityWrite::Usage {
                client,
                date,
                isolate,
                tokens,
            } => store.put_usage(client, date, isolate, *tokens).await,
            ActivityWrite::LastUsed {
                client,
                secret_id,
                at,
            } => store.put_last_used(client, secret_id, *at).await,
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    errors
}

/// Per-day totals of a client for the [`USAGE_DAYS`] days ending today, oldest first.
pub fn daily_totals(entries: &[(String, u64)], now: u64) -> Vec<(String, u64)> {
    let today = now / 86_400;
    (0..USAGE_DAYS)
        .rev()
        .filter_map(|back| today.checked_sub(back))
        .map(|day| {
            let date = date_of_day(day);
            let tokens = entries
                .iter()
                .filter(|(d, _)| *d == date)
                .map(|(_, n)| n)
                .sum();
            (date, tokens)
        })
        .collect()
}

/// Puts recorded last uses into a record's secret metadata, for admin views.
pub fn merge_last_used(record: &mut ClientRecord, used: &[(String, u64)]) {
    for s in &mut record.secrets {
        if let Some((_, at)) = used.iter().find(|(id, _)| *id == s.meta.secret_id) {
            s.meta.last_used_at = Some(s.meta.last_used_at.map_or(*at, |x| x.max(*at)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SeqRandom;

    fn client() -> ClientId {
        ClientId::parse("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap()
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date_of_day(0), "1970-01-01");
        assert_eq!(date_of_day(11_016), "2000-02-29");
        assert_eq!(date_of_day(1_800_000_000 / 86_400), "2027-01-15");
        assert_eq!(date_of_day(20_780), "2026-11-23");
    }

    #[test]
    fn usage_is_written_at_most_once_a_minute_per_client() {
        let a = Activity::default();
        let rng = SeqRandom::default();
        let t = 20_780 * 86_400_000 + 1_000;
        a.record_token(&client(), None, t);
        let first = a.take_due(t, &rng);
        assert!(matches!(
            &first[..],
            [ActivityWrite::Usage { tokens: 1, .. }]
        ));
        a.record_token(&client(), None, t + 1_000);
        a.record_token(&client(), None, t + 2_000);
        assert_eq!(a.take_due(t + USAGE_FLUSH_MS - 1, &rng), []);
        let later = a.take_due(t + USAGE_FLUSH_MS, &rng);
        assert!(matches!(
            &later[..],
            [ActivityWrite::Usage { tokens: 3, .. }]
        ));
        assert_eq!(a.take_due(t + 10 * USAGE_FLUSH_MS, &rng), [], "nothing new");
    }

    #[test]
    fn the_isolate_id_is_stable_and_days_are_separate_keys() {
        let a = Activity::default();
        let rng = SeqRandom::default();
        let midnight = 20_781 * 86_400_000;
        a.record_token(&client(), None, midnight - 10_000);
        let w1 = a.take_due(midnight - 10_000, &rng);
        a.record_token(&client(), None, midnight - 5_000);
        a.record_token(&client(), None, midnight + 60_000);
        let mut w2 = a.take_due(midnight + 60_000, &rng);
        w2.sort_by_key(|w| format!("{w:?}"));
        let isolate = match &w1[0] {
            ActivityWrite::Usage { isolate, .. } => isolate.clone(),
            w => panic!("{w:?}"),
        };
        assert_eq!(
            w2,
            [
                ActivityWrite::Usage {
                    client: client(),
                    date: "2026-11-23".into(),
                    isolate: isolate.clone(),
                    tokens: 2
                },
                ActivityWrite::Usage {
                    client: client(),
                    date: "2026-11-24".into(),
                    isolate,
                    tokens: 1
                },
            ]
        );
    }

    #[test]
    fn last_use_is_queued_once_an_hour_per_secret() {
        let a = Activity::default();
        let rng = SeqRandom::default();
        let t = 1_800_000_000_000;
        let used = |w: &[ActivityWrite]| {
            w.iter()
                .filter(|w| matches!(w, ActivityWrite::LastUsed { .. }))
                .count()
        };
        a.record_token(&client(), Some("s1"), t);
        a.record_token(&client(), Some("s1"), t + 1_000);
        a.record_token(&client(), Some("s2"), t + 1_000);
        assert_eq!(used(&a.take_due(t + 1_000, &rng)), 2);
        a.record_token(&client(), Some("s1"), t + 3_599_000);
        assert_eq!(used(&a.take_due(t + 3_599_000, &rng)), 0);
        a.record_token(&client(), Some("s1"), t + 3_600_000);
        assert_eq!(used(&a.take_due(t + 3_600_000, &rng)), 1);
    }

    #[test]
    fn daily_totals_sum_isolates_and_cover_thirty_days() {
        let now = 20_780 * 86_400 + 5;
        let entries = vec![
            ("2026-11-23".to_string(), 3),
            ("2026-11-23".to_string(), 4),
            ("2026-11-20".to_string(), 1),
            ("2026-09-01".to_string(), 9),
        ];
        let days = daily_totals(&entries, now);
        assert_eq!(days.len(), 30);
        assert_eq!(days[29], ("2026-11-23".to_string(), 7));
        assert_eq!(days[26], ("2026-11-20".to_string(), 1));
        assert_eq!(days[0].0, "2026-10-25");
        assert_eq!(days.iter().map(|d| d.1).sum::<u64>(), 8);
    }
}
