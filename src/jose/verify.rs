//! Signature verification in one place: HMAC-SHA256 in the wasm, RS256, PS256 and ES256 by the
//! platform (WebCrypto on Workers), so no RSA or ECDSA code ships in the wasm; Ed25519 by the
//! platform after the strict checks here (in Rust on the host, where there is no platform).

use ed25519_dalek::VerifyingKey;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::Error;
use crate::jose::alg::Alg;
use crate::jose::jwk::PublicJwk;
use crate::support::b64::b64url_decode;
use crate::support::cache::Recent;
use crate::support::LocalFuture;

/// Signature checks the platform does natively: RS256, PS256, ES256, and Ed25519 if it can.
pub trait PlatformVerifier {
    /// Whether `signature` over `input` verifies with `key` under `alg`.
    fn verify<'a>(
        &'a self,
        alg: Alg,
        key: &'a PublicJwk,
        input: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, Error>>;

    /// RFC 8032 5.1.7 verification (cofactorless, `R` compared as bytes) with the Ed25519 public
    /// key `key`, or None where the platform has no Ed25519 (or it failed): the host verifies
    /// in Rust then, the wasm fails the request. Called only
    /// after [`StrictEd25519`] passed, so the platform need not check key or signature form.
    fn ed25519<'a>(
        &'a self,
        _key: &'a [u8; 32],
        _input: &'a [u8],
        _signature: &'a [u8; 64],
    ) -> LocalFuture<'a, Option<bool>> {
        Box::pin(async { None })
    }
}

/// Whether `signature` over `input` verifies with the registered public `key` under `alg`.
/// A key outside `alg`'s family verifies nothing.
pub async fn verify(
    alg: Alg,
    key: &PublicJwk,
    input: &[u8],
    signature: &[u8],
    platform: &dyn PlatformVerifier,
) -> Result<bool, Error> {
    if !key.fits(alg) {
        return Ok(false);
    }
    match alg {
        Alg::EdDSA | Alg::Ed25519 => {
            let Some(strict) = StrictEd25519::check(key, signature) else {
                return Ok(false);
            };
            strict.verify_with(platform, input).await
        }
        Alg::HS256 => Ok(false),
        Alg::RS256 | Alg::PS256 | Alg::ES256 => platform.verify(alg, key, input, signature).await,
    }
}

/// Ed25519 for a signature over one of our own tokens: the strict checks here, then the
/// equation by the platform (see [`StrictEd25519::verify_with`]).
pub async fn ed25519_native(
    platform: &dyn PlatformVerifier,
    key: [u8; 32],
    input: &[u8],
    signature: [u8; 64],
) -> Result<bool, Error> {
    match StrictEd25519::check_raw(key, &signature) {
        Some(strict) => strict.verify_with(platform, input).await,
        None => Ok(false),
    }
}

/// The canonical encodings of the eight points of small order (the 8-torsion): no other
/// encoding of them can verify, as verification compares `R` with a canonical encoding.
const SMALL_ORDER: [[u8; 32]; 8] = {
    let mut points = [[0u8; 32]; 8];
    // The identity (0, 1).
    points[0][0] = 1;
    // (0, -1), order 2: y = p - 1.
    points[1] = [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ];
    // (±sqrt(-1), 0), order 4: y = 0, both signs of x.
    points[3][31] = 0x80;
    // Order 8: y = ±y8, both signs of x.
    let y8 = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];
    let minus_y8 = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    points[4] = y8;
    points[5] = y8;
    points[5][31] |= 0x80;
    points[6] = minus_y8;
    points[7] = minus_y8;
    points[7][31] |= 0x80;
    points
};

/// An Ed25519 key and signature that passed the checks of `verify_strict` that are not the
/// verification equation itself: the key is a point of large order, `s` is reduced (no
/// malleable twin of a signature) and `R` is not of small order. What is left is RFC 8032's
/// equation, which [`StrictEd25519::verify_with`] has the platform check.
pub struct StrictEd25519 {
    /// The client's public key, a point of large order.
    pub key: [u8; 32],
    /// `R || s`.
    pub signature: [u8; 64],
}

impl StrictEd25519 {
    /// The key and signature, if they pass; None verifies nothing.
    pub fn check(key: &PublicJwk, signature: &[u8]) -> Option<StrictEd25519> {
        let key = <[u8; 32]>::try_from(b64url_decode(key.x.as_deref()?)?).ok()?;
        StrictEd25519::check_raw(key, signature)
    }

    /// As [`StrictEd25519::check`], for a key already in bytes.
    pub fn check_raw(key: [u8; 32], signature: &[u8]) -> Option<StrictEd25519> {
        if !is_checked_key(&key) {
            return None;
        }
        let signature = <[u8; 64]>::try_from(signature).ok()?;
        let (r, s) = signature.split_at(32);
        let s = <[u8; 32]>::try_from(s).ok()?;
        if !is_reduced(&s) || SMALL_ORDER.iter().any(|p| p == r) {
            return None;
        }
        Some(StrictEd25519 { key, signature })
    }

    /// RFC 8032's equation by `platform`; where it has no Ed25519, in Rust on the host and an
    /// error in the wasm, which links no Ed25519 verification of its own (about 1.7 KB of its
    /// gzipped size): Workers always have it.
    pub async fn verify_with(
        &self,
        platform: &dyn PlatformVerifier,
        input: &[u8],
    ) -> Result<bool, Error> {
        match platform.ed25519(&self.key, input, &self.signature).await {
            Some(verified) => Ok(verified),
            #[cfg(not(target_arch = "wasm32"))]
            None => Ok(self.verify(input)),
            #[cfg(target_arch = "wasm32")]
            None => Err(Error::Internal(
                "WebCrypto Ed25519 verification failed".into(),
            )),
        }
    }

    /// The whole of strict verification in Rust, for platforms without Ed25519 (the host).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn verify(&self, input: &[u8]) -> bool {
        VerifyingKey::from_bytes(&self.key).is_ok_and(|key| {
            key.verify_strict(
                input,
                &ed25519_dalek::Signature::from_bytes(&self.signature),
            )
            .is_ok()
        })
    }
}

/// ℓ, the order of the base point (RFC 8032 section 5.1), little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Whether the little-endian `s` is below ℓ (RFC 8032 5.1.7 step 1's "0 <= s < L"): what
/// curve25519's `Scalar::from_canonical_bytes` answers, by a comparison from the most
/// significant byte rather than its scalar reduction (about 1 KB of gzipped wasm). `s` is
/// part of a signature, public: the comparison need not take constant time.
fn is_reduced(s: &[u8; 32]) -> bool {
    s.iter().rev().lt(L.iter().rev())
}

thread_local! {
    /// Client keys that passed the point checks: decompressing a key is a square root, about
    /// 20 µs in the wasm, on every assertion otherwise. Only keys that passed are held, and
    /// keys come from registrations, never from a request.
    static CHECKED: Recent<[u8; 32], ()> = const { Recent::new(32) };
}

/// Whether `x` encodes a point of large order.
fn is_checked_key(x: &[u8; 32]) -> bool {
    if CHECKED.with(|c| c.get(x)).is_some() {
        return true;
    }
    if !VerifyingKey::from_bytes(x).is_ok_and(|k| !k.is_weak()) {
        return false;
    }
    CHECKED.with(|c| c.put(*x, ()));
    true
}

/// HS256 (RFC 7518 3.2): the key is the secret's octets; the tag is compared in constant time.
pub fn hs256(key: &[u8], input: &[u8], signature: &[u8]) -> bool {
    hmac_sha256(key, &[input]).verify_slice(signature).is_ok()
}

/// HMAC-SHA256 over `parts`, in order, ready to finalize or verify.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for p in parts {
        mac.update(p);
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::Scalar;

    /// `is_reduced` answers as curve25519's canonical-scalar check, around ℓ and at random.
    #[test]
    fn is_reduced_is_the_canonical_scalar_check() {
        let mut cases = vec![[0u8; 32], [0xff; 32], L];
        for delta in [1u8, 2, 0x10] {
            let (mut below, mut above) = (L, L);
            below[0] -= delta;
            above[0] += delta;
            cases.extend([below, above]);
        }
        let mut high = L;
        high[30] = 1;
        cases.push(high);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let mut s = [0u8; 32];
            for b in s.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            // Mostly near ℓ's size, so both answers come up.
            s[31] &= 0x1f;
            cases.push(s);
        }
        for s in cases {
            let canonical = bool::from(Scalar::from_canonical_bytes(s).is_some());
            assert_eq!(is_reduced(&s), canonical, "{s:02x?}");
        }
    }
}
