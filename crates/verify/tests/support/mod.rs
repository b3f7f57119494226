//! Tokens signed like edgeauth's, with test keys, and a verifier for them.
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use edgeauth_verify::{JwkSet, Key, Verifier};
use serde_json::{json, Value};

pub const ISS: &str = "https://auth.example.com";
pub const API: &str = "https://api.example.com";
pub const NOW: u64 = 1_700_000_000;

pub fn signer(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub fn key(seed: u8) -> Key {
    Key::ed25519(signer(seed).verifying_key().as_bytes(), None).unwrap()
}

pub fn kid(seed: u8) -> String {
    key(seed).kid().to_string()
}

/// The JWKS document of these keys, as the issuer publishes it.
pub fn jwks_json(seeds: &[u8]) -> String {
    let keys: Vec<Value> = seeds
        .iter()
        .map(|s| {
            json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid(*s),
                   "x": B64.encode(signer(*s).verifying_key().as_bytes())})
        })
        .collect();
    json!({ "keys": keys }).to_string()
}

pub fn header() -> Value {
    json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid(1)})
}

pub fn claims() -> Value {
    json!({"iss": ISS, "sub": "c1", "client_id": "c1", "aud": API, "scope": "read write",
           "iat": NOW, "exp": NOW + 600, "jti": "j1"})
}

/// `header.payload` of raw JSON texts, base64url-encoded.
pub fn input(header: &str, payload: &str) -> String {
    format!("{}.{}", B64.encode(header), B64.encode(payload))
}

/// A compact JWS of raw JSON texts signed with key `seed`.
pub fn sign_raw(seed: u8, header: &str, payload: &str) -> String {
    let input = input(header, payload);
    let sig = signer(seed).sign(input.as_bytes()).to_bytes();
    format!("{input}.{}", B64.encode(sig))
}

/// A token with this header and these claims, signed with key 1.
pub fn token(header: &Value, claims: &Value) -> String {
    sign_raw(1, &header.to_string(), &claims.to_string())
}

/// `claims()` with `name` set to `value` (removed for `Value::Null`).
pub fn with(name: &str, value: Value) -> Value {
    set(claims(), name, value)
}

/// `header()` with `name` set to `value` (removed for `Value::Null`).
pub fn with_header(name: &str, value: Value) -> Value {
    set(header(), name, value)
}

fn set(mut object: Value, name: &str, value: Value) -> Value {
    let members = object.as_object_mut().expect("an object");
    if value.is_null() {
        members.remove(name);
    } else {
        members.insert(name.to_string(), value);
    }
    object
}

/// The default verifier: issuer ISS, audience API, key 1.
pub fn verifier() -> Verifier<JwkSet> {
    Verifier::new(ISS, [API], JwkSet::new(vec![key(1)]))
}
