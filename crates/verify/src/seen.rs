//! Signatures already verified, remembered by digest: an API sees the same token again and
//! again for its whole lifetime, and checking an Ed25519 signature in wasm costs far more than
//! everything else a verification does. Only a signature that verified is remembered, keyed by
//! the key's bytes and the whole signed token, so a hit proves exactly what the check would;
//! the claims (time, issuer, audience) are still checked on every call.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// What one verification is remembered by.
pub(crate) type Fingerprint = [u8; 32];

/// A bounded set of verified signatures; the oldest is forgotten first.
#[derive(Debug)]
pub(crate) struct SeenSignatures {
    capacity: usize,
    inner: Mutex<(HashSet<Fingerprint>, VecDeque<Fingerprint>)>,
}

impl SeenSignatures {
    pub(crate) fn new(capacity: usize) -> SeenSignatures {
        SeenSignatures {
            capacity: capacity.max(1),
            inner: Mutex::default(),
        }
    }

    /// What identifies one verification: the key, the signed input and the signature.
    pub(crate) fn fingerprint(key: &[u8], signing_input: &str, signature: &[u8]) -> Fingerprint {
        let mut h = Sha256::new();
        h.update((key.len() as u64).to_be_bytes());
        h.update(key);
        h.update((signing_input.len() as u64).to_be_bytes());
        h.update(signing_input.as_bytes());
        h.update(signature);
        h.finalize().into()
    }

    pub(crate) fn contains(&self, f: &Fingerprint) -> bool {
        self.inner.lock().is_ok_and(|g| g.0.contains(f))
    }

    pub(crate) fn insert(&self, f: Fingerprint) {
        let Ok(mut g) = self.inner.lock() else {
            return;
        };
        let (set, order) = &mut *g;
        if !set.insert(f) {
            return;
        }
        order.push_back(f);
        while order.len() > self.capacity {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().map(|g| g.1.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_up_to_its_capacity_oldest_out_first() {
        let seen = SeenSignatures::new(2);
        let [a, b, c] = [1u8, 2, 3].map(|i| SeenSignatures::fingerprint(&[i; 32], "x.y", &[0; 64]));
        seen.insert(a);
        seen.insert(b);
        seen.insert(b);
        assert_eq!(seen.len(), 2);
        seen.insert(c);
        assert!(!seen.contains(&a) && seen.contains(&b) && seen.contains(&c));
    }

    #[test]
    fn the_fingerprint_covers_key_input_and_signature() {
        let f = SeenSignatures::fingerprint(&[1; 32], "x.y", &[0; 64]);
        assert_ne!(f, SeenSignatures::fingerprint(&[2; 32], "x.y", &[0; 64]));
        assert_ne!(f, SeenSignatures::fingerprint(&[1; 32], "x.z", &[0; 64]));
        assert_ne!(f, SeenSignatures::fingerprint(&[1; 32], "x.y", &[1; 64]));
        // Lengths are framed: moving a byte between key and input changes the fingerprint.
        assert_ne!(
            SeenSignatures::fingerprint(b"ab", "c", &[0; 64]),
            SeenSignatures::fingerprint(b"a", "bc", &[0; 64])
        );
    }
}
