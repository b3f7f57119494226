//! JOSE for client assertions: compact JWS parsing (RFC 7515), the algorithm allow-list
//! (RFC 7518, RFC 8037), public JWKs (RFC 7517) with validation, thumbprints (RFC 7638) and
//! import of PEM public keys.
//!
//! Nothing here picks a verifier from a header: the caller decides which algorithms a client
//! may use, and a key only verifies the algorithm of its own family.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::encoding::{b64url, b64url_decode, printable};

/// Algorithms accepted for client assertions. There is no `none`, by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// Ed25519 under its RFC 8037 name.
    EdDSA,
    /// Ed25519 under its fully-specified RFC 9864 name, which newer libraries send.
    Ed25519,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// HMAC-SHA256, keyed by a client secret.
    HS256,
}

impl Alg {
    /// Public-key algorithms, for `private_key_jwt`.
    pub const PUBLIC: [Alg; 5] = [Alg::EdDSA, Alg::Ed25519, Alg::ES256, Alg::RS256, Alg::PS256];
    /// Secret-key algorithms, for `client_secret_jwt`.
    pub const SECRET: [Alg; 1] = [Alg::HS256];

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::EdDSA => "EdDSA",
            Alg::Ed25519 => "Ed25519",
            Alg::RS256 => "RS256",
            Alg::PS256 => "PS256",
            Alg::ES256 => "ES256",
            Alg::HS256 => "HS256",
        }
    }

    /// Looks a name up among `allowed` only.
    pub fn within(name: &str, allowed: &[Alg]) -> Option<Alg> {
        allowed.iter().copied().find(|a| a.name() == name)
    }
}

/// Why a token or key was refused; the text is safe to show the client's developer.
pub type JoseError = String;

/// The protected header members we act on. Unknown members are ignored unless `crit`.
#[derive(Debug, Deserialize)]
pub struct Header {
    /// Algorithm name as sent.
    pub alg: String,
    /// Key id, if sent.
    pub kid: Option<String>,
    /// Critical extensions: we understand none, so any is refused (RFC 7515 4.1.11).
    pub crit: Option<Value>,
}

/// A parsed compact JWS whose signature is not yet verified.
#[derive(Debug)]
pub struct CompactJws<'a> {
    /// The protected header.
    pub header: Header,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

const MAX_HEADER: usize = 1024;

/// Splits and decodes a compact JWS, refusing anything but three strict base64url parts.
pub fn parse_compact(token: &str, max_len: usize) -> Result<CompactJws<'_>, JoseError> {
    if token.len() > max_len {
        return Err(format!("the assertion is longer than {max_len} bytes"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the assertion is not a compact JWS (three dot-separated parts)".into());
    };
    let decode = |part: &str, what: &str| {
        b64url_decode(part)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| format!("the assertion {what} is not valid unpadded base64url"))
    };
    let header_bytes = decode(h, "header")?;
    if header_bytes.len() > MAX_HEADER {
        return Err("the assertion header is too large".into());
    }
    let header: Header = serde_json::from_slice(&header_bytes)
        .map_err(|_| "the assertion header is not a JSON object with an alg".to_string())?;
    if header.crit.is_some() {
        return Err("the assertion has critical header parameters, which are not supported".into());
    }
    Ok(CompactJws {
        header,
        payload: decode(p, "payload")?,
        signing_input: &token[..h.len() + 1 + p.len()],
        signature: decode(s, "signature")?,
    })
}

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
                let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
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

/// Converts a PEM public key (SPKI `PUBLIC KEY`, or PKCS#1 `RSA PUBLIC KEY`) to a JWK.
pub fn jwk_from_pem(pem: &str) -> Result<PublicJwk, JoseError> {
    use pkcs1::der::Decode;
    const BAD: &str = "public_key_pem is not a PEM-encoded public key";
    let (label, der) =
        pkcs1::der::pem::decode_vec(pem.trim().as_bytes()).map_err(|_| BAD.to_string())?;
    let rsa = |bytes: &[u8]| -> Result<Value, JoseError> {
        let k = pkcs1::RsaPublicKeyRef::from_der(bytes).map_err(|_| BAD.to_string())?;
        Ok(serde_json::json!({
            "kty": "RSA",
            "n": b64url(k.modulus.as_bytes()),
            "e": b64url(k.public_exponent.as_bytes()),
        }))
    };
    let jwk = match label {
        "RSA PUBLIC KEY" => rsa(&der)?,
        "PUBLIC KEY" => {
            let spki =
                spki::SubjectPublicKeyInfoRef::from_der(&der).map_err(|_| BAD.to_string())?;
            let raw = spki.subject_public_key.raw_bytes();
            match spki.algorithm.oid.to_string().as_str() {
                "1.2.840.113549.1.1.1" => rsa(raw)?,
                "1.3.101.112" => {
                    serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)})
                }
                "1.2.840.10045.2.1" => {
                    let curve = spki
                        .algorithm
                        .parameters_oid()
                        .map(|o| o.to_string())
                        .unwrap_or_default();
                    if curve != "1.2.840.10045.3.1.7" {
                        return Err("EC public keys must be on curve P-256".into());
                    }
                    if raw.len() != 65 || raw[0] != 4 {
                        return Err("the P-256 public key must be an uncompressed point".into());
                    }
                    serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64url(&raw[1..33]), "y": b64url(&raw[33..])})
                }
                other => return Err(format!("public key algorithm {other} is not supported")),
            }
        }
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            return Err("public_key_pem holds a private key; register the public key only".into())
        }
        other => {
            return Err(format!(
                "PEM label '{}' is not a public key",
                printable(other)
            ))
        }
    };
    PublicJwk::validate(&jwk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seg(v: &str) -> String {
        b64url(v)
    }

    #[test]
    fn compact_jws_needs_exactly_three_strict_parts() {
        let h = seg(r#"{"alg":"EdDSA"}"#);
        let p = seg("{}");
        assert!(parse_compact(&format!("{h}.{p}.AAAA"), 100).is_ok());
        for bad in [
            format!("{h}.{p}"),
            format!("{h}.{p}.AA.AA"),
            format!("{h}.{p}."),
            format!("{h}=.{p}.AAAA"),
            format!("{h}.{p}.AA+/"),
        ] {
            assert!(parse_compact(&bad, 100).is_err(), "{bad}");
        }
        assert_eq!(
            parse_compact(&"a".repeat(101), 100).unwrap_err(),
            "the assertion is longer than 100 bytes"
        );
    }

    #[test]
    fn crit_and_headers_without_alg_are_refused() {
        let p = seg("{}");
        let crit = format!("{}.{p}.AAAA", seg(r#"{"alg":"EdDSA","crit":["exp"]}"#));
        assert_eq!(
            parse_compact(&crit, 999).unwrap_err(),
            "the assertion has critical header parameters, which are not supported"
        );
        let dup = format!("{}.{p}.AAAA", seg(r#"{"alg":"EdDSA","alg":"none"}"#));
        assert!(
            parse_compact(&dup, 999).is_err(),
            "duplicate members are ambiguous"
        );
        let none = format!("{}.{p}.AAAA", seg(r#"{"typ":"JWT"}"#));
        assert!(parse_compact(&none, 999).is_err());
    }

    #[test]
    fn the_allow_list_has_no_none() {
        assert_eq!(Alg::within("none", &Alg::PUBLIC), None);
        assert_eq!(Alg::within("HS256", &Alg::PUBLIC), None);
        assert_eq!(Alg::within("RS256", &Alg::SECRET), None);
        assert_eq!(Alg::within("ES256", &Alg::PUBLIC), Some(Alg::ES256));
    }

    /// RFC 7638 section 3.1 example.
    #[test]
    fn rsa_thumbprint_matches_rfc7638() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let k = PublicJwk::validate(&json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256"}))
            .unwrap();
        assert_eq!(k.kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

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

    #[test]
    fn pem_public_keys_become_jwks() {
        // RFC 8410 section 10.1 Ed25519 public key.
        let pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        let k = jwk_from_pem(pem).unwrap();
        assert_eq!((k.kty.as_str(), k.crv.as_deref()), ("OKP", Some("Ed25519")));
        assert_eq!(
            k.x.as_deref(),
            Some("Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE")
        );
        assert_eq!(
            jwk_from_pem("nope").unwrap_err(),
            "public_key_pem is not a PEM-encoded public key"
        );
        let private = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            jwk_from_pem(private).unwrap_err(),
            "public_key_pem holds a private key; register the public key only"
        );
    }
}
