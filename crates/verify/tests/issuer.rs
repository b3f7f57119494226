//! What edgeauth's own signing code issues and publishes, this crate verifies.

use edgeauth::jose::keys::{KeySet, SigningKey};
use edgeauth_verify::{JwkSet, Verifier, VerifyError};
use serde_json::json;

const ISS: &str = "https://auth.example.com";
const API: &str = "https://api.example.com";
const NOW: u64 = 1_700_000_000;

/// The claims `oauth::access_token::issue` writes.
fn payload(jti: &str) -> Vec<u8> {
    json!({"iss": ISS, "sub": "cl_1", "client_id": "cl_1", "aud": API, "iat": NOW,
           "exp": NOW + 3600, "jti": jti, "scope": "read"})
    .to_string()
    .into_bytes()
}

#[test]
fn tokens_signed_by_the_issuer_verify_against_its_published_jwks() {
    let keys = KeySet::new(&[5; 32], Some(&[6; 32]));
    let published = serde_json::to_vec(&keys.jwks()).unwrap();
    let verifier = Verifier::new(ISS, [API], JwkSet::from_json(&published).unwrap());
    assert_eq!(verifier.keys().keys().len(), 2);

    let current = keys.current.sign_jwt(&payload("a"));
    let claims = verifier.verify(&current, NOW + 10).unwrap();
    assert_eq!(
        (claims.client_id.as_str(), claims.jti.as_str()),
        ("cl_1", "a")
    );
    assert_eq!(claims.scopes, ["read"]);

    // Signed before the rotation, with the key now published as the previous one.
    let previous = SigningKey::from_seed(&[6; 32]).sign_jwt(&payload("b"));
    assert_eq!(verifier.verify(&previous, NOW + 10).unwrap().jti, "b");

    let retired = SigningKey::from_seed(&[7; 32]).sign_jwt(&payload("c"));
    assert_eq!(
        verifier.verify(&retired, NOW + 10),
        Err(VerifyError::UnknownKey)
    );
}
