//! PEM public keys (SPKI, PKCS#1) imported as JWKs, for admins who upload a key file.
//!
//! The armour is read by RFC 7468's strict grammar as the `pem-rfc7468` 1.0 crate read it
//! before this reader replaced it (with its quirks: see `armoured`), so that every key file keeps
//! the answer it had; tests/host/pem_differential.rs compares the two.

use serde_json::{Map, Value};

use crate::jose::alg::JoseError;
use crate::jose::der::{self, Reader};
use crate::jose::jwk::PublicJwk;
use crate::support::b64::b64url;
use crate::support::text::printable;

const BAD: &str = "public_key_pem is not a PEM-encoded public key";
const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";
/// Base64 lines are this long, but for the last.
const WIDTH: usize = 64;

/// Converts a PEM public key (SPKI `PUBLIC KEY`, or PKCS#1 `RSA PUBLIC KEY`) to a JWK.
pub fn jwk_from_pem(pem: &str) -> Result<PublicJwk, JoseError> {
    let (label, der) = armoured(pem.trim().as_bytes()).ok_or(BAD)?;
    let jwk = match label {
        "RSA PUBLIC KEY" => rsa(&der)?,
        "PUBLIC KEY" => {
            let (algorithm, parameters, key) = spki(&der).ok_or(BAD)?;
            match algorithm.as_str() {
                "1.2.840.113549.1.1.1" => rsa(key)?,
                "1.3.101.112" => jwk(&[("kty", "OKP"), ("crv", "Ed25519"), ("x", &b64url(key))]),
                "1.2.840.10045.2.1" => {
                    let curve = parameters
                        .and_then(|(tag, oid)| (tag == der::OID).then(|| der::oid(oid)).flatten());
                    if curve.as_deref() != Some("1.2.840.10045.3.1.7") {
                        return Err("EC public keys must be on curve P-256".into());
                    }
                    if key.len() != 65 || key[0] != 4 {
                        return Err("the P-256 public key must be an uncompressed point".into());
                    }
                    jwk(&[
                        ("kty", "EC"),
                        ("crv", "P-256"),
                        ("x", &b64url(&key[1..33])),
                        ("y", &b64url(&key[33..])),
                    ])
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

/// A PKCS#1 `RSAPublicKey` as a JWK.
fn rsa(bytes: &[u8]) -> Result<Value, JoseError> {
    let (n, e) = pkcs1(bytes).ok_or(BAD)?;
    Ok(jwk(&[("kty", "RSA"), ("n", &b64url(n)), ("e", &b64url(e))]))
}

/// A JWK of string members, made as a map directly (`json!` converted each member through
/// serde into a `Value`). Inserted one by one: collecting sorts, which links a sort.
fn jwk(members: &[(&str, &str)]) -> Value {
    let mut map = Map::new();
    for (name, value) in members {
        map.insert(name.to_string(), Value::from(*value));
    }
    Value::Object(map)
}

/// The modulus and public exponent of a PKCS#1 `RSAPublicKey`.
fn pkcs1(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut outer = Reader::new(bytes);
    let mut fields = Reader::new(outer.read(der::SEQUENCE)?);
    let n = der::uint(fields.read(der::INTEGER)?)?;
    let e = der::uint(fields.read(der::INTEGER)?)?;
    (fields.is_empty() && outer.is_empty()).then_some((n, e))
}

/// Optional algorithm parameters: their first tag byte and content.
type Parameters<'a> = Option<(u8, &'a [u8])>;

/// A `SubjectPublicKeyInfo`: the algorithm's dotted OID, its parameters and the key bytes.
fn spki(bytes: &[u8]) -> Option<(String, Parameters<'_>, &[u8])> {
    let mut outer = Reader::new(bytes);
    let mut fields = Reader::new(outer.read(der::SEQUENCE)?);
    let mut algorithm = Reader::new(fields.read(der::SEQUENCE)?);
    let oid = der::oid(algorithm.read(der::OID)?)?;
    let parameters = if algorithm.is_empty() {
        None
    } else {
        Some(algorithm.any()?)
    };
    let key = der::bit_string(fields.read(der::BIT_STRING)?)?;
    (algorithm.is_empty() && fields.is_empty() && outer.is_empty())
        .then_some((oid, parameters, key))
}

/// The label and decoded body of one PEM document, or `None` where `pem-rfc7468` 1.0 refused it.
///
/// Its quirks, kept on purpose: text before the first `-----BEGIN ` line is skipped unless it
/// holds a NUL; a label may end in one space or tab; every base64 line but the last must be 64
/// characters (CRLF, CR or LF after each); one blank line may follow the last, and a second
/// only after a full 64-character last line whose final quantum has no padding (pem-rfc7468
/// leaves that blank line unread and so decodes the final quantum as unpadded base64).
pub(crate) fn armoured(pem: &[u8]) -> Option<(&str, Vec<u8>)> {
    let start = if pem.starts_with(BEGIN) {
        0
    } else {
        let lf = (0..pem.len()).find(|&i| pem[i] == b'\n' && pem[i + 1..].starts_with(BEGIN))?;
        if pem[..lf].contains(&0) {
            return None;
        }
        lf + 1
    };
    let rest = &pem[start + BEGIN.len()..];
    let (label, rest) = label(rest)?;
    // The input is trimmed: no line ending follows the closing dashes.
    let body = rest.strip_suffix(DASHES)?;
    let body = body.strip_suffix(label.as_bytes())?.strip_suffix(END)?;
    base64_lines(strip_eol(body)?)
        .filter(|text| !text.is_empty())
        .and_then(edgeauth_verify::b64::std_decode)
        .map(|der| (label, der))
}

/// The type label of a `-----BEGIN ` line and the text after that line.
fn label(line: &[u8]) -> Option<(&str, &[u8])> {
    let n = line.iter().position(|&c| c == b'-').unwrap_or(line.len());
    let name = &line[..n];
    let well_formed = name.iter().enumerate().all(|(i, &c)| match c {
        0x21..=0x7E => true,
        // Single spaces or tabs between words, or one at the end (which no label we accept has).
        b' ' | b'\t' => i > 0 && !matches!(name[i - 1], b' ' | b'\t'),
        _ => false,
    });
    if !well_formed {
        return None;
    }
    let text = match line[n..].strip_prefix(DASHES)? {
        [b'\r', b'\n', rest @ ..] | [b'\n', rest @ ..] | [b'\r', rest @ ..] => rest,
        _ => return None,
    };
    Some((std::str::from_utf8(name).ok()?, text))
}

/// `bytes` without one line ending at its end, if it has one.
fn strip_eol(bytes: &[u8]) -> Option<&[u8]> {
    bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .or_else(|| bytes.strip_suffix(b"\r"))
}

/// The base64 text of the lines between the boundaries, or `None` where a line is misshapen or
/// (see `armoured`) a second blank line follows a padded final quantum.
fn base64_lines(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut text = Vec::with_capacity(rest.len());
    while rest.len() > WIDTH {
        text.extend_from_slice(&rest[..WIDTH]);
        rest = match &rest[WIDTH..] {
            [b'\r', b'\n', tail @ ..] | [b'\n', tail @ ..] | [b'\r', tail @ ..] => tail,
            _ => return None,
        };
    }
    if !rest.is_empty() {
        let last = strip_eol(rest).unwrap_or(rest);
        if last.is_empty() && text.ends_with(b"=") {
            return None;
        }
        text.extend_from_slice(last);
    }
    Some(text)
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
