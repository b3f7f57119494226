//! Signature verification in one place: Ed25519 and HMAC-SHA256 in the wasm, RS256, PS256 and
//! ES256 by the platform (WebCrypto on Workers), so no RSA or ECDSA code ships in the wasm.

use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::Error;
use crate::jose::{Alg, PublicJwk};
use crate::support::b64::b64url_decode;
use crate::support::LocalFuture;

/// Signature checks the platform does natively: RS256, PS256, ES256.
pub trait PlatformVerifier {
    /// Whether `signature` over `input` verifies with `key` under `alg`.
    fn verify<'a>(
        &'a self,
        alg: Alg,
        key: &'a PublicJwk,
        input: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, Error>>;
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
        Alg::EdDSA | Alg::Ed25519 => Ok(ed25519(key, input, signature)),
        Alg::HS256 => Ok(false),
        Alg::RS256 | Alg::PS256 | Alg::ES256 => platform.verify(alg, key, input, signature).await,
    }
}

/// Strict Ed25519 (RFC 8032): rejects small-order keys and non-canonical signatures.
fn ed25519(key: &PublicJwk, input: &[u8], signature: &[u8]) -> bool {
    let x = key
        .x
        .as_deref()
        .and_then(b64url_decode)
        .and_then(|b| <[u8; 32]>::try_from(b).ok());
    let (Some(x), Ok(sig)) = (x, Signature::from_slice(signature)) else {
        return false;
    };
    VerifyingKey::from_bytes(&x).is_ok_and(|vk| vk.verify_strict(input, &sig).is_ok())
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
