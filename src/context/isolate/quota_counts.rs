//! The isolate's token quota counters, one per client with a quota: what it issued this UTC
//! hour and day, what the client's guard last said of the other isolates, and which reports
//! are due. The rule they apply and its bound: [`crate::registry::quota`]; the requests that
//! use them: [`crate::services::token_quota`].

use std::cell::{Cell, RefCell};

use crate::error::Error;
use crate::registry::clients::ClientId;
use crate::registry::quota::{TokenCounts, TokenQuota, TokenReport, HOUR};
use crate::support::random::{random_id, Random};

/// Longest time (ms) a token stays unreported while the isolate serves requests. Shorter than
/// the guard copy's age at which it is read again (`support::cache`): a report's answer
/// refreshes that copy, so a client in steady use costs its guard a report where it would
/// have cost a read.
pub const REPORT_MS: u64 = 3_000;
/// A background report with no answer after this long (ms) is given up on (its request may be
/// gone); the next report carries its tokens again (totals: nothing counts twice).
const GIVE_UP_MS: u64 = 10_000;

/// One client's counts in this isolate, for the UTC hour `hour` and its day.
#[derive(Debug, Default)]
struct Counter {
    hour: u64,
    mine_hour: u64,
    mine_day: u64,
    /// The other isolates' tokens, as the guard's latest answer said.
    others_hour: u64,
    others_day: u64,
    /// How many of `mine_day` the guard has confirmed.
    confirmed: u64,
    /// `mine_day` at the last report, and when it went (ms).
    reported: u64,
    reported_at: u64,
    /// A background report in flight since (ms).
    sending: Option<u64>,
    /// From the quota as last seen: B, and the monitored limits (0: none).
    batch: u64,
    monitor: (u64, u64),
}

impl Counter {
    /// Moves to `hour` (never back): the hour's counts start over, and the day's too on a
    /// new day, where unreported tokens of the day before are over and done with.
    fn roll(&mut self, hour: u64, now_ms: u64) {
        if hour <= self.hour {
            return;
        }
        if hour / 24 != self.hour / 24 {
            *self = Counter {
                reported_at: now_ms,
                ..Counter::default()
            };
        }
        self.hour = hour;
        self.mine_hour = 0;
        self.others_hour = 0;
    }

    fn unconfirmed(&self) -> u64 {
        self.mine_day - self.confirmed
    }

    /// When a background report falls due (ms), if anything is unreported.
    fn due_at(&self) -> Option<u64> {
        if self.mine_day == self.reported {
            return None;
        }
        let due = match self.unconfirmed() >= self.batch.div_ceil(2) {
            true => self.reported_at,
            false => self.reported_at + REPORT_MS,
        };
        Some(match self.sending {
            Some(at) => due.max(at + GIVE_UP_MS),
            None => due,
        })
    }

    fn report(&mut self, isolate: &str, now_ms: u64) -> TokenReport {
        self.reported = self.mine_day;
        self.reported_at = now_ms;
        TokenReport {
            isolate: isolate.to_string(),
            hour: self.hour,
            in_hour: self.mine_hour,
            in_day: self.mine_day,
            monitor_hour: self.monitor.0,
            monitor_day: self.monitor.1,
        }
    }
}

/// What [`Quotas::admit`] decided.
#[derive(Debug)]
pub(crate) enum Admission {
    /// Issue the token; it is counted.
    Issue,
    /// Refuse it with this error.
    Refuse(Error),
    /// Report this first, then ask again.
    Report(TokenReport),
}

/// The isolate's quota counters.
#[derive(Debug, Default)]
pub struct Quotas {
    /// This isolate's id at the guards, made at first use.
    isolate: RefCell<Option<String>>,
    /// A list, not a map: an isolate serves few clients with a quota, and a scan of a short
    /// list is both quick and small in wasm.
    counters: RefCell<Vec<(ClientId, Counter)>>,
    /// The earliest time (ms) a background report falls due; `None` when nothing is
    /// unreported: the one check a request pays when no client here has a quota.
    due_at: Cell<Option<u64>>,
}

/// Most clients counted at once (only authenticated clients with a quota get an entry); the
/// next one starts the isolate over under a new id (see [`Quotas::admit`]).
const MAX_COUNTERS: usize = 1_024;

impl Quotas {
    /// This isolate's id at the guards, made when first needed.
    fn isolate(&self, rng: &dyn Random) -> Result<String, Error> {
        let mut id = self.isolate.borrow_mut();
        if id.is_none() {
            *id = Some(random_id::<9>(rng)?);
        }
        Ok(id.clone().unwrap_or_default())
    }

    /// Decides on one more token for `client` at `now_ms`, and counts it if issued.
    pub(crate) fn admit(
        &self,
        client: &ClientId,
        quota: &TokenQuota,
        now_ms: u64,
        rng: &dyn Random,
    ) -> Result<Admission, Error> {
        let now = now_ms / 1000;
        let mut counters = self.counters.borrow_mut();
        let at = match counters.iter().position(|(id, _)| id == client) {
            Some(at) => at,
            None => {
                if counters.len() >= MAX_COUNTERS {
                    // Start over under a new id. Dropping one client's counts but reporting
                    // under the same id would undercount (the guard keeps the highest total);
                    // a new id is one more isolate to the guards, within the bound.
                    counters.clear();
                    *self.isolate.borrow_mut() = None;
                }
                counters.push((client.clone(), Counter::default()));
                counters.len() - 1
            }
        };
        let c = &mut counters[at].1;
        c.roll(now / HOUR, now_ms);
        c.batch = quota.batch();
        c.monitor = quota.monitored();
        if quota.enforce {
            let refusal =
                quota.refusal(c.others_hour + c.mine_hour, c.others_day + c.mine_day, now);
            if let Some(e) = refusal {
                return Ok(Admission::Refuse(e));
            }
            if c.unconfirmed() >= c.batch {
                let isolate = self.isolate(rng)?;
                return Ok(Admission::Report(c.report(&isolate, now_ms)));
            }
        }
        c.mine_hour += 1;
        c.mine_day += 1;
        self.schedule(c);
        Ok(Admission::Issue)
    }

    /// Makes sure the next look for due reports is no later than `c`'s.
    fn schedule(&self, c: &Counter) {
        if let Some(due) = c.due_at() {
            let next = self.due_at.get().map_or(due, |d| d.min(due));
            self.due_at.set(Some(next));
        }
    }

    /// Takes in a guard's answer to `report`: its counts.
    pub(crate) fn confirm(&self, client: &ClientId, report: &TokenReport, counts: &TokenCounts) {
        let mut counters = self.counters.borrow_mut();
        let Some((_, c)) = counters.iter_mut().find(|(id, _)| id == client) else {
            return;
        };
        let ours = self.isolate.borrow().as_deref() == Some(report.isolate.as_str());
        if !ours || report.hour / 24 != c.hour / 24 {
            return;
        }
        c.sending = None;
        self.schedule(c);
        let Some(counted) = counts.counted_for(&report.isolate, c.hour) else {
            return;
        };
        // Answers may come back in any order; each count only grows, so the highest is the
        // latest.
        c.others_hour = c.others_hour.max(counted.others_hour);
        c.others_day = c.others_day.max(counted.others_day);
        c.confirmed = c.confirmed.max(counted.own_day.min(c.mine_day));
    }

    /// A report failed: its tokens go again with the next.
    pub(crate) fn failed(&self, client: &ClientId) {
        let mut counters = self.counters.borrow_mut();
        if let Some((_, c)) = counters.iter_mut().find(|(id, _)| id == client) {
            c.sending = None;
            c.reported = c.confirmed;
            self.schedule(c);
        }
    }

    /// The background reports due at `now_ms`, each marked as in flight.
    pub(crate) fn take_due(&self, now_ms: u64, rng: &dyn Random) -> Vec<(ClientId, TokenReport)> {
        if self.due_at.get().is_none_or(|d| d > now_ms) {
            return Vec::new();
        }
        // Without randomness no id can be made: keep counting and try next time.
        let Ok(isolate) = self.isolate(rng) else {
            return Vec::new();
        };
        let mut reports = Vec::new();
        let mut next: Option<u64> = None;
        for (client, c) in self.counters.borrow_mut().iter_mut() {
            match c.due_at() {
                Some(due) if due <= now_ms => {
                    c.sending = Some(now_ms);
                    reports.push((client.clone(), c.report(&isolate, now_ms)));
                }
                Some(due) => next = Some(next.map_or(due, |n| n.min(due))),
                None => {}
            }
        }
        // Tokens issued while these are in flight fall due at the latest when they are given up.
        if !reports.is_empty() {
            let retry = now_ms + GIVE_UP_MS;
            next = Some(next.map_or(retry, |n| n.min(retry)));
        }
        self.due_at.set(next);
        reports
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeqRandom;
    use serde_json::json;

    fn client() -> ClientId {
        ClientId::parse("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap()
    }

    /// A reproducible schedule source (xorshift).
    struct Dice(u64);

    impl Dice {
        fn roll(&mut self, sides: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % sides
        }
    }

    /// K isolates against one guard under random schedules: background reports answered late,
    /// out of order, twice, or never (the answer lost after the guard counted it, or the
    /// report lost before); reports on the path answered at once. The window's total is never
    /// below N (no token refused early) nor above N + (K - 1) x B, and once every isolate has
    /// reported, the guard counts exactly what was issued.
    #[test]
    fn random_schedules_hold_the_bound_n_plus_k_minus_1_times_b() {
        let quota = TokenQuota::parse(&json!({"per_hour": 10_000, "per_day": 50_000})).unwrap();
        let (n, b, k) = (10_000, quota.batch(), 6);
        assert_eq!(b, 10);
        let start = 1_800_000_000_000; // 2027-01-15T08:00:00Z, in ms
        for seed in 1..=20 {
            let mut dice = Dice(seed);
            let rng = SeqRandom::default();
            let isolates: Vec<Quotas> = (0..k).map(|_| Quotas::default()).collect();
            let mut guard = TokenCounts::default();
            let mut flight: Vec<(usize, TokenReport)> = Vec::new();
            let (mut now, mut issued, mut refused) = (start, 0u64, 0);
            for _ in 0..100_000 {
                if refused == 200 {
                    break;
                }
                now += dice.roll(3);
                let at = dice.roll(k as u64) as usize;
                let quotas = &isolates[at];
                match quotas.admit(&client(), &quota, now, &rng).unwrap() {
                    Admission::Issue => issued += 1,
                    Admission::Refuse(e) => {
                        assert_eq!(e.status(), 429);
                        refused += 1;
                    }
                    Admission::Report(r) => {
                        guard.count(&r, now / 1000);
                        quotas.confirm(&client(), &r, &guard);
                    }
                }
                flight.extend(quotas.take_due(now, &rng).into_iter().map(|(_, r)| (at, r)));
                // Deliver some reports in flight, any of them, in any order.
                while !flight.is_empty() && dice.roll(3) == 0 {
                    let (at, r) = flight.swap_remove(dice.roll(flight.len() as u64) as usize);
                    let quotas = &isolates[at];
                    match dice.roll(10) {
                        0 => quotas.failed(&client()),    // lost on the way
                        1 => guard.count(&r, now / 1000), // answer lost
                        2 => {
                            guard.count(&r, now / 1000);
                            flight.push((at, r)); // delivered again later
                        }
                        _ => {
                            guard.count(&r, now / 1000);
                            quotas.confirm(&client(), &r, &guard);
                        }
                    }
                }
            }
            assert_eq!(refused, 200, "seed {seed}: the quota never refused");
            assert!(
                (n..=n + (k as u64 - 1) * b).contains(&issued),
                "seed {seed}: {issued} issued for {n}"
            );
            for quotas in &isolates {
                for (_, c) in quotas.counters.borrow_mut().iter_mut() {
                    c.sending = None;
                }
                for (_, r) in quotas.take_due(now + REPORT_MS + GIVE_UP_MS, &rng) {
                    guard.count(&r, now / 1000);
                }
            }
            assert_eq!(guard.in_use(now / 1000).0, issued, "seed {seed}");
        }
    }

    #[test]
    fn without_a_quota_nothing_is_due_and_nothing_is_kept() {
        let (q, rng) = (Quotas::default(), SeqRandom::default());
        assert!(q.take_due(u64::MAX, &rng).is_empty());
        assert!(q.counters.borrow().is_empty() && q.isolate.borrow().is_none());
    }

    #[test]
    fn a_background_report_goes_at_half_a_batch_or_after_the_interval() {
        let quota = TokenQuota::parse(&json!({"per_day": 10_000})).unwrap();
        let (q, rng) = (Quotas::default(), SeqRandom::default());
        let t = 1_800_000_000_000;
        for i in 0..4 {
            assert!(matches!(
                q.admit(&client(), &quota, t + i, &rng).unwrap(),
                Admission::Issue
            ));
            assert!(q.take_due(t + i, &rng).is_empty(), "{i}");
        }
        assert!(matches!(
            q.admit(&client(), &quota, t + 4, &rng).unwrap(),
            Admission::Issue
        ));
        let due = q.take_due(t + 4, &rng);
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].1.in_hour, due[0].1.in_day), (5, 5));
        // In flight: the next one waits for its answer (or for it to be given up).
        assert!(matches!(
            q.admit(&client(), &quota, t + 5, &rng).unwrap(),
            Admission::Issue
        ));
        assert!(q.take_due(t + 5 + REPORT_MS, &rng).is_empty());
        let mut guard = TokenCounts::default();
        guard.count(&due[0].1, t / 1000);
        q.confirm(&client(), &due[0].1, &guard);
        assert!(q.take_due(t + 4 + REPORT_MS - 1, &rng).is_empty());
        let due = q.take_due(t + 4 + REPORT_MS, &rng);
        assert_eq!(due.len(), 1, "one token left, sent after the interval");
        assert_eq!(due[0].1.in_day, 6);
    }
}
