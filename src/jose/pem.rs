//! PEM public keys (SPKI, PKCS#1) imported as JWKs, for admins who upload a key file.

use serde_json::Value;

use crate::jose::{JoseError, PublicJwk};
use crate::support::b64::b64url;
use crate::support::text::printable;

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
