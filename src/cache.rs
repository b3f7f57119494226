//! Short-lived, bounded caches in the isolate, so the token endpoint's warm path reads KV (and
//! asks the client's guard) at most once per client every [`CLIENT_CACHE_TTL_MS`].
//!
//! How long a change takes to bite in another isolate: a lock, disable, delete or secret
//! removal goes through the client's guard too ([`crate::lockout`]), so it bites everywhere
//! within this TTL. Other changes (scopes, lifetimes, new secrets) take this TTL plus KV's own
//! propagation between locations (up to about 60 s). In the isolate that served the admin
//! change, everything bites at once: admin writes refresh the entries.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;
use std::rc::Rc;

use crate::clients::{ClientId, ClientRecord};

/// How long a cached entry (including a cached "no such thing") is trusted.
pub const CLIENT_CACHE_TTL_MS: u64 = 5_000;
/// Most entries kept per cache; unknown ids sprayed by an attacker cannot grow it past this.
pub const CLIENT_CACHE_MAX: usize = 1_024;

/// Values by key, each with the time it was read, trusted for [`CLIENT_CACHE_TTL_MS`].
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

/// Client records by id; `None` caches "no such client".
pub type ClientCache = TtlCache<ClientId, Option<Rc<ClientRecord>>>;

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// The cached value, if fresh.
    pub fn get(&self, key: &K, now_ms: u64) -> Option<V> {
        let entries = self.entries.borrow();
        let (at, value) = entries.get(key)?;
        (now_ms.saturating_sub(*at) < CLIENT_CACHE_TTL_MS).then(|| value.clone())
    }

    /// Stores a value read at `now_ms`.
    pub fn put(&self, key: K, value: V, now_ms: u64) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= CLIENT_CACHE_MAX && !entries.contains_key(&key) {
            entries.retain(|_, (at, _)| now_ms.saturating_sub(*at) < CLIENT_CACHE_TTL_MS);
            if entries.len() >= CLIENT_CACHE_MAX {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SeqRandom;

    #[test]
    fn entries_expire_after_the_ttl() {
        let c = ClientCache::default();
        let id = ClientId::generate(&SeqRandom::default()).unwrap();
        c.put(id.clone(), None, 1_000);
        assert_eq!(c.get(&id, 1_000 + CLIENT_CACHE_TTL_MS - 1), Some(None));
        assert_eq!(c.get(&id, 1_000 + CLIENT_CACHE_TTL_MS), None);
    }

    #[test]
    fn size_is_bounded() {
        let c = ClientCache::default();
        let rng = SeqRandom::default();
        for _ in 0..(CLIENT_CACHE_MAX * 3) {
            c.put(ClientId::generate(&rng).unwrap(), None, 0);
        }
        assert!(c.len() <= CLIENT_CACHE_MAX);
    }
}
