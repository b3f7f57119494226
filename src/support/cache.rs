//! A short-lived, bounded cache: what the isolate keeps between requests is built from it (see
//! `context::IsolateState` for what is cached and how long a change takes to bite).

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;

/// How long a cached entry (including a cached "no such thing") is trusted.
pub const CACHE_TTL_MS: u64 = 5_000;
/// Most entries kept per cache; unknown ids sprayed by an attacker cannot grow it past this.
pub const CACHE_MAX: usize = 1_024;

/// Values by key, each with the time it was read, trusted for [`CACHE_TTL_MS`].
#[derive(Debug)]
pub struct TtlCache<K, V> {
    entries: RefCell<HashMap<K, (u64, V)>>,
}

impl<K, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        TtlCache {
            entries: RefCell::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// The cached value, if fresh.
    pub fn get(&self, key: &K, now_ms: u64) -> Option<V> {
        let entries = self.entries.borrow();
        let (at, value) = entries.get(key)?;
        (now_ms.saturating_sub(*at) < CACHE_TTL_MS).then(|| value.clone())
    }

    /// Stores a value read at `now_ms`.
    pub fn put(&self, key: K, value: V, now_ms: u64) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= CACHE_MAX && !entries.contains_key(&key) {
            entries.retain(|_, (at, _)| now_ms.saturating_sub(*at) < CACHE_TTL_MS);
            if entries.len() >= CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(key, (now_ms, value));
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
        assert_eq!(c.get(&1, 1_000 + CACHE_TTL_MS - 1), Some(None));
        assert_eq!(c.get(&1, 1_000 + CACHE_TTL_MS), None);
    }

    #[test]
    fn size_is_bounded() {
        let c: TtlCache<usize, ()> = TtlCache::default();
        for k in 0..(CACHE_MAX * 3) {
            c.put(k, (), 0);
        }
        assert!(c.len() <= CACHE_MAX);
    }
}
