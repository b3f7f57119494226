//! JWK Sets (RFC 7517): the Ed25519 public keys tokens may be signed with.

use ed25519_dalek::VerifyingKey;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Largest JWK Set document accepted, static or fetched.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// Members only private or symmetric keys have: a set holding any is refused whole, since it
/// means someone published what must stay secret.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The signature algorithms this crate verifies, each bound to one key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// Ed25519 (RFC 8037): only with an `OKP` key on curve `Ed25519`.
    EdDSA,
}

impl Algorithm {
    /// The `alg` name in a JOSE header.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
        }
    }
}

/// A public key and the one algorithm it verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    kid: String,
    ed25519: VerifyingKey,
}

impl Key {
    /// An Ed25519 key with its `kid` (`None`: the RFC 7638 thumbprint, as edgeauth uses).
    pub fn ed25519(public: &[u8; 32], kid: Option<&str>) -> Result<Key, JwksError> {
        let ed25519 = VerifyingKey::from_bytes(public).map_err(|_| JwksError::InvalidKey)?;
        let kid = kid.map_or_else(|| thumbprint(public), str::to_string);
        Ok(Key { kid, ed25519 })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.ed25519
    }
}

/// RFC 7638 thumbprint of an Ed25519 key (RFC 8037 section 2: members crv, kty, x).
fn thumbprint(public: &[u8; 32]) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        crate::b64::url_encode(public)
    );
    crate::b64::url_encode(Sha256::digest(canonical))
}

/// Why a JWK Set was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwksError {
    /// Larger than [`MAX_JWKS_BYTES`].
    TooLarge,
    /// Not a JSON object with a `keys` array of objects.
    NotASet,
    /// A key holds private or symmetric material.
    PrivateKey,
    /// An Ed25519 key whose `x` is not a valid 32-byte point.
    InvalidKey,
}

impl std::fmt::Display for JwksError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JwksError::TooLarge => "the JWK Set is too large",
            JwksError::NotASet => "not a JWK Set (a JSON object with a keys array of objects)",
            JwksError::PrivateKey => "the JWK Set holds private or symmetric key material",
            JwksError::InvalidKey => "an Ed25519 key is not a valid 32-byte point",
        })
    }
}

impl std::error::Error for JwksError {}

/// A set of verification keys: a static key source, and what a remote source caches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwkSet {
    keys: Vec<Key>,
}

impl JwkSet {
    /// A set of these keys.
    pub fn new(keys: Vec<Key>) -> JwkSet {
        JwkSet { keys }
    }

    /// Parses a JWK Set document. Keys of types or curves this crate does not verify, keys
    /// whose `use` is not `sig` and keys whose `alg` does not fit their type are skipped;
    /// private members anywhere, or a malformed Ed25519 key, refuse the whole set.
    pub fn from_json(json: &[u8]) -> Result<JwkSet, JwksError> {
        if json.len() > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge);
        }
        let doc: Map<String, Value> =
            crate::json::from_slice(json).map_err(|_| JwksError::NotASet)?;
        let Some(Value::Array(entries)) = doc.get("keys") else {
            return Err(JwksError::NotASet);
        };
        let mut keys = Vec::new();
        for entry in entries {
            let jwk = entry.as_object().ok_or(JwksError::NotASet)?;
            if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
                return Err(JwksError::PrivateKey);
            }
            if let Some(key) = ed25519_key(jwk)? {
                keys.push(key);
            }
        }
        Ok(JwkSet { keys })
    }

    /// The keys, in document order.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The key with this `kid` that verifies `alg`.
    pub fn find(&self, kid: &str, alg: Algorithm) -> Option<&Key> {
        self.keys
            .iter()
            .find(|k| k.kid == kid && k.algorithm() == alg)
    }
}

/// The Ed25519 key this JWK describes; `None` for a key this crate does not use.
fn ed25519_key(jwk: &Map<String, Value>) -> Result<Option<Key>, JwksError> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let usable = text("kty") == Some("OKP")
        && text("crv") == Some("Ed25519")
        && jwk.get("use").is_none_or(|u| u == "sig")
        && jwk.get("alg").is_none_or(|a| a == Algorithm::EdDSA.name())
        && jwk.get("kid").is_none_or(Value::is_string);
    if !usable {
        return Ok(None);
    }
    let x = text("x")
        .and_then(crate::b64::url_decode)
        .and_then(|x| <[u8; 32]>::try_from(x).ok())
        .ok_or(JwksError::InvalidKey)?;
    Key::ed25519(&x, text("kid")).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn rfc8037_thumbprint_is_the_default_kid() {
        let x: [u8; 32] = crate::b64::url_decode(X).unwrap().try_into().unwrap();
        let key = Key::ed25519(&x, None).unwrap();
        assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn unsupported_keys_are_skipped_not_fatal() {
        let doc = format!(
            r#"{{"keys":[
                {{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"r"}},
                {{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"e"}},
                {{"kty":"OKP","crv":"X25519","x":"{X}","kid":"x"}},
                {{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"enc","use":"enc"}},
                {{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"es","alg":"ES256"}},
                {{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"good","alg":"EdDSA","use":"sig"}}
            ]}}"#
        );
        let set = JwkSet::from_json(doc.as_bytes()).unwrap();
        let kids: Vec<&str> = set.keys().iter().map(Key::kid).collect();
        assert_eq!(kids, ["good"]);
        assert!(set.find("good", Algorithm::EdDSA).is_some());
        assert!(set.find("es", Algorithm::EdDSA).is_none());
    }

    #[test]
    fn private_members_refuse_the_whole_set() {
        for member in PRIVATE_MEMBERS {
            let doc = format!(
                r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{X}","{member}":"AA"}}]}}"#
            );
            assert_eq!(
                JwkSet::from_json(doc.as_bytes()),
                Err(JwksError::PrivateKey),
                "{member}"
            );
        }
        let oct = br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#;
        assert_eq!(JwkSet::from_json(oct), Err(JwksError::PrivateKey));
    }

    #[test]
    fn malformed_sets_and_points_are_refused() {
        for bad in [
            &b"[]"[..],
            b"{}",
            br#"{"keys":{}}"#,
            br#"{"keys":[1]}"#,
            b"nope",
        ] {
            assert_eq!(JwkSet::from_json(bad), Err(JwksError::NotASet));
        }
        let short = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}"#;
        assert_eq!(JwkSet::from_json(short), Err(JwksError::InvalidKey));
        let big = vec![b' '; MAX_JWKS_BYTES + 1];
        assert_eq!(JwkSet::from_json(&big), Err(JwksError::TooLarge));
    }
}
