//! Calls coalesced per key (group commit): while a call for a key is in flight, whatever
//! arrives for that key waits, and all of it goes in the next call. Alone, a caller calls at
//! once; under load one call carries many. Used for jti claims, where each call to a client's
//! guard costs a Durable Object request and a commit whatever it holds.
//!
//! This is the bookkeeping only: who leads a call, which waiters it carries, who leads the
//! next. Waking a waiter is the caller's business (the Worker shell settles a promise), so the
//! rules are tested on the host.

use std::collections::HashMap;

/// What an arriving caller does next.
#[derive(Debug, PartialEq)]
pub enum Arrival {
    /// Nothing was in flight (or the call in flight was given up on, see `stale_after_ms`,
    /// and its waiters with it: their own time limits answer them): make the call now, then
    /// [`Coalescer::hand_off`] with this generation.
    Lead(u64),
    /// A call is in flight: the waiter was queued; once woken it is answered, or leads
    /// ([`Coalescer::take_lead`]), or waits for the next call.
    Wait,
}

/// One key's call in flight and what waits for it.
struct Lane<W, S> {
    /// The caller's own state for the lane, made with `Default` when the lane is.
    extra: S,
    generation: u64,
    since_ms: u64,
    /// In arrival order; a few dozen at most in practice, so a `Vec` (less wasm than a deque).
    waiting: Vec<W>,
    /// The batch chosen for the next call, until a woken waiter takes its lead.
    promoted: Vec<W>,
    /// Whether `promoted` waits for a leader.
    wanted: bool,
}

/// Keys with a call in flight, each with its queue and the caller's state `S`. A key is held
/// only while its call is.
pub struct Coalescer<W, S = ()> {
    lanes: HashMap<String, Lane<W, S>>,
    generations: u64,
    max_batch: usize,
    max_weight: usize,
    stale_after_ms: u64,
}

impl<W, S: Default> Coalescer<W, S> {
    /// At most `max_batch` callers per call (the leader included) and `max_weight` of their
    /// summed weight; a lane whose call is older than `stale_after_ms` is given up on.
    pub fn new(max_batch: usize, max_weight: usize, stale_after_ms: u64) -> Self {
        Coalescer {
            lanes: HashMap::new(),
            generations: 0,
            max_batch: max_batch.max(1),
            max_weight,
            stale_after_ms,
        }
    }

    /// A caller arrives for `key`: it leads if nothing is in flight, else `waiter` is queued.
    pub fn arrive(&mut self, key: &str, now_ms: u64, waiter: impl FnOnce() -> W) -> Arrival {
        if let Some(lane) = self.lanes.get_mut(key) {
            if now_ms.saturating_sub(lane.since_ms) < self.stale_after_ms {
                lane.waiting.push(waiter());
                return Arrival::Wait;
            }
        }
        // A call that has not come back in `stale_after_ms` never will (its request is gone):
        // without this, the key would queue forever. Its lane is replaced, waiters and all.
        self.generations += 1;
        let generation = self.generations;
        let lane = Lane {
            extra: S::default(),
            generation,
            since_ms: now_ms,
            waiting: Vec::new(),
            promoted: Vec::new(),
            wanted: false,
        };
        self.lanes.insert(key.to_string(), lane);
        Arrival::Lead(generation)
    }

    /// The leader's call is answered: the waiters next in line (up to the limits) become the
    /// next call's batch, led by its first ([`Coalescer::take_lead`]); `false` when nothing waits and the key is released. A
    /// leader of a lane since given up on changes nothing.
    pub fn hand_off(
        &mut self,
        key: &str,
        generation: u64,
        now_ms: u64,
        weight: impl Fn(&W) -> usize,
    ) -> bool {
        let Some(lane) = self.lanes.get_mut(key) else {
            return false;
        };
        if lane.generation != generation {
            return false;
        }
        if lane.waiting.is_empty() {
            self.lanes.remove(key);
            return false;
        }
        let mut load = 0;
        let taken = lane
            .waiting
            .iter()
            .take(self.max_batch)
            .take_while(|w| {
                load += weight(w);
                load <= self.max_weight
            })
            .count()
            .max(1);
        lane.promoted = lane.waiting.drain(..taken).collect();
        lane.wanted = true;
        lane.since_ms = now_ms;
        true
    }

    /// A woken waiter takes the lead of the batch that wants one, if any: the lane's
    /// generation and the waiters it carries. The first of the batch may take it at once;
    /// any other waiter only with `any` (the first kept it waiting: its request may be gone).
    /// The taker's own entry (found by `mine`) is taken out, from the batch or, if it was
    /// beyond it, from the queue: a leader carries its own claim.
    pub fn take_lead(
        &mut self,
        key: &str,
        mine: impl Fn(&W) -> bool,
        any: bool,
    ) -> Option<(u64, Vec<W>)> {
        let lane = self.lanes.get_mut(key)?;
        if !lane.wanted || !(any || lane.promoted.first().is_some_and(&mine)) {
            return None;
        }
        lane.wanted = false;
        let mut batch = std::mem::take(&mut lane.promoted);
        if let Some(at) = batch.iter().position(&mine) {
            batch.remove(at);
        } else if let Some(at) = lane.waiting.iter().position(&mine) {
            lane.waiting.remove(at);
        }
        Some((lane.generation, batch))
    }

    /// The caller's state for `key`'s lane, if a call for it is in flight.
    pub fn extra(&mut self, key: &str) -> Option<&mut S> {
        self.lanes.get_mut(key).map(|lane| &mut lane.extra)
    }

    /// The generation of `key`'s lane, if a call for it is in flight.
    pub fn generation(&self, key: &str) -> Option<u64> {
        self.lanes.get(key).map(|lane| lane.generation)
    }

    /// How many keys have a call in flight.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(generation: u64) -> Arrival {
        Arrival::Lead(generation)
    }

    #[test]
    fn alone_leads_and_a_second_waits_until_the_hand_off() {
        let mut c: Coalescer<u32, Vec<u32>> = Coalescer::new(50, 1000, 30_000);
        assert_eq!(c.arrive("a", 0, || 1), lead(1));
        assert_eq!(c.extra("a"), Some(&mut vec![]));
        c.extra("a").unwrap().push(7);
        assert_eq!(c.arrive("a", 1, || 2), Arrival::Wait);
        assert_eq!(c.generation("a"), Some(1));
        assert_eq!(c.extra("a"), Some(&mut vec![7]));
        // Another key is not held up by the first.
        assert_eq!(c.arrive("b", 1, || 3), lead(2));
        // Nobody leads before the call in flight is answered.
        assert_eq!(c.take_lead("a", |w| *w == 2, true), None);
        assert!(c.hand_off("a", 1, 5, |_| 1));
        assert_eq!(c.take_lead("a", |w| *w == 2, false), Some((1, vec![])));
        // Taken once.
        assert_eq!(c.take_lead("a", |w| *w == 2, true), None);
        assert!(!c.hand_off("a", 1, 9, |_| 1));
        // Released: the next caller leads a new lane.
        assert_eq!(c.lanes(), 1);
        assert_eq!(c.generation("a"), None);
        assert_eq!(c.extra("a"), None);
        assert_eq!(c.arrive("a", 10, || 4), lead(3));
        assert_eq!(
            c.extra("a"),
            Some(&mut vec![]),
            "a new lane starts with fresh state"
        );
    }

    #[test]
    fn a_batch_stops_at_the_count_and_the_weight() {
        let mut c: Coalescer<u32> = Coalescer::new(3, 10, 30_000);
        assert_eq!(c.arrive("a", 0, || 0), lead(1));
        for w in 1..=6 {
            assert_eq!(c.arrive("a", 0, || w), Arrival::Wait);
        }
        // Count: three a call, led by the first.
        assert!(c.hand_off("a", 1, 0, |_| 1));
        assert_eq!(c.take_lead("a", |w| *w == 1, false), Some((1, vec![2, 3])));
        // Weight: 4 + 5 fits in 10, 4 + 5 + 6 does not.
        assert!(c.hand_off("a", 1, 0, |w| *w as usize));
        assert_eq!(c.take_lead("a", |w| *w == 4, true), Some((1, vec![5])));
        // A waiter heavier than the limit still goes, alone.
        assert!(c.hand_off("a", 1, 0, |_| 99));
        assert_eq!(c.take_lead("a", |w| *w == 6, true), Some((1, vec![])));
        assert!(!c.hand_off("a", 1, 0, |_| 1));
        assert_eq!(c.lanes(), 0);
    }

    #[test]
    fn the_first_leads_and_another_only_once_kept_waiting() {
        let mut c: Coalescer<u32> = Coalescer::new(2, 1000, 30_000);
        assert_eq!(c.arrive("a", 0, || 0), lead(1));
        for w in 1..=3 {
            assert_eq!(c.arrive("a", 0, || w), Arrival::Wait);
        }
        assert!(c.hand_off("a", 1, 0, |_| 1));
        // 1 and 2 are the batch: 1 leads it, 2 only once 1 kept it waiting (1's request may
        // be gone), and then 2 carries 1.
        assert_eq!(c.take_lead("a", |w| *w == 2, false), None);
        assert_eq!(c.take_lead("a", |w| *w == 2, true), Some((1, vec![1])));
        assert!(c.hand_off("a", 1, 0, |_| 1));
        // 3, beyond the last batch, now leads its own.
        assert_eq!(c.take_lead("a", |w| *w == 3, true), Some((1, vec![])));
        assert!(!c.hand_off("a", 1, 0, |_| 1));
    }

    #[test]
    fn a_waiter_beyond_the_batch_that_takes_the_lead_leaves_the_queue() {
        let mut c: Coalescer<u32> = Coalescer::new(2, 1000, 30_000);
        assert_eq!(c.arrive("a", 0, || 0), lead(1));
        for w in 1..=3 {
            assert_eq!(c.arrive("a", 0, || w), Arrival::Wait);
        }
        assert!(c.hand_off("a", 1, 0, |_| 1));
        // 3 is not in the batch (1, 2) but wakes first: it leads them and leaves the queue.
        assert_eq!(c.take_lead("a", |w| *w == 3, true), Some((1, vec![1, 2])));
        assert!(!c.hand_off("a", 1, 0, |_| 1), "nothing is left waiting");
    }

    #[test]
    fn a_lane_whose_call_never_returns_is_given_up_and_its_old_leader_ignored() {
        let mut c: Coalescer<u32> = Coalescer::new(50, 1000, 30_000);
        assert_eq!(c.arrive("a", 0, || 1), lead(1));
        assert_eq!(c.arrive("a", 10, || 2), Arrival::Wait);
        assert_eq!(c.arrive("a", 29_999, || 3), Arrival::Wait);
        assert_eq!(c.arrive("a", 30_000, || 4), lead(2));
        // The given-up lane's waiters went with it: 5 is the new lane's only one.
        assert_eq!(c.arrive("a", 30_001, || 5), Arrival::Wait);
        // The first leader comes back late: it must not hand the new lane's waiters on.
        assert!(!c.hand_off("a", 1, 30_002, |_| 1));
        assert_eq!(c.take_lead("a", |w| *w == 5, true), None);
        assert!(c.hand_off("a", 2, 30_002, |_| 1));
        assert_eq!(c.take_lead("a", |w| *w == 5, true), Some((2, vec![])));
    }

    #[test]
    fn a_hand_off_renews_the_lane_so_a_long_queue_is_not_given_up() {
        let mut c: Coalescer<u32> = Coalescer::new(50, 1000, 100);
        assert_eq!(c.arrive("a", 0, || 1), lead(1));
        assert_eq!(c.arrive("a", 90, || 2), Arrival::Wait);
        assert!(c.hand_off("a", 1, 95, |_| 1));
        assert_eq!(c.arrive("a", 150, || 3), Arrival::Wait);
    }
}
