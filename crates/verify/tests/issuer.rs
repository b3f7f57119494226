//! What edgeauth's own signing code issues and publishes, this crate verifies.

use edgeauth::jose::keys::{Jwks, Seed, SigningKey};
use edgeauth::registry::signing_keys::{KeyRing, KeySchedule};
use edgeauth_verify::{JwkSet, Verifier, VerifyError};
use serde_json::json;
use zeroize::Zeroizing;

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
    // Key 0 signing, key 1 published as the next one, and a configured previous key.
    let mut schedule = KeySchedule::default();
    schedule.rotate(NOW, 600).unwrap();
    let previous_key = SigningKey::from_seed(&[6; 32]).public().clone();
    let seed = Seed::new(Zeroizing::new([5; 32]));
    let ring = KeyRing::new(&seed, schedule, Some(previous_key), None);
    let published = serde_json::to_vec(&Jwks::of(ring.published(NOW))).unwrap();
    let verifier = Verifier::new(ISS, [API], JwkSet::from_json(&published).unwrap());
    assert_eq!(verifier.keys().keys().len(), 3);

    let current = ring.signing(NOW).sign_jwt(&payload("a"));
    let claims = verifier.verify(&current, NOW + 10).unwrap();
    assert_eq!(
        (claims.client_id.as_str(), claims.jti.as_str()),
        ("cl_1", "a")
    );
    assert_eq!(claims.scopes, ["read"]);

    // Signed by the next key after its switch, and by the key of PREVIOUS_SIGNING_KEY_SEED.
    let next = ring.signing(NOW + 600).sign_jwt(&payload("n"));
    assert_eq!(verifier.verify(&next, NOW + 610).unwrap().jti, "n");
    let previous = SigningKey::from_seed(&[6; 32]).sign_jwt(&payload("b"));
    assert_eq!(verifier.verify(&previous, NOW + 10).unwrap().jti, "b");

    let retired = SigningKey::from_seed(&[7; 32]).sign_jwt(&payload("c"));
    assert_eq!(
        verifier.verify(&retired, NOW + 10),
        Err(VerifyError::UnknownKey)
    );
}
