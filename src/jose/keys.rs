//! Token signing keys: Ed25519 (RFC 8037), derived from Worker secrets, published as a JWKS.
//!
//! Rotation: put the old seed in `PREVIOUS_SIGNING_KEY_SEED` and a new one in
//! `SIGNING_KEY_SEED`; the old public key stays in the JWKS until it is removed, which must
//! not happen before the longest token lifetime (24 h) has passed.

use ed25519_dalek::{Signer, SigningKey as DalekSigningKey, VerifyingKey};
use serde::Serialize;

use crate::jose::jws::compact;
use crate::jose::PublicJwk;
use crate::support::b64::b64url;

/// An Ed25519 public key with its RFC 7638 thumbprint as `kid`.
#[derive(Debug, Clone)]
pub struct PublicKey {
    key: VerifyingKey,
    kid: String,
}

impl PublicKey {
    fn new(key: VerifyingKey) -> PublicKey {
        let kid = PublicJwk::okp_ed25519(key.as_bytes()).thumbprint();
        PublicKey { key, kid }
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The dalek verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// This key as a JWK.
    pub fn jwk(&self) -> Jwk<'_> {
        Jwk {
            kty: "OKP",
            crv: "Ed25519",
            x: b64url(self.key.as_bytes()),
            kid: &self.kid,
            alg: "EdDSA",
            r#use: "sig",
        }
    }
}

/// A public JWK as published.
#[derive(Debug, Serialize)]
pub struct Jwk<'a> {
    kty: &'static str,
    crv: &'static str,
    x: String,
    kid: &'a str,
    alg: &'static str,
    r#use: &'static str,
}

/// The key that signs access tokens. `alg` is fixed to `EdDSA` by the type.
pub struct SigningKey {
    key: DalekSigningKey,
    public: PublicKey,
    header_b64: String,
}

impl SigningKey {
    /// The only algorithm this key signs with.
    pub const ALG: &'static str = "EdDSA";

    /// Derives the key from a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> SigningKey {
        let key = DalekSigningKey::from_bytes(seed);
        let public = PublicKey::new(key.verifying_key());
        // RFC 9068 section 2.1: typ at+jwt.
        let header = format!(
            r#"{{"alg":"{}","typ":"at+jwt","kid":"{}"}}"#,
            Self::ALG,
            public.kid
        );
        SigningKey {
            key,
            public,
            header_b64: b64url(header),
        }
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Signs a JSON payload as a compact JWS with the `at+jwt` header.
    pub fn sign_jwt(&self, payload_json: &[u8]) -> String {
        let mut input =
            String::with_capacity(self.header_b64.len() + payload_json.len() * 4 / 3 + 90);
        input.push_str(&self.header_b64);
        input.push('.');
        input.push_str(&b64url(payload_json));
        let sig = self.key.sign(input.as_bytes());
        compact(input, &sig.to_bytes())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(kid={})", self.public.kid)
    }
}

/// The current signing key and the previous public key still published.
#[derive(Debug)]
pub struct KeySet {
    /// Signs new tokens.
    pub current: SigningKey,
    /// Verifies tokens signed before the last rotation.
    pub previous: Option<PublicKey>,
}

/// A JWK Set document.
#[derive(Debug, Serialize)]
pub struct Jwks<'a> {
    keys: Vec<Jwk<'a>>,
}

impl KeySet {
    /// Builds the set from the current seed and an optional previous one.
    pub fn new(current: &[u8; 32], previous: Option<&[u8; 32]>) -> KeySet {
        KeySet {
            current: SigningKey::from_seed(current),
            previous: previous.map(|p| SigningKey::from_seed(p).public.clone()),
        }
    }

    /// The published JWKS.
    pub fn jwks(&self) -> Jwks<'_> {
        let mut keys = vec![self.current.public.jwk()];
        keys.extend(self.previous.iter().map(PublicKey::jwk));
        Jwks { keys }
    }

    /// The public key with this `kid`, if published.
    pub fn find(&self, kid: &str) -> Option<&PublicKey> {
        std::iter::once(&self.current.public)
            .chain(self.previous.iter())
            .find(|k| k.kid == kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::b64::b64url_decode;
    use ed25519_dalek::Signature;

    /// RFC 8037 appendix A.1-A.4: key, thumbprint and the Ed25519 JWS of "Example of Ed25519 signing".
    #[test]
    fn rfc8037_vectors() {
        let seed: [u8; 32] = b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap()
            .try_into()
            .unwrap();
        let key = SigningKey::from_seed(&seed);
        assert_eq!(
            b64url(key.public.key.as_bytes()),
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
        assert_eq!(
            key.public.kid(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        let sig = key.key.sign(input.as_bytes());
        assert_eq!(
            b64url(sig.to_bytes()),
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
    }

    #[test]
    fn tokens_carry_at_jwt_header_and_verify() {
        let key = SigningKey::from_seed(&[3; 32]);
        let jwt = key.sign_jwt(br#"{"a":1}"#);
        let parts: Vec<&str> = jwt.split('.').collect();
        let header: serde_json::Value =
            serde_json::from_slice(&b64url_decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], key.public.kid());
        let sig = Signature::from_slice(&b64url_decode(parts[2]).unwrap()).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        key.public
            .key
            .verify_strict(signed.as_bytes(), &sig)
            .unwrap();
    }

    #[test]
    fn jwks_publishes_current_then_previous() {
        let set = KeySet::new(&[1; 32], Some(&[2; 32]));
        let v = serde_json::to_value(set.jwks()).unwrap();
        assert_eq!(v["keys"].as_array().unwrap().len(), 2);
        assert_eq!(v["keys"][0]["kid"], set.current.public().kid());
        assert_eq!(v["keys"][1]["crv"], "Ed25519");
        assert!(v["keys"][0].get("d").is_none());
        assert!(set.find(set.previous.as_ref().unwrap().kid()).is_some());
    }
}
