//! The bearer token of an `Authorization` header (RFC 6750 section 2.1).

use crate::VerifyError;

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
