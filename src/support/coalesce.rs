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
pub enum Arrival<W> {
    /// Nothing was in flight: make the call now, carrying what [`Coalescer::promoted`] gives
    /// (nothing, for a caller that arrived to an empty lane), then [`Coalescer::hand_off`].
    Lead {
        /// The lane's generation, for [`Coalescer::hand_off`].
        generation: u64,
        /// Waiters of a lane whose call never came back (see `stale_after_ms`): they will not
        /// be carried, so fail them.
        abandoned: Vec<W>,
    },
    /// A call is in flight: the waiter was queued, and will be told its answer or to lead.
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
    /// The batch chosen for a waiter that was told to lead, until it takes it.
    promoted: Vec<W>,
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
    pub fn arrive(&mut self, key: &str, now_ms: u64, waiter: impl FnOnce() -> W) -> Arrival<W> {
        if let Some(lane) = self.lanes.get_mut(key) {
            if now_ms.saturating_sub(lane.since_ms) < self.stale_after_ms {
                lane.waiting.push(waiter());
                return Arrival::Wait;
            }
        }
        // A call that has not come back in `stale_after_ms` never will (its request is gone):
        // without this, the key would queue forever.
        let abandoned = self
            .lanes
            .remove(key)
            .map(|lane| lane.promoted.into_iter().chain(lane.waiting).collect())
            .unwrap_or_default();
        self.generations += 1;
        let generation = self.generations;
        let lane = Lane {
            extra: S::default(),
            generation,
            since_ms: now_ms,
            waiting: Vec::new(),
            promoted: Vec::new(),
        };
        self.lanes.insert(key.to_string(), lane);
        Arrival::Lead {
            generation,
            abandoned,
        }
    }

    /// The leader's call is answered: the next leader, whose batch (the waiters after it, up to
    /// the limits) waits in [`Coalescer::promoted`], or `None` when nothing waits and the key
    /// is released. A leader of a lane since given up on changes nothing.
    pub fn hand_off(
        &mut self,
        key: &str,
        generation: u64,
        now_ms: u64,
        weight: impl Fn(&W) -> usize,
    ) -> Option<W> {
        let lane = self.lanes.get_mut(key)?;
        if lane.generation != generation {
            return None;
        }
        if lane.waiting.is_empty() {
            self.lanes.remove(key);
            return None;
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
        let mut batch = lane.waiting.drain(..taken);
        let next = batch.next();
        lane.promoted = batch.collect();
        lane.since_ms = now_ms;
        next
    }

    /// Taken once by a promoted leader: its lane's generation and the waiters it carries.
    /// `None` if the lane was given up on in between.
    pub fn promoted(&mut self, key: &str) -> Option<(u64, Vec<W>)> {
        let lane = self.lanes.get_mut(key)?;
        Some((lane.generation, std::mem::take(&mut lane.promoted)))
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

    fn lead(generation: u64) -> Arrival<u32> {
        Arrival::Lead {
            generation,
            abandoned: vec![],
        }
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
        assert_eq!(c.hand_off("a", 1, 5, |_| 1), Some(2));
        assert_eq!(c.promoted("a"), Some((1, vec![])));
        assert_eq!(c.hand_off("a", 1, 9, |_| 1), None);
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
        // Count: the leader and two more.
        assert_eq!(c.hand_off("a", 1, 0, |_| 1), Some(1));
        assert_eq!(c.promoted("a"), Some((1, vec![2, 3])));
        // Weight: 4 + 5 fits in 10, 4 + 5 + 6 does not.
        assert_eq!(c.hand_off("a", 1, 0, |w| *w as usize), Some(4));
        assert_eq!(c.promoted("a"), Some((1, vec![5])));
        // A waiter heavier than the limit still goes, alone.
        assert_eq!(c.hand_off("a", 1, 0, |_| 99), Some(6));
        assert_eq!(c.promoted("a"), Some((1, vec![])));
        assert_eq!(c.hand_off("a", 1, 0, |_| 1), None);
        assert_eq!(c.lanes(), 0);
    }

    #[test]
    fn a_lane_whose_call_never_returns_is_given_up_and_its_old_leader_ignored() {
        let mut c: Coalescer<u32> = Coalescer::new(50, 1000, 30_000);
        assert_eq!(c.arrive("a", 0, || 1), lead(1));
        assert_eq!(c.arrive("a", 10, || 2), Arrival::Wait);
        assert_eq!(c.arrive("a", 29_999, || 3), Arrival::Wait);
        assert_eq!(
            c.arrive("a", 30_000, || 4),
            Arrival::Lead {
                generation: 2,
                abandoned: vec![2, 3]
            }
        );
        assert_eq!(c.arrive("a", 30_001, || 5), Arrival::Wait);
        // The first leader comes back late: it must not take the new lane's waiters.
        assert_eq!(c.hand_off("a", 1, 30_002, |_| 1), None);
        assert_eq!(c.hand_off("a", 2, 30_002, |_| 1), Some(5));
    }

    #[test]
    fn a_hand_off_renews_the_lane_so_a_long_queue_is_not_given_up() {
        let mut c: Coalescer<u32> = Coalescer::new(50, 1000, 100);
        assert_eq!(c.arrive("a", 0, || 1), lead(1));
        assert_eq!(c.arrive("a", 90, || 2), Arrival::Wait);
        assert_eq!(c.hand_off("a", 1, 95, |_| 1), Some(2));
        assert_eq!(c.arrive("a", 150, || 3), Arrival::Wait);
    }
}
