//! A short-lived, bounded cache of client records in the isolate, so the token endpoint's warm
//! path reads KV at most once per client every [`CLIENT_CACHE_TTL_MS`].
//!
//! This bounds how long a disable, delete or secret removal takes to bite in another isolate:
//! the TTL here plus KV's own propagation between locations (up to about 60 s). In the isolate
//! that served the admin change, it bites at once: admin writes refresh the entry.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::clients::{ClientId, ClientRecord};

/// How long a cached record (or a cached "no such client") is trusted.
pub const CLIENT_CACHE_TTL_MS: u64 = 5_000;
/// Most entries kept; unknown ids sprayed by an attacker cannot grow it past this.
pub const CLIENT_CACHE_MAX: usize = 1_024;

/// When a lookup was made, and what it found.
type Entry = (u64, Option<Rc<ClientRecord>>);

/// Records by client id, each with the time it was read.
#[derive(Debug, Default)]
pub struct ClientCache {
    entries: RefCell<HashMap<ClientId, Entry>>,
}

impl ClientCache {
    /// The cached lookup result, if fresh: `Some(None)` means "known not to exist".
    pub fn get(&self, id: &ClientId, now_ms: u64) -> Option<Option<Rc<ClientRecord>>> {
        let entries = self.entries.borrow();
        let (at, rec) = entries.get(id)?;
        (now_ms.saturating_sub(*at) < CLIENT_CACHE_TTL_MS).then(|| rec.clone())
    }

    /// Stores a lookup result.
    pub fn put(&self, id: ClientId, record: Option<Rc<ClientRecord>>, now_ms: u64) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= CLIENT_CACHE_MAX && !entries.contains_key(&id) {
            entries.retain(|_, (at, _)| now_ms.saturating_sub(*at) < CLIENT_CACHE_TTL_MS);
            if entries.len() >= CLIENT_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(id, (now_ms, record));
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
