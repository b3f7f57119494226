//! A short-lived, bounded cache: what the isolate keeps between requests is built from it (see
//! `context::IsolateState` for what is cached and how long a change takes to bite).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::Hash;
use std::rc::Rc;

/// How long a cached entry (including a cached "no such thing") is trusted.
pub const CACHE_TTL_MS: u64 = 5_000;
/// Most entries kept per cache of things that exist; a full cache evicts its oldest entries.
pub const CACHE_MAX: usize = 1_024;
/// Most "no such thing" entries kept: ids anyone can make up live apart from the things that
/// exist, in a cache of their own, so spraying them cannot push a real client out.
pub const MISSING_MAX: usize = 256;
/// In an entry's last this-many ms, one request reads it again while the others still use it.
/// Without it, every request in flight when an entry expires misses and reads at once: under
/// sustained load that burst held every connection for 0.4-0.9 s (`bench/`, plain workerd).
pub const REFRESH_AHEAD_MS: u64 = 1_000;

/// When a value was read, and whether a request has been sent to read it again.
#[derive(Debug)]
pub struct Stamp {
    at: u64,
    refreshing: Cell<bool>,
}

impl Stamp {
    /// A value read at `at` (ms).
    pub fn new(at: u64) -> Stamp {
        Stamp {
            at,
            refreshing: Cell::new(false),
        }
    }

    /// Whether this caller may use the value at `now_ms`. Never past [`CACHE_TTL_MS`]; within
    /// its last [`REFRESH_AHEAD_MS`], false for exactly one caller, who reads the value again
    /// (and stores it) while everyone else keeps using this one.
    pub fn serve(&self, now_ms: u64) -> bool {
        let age = now_ms.saturating_sub(self.at);
        if age >= CACHE_TTL_MS {
            return false;
        }
        age < CACHE_TTL_MS - REFRESH_AHEAD_MS || self.refreshing.replace(true)
    }

    /// Whether the value is within its TTL at `now_ms`, whoever is reading it again.
    pub fn fresh(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.at) < CACHE_TTL_MS
    }
}

/// Values by key, each with the time it was read, trusted for [`CACHE_TTL_MS`] and read
/// again ahead of that by one request (see [`Stamp::serve`]); at most `MAX` entries.
#[derive(Debug)]
pub struct TtlCache<K, V, const MAX: usize = CACHE_MAX> {
    entries: RefCell<HashMap<K, (Stamp, V)>>,
}

impl<K, V, const MAX: usize> Default for TtlCache<K, V, MAX> {
    fn default() -> Self {
        TtlCache {
            entries: RefCell::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone, const MAX: usize> TtlCache<K, V, MAX> {
    /// The cached value, if this caller may use it (see [`Stamp::serve`]): `None` asks the
    /// caller to read the value and [`put`](Self::put) it.
    pub fn get(&self, key: &K, now_ms: u64) -> Option<V> {
        let entries = self.entries.borrow();
        let (stamp, value) = entries.get(key)?;
        stamp.serve(now_ms).then(|| value.clone())
    }

    /// The cached value while within its TTL, whoever is reading it again: what a request
    /// whose read ahead of expiry failed still answers with.
    pub fn unexpired(&self, key: &K, now_ms: u64) -> Option<V> {
        let entries = self.entries.borrow();
        let (stamp, value) = entries.get(key)?;
        stamp.fresh(now_ms).then(|| value.clone())
    }

    /// Stores a value read at `now_ms`. A full cache drops what expired, and if that is not
    /// enough its oldest entry: never everything, so a burst of new keys cannot flush the
    /// entries in use. The scans are over at most `MAX` entries, only when full.
    pub fn put(&self, key: K, value: V, now_ms: u64) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX && !entries.contains_key(&key) {
            entries.retain(|_, (stamp, _)| stamp.fresh(now_ms));
            let oldest = entries.iter().min_by_key(|(_, (s, _))| s.at);
            if let Some(oldest) = oldest.filter(|_| entries.len() >= MAX) {
                let oldest = oldest.0.clone();
                entries.remove(&oldest);
            }
        }
        entries.insert(key, (Stamp::new(now_ms), value));
    }

    /// Forgets `key`.
    pub fn remove(&self, key: &K) {
        self.entries.borrow_mut().remove(key);
    }

    /// Number of entries, for tests.
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Things by id, and ids of things that do not exist, kept apart: the ids a stranger can make
/// up only ever fill the short list of missing ones (see [`MISSING_MAX`]).
#[derive(Debug)]
pub struct Lookup<K, V> {
    found: TtlCache<K, Rc<V>>,
    /// Ids read as missing, with when (ms): newest first, at most [`MISSING_MAX`].
    missing: Recent<K, u64>,
}

impl<K, V> Default for Lookup<K, V> {
    fn default() -> Self {
        Lookup {
            found: TtlCache::default(),
            missing: Recent::new(MISSING_MAX),
        }
    }
}

impl<K: Eq + Hash + Clone, V> Lookup<K, V> {
    /// What is known of `key`, if this caller may use it: `Some(None)` is "no such thing".
    pub fn get(&self, key: &K, now_ms: u64) -> Option<Option<Rc<V>>> {
        match self.found.get(key, now_ms) {
            Some(v) => Some(Some(v)),
            None => self.missing(key, now_ms),
        }
    }

    /// What is known of `key` while within its TTL (see [`TtlCache::unexpired`]).
    pub fn unexpired(&self, key: &K, now_ms: u64) -> Option<Option<Rc<V>>> {
        match self.found.unexpired(key, now_ms) {
            Some(v) => Some(Some(v)),
            None => self.missing(key, now_ms),
        }
    }

    fn missing(&self, key: &K, now_ms: u64) -> Option<Option<Rc<V>>> {
        let at = self.missing.get(key)?;
        (now_ms.saturating_sub(at) < CACHE_TTL_MS).then_some(None)
    }

    /// Stores what was read of `key` at `now_ms`: the thing, or that there is none.
    pub fn put(&self, key: K, value: Option<Rc<V>>, now_ms: u64) {
        match value {
            Some(v) => {
                self.missing.remove(&key);
                self.found.put(key, v, now_ms);
            }
            None => {
                self.found.remove(&key);
                self.missing.put(key, now_ms);
            }
        }
    }

    /// Entries held (things, missing ids), for tests.
    pub fn len(&self) -> (usize, usize) {
        (self.found.len(), self.missing.entries.borrow().len())
    }
}

/// The last few values put, newest first and at most `held`: for a handful of keys an isolate
/// sees again and again (verified client keys, imported WebCrypto keys), where a linear scan of
/// a short list beats hashing.
#[derive(Debug)]
pub struct Recent<K, V> {
    entries: RefCell<Vec<(K, V)>>,
    held: usize,
}

impl<K, V: Clone> Recent<K, V> {
    /// An empty list that keeps at most `held` entries (at least one).
    pub const fn new(held: usize) -> Self {
        Recent {
            entries: RefCell::new(Vec::new()),
            held,
        }
    }

    /// The value put under `key`, if still held.
    pub fn get<Q: PartialEq + ?Sized>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        let entries = self.entries.borrow();
        entries
            .iter()
            .find(|(k, _)| k.borrow() == key)
            .map(|(_, v)| v.clone())
    }

    /// Puts `value` under `key` as the newest, dropping the oldest beyond `held`.
    pub fn put(&self, key: K, value: V) {
        let mut entries = self.entries.borrow_mut();
        entries.truncate(self.held.max(1) - 1);
        entries.insert(0, (key, value));
    }

    /// Forgets every value put under `key`.
    pub fn remove<Q: PartialEq + ?Sized>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
    {
        self.entries.borrow_mut().retain(|(k, _)| k.borrow() != key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_keeps_the_newest_up_to_its_bound() {
        let r: Recent<String, u32> = Recent::new(2);
        r.put("a".into(), 1);
        r.put("b".into(), 2);
        assert_eq!((r.get("a"), r.get("b")), (Some(1), Some(2)));
        r.put("c".into(), 3);
        assert_eq!(
            (r.get("a"), r.get("b"), r.get("c")),
            (None, Some(2), Some(3))
        );
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let c: TtlCache<u32, Option<u8>> = TtlCache::default();
        c.put(1, None, 1_000);
        assert_eq!(c.get(&1, 1_000 + CACHE_TTL_MS - 1), None, "the one refresh");
        assert_eq!(c.get(&1, 1_000 + CACHE_TTL_MS - 1), Some(None));
        assert_eq!(c.get(&1, 1_000 + CACHE_TTL_MS), None);
        assert_eq!(c.get(&1, 1_000 + CACHE_TTL_MS), None, "past the TTL, never");
    }

    #[test]
    fn one_caller_reads_again_ahead_of_the_ttl_and_the_rest_keep_the_value() {
        let c: TtlCache<u32, u8> = TtlCache::default();
        c.put(1, 7, 0);
        let ahead = CACHE_TTL_MS - REFRESH_AHEAD_MS;
        assert_eq!(c.get(&1, ahead - 1), Some(7));
        let asked: Vec<_> = (0..5).map(|i| c.get(&1, ahead + i)).collect();
        assert_eq!(asked, [None, Some(7), Some(7), Some(7), Some(7)]);
        assert_eq!(
            c.unexpired(&1, CACHE_TTL_MS - 1),
            Some(7),
            "for a failed refresh"
        );
        assert_eq!(c.unexpired(&1, CACHE_TTL_MS), None);
        c.put(1, 8, ahead + 5);
        assert_eq!(
            c.get(&1, CACHE_TTL_MS + 1),
            Some(8),
            "the refreshed value, past the old TTL"
        );
        assert_eq!(c.get(&2, 0), None, "an absent key is a miss");
    }

    #[test]
    fn size_is_bounded_and_a_full_cache_drops_its_oldest_not_everything() {
        let c: TtlCache<usize, ()> = TtlCache::default();
        for k in 0..(CACHE_MAX * 3) {
            c.put(k, (), k as u64);
        }
        assert!(
            c.len() <= CACHE_MAX && c.len() > CACHE_MAX * 7 / 8,
            "{}",
            c.len()
        );
        let newest = CACHE_MAX * 3 - 1;
        assert_eq!(c.get(&newest, newest as u64), Some(()));
        assert_eq!(c.get(&0, newest as u64), None, "the oldest went first");
        // Keys arriving at one instant: one goes at a time, never the whole cache.
        let c: TtlCache<usize, (), 16> = TtlCache::default();
        for k in 0..1_000 {
            c.put(k, (), 1);
            assert_eq!(c.len(), (k + 1).min(16));
        }
    }

    #[test]
    fn missing_ids_live_apart_and_cannot_push_out_what_exists() {
        let l: Lookup<u32, u8> = Lookup::default();
        l.put(1, Some(Rc::new(7)), 0);
        for k in 2..10_000 {
            l.put(k, None, 10);
        }
        assert_eq!(l.get(&1, 10).flatten().as_deref(), Some(&7));
        assert_eq!(l.len(), (1, MISSING_MAX));
        assert_eq!(l.get(&9_999, 10), Some(None));
        // A thing made after being missing is found, and a deleted one is missing.
        l.put(9_999, Some(Rc::new(9)), 20);
        assert_eq!(l.get(&9_999, 20).flatten().as_deref(), Some(&9));
        l.put(1, None, 20);
        assert_eq!(l.get(&1, 20), Some(None));
        assert_eq!(l.unexpired(&1, 20 + CACHE_TTL_MS), None);
    }
}
