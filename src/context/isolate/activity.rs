//! Token usage per client per day, and secrets' last use, counted in the isolate and written
//! in the background, so the token endpoint never waits for (or pays for) a KV write.
//!
//! Usage: each isolate keeps, per client and UTC day, the number of tokens it issued, and
//! writes that running total under its own usage key (see the key space) at most once
//! per [`USAGE_FLUSH_MS`] per client. Only this isolate writes that key, so isolates never
//! overwrite each other, and a failed write is healed by the next one (it carries the total).
//! Readers sum the keys, which expire after a while. Tokens issued since an
//! isolate's last flush are lost if the isolate is evicted before another request arrives.
//!
//! Last use: each secret's last-use key holds epoch seconds, written at most once per
//! [`LAST_USED_INTERVAL_SECS`] per secret per isolate. It is its own key, never the client
//! record, so the token path cannot race an admin edit; admin reads merge it in.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::error::Error;
use crate::ports::ActivityStore;
use crate::registry::clients::ClientId;
use crate::support::random::{random_id, Random};
use crate::support::time::date_of_day;

/// Shortest time between two usage writes for one client from one isolate.
pub const USAGE_FLUSH_MS: u64 = 60_000;
/// Shortest time between two last-use writes for one secret from one isolate (about an hour).
pub const LAST_USED_INTERVAL_SECS: u64 = 3_600;

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
    /// The earliest time (ms) a usage write falls due; `None` when every count is written.
    /// Lets the call after every request return at once when nothing is due, instead of
    /// walking every client's counters.
    due_at: Option<u64>,
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
        let due = state
            .flushed_at
            .get(client)
            .map_or(now_ms, |at| at + USAGE_FLUSH_MS);
        state.due_at = Some(state.due_at.map_or(due, |d| d.min(due)));
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
    pub fn take_due(&self, now_ms: u64, rng: &dyn Random) -> Vec<ActivityWrite> {
        let mut state = self.0.borrow_mut();
        let nothing_due = state.due_at.is_none_or(|d| d > now_ms);
        if state.pending.is_empty() && nothing_due {
            return Vec::new();
        }
        let State {
            isolate,
            usage,
            flushed_at,
            pending,
            due_at,
            ..
        } = &mut *state;
        let mut writes = std::mem::take(pending);
        if nothing_due {
            return writes;
        }
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
            // Without randomness no key can be made; keep counting and try next time.
            let Ok(id) = random_id::<9>(rng) else {
                return writes;
            };
            *isolate = Some(id);
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
        // Counts still unwritten are those of clients written less than a minute ago.
        *due_at = usage
            .iter()
            .filter(|(_, c)| c.total != c.written)
            .filter_map(|((client, _), _)| flushed_at.get(client).map(|at| at + USAGE_FLUSH_MS))
            .min();
        writes
    }
}

/// Performs background writes; each failure is reported, the rest still go out.
pub async fn write(store: &dyn ActivityStore, writes: Vec<ActivityWrite>) -> Vec<Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeqRandom;

    fn client() -> ClientId {
        ClientId::parse("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap()
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
    fn each_client_falls_due_a_minute_after_its_own_last_write() {
        let a = Activity::default();
        let rng = SeqRandom::default();
        let other = ClientId::parse("1f8fad5b-d9cb-469f-a165-70867728950e").unwrap();
        let t = 20_780 * 86_400_000;
        a.record_token(&client(), None, t);
        assert_eq!(a.take_due(t, &rng).len(), 1);
        // A client never written before is due at once, whatever the other's schedule.
        a.record_token(&other, None, t + 30_000);
        a.record_token(&client(), None, t + 31_000);
        let w = a.take_due(t + 31_000, &rng);
        assert!(matches!(&w[..], [ActivityWrite::Usage { client: c, .. }] if *c == other));
        assert_eq!(a.take_due(t + USAGE_FLUSH_MS - 1, &rng), []);
        let w = a.take_due(t + USAGE_FLUSH_MS, &rng);
        assert!(
            matches!(&w[..], [ActivityWrite::Usage { client: c, tokens: 2, .. }] if *c == client())
        );
        assert_eq!(a.take_due(t + 10 * USAGE_FLUSH_MS, &rng), []);
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
}
