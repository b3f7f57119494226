//! Public JWKs (RFC 7517): validation of keys registered by admins or fetched from a client's
//! `jwks_uri`, and the one RFC 7638 thumbprint.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::jose::alg::{Alg, JoseError};
use crate::support::b64::{b64url, b64url_decode};
use crate::support::text::printable;

/// A validated public JWK as stored: only public members, `kid` always set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// Key type: `OKP`, `EC` or `RSA`.
    pub kty: String,
    /// Key id (the RFC 7638 thumbprint when none was given).
    pub kid: String,
    /// Curve for OKP and EC keys.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub crv: Option<String>,
    /// Public point x (OKP, EC).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub x: Option<String>,
    /// Public point y (EC).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub y: Option<String>,
    /// RSA modulus.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub n: Option<String>,
    /// RSA exponent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub e: Option<String>,
    /// Algorithm the key is restricted to, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub alg: Option<String>,
}

const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];
const MAX_KID: usize = 128;

impl PublicJwk {
    /// Validates one JWK given by an admin or a JWKS URL.
    pub fn validate(value: &Value) -> Result<PublicJwk, JoseError> {
        let obj = value.as_object().ok_or("each key must be a JSON object")?;
        if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| obj.contains_key(**m)) {
            return Err(format!(
                "the key contains private or symmetric key material ('{m}'); register the public key only"
            ));
        }
        let text = |name: &str| -> Result<Option<String>, JoseError> {
            match obj.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("key member '{name}' must be a string")),
            }
        };
        if let Some(u) = text("use")? {
            if u != "sig" {
                return Err(format!("key use '{}' is not 'sig'", printable(&u)));
            }
        }
        if let Some(Value::Array(ops)) = obj.get("key_ops") {
            if !ops.iter().any(|o| o == "verify") {
                return Err("key_ops does not include 'verify'".into());
            }
        }
        let kty = text("kty")?.ok_or("the key has no kty")?;
        let bytes = |name: &str| -> Result<Vec<u8>, JoseError> {
            text(name)?
                .and_then(|v| b64url_decode(&v))
                .ok_or_else(|| format!("{kty} key member '{name}' is missing or not base64url"))
        };
        let mut key = PublicJwk {
            kty: kty.clone(),
            kid: String::new(),
            crv: text("crv")?,
            x: None,
            y: None,
            n: None,
            e: None,
            alg: text("alg")?,
        };
        match kty.as_str() {
            "OKP" => {
                if key.crv.as_deref() != Some("Ed25519") {
                    return Err("OKP keys must be on curve Ed25519".into());
                }
                let x = bytes("x")?;
                if x.len() != 32 {
                    return Err("an Ed25519 key's x must be 32 bytes".into());
                }
                if ed25519_dalek::VerifyingKey::from_bytes(&x.clone().try_into().unwrap_or([0; 32]))
                    .is_err()
                {
                    return Err("the Ed25519 key is not a valid curve point".into());
                }
                key.x = Some(b64url(x));
            }
            "EC" => {
                if key.crv.as_deref() != Some("P-256") {
                    return Err(format!(
                        "EC keys must be on curve P-256, not {}",
                        printable(key.crv.as_deref().unwrap_or("(none)"))
                    ));
                }
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err("a P-256 key's x and y must be 32 bytes each".into());
                }
                key.x = Some(b64url(x));
                key.y = Some(b64url(y));
            }
            "RSA" => {
                let (n, e) = (bytes("n")?, bytes("e")?);
                // No arithmetic on the attacker's length: an empty modulus has no first byte.
                let bits = n
                    .first()
                    .map_or(0, |b| n.len() * 8 - b.leading_zeros() as usize);
                if n.first() == Some(&0) || !(2048..=8192).contains(&bits) {
                    return Err("RSA keys must have a modulus of 2048 to 8192 bits".into());
                }
                if e.is_empty() || e.len() > 4 || e[0] == 0 || e[e.len() - 1] & 1 == 0 {
                    return Err("the RSA exponent is not valid".into());
                }
                key.n = Some(b64url(n));
                key.e = Some(b64url(e));
            }
            "oct" => {
                return Err(
                    "symmetric (oct) keys cannot be registered; use client_secret_jwt".into(),
                )
            }
            other => return Err(format!("key type '{}' is not supported", printable(other))),
        }
        if let Some(alg) = &key.alg {
            match Alg::within(alg, &Alg::PUBLIC) {
                Some(a) if key.fits(a) => {}
                _ => {
                    return Err(format!(
                        "key alg '{}' does not fit a {kty} key or is not allowed",
                        printable(alg)
                    ))
                }
            }
        }
        key.kid = match text("kid")? {
            Some(k) if k.is_empty() || k.len() > MAX_KID || k.chars().any(char::is_control) => {
                return Err("kid must be 1 to 128 printable characters".into())
            }
            Some(k) => k,
            None => key.thumbprint(),
        };
        Ok(key)
    }

    /// An Ed25519 public key from its 32 bytes.
    pub fn okp_ed25519(x: &[u8]) -> PublicJwk {
        let mut key = PublicJwk {
            kty: "OKP".into(),
            kid: String::new(),
            crv: Some("Ed25519".into()),
            x: Some(b64url(x)),
            y: None,
            n: None,
            e: None,
            alg: None,
        };
        key.kid = key.thumbprint();
        key
    }

    /// Whether this key may verify `alg`: its family, and its own `alg` if it names one.
    pub fn fits(&self, alg: Alg) -> bool {
        let family = match alg {
            Alg::EdDSA | Alg::Ed25519 => self.kty == "OKP",
            Alg::RS256 | Alg::PS256 => self.kty == "RSA",
            Alg::ES256 => self.kty == "EC" && self.crv.as_deref() == Some("P-256"),
            Alg::HS256 => false,
        };
        // A key restricted to one Ed25519 name accepts the other: they are one algorithm.
        let ed = |a: &str| matches!(a, "EdDSA" | "Ed25519");
        family
            && self
                .alg
                .as_deref()
                .is_none_or(|a| a == alg.name() || (ed(a) && ed(alg.name())))
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
    pub fn thumbprint(&self) -> String {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        let canonical = match self.kty.as_str() {
            "RSA" => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                s(&self.e),
                s(&self.n)
            ),
            "EC" => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                s(&self.crv),
                s(&self.x),
                s(&self.y)
            ),
            _ => format!(
                r#"{{"crv":"{}","kty":"{}","x":"{}"}}"#,
                s(&self.crv),
                self.kty,
                s(&self.x)
            ),
        };
        b64url(Sha256::digest(canonical.as_bytes()))
    }

    /// The key as a JSON object with only its public members, for WebCrypto's JWK import.
    pub fn import_form(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("kty".into(), self.kty.clone().into());
        for (name, v) in [
            ("crv", &self.crv),
            ("x", &self.x),
            ("y", &self.y),
            ("n", &self.n),
            ("e", &self.e),
        ] {
            if let Some(v) = v {
                m.insert(name.into(), v.clone().into());
            }
        }
        m
    }
}

/// Most keys a client may register inline.
pub const MAX_KEYS: usize = 10;

/// Validates a JWK Set given by an admin: every key valid, kids unique.
pub fn validate_jwks(value: &Value) -> Result<Vec<PublicJwk>, JoseError> {
    let keys = value
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("jwks must be an object with a 'keys' array")?;
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(format!("jwks must hold 1 to {MAX_KEYS} keys"));
    }
    let mut out: Vec<PublicJwk> = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let key = PublicJwk::validate(k).map_err(|e| format!("jwks key {i}: {e}"))?;
        if out.iter().any(|o| o.kid == key.kid) {
            return Err(format!(
                "jwks key {i}: duplicate kid '{}'",
                printable(&key.kid)
            ));
        }
        out.push(key);
    }
    Ok(out)
}

/// Parses a remote JWK Set leniently: keys we cannot use are skipped, not fatal.
pub fn usable_keys(body: &[u8]) -> Result<Vec<PublicJwk>, JoseError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| "the JWKS is not valid JSON".to_string())?;
    let keys = value
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the JWKS has no 'keys' array")?;
    Ok(keys
        .iter()
        .filter_map(|k| PublicJwk::validate(k).ok())
        .take(50)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 7638 section 3.1 example.

    #[test]
    fn registered_keys_are_checked() {
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(
            PublicJwk::validate(&ed).unwrap().kid,
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        let cases = [
            (json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "d": "x"}),
             "the key contains private or symmetric key material ('d'); register the public key only"),
            (json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}), "EC keys must be on curve P-256, not P-384"),
            (json!({"kty": "oct", "k": "AA"}), "the key contains private or symmetric key material ('k'); register the public key only"),
            (json!({"kty": "RSA", "n": b64url([0xffu8; 128]), "e": "AQAB"}), "RSA keys must have a modulus of 2048 to 8192 bits"),
            (json!({"kty": "RSA", "n": "", "e": "AQAB"}), "RSA keys must have a modulus of 2048 to 8192 bits"),
            (json!({"kty": "RSA", "n": b64url([0xffu8; 256]), "e": ""}), "the RSA exponent is not valid"),
            (json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "alg": "RS256"}),
             "key alg 'RS256' does not fit a OKP key or is not allowed"),
            (json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "use": "enc"}), "key use 'enc' is not 'sig'"),
        ];
        for (key, msg) in cases {
            assert_eq!(PublicJwk::validate(&key).unwrap_err(), msg);
        }
    }

    #[test]
    fn duplicate_kids_are_refused() {
        let k = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let e = validate_jwks(&json!({"keys": [k, k]})).unwrap_err();
        assert_eq!(
            e,
            "jwks key 1: duplicate kid 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k'"
        );
    }
}
