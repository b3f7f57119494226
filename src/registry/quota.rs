//! Per-client token quotas: a client's `token_quota`, and how its guard counts tokens.
//!
//! A quota is `{"per_hour": N?, "per_day": N?, "enforce": bool}` (at least one limit, each
//! 1..[`MAX_QUOTA`]). Windows are fixed and aligned to UTC hours and days: the simplest rule
//! to state and to check, and it makes `Retry-After` exact (the seconds to the window's end,
//! when the whole window's count is freed). A sliding window would free tokens one by one
//! but needs a time per token, which neither the isolate nor the guard can afford to keep.
//!
//! Counting stays off the hot path. Each isolate counts the tokens it issues to the client
//! (see `services::token_quota`) and reports its *running totals* for the hour and the day to the
//! client's guard, in batches. The guard keeps one entry per isolate and window, raised to the
//! highest total reported ([`TokenCounts::count`]), and answers the sums. Totals rather
//! than increments make a report idempotent: a retried or reordered report never counts
//! twice, and one answer confirms every token the isolate had issued when it sent the report,
//! whatever other reports are still in flight. That is what makes the bound below hold.
//!
//! The bound. An isolate issues a token under an enforced quota only while (the other
//! isolates' tokens as its guard last told it) + (its own tokens) < N, and while fewer than B
//! of its own tokens are unconfirmed ([`TokenQuota::batch`]: B = N / 1000, at least 1 and at
//! most 1000, N the smaller limit); at B it reports on the request's path first. Take the
//! isolate `m` whose last answer was the guard's latest: its own check holds the total to N
//! minus the others' tokens the guard had then, and each other isolate had at most B tokens
//! the guard did not have yet. So a window's total never exceeds **N + (K − 1) × B**, K the
//! number of isolates that issued the client tokens in it: at most 0.1 % of N (at least one
//! token) more per additional isolate. One isolate alone never exceeds N.
//!
//! A guard keeps at most [`MAX_REPORTERS`] isolates per window; beyond that the smallest
//! entry folds into one shared entry (`*`). An isolate folded that way and heard from again is
//! counted twice: the count errs high (refusing early), never low.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::support::text::printable;
use crate::support::time::rfc3339;

/// Largest limit a quota may set.
pub const MAX_QUOTA: u32 = 10_000_000;
/// Seconds in a quota hour.
pub const HOUR: u64 = 3_600;
/// Most isolates a guard counts one by one in a window (see the module doc).
pub const MAX_REPORTERS: usize = 64;
/// The shared entry that isolates beyond [`MAX_REPORTERS`] fold into.
const FOLDED: &str = "*";
/// Bits of [`TokenCounts::noted_now`]: the hour's and the day's monitored limit.
pub const NOTED_HOUR: u32 = 1;
/// See [`NOTED_HOUR`].
pub const NOTED_DAY: u32 = 2;

/// A client's token quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TokenQuota {
    /// Most tokens per UTC hour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_hour: Option<u32>,
    /// Most tokens per UTC day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_day: Option<u32>,
    /// Refuse tokens over the quota (true), or issue them and audit once per window (false).
    pub enforce: bool,
}

const SHAPE: &str =
    "token_quota must be null or an object such as {\"per_hour\": 1000, \"enforce\": true}";

impl TokenQuota {
    /// Parses admin input (and stored records): an object with `per_hour` and/or `per_day`
    /// and optionally `enforce` (default true).
    pub fn parse(value: &Value) -> Result<TokenQuota, Error> {
        let object = value
            .as_object()
            .ok_or_else(|| Error::invalid_metadata(SHAPE))?;
        let mut quota = TokenQuota {
            per_hour: None,
            per_day: None,
            enforce: true,
        };
        for (key, v) in object {
            match key.as_str() {
                "per_hour" => quota.per_hour = limit(key, v)?,
                "per_day" => quota.per_day = limit(key, v)?,
                "enforce" => {
                    quota.enforce = v.as_bool().ok_or_else(|| {
                        Error::invalid_metadata("token_quota.enforce must be true or false")
                    })?
                }
                other => {
                    return Err(Error::InvalidMetadata(
                        format!(
                            "token_quota takes per_hour, per_day and enforce, not '{}'",
                            printable(other)
                        )
                        .into(),
                    ))
                }
            }
        }
        if quota.per_hour.is_none() && quota.per_day.is_none() {
            return Err(Error::invalid_metadata(
                "token_quota needs per_hour, per_day or both",
            ));
        }
        Ok(quota)
    }

    /// B: how many of an isolate's tokens may be unconfirmed by the guard (see the module
    /// doc): a thousandth of the smaller limit, at least 1 and at most 1000.
    pub fn batch(&self) -> u64 {
        let n = self
            .per_hour
            .min(self.per_day)
            .or(self.per_hour.or(self.per_day));
        (u64::from(n.unwrap_or(1)) / 1_000).clamp(1, 1_000)
    }

    /// The per-hour and per-day limits to note passing at the guard (0: none): only a
    /// monitored quota is audited.
    pub fn monitored(&self) -> (u64, u64) {
        let limit = |l: Option<u32>| match self.enforce {
            true => 0,
            false => l.map_or(0, u64::from),
        };
        (limit(self.per_hour), limit(self.per_day))
    }

    /// The refusal for `hour` and `day` tokens counted at `now`, if a limit is reached: the
    /// day's when both are (it frees later), with `Retry-After` to that window's end.
    pub fn refusal(&self, hour: u64, day: u64, now: u64) -> Option<Error> {
        let reached = |limit: Option<u32>, count: u64| limit.filter(|l| count >= u64::from(*l));
        let (limit, per, window) = match (reached(self.per_day, day), reached(self.per_hour, hour))
        {
            (Some(l), _) => (l, "day", 24 * HOUR),
            (None, Some(l)) => (l, "hour", HOUR),
            (None, None) => return None,
        };
        let ends = (now / window + 1) * window;
        let text = format!(
            "the client has used its quota of {limit} tokens per {per}; more from {}",
            rfc3339(ends)
        );
        Some(Error::TooManyRequests {
            reason: text.into(),
            retry_after: ends - now,
        })
    }
}

fn limit(key: &str, v: &Value) -> Result<Option<u32>, Error> {
    if v.is_null() {
        return Ok(None);
    }
    let n = v
        .as_u64()
        .filter(|n| (1..=u64::from(MAX_QUOTA)).contains(n));
    match n {
        Some(n) => Ok(Some(n as u32)),
        None => Err(Error::InvalidMetadata(
            format!("token_quota.{key} must be a whole number from 1 to {MAX_QUOTA}").into(),
        )),
    }
}

/// What one isolate reports to a client's guard: its running totals, so a report repeated or
/// overtaken by a later one changes nothing. On the wire it is one string of six numbers
/// ([`TokenReport::parse`]): one field for the guard's reader instead of six.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenReport {
    /// The reporting isolate's id (base64url, no spaces).
    pub isolate: String,
    /// The UTC hour the totals are for (hours since the epoch).
    pub hour: u64,
    /// Tokens the isolate issued to the client in that hour.
    pub in_hour: u64,
    /// Tokens the isolate issued to the client that UTC day.
    pub in_day: u64,
    /// A monitored per-hour limit (0: none): the report that takes the hour past it is the
    /// one noted.
    pub monitor_hour: u64,
    /// A monitored per-day limit (0: none), likewise.
    pub monitor_day: u64,
}

impl TokenReport {
    /// Reads `isolate hour in_hour in_day monitor_hour monitor_day`.
    pub fn parse(text: &str) -> Option<TokenReport> {
        let mut parts = text.split(' ');
        let isolate = parts.next()?.to_string();
        let mut n = [0u64; 5];
        for slot in &mut n {
            *slot = parts.next()?.parse().ok()?;
        }
        let [hour, in_hour, in_day, monitor_hour, monitor_day] = n;
        Some(TokenReport {
            isolate,
            hour,
            in_hour,
            in_day,
            monitor_hour,
            monitor_day,
        })
    }
}

impl Serialize for TokenReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self;
        s.collect_str(&format_args!(
            "{} {} {} {} {} {}",
            r.isolate, r.hour, r.in_hour, r.in_day, r.monitor_hour, r.monitor_day
        ))
    }
}

/// What a guard's counts say to one isolate: the other isolates' tokens in its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counted {
    /// Others' tokens this hour (0 when the guard's hour is another).
    pub others_hour: u64,
    /// Others' tokens this day.
    pub others_day: u64,
    /// This isolate's day total as the guard holds it: its confirmed tokens.
    pub own_day: u64,
}

/// A client's token counts, as its guard keeps them: one list of names and numbers (a type
/// the guard's reader already has): `@h` the UTC hour they are for, `@n` the windows noted,
/// `@new` the windows the latest change noted, `h:{isolate}` and `d:{isolate}` each isolate's
/// totals this hour and this day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenCounts(Vec<(String, u64)>);

const AT: &str = "@h";
const NOTED: &str = "@n";
const NOTED_NOW: &str = "@new";
const HOURLY: &str = "h:";
const DAILY: &str = "d:";

impl TokenCounts {
    /// Whether there is nothing counted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Counts a report at `now`: raises the isolate's entries to its totals (never lowers
    /// them) and, for a monitored limit, notes the first report of a window over it
    /// ([`TokenCounts::noted_now`]). A report for an hour already over still counts for
    /// its day; one for a day already over counts nowhere.
    pub fn count(&mut self, report: &TokenReport, now: u64) {
        let hour = self.roll(now);
        if report.hour / 24 != hour / 24 || report.hour > hour {
            return;
        }
        let q = &mut self.0;
        if report.hour == hour {
            raise(q, HOURLY, &report.isolate, report.in_hour);
        }
        raise(q, DAILY, &report.isolate, report.in_day);
        set(q, AT, hour);
        let over = |limit: u64, prefix| limit != 0 && sum(q, prefix) > limit;
        let passed = u64::from(over(report.monitor_hour, HOURLY))
            | u64::from(over(report.monitor_day, DAILY)) << 1;
        let noted = get(q, NOTED);
        set(q, NOTED_NOW, passed & !noted);
        set(q, NOTED, noted | passed);
    }

    /// The windows ([`NOTED_HOUR`], [`NOTED_DAY`]) the latest change noted: the one report that
    /// passed a monitored limit sees them in its answer, and its caller audits it.
    pub fn noted_now(&self) -> u32 {
        get(&self.0, NOTED_NOW) as u32
    }

    /// Starts new windows as time passes (never goes back), and forgets what the latest change
    /// noted; answers the current hour.
    pub fn roll(&mut self, now: u64) -> u64 {
        let q = &mut self.0;
        set(q, NOTED_NOW, 0);
        let (hour, at) = (now / HOUR, get(q, AT));
        if at != 0 && hour > at {
            let new_day = hour / 24 != at / 24;
            q.retain(|(k, _)| !(k.starts_with(HOURLY) || new_day && k.starts_with(DAILY)));
            let noted = get(q, NOTED) & if new_day { 0 } else { NOTED_DAY as u64 };
            set(q, NOTED, noted);
            set(q, AT, hour);
            if !q.iter().any(|(k, _)| k.starts_with(DAILY)) {
                q.clear();
            }
        }
        hour.max(get(q, AT))
    }

    /// When the current quota hour ends, for the guard's cleanup alarm.
    pub fn expiry(&self) -> Option<u64> {
        let at = get(&self.0, AT);
        (at != 0).then_some((at + 1) * HOUR)
    }

    /// Tokens counted this hour and this day at `now`, all isolates together.
    pub fn in_use(&self, now: u64) -> (u64, u64) {
        let (hour, at) = (now / HOUR, get(&self.0, AT));
        let day = match at / 24 == hour / 24 {
            true => sum(&self.0, DAILY),
            false => 0,
        };
        match at == hour {
            true => (sum(&self.0, HOURLY), day),
            false => (0, day),
        }
    }

    /// What these counts say to `isolate` about its window (`hour`): nothing when they are
    /// for another day.
    pub fn counted_for(&self, isolate: &str, hour: u64) -> Option<Counted> {
        let q = &self.0;
        let at = get(q, AT);
        if at == 0 || at / 24 != hour / 24 {
            return None;
        }
        let own = |prefix| find(q, prefix, isolate).map_or(0, |at| q[at].1);
        let others_hour = match at == hour {
            true => sum(q, HOURLY) - own(HOURLY),
            false => 0,
        };
        let own_day = own(DAILY);
        Some(Counted {
            others_hour,
            others_day: sum(q, DAILY) - own_day,
            own_day,
        })
    }
}

fn find(list: &[(String, u64)], prefix: &str, name: &str) -> Option<usize> {
    list.iter()
        .position(|(k, _)| k.strip_prefix(prefix) == Some(name))
}

fn get(list: &[(String, u64)], key: &str) -> u64 {
    find(list, "", key).map_or(0, |at| list[at].1)
}

/// Sets `key` to `value`; 0 removes it.
fn set(list: &mut Vec<(String, u64)>, key: &str, value: u64) {
    match find(list, "", key) {
        Some(at) if value == 0 => {
            list.remove(at);
        }
        Some(at) => list[at].1 = value,
        None if value == 0 => {}
        None => list.push((key.to_string(), value)),
    }
}

fn sum(list: &[(String, u64)], prefix: &str) -> u64 {
    list.iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, n)| n)
        .sum()
}

/// Raises `isolate`'s entry under `prefix` to `total`. A new isolate beyond [`MAX_REPORTERS`]
/// first folds the smallest entry into the shared one (`{prefix}*`).
fn raise(list: &mut Vec<(String, u64)>, prefix: &str, isolate: &str, total: u64) {
    if let Some(at) = find(list, prefix, isolate) {
        list[at].1 = list[at].1.max(total);
        return;
    }
    let mine = |k: &str| k.starts_with(prefix) && !k.ends_with(FOLDED);
    if list.iter().filter(|(k, _)| mine(k)).count() >= MAX_REPORTERS {
        let smallest = (0..list.len())
            .filter(|&at| mine(&list[at].0))
            .min_by_key(|&at| list[at].1);
        if let Some(at) = smallest {
            let (_, n) = list.swap_remove(at);
            match find(list, prefix, FOLDED) {
                Some(folded) => list[folded].1 += n,
                None => list.push(([prefix, FOLDED].concat(), n)),
            }
        }
    }
    list.push(([prefix, isolate].concat(), total));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<TokenQuota, String> {
        TokenQuota::parse(&v).map_err(|e| e.description().into_owned())
    }

    #[test]
    fn a_quota_needs_a_limit_in_range_and_nothing_else() {
        assert_eq!(
            parse(json!({"per_hour": 3})),
            Ok(TokenQuota {
                per_hour: Some(3),
                per_day: None,
                enforce: true
            })
        );
        assert_eq!(
            parse(json!({"per_day": 10_000_000, "per_hour": null, "enforce": false})),
            Ok(TokenQuota {
                per_hour: None,
                per_day: Some(10_000_000),
                enforce: false
            })
        );
        let range = "token_quota.per_hour must be a whole number from 1 to 10000000";
        for bad in [
            json!(0),
            json!(10_000_001),
            json!(-1),
            json!(1.5),
            json!("5"),
        ] {
            assert_eq!(parse(json!({"per_hour": bad})), Err(range.into()), "{bad}");
        }
        assert_eq!(
            parse(json!({"enforce": true})),
            Err("token_quota needs per_hour, per_day or both".into())
        );
        assert_eq!(
            parse(json!({"per_day": 1, "enforce": "yes"})),
            Err("token_quota.enforce must be true or false".into())
        );
        assert_eq!(
            parse(json!({"per_minute": 1})),
            Err("token_quota takes per_hour, per_day and enforce, not 'per_minute'".into())
        );
        assert_eq!(parse(json!([1])), Err(SHAPE.into()));
    }

    #[test]
    fn the_batch_is_a_thousandth_of_the_smaller_limit_within_1_and_1000() {
        let q = |h: Option<u32>, d: Option<u32>| TokenQuota {
            per_hour: h,
            per_day: d,
            enforce: true,
        };
        assert_eq!(q(Some(3), None).batch(), 1);
        assert_eq!(q(Some(1_999), None).batch(), 1);
        assert_eq!(q(Some(50_000), Some(20_000)).batch(), 20);
        assert_eq!(q(None, Some(10_000_000)).batch(), 1_000);
    }

    #[test]
    fn the_refusal_names_the_window_that_frees_last_and_its_end() {
        let q = TokenQuota {
            per_hour: Some(3),
            per_day: Some(5),
            enforce: true,
        };
        let now = 1_800_000_000; // 2027-01-15T08:00:00Z
        assert_eq!(q.refusal(2, 4, now), None);
        let e = q.refusal(3, 4, now + 754).unwrap();
        assert_eq!(
            (e.status(), e.code(), e.description().as_ref()),
            (
                429,
                "too_many_requests",
                "the client has used its quota of 3 tokens per hour; more from 2027-01-15T09:00:00Z"
            )
        );
        let retry = |e: &Error| match e {
            Error::TooManyRequests { retry_after, .. } => *retry_after,
            _ => 0,
        };
        assert_eq!(retry(&e), HOUR - 754);
        let e = q.refusal(3, 5, now).unwrap();
        assert_eq!(
            e.description(),
            "the client has used its quota of 5 tokens per day; more from 2027-01-16T00:00:00Z"
        );
        assert_eq!(retry(&e), 16 * HOUR);
    }

    fn report(isolate: &str, hour: u64, in_hour: u64, in_day: u64) -> TokenReport {
        TokenReport {
            isolate: isolate.into(),
            hour,
            in_hour,
            in_day,
            monitor_hour: 0,
            monitor_day: 0,
        }
    }

    #[test]
    fn totals_are_raised_never_added_so_a_repeated_report_counts_once() {
        let now = 500_000 * HOUR + 10;
        let mut s = TokenCounts::default();
        s.count(&report("a", 500_000, 5, 7), now);
        s.count(&report("a", 500_000, 5, 7), now);
        s.count(&report("a", 500_000, 4, 6), now); // overtaken by the one above
        s.count(&report("b", 500_000, 2, 2), now);
        assert_eq!(s.in_use(now), (7, 9));
        let c = s.counted_for("a", 500_000).unwrap();
        assert_eq!(
            c,
            Counted {
                others_hour: 2,
                others_day: 2,
                own_day: 7
            }
        );
        assert_eq!(s.expiry(), Some(500_001 * HOUR));
    }

    #[test]
    fn windows_roll_with_the_clock_and_the_state_empties_after_the_day() {
        let day_start = 20_000 * 24; // an hour at midnight UTC
        let mut s = TokenCounts::default();
        s.count(&report("a", day_start + 22, 3, 9), (day_start + 22) * HOUR);
        // Next hour: the hour starts over, the day goes on; a late report of the last hour
        // still counts for the day.
        s.roll((day_start + 23) * HOUR);
        assert_eq!(s.in_use((day_start + 23) * HOUR), (0, 9));
        s.count(&report("a", day_start + 22, 4, 10), (day_start + 23) * HOUR);
        assert_eq!(s.in_use((day_start + 23) * HOUR + 5), (0, 10));
        s.count(
            &report("b", day_start + 23, 1, 1),
            (day_start + 23) * HOUR + 5,
        );
        assert_eq!(s.in_use((day_start + 23) * HOUR + 5), (1, 11));
        // The next day nothing is left.
        s.roll((day_start + 24) * HOUR);
        assert!(s.is_empty(), "{s:?}");
    }

    #[test]
    fn a_monitored_limit_is_noted_once_per_window_by_the_report_that_passes_it() {
        let now = 500_000 * HOUR;
        let monitored = |isolate: &str, in_hour, in_day| TokenReport {
            monitor_hour: 3,
            monitor_day: 5,
            ..report(isolate, 500_000, in_hour, in_day)
        };
        let next_hour = |in_hour, in_day| TokenReport {
            hour: 500_001,
            ..monitored("a", in_hour, in_day)
        };
        let mut s = TokenCounts::default();
        s.count(&monitored("a", 3, 3), now);
        assert_eq!(s.noted_now(), 0);
        s.count(&monitored("b", 1, 1), now);
        assert_eq!(s.noted_now(), NOTED_HOUR);
        s.count(&monitored("b", 3, 3), now);
        assert_eq!(s.noted_now(), NOTED_DAY);
        s.count(&monitored("a", 9, 9), now);
        assert_eq!(s.noted_now(), 0);
        // The next hour may be noted again; the day not.
        s.count(&next_hour(4, 13), now + HOUR);
        assert_eq!(s.noted_now(), NOTED_HOUR);
        s.roll(now + HOUR);
        assert_eq!(s.noted_now(), 0, "only the report's own answer says so");
    }

    #[test]
    fn reporters_beyond_the_bound_fold_so_the_count_errs_high() {
        let now = 500_000 * HOUR;
        let mut s = TokenCounts::default();
        for i in 0..(MAX_REPORTERS as u64 + 10) {
            s.count(&report(&format!("i{i}"), 500_000, i + 1, i + 1), now);
        }
        let hourly = s.0.iter().filter(|(k, _)| k.starts_with(HOURLY)).count();
        assert!(hourly <= MAX_REPORTERS + 1, "{hourly}");
        let all: u64 = (1..=MAX_REPORTERS as u64 + 10).sum();
        assert_eq!(s.in_use(now), (all, all));
        // A folded isolate heard from again is counted again: high, never low.
        s.count(&report("i0", 500_000, 1, 1), now);
        assert_eq!(s.in_use(now), (all + 1, all + 1));
    }
}
