//! Compact JWS (RFC 7515): strict parsing of untrusted input, and signing.

use serde::Deserialize;
use serde_json::Value;

use crate::jose::alg::JoseError;
use crate::support::b64::{b64url, b64url_decode};
use crate::support::json::{self, present};

/// The protected header members we act on. Unknown members are ignored unless `crit`.
#[derive(Debug, Deserialize)]
pub struct Header {
    /// Algorithm name as sent.
    pub alg: String,
    /// Key id, if sent.
    pub kid: Option<String>,
    /// Media type of the whole token, if sent (`at+jwt` for access tokens, RFC 9068).
    pub typ: Option<String>,
    /// Critical extensions: we understand none, so any is refused (RFC 7515 4.1.11), even
    /// `null`.
    #[serde(default, deserialize_with = "present")]
    pub crit: Option<Option<Value>>,
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
    let header: Header = json::object(&header_bytes)
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

/// Appends `.signature` to `signing_input` (`header.payload`, both already base64url).
pub fn compact(mut signing_input: String, signature: &[u8]) -> String {
    signing_input.push('.');
    signing_input.push_str(&b64url(signature));
    signing_input
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let null = format!("{}.{p}.AAAA", seg(r#"{"alg":"EdDSA","crit":null}"#));
        assert_eq!(
            parse_compact(&null, 999).unwrap_err(),
            "the assertion has critical header parameters, which are not supported"
        );
        let array = format!("{}.{p}.AAAA", seg(r#"["EdDSA","k1"]"#));
        assert_eq!(
            parse_compact(&array, 999).unwrap_err(),
            "the assertion header is not a JSON object with an alg"
        );
    }
}
