//! RS256, PS256 and ES256 on the host, with RustCrypto, standing in for WebCrypto; and test keys
//! that sign assertions the way client libraries do.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use edgeauth::jose::verify::PlatformVerifier;
use edgeauth::jose::{Alg, PublicJwk};
use edgeauth::support::LocalFuture;
use edgeauth::Error;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::{Signer, Verifier};
use rand_core::OsRng;
use rsa::traits::PublicKeyParts;
use rsa::BigUint;
use serde_json::{json, Value};
use sha2::Sha256;

pub struct RustCryptoVerifier;

fn b64(part: &Option<String>) -> Vec<u8> {
    part.as_deref()
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .unwrap_or_default()
}

fn verify(alg: Alg, key: &PublicJwk, input: &[u8], sig: &[u8]) -> bool {
    match alg {
        Alg::RS256 | Alg::PS256 => {
            let Ok(pk) = rsa::RsaPublicKey::new(
                BigUint::from_bytes_be(&b64(&key.n)),
                BigUint::from_bytes_be(&b64(&key.e)),
            ) else {
                return false;
            };
            let Ok(s) = rsa::pkcs1v15::Signature::try_from(sig) else {
                return false;
            };
            if alg == Alg::RS256 {
                rsa::pkcs1v15::VerifyingKey::<Sha256>::new(pk)
                    .verify(input, &s)
                    .is_ok()
            } else {
                let Ok(s) = rsa::pss::Signature::try_from(sig) else {
                    return false;
                };
                rsa::pss::VerifyingKey::<Sha256>::new(pk)
                    .verify(input, &s)
                    .is_ok()
            }
        }
        Alg::ES256 => {
            let point = p256::EncodedPoint::from_affine_coordinates(
                b64(&key.x).as_slice().into(),
                b64(&key.y).as_slice().into(),
                false,
            );
            let (Ok(vk), Ok(s)) = (
                p256::ecdsa::VerifyingKey::from_encoded_point(&point),
                p256::ecdsa::Signature::from_slice(sig),
            ) else {
                return false;
            };
            vk.verify(input, &s).is_ok()
        }
        _ => false,
    }
}

impl PlatformVerifier for RustCryptoVerifier {
    fn verify<'a>(
        &'a self,
        alg: Alg,
        key: &'a PublicJwk,
        input: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, Error>> {
        Box::pin(async move { Ok(verify(alg, key, input, signature)) })
    }
}

/// A client-side signing key.
pub enum TestKey {
    Ed(ed25519_dalek::SigningKey),
    Ec(p256::ecdsa::SigningKey),
    Rsa(rsa::RsaPrivateKey),
    Hmac(String),
}

pub fn rsa_key() -> rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut OsRng, 2048).expect("rsa keygen"))
        .clone()
}

impl TestKey {
    pub fn ed(seed: u8) -> TestKey {
        TestKey::Ed(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    pub fn ec() -> TestKey {
        TestKey::Ec(p256::ecdsa::SigningKey::random(&mut OsRng))
    }

    /// The public JWK, as a client would register it.
    pub fn jwk(&self, kid: &str) -> Value {
        let e = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        match self {
            TestKey::Ed(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": e(k.verifying_key().as_bytes())})
            }
            TestKey::Ec(k) => {
                let p = k.verifying_key().to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-256", "kid": kid, "x": e(p.x().unwrap()), "y": e(p.y().unwrap())})
            }
            TestKey::Rsa(k) => {
                json!({"kty": "RSA", "kid": kid, "n": e(&k.n().to_bytes_be()), "e": e(&k.e().to_bytes_be())})
            }
            TestKey::Hmac(_) => json!({}),
        }
    }

    /// Signs `header.payload` with `alg` (the test chooses; attacks choose wrongly on purpose).
    pub fn sign(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        match (self, alg) {
            (TestKey::Ed(k), _) => ed25519_dalek::Signer::sign(k, input).to_bytes().to_vec(),
            (TestKey::Ec(k), _) => {
                let s: p256::ecdsa::Signature = k.sign(input);
                s.to_bytes().to_vec()
            }
            (TestKey::Rsa(k), "PS256") => {
                use rsa::signature::RandomizedSigner;
                let s = rsa::pss::BlindedSigningKey::<Sha256>::new(k.clone())
                    .sign_with_rng(&mut OsRng, input);
                rsa::signature::SignatureEncoding::to_vec(&s)
            }
            (TestKey::Rsa(k), _) => {
                let s = rsa::pkcs1v15::SigningKey::<Sha256>::new(k.clone()).sign(input);
                rsa::signature::SignatureEncoding::to_vec(&s)
            }
            (TestKey::Hmac(secret), _) => hs256(secret.as_bytes(), input),
        }
    }
}

pub fn hs256(key: &[u8], input: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// A compact JWS with the given header and claims, signed by `key` with `alg`.
pub fn jws(key: &TestKey, header: Value, claims: Value) -> String {
    let alg = header["alg"].as_str().unwrap_or("").to_string();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key.sign(&alg, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}
