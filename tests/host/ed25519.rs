//! Ed25519 verification split between the strict checks in the core and the platform's
//! RFC 8032 equation (WebCrypto on Workers, which checks the equation and nothing else): the
//! pair must refuse exactly what `verify_strict` refuses, even over a lenient platform, for
//! client assertions and for our own tokens (introspection, the token exchange's subject).

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::Scalar;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use edgeauth::jose::verify::{ed25519_native, verify, PlatformVerifier, StrictEd25519};
use edgeauth::jose::{Alg, PublicJwk};
use edgeauth::support::LocalFuture;
use edgeauth::Error;
use sha2::{Digest, Sha512};

use crate::block_on;

/// A platform that checks the cofactorless equation only, as a plain RFC 8032 verifier does.
struct Lenient;

impl PlatformVerifier for Lenient {
    fn verify<'a>(
        &'a self,
        _: Alg,
        _: &'a PublicJwk,
        _: &'a [u8],
        _: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, Error>> {
        Box::pin(async { Ok(false) })
    }

    fn ed25519<'a>(
        &'a self,
        key: &'a [u8; 32],
        input: &'a [u8],
        signature: &'a [u8; 64],
    ) -> LocalFuture<'a, Option<bool>> {
        let ok = VerifyingKey::from_bytes(key).is_ok_and(|k| {
            k.verify(input, &ed25519_dalek::Signature::from_bytes(signature))
                .is_ok()
        });
        Box::pin(async move { Some(ok) })
    }
}

/// A platform without Ed25519: the wasm verifies.
struct NoEd25519;

impl PlatformVerifier for NoEd25519 {
    fn verify<'a>(
        &'a self,
        _: Alg,
        _: &'a PublicJwk,
        _: &'a [u8],
        _: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, Error>> {
        Box::pin(async { Ok(false) })
    }
}

fn jwk(key: &[u8; 32]) -> PublicJwk {
    use base64::Engine;
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key);
    serde_json::from_value(serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": x}))
        .unwrap()
}

/// The answers of a lenient platform and of the wasm, which must agree; our own tokens' path
/// ([`ed25519_native`], over the lenient platform) must give the same answer.
fn both(key: &[u8; 32], input: &[u8], signature: &[u8]) -> [bool; 2] {
    let jwk = jwk(key);
    let answers = [&Lenient as &dyn PlatformVerifier, &NoEd25519]
        .map(|p| block_on(verify(Alg::EdDSA, &jwk, input, signature, p)).unwrap());
    if let Ok(signature) = <[u8; 64]>::try_from(signature) {
        let native = block_on(ed25519_native(&Lenient, *key, input, signature));
        assert_eq!(native.unwrap(), answers[0], "our tokens' path");
    }
    answers
}

/// `k = H(R || A || M)` reduced, as the verifier computes it.
fn challenge(r: &[u8; 32], a: &[u8; 32], m: &[u8]) -> Scalar {
    let h = Sha512::new()
        .chain_update(r)
        .chain_update(a)
        .chain_update(m)
        .finalize();
    Scalar::from_bytes_mod_order_wide(&h.into())
}

#[test]
fn the_small_order_table_is_the_eight_torsion() {
    let mut torsion: Vec<[u8; 32]> = EIGHT_TORSION
        .iter()
        .map(|p| p.compress().to_bytes())
        .collect();
    torsion.sort();
    torsion.dedup();
    assert_eq!(torsion.len(), 8);
    let key = SigningKey::from_bytes(&[7; 32]);
    let good = key.sign(b"m").to_bytes();
    for r in &torsion {
        let mut sig = good;
        sig[..32].copy_from_slice(r);
        assert!(
            StrictEd25519::check(&jwk(key.verifying_key().as_bytes()), &sig).is_none(),
            "R = {r:02x?} is of small order"
        );
    }
}

#[test]
fn good_signatures_verify_both_ways_and_altered_ones_do_not() {
    for seed in 0..16u8 {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let a = key.verifying_key().to_bytes();
        let message = format!("header.payload-{seed}");
        let sig = key.sign(message.as_bytes()).to_bytes();
        assert_eq!(both(&a, message.as_bytes(), &sig), [true, true]);
        assert_eq!(both(&a, b"header.other", &sig), [false, false]);
        for byte in [0, 31, 32, 63] {
            let mut bad = sig;
            bad[byte] ^= 1;
            assert_eq!(
                both(&a, message.as_bytes(), &bad),
                [false, false],
                "byte {byte}"
            );
        }
        assert_eq!(both(&a, message.as_bytes(), &sig[..63]), [false, false]);
    }
}

/// The identity as key with R = B and s = 1: [1]B = R + [k]A holds for every message.
fn identity_forgery() -> ([u8; 32], [u8; 64]) {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(curve25519_dalek::constants::ED25519_BASEPOINT_COMPRESSED.as_bytes());
    sig[32] = 1;
    (identity, sig)
}

#[test]
fn a_small_order_key_is_refused_though_the_equation_holds() {
    // R is of large order, so only the key check refuses it.
    let (identity, sig) = identity_forgery();
    assert!(
        Lenient.ed25519_sync(&identity, b"anything", &sig),
        "the equation holds"
    );
    assert_eq!(both(&identity, b"anything", &sig), [false, false]);
}

#[test]
fn r_of_small_order_is_refused_though_the_equation_holds() {
    // The key's holder can make R the identity: s = k * a satisfies [s]B = R + [k]A.
    let key = SigningKey::from_bytes(&[9; 32]);
    let a = key.verifying_key().to_bytes();
    let mut r = [0u8; 32];
    r[0] = 1;
    let s = challenge(&r, &a, b"m") * key.to_scalar();
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r);
    sig[32..].copy_from_slice(s.as_bytes());
    assert!(Lenient.ed25519_sync(&a, b"m", &sig), "the equation holds");
    assert_eq!(both(&a, b"m", &sig), [false, false]);
}

#[test]
fn an_unreduced_s_is_refused() {
    let key = SigningKey::from_bytes(&[3; 32]);
    let a = key.verifying_key().to_bytes();
    let sig = key.sign(b"m").to_bytes();
    // s + L: the same scalar mod L, a malleable twin of the signature.
    let l = Scalar::ZERO - Scalar::ONE; // L - 1
    let mut carry = 1u16; // adds 1 more, for L
    let mut twin = sig;
    for (i, byte) in l.as_bytes().iter().enumerate() {
        let sum = u16::from(twin[32 + i]) + u16::from(*byte) + carry;
        twin[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    assert!(twin[63] & 0xe0 == 0, "the twin passes the high-bit check");
    assert!(StrictEd25519::check(&jwk(&a), &twin).is_none());
    assert_eq!(both(&a, b"m", &twin), [false, false]);
}

impl Lenient {
    fn ed25519_sync(&self, key: &[u8; 32], input: &[u8], signature: &[u8; 64]) -> bool {
        block_on(self.ed25519(key, input, signature)).unwrap()
    }
}

#[test]
fn checked_keys_are_remembered_only_when_good_and_stay_right_past_eviction() {
    let (identity, sig) = identity_forgery();
    // More keys than are held, twice over: each verifies its own signature and not another's,
    // whether it was remembered or checked again; the small-order key is refused every time.
    let keys: Vec<SigningKey> = (0..40u8)
        .map(|i| SigningKey::from_bytes(&[i ^ 0x5a; 32]))
        .collect();
    for round in 0..2 {
        for (i, key) in keys.iter().enumerate() {
            let a = key.verifying_key().to_bytes();
            let good = key.sign(b"m").to_bytes();
            let other = keys[(i + 1) % keys.len()].sign(b"m").to_bytes();
            assert_eq!(
                both(&a, b"m", &good),
                [true, true],
                "key {i}, round {round}"
            );
            assert_eq!(
                both(&a, b"m", &other),
                [false, false],
                "key {i}, round {round}"
            );
            assert_eq!(both(&identity, b"anything", &sig), [false, false]);
        }
    }
    // Not a point at all (y = 2 has no x on the curve): refused, and again.
    let mut off = [0u8; 32];
    off[0] = 2;
    for _ in 0..2 {
        assert!(StrictEd25519::check(&jwk(&off), &sig).is_none());
    }
}
