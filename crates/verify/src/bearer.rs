//! The bearer token of an `Authorization` header (RFC 6750 section 2.1).

use crate::VerifyError;

/// How an access token was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer` (RFC 6750).
    Bearer,
    /// `Authorization: DPoP`, with a proof in the `DPoP` header (RFC 9449 section 7.1).
    DPoP,
}

/// The scheme and token of an `Authorization` header value: `Bearer` or `DPoP` (any case),
/// one space, then a b64token; otherwise as [`bearer_token`].
pub fn access_token(authorization: Option<&str>) -> Result<(Scheme, &str), VerifyError> {
    let value = authorization.unwrap_or_default();
    match value.get(..5) {
        Some(scheme) if scheme.eq_ignore_ascii_case("dpop ") => {
            let token = &value[5..];
            if is_b64token(token) {
                Ok((Scheme::DPoP, token))
            } else {
                Err(VerifyError::MalformedAuthorization)
            }
        }
        _ => bearer_token(authorization).map(|t| (Scheme::Bearer, t)),
    }
}

/// The token in an `Authorization` header value: `Bearer` (any case), one space, then a
/// b64token. `None`, an empty value or another scheme is [`VerifyError::NoCredentials`]
/// (answered with a bare challenge); a Bearer header of any other shape is
/// [`VerifyError::MalformedAuthorization`] (400 `invalid_request`).
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, VerifyError> {
    let value = authorization.unwrap_or_default();
    let scheme_len = value.find([' ', '\t']).unwrap_or(value.len());
    let (scheme, rest) = value.split_at(scheme_len);
    if scheme.is_empty() || !scheme.eq_ignore_ascii_case("bearer") {
        return Err(VerifyError::NoCredentials);
    }
    let token = rest.strip_prefix(' ').unwrap_or_default();
    if is_b64token(token) {
        Ok(token)
    } else {
        Err(VerifyError::MalformedAuthorization)
    }
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_is_case_insensitive_with_exactly_one_space() {
        assert_eq!(bearer_token(Some("Bearer a.b.c")), Ok("a.b.c"));
        assert_eq!(bearer_token(Some("bEARER a-_~+/b==")), Ok("a-_~+/b=="));
        for bad in [
            "Bearer",
            "Bearer ",
            "Bearer  a.b.c",
            "Bearer a.b.c ",
            "Bearer a b",
            "Bearer a\"b",
            "Bearer =",
            "Bearer a=b",
            "Bearer\ta",
        ] {
            assert_eq!(
                bearer_token(Some(bad)),
                Err(VerifyError::MalformedAuthorization),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn dpop_or_bearer_scheme() {
        assert_eq!(
            access_token(Some("DPoP a.b.c")),
            Ok((Scheme::DPoP, "a.b.c"))
        );
        assert_eq!(
            access_token(Some("dpop a.b.c")),
            Ok((Scheme::DPoP, "a.b.c"))
        );
        assert_eq!(
            access_token(Some("Bearer a.b.c")),
            Ok((Scheme::Bearer, "a.b.c"))
        );
        for bad in ["DPoP ", "DPoP  a", "DPoP a b", "DPoP a\"b"] {
            assert_eq!(
                access_token(Some(bad)),
                Err(VerifyError::MalformedAuthorization),
                "{bad:?}"
            );
        }
        assert_eq!(
            access_token(Some("DPoPx a")),
            Err(VerifyError::NoCredentials)
        );
        assert_eq!(access_token(None), Err(VerifyError::NoCredentials));
    }

    #[test]
    fn absent_or_other_schemes_are_no_credentials() {
        for none in [
            None,
            Some(""),
            Some("Basic YTpi"),
            Some("Bearerx a"),
            Some(" Bearer a"),
        ] {
            assert_eq!(
                bearer_token(none),
                Err(VerifyError::NoCredentials),
                "{none:?}"
            );
        }
    }
}
