//! The untrusted compact JWS: split, decoded and its header checked, before any key is used.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::{Algorithm, VerifyError};

/// Largest decoded header accepted: ours is under 100 bytes.
const MAX_HEADER: usize = 1024;

/// The header members acted on. Derived, so a duplicate member is an error, not a last-wins.
#[derive(Deserialize)]
struct Header {
    alg: Option<Value>,
    kid: Option<Value>,
    typ: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    crit: Option<Value>,
}

/// `Some` for any value, `null` included: a `crit` of `null` is still a `crit`.
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A token whose header passed the checks and whose signature is not verified yet.
pub(crate) struct Unverified<'a> {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub signing_input: &'a str,
    pub signature: [u8; 64],
    pub payload: Vec<u8>,
}

/// What the header must satisfy.
pub(crate) struct HeaderRules<'a> {
    pub max_len: usize,
    pub algorithms: &'a [Algorithm],
    pub typ: Option<&'a str>,
}

/// Size, three strict base64url parts, a header object with an allowed `alg`, no `crit`, the
/// right `typ`: in this order, so nothing larger than the cap is decoded.
pub(crate) fn parse<'a>(
    token: &'a str,
    rules: &HeaderRules<'_>,
) -> Result<Unverified<'a>, VerifyError> {
    if token.len() > rules.max_len {
        return Err(VerifyError::TooLong);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };
    let decode = |part: &str| crate::b64::url_decode(part).ok_or(VerifyError::Malformed);
    let (header, payload, signature) = (decode(h)?, decode(p)?, decode(s)?);
    if header.len() > MAX_HEADER || header.first() != Some(&b'{') {
        return Err(VerifyError::Malformed);
    }
    let header: Header = crate::json::from_slice(&header).map_err(|_| VerifyError::Malformed)?;
    let alg = match header.alg {
        Some(Value::String(name)) => rules
            .algorithms
            .iter()
            .copied()
            .find(|a| a.name() == name)
            .ok_or(VerifyError::AlgorithmNotAllowed)?,
        _ => return Err(VerifyError::Malformed),
    };
    if header.crit.is_some() {
        return Err(VerifyError::CriticalHeader);
    }
    if let Some(want) = rules.typ {
        match header.typ {
            Some(Value::String(typ)) if typ_matches(&typ, want) => {}
            _ => return Err(VerifyError::WrongType),
        }
    }
    let kid = match header.kid {
        None => None,
        Some(Value::String(kid)) => Some(kid),
        Some(_) => return Err(VerifyError::Malformed),
    };
    // Ed25519 signatures are 64 bytes; any other length cannot verify.
    let signature = <[u8; 64]>::try_from(signature).map_err(|_| VerifyError::BadSignature)?;
    Ok(Unverified {
        alg,
        kid,
        signing_input: &token[..h.len() + 1 + p.len()],
        signature,
        payload,
    })
}

/// RFC 8725 section 3.11 and RFC 7515 section 4.1.9: media types compare case-insensitively
/// and `application/` may be left out.
pub(crate) fn typ_matches(typ: &str, want: &str) -> bool {
    let bare = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    bare.eq_ignore_ascii_case(want)
}

#[cfg(test)]
mod tests {
    use super::typ_matches;

    #[test]
    fn typ_compares_case_insensitively_with_optional_application_prefix() {
        for ok in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert!(typ_matches(ok, "at+jwt"), "{ok}");
        }
        for bad in [
            "jwt",
            "JWT",
            "at+jwt ",
            "application/jwt",
            "applicationat+jwt",
            "x/at+jwt",
            "",
        ] {
            assert!(!typ_matches(bad, "at+jwt"), "{bad}");
        }
    }
}
