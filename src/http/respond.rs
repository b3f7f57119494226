//! The one place an [`Error`] becomes a response. Challenge headers are decided here rather
//! than carried through the domain as flags.

use crate::error::Error;
use crate::http::Response;

/// The response for `error`.
pub fn error(error: Error) -> Response {
    let body = Body {
        error: error.code(),
        error_description: error.description(),
    };
    let response = Response::json(error.status(), &body).with_header("cache-control", "no-store");
    match error {
        // RFC 9110 15.5.2: every 401 carries a challenge. Basic is the one HTTP scheme a
        // client can authenticate with here (RFC 6749 2.3.1), whichever method it tried.
        Error::InvalidClient(_) => {
            response.with_header("www-authenticate", "Basic realm=\"edgeauth\"")
        }
        Error::Unproven(detail) => {
            let mut r = response.with_header("www-authenticate", "Basic realm=\"edgeauth\"");
            r.log = Some(format!("client authentication refused: {detail}"));
            r
        }
        Error::AdminUnauthorized => {
            response.with_header("www-authenticate", "Bearer realm=\"edgeauth-admin\"")
        }
        Error::AdminUnproven(detail) => {
            let mut r = response.with_header("www-authenticate", "Bearer realm=\"edgeauth-admin\"");
            r.log = Some(format!("admin authentication refused: {detail}"));
            r
        }
        Error::MethodNotAllowed(allow) => response.with_header("allow", allow),
        Error::TooManyRequests { retry_after, .. } => {
            response.with_header("retry-after", retry_after.max(1).to_string())
        }
        Error::Unavailable(detail) => {
            let mut r = response.with_header("retry-after", "2");
            r.log = Some(format!("storage unavailable: {detail}"));
            r
        }
        Error::KeysUnavailable(detail) => {
            let mut r = response.with_header("retry-after", "30");
            r.log = Some(format!("client key set unavailable: {detail}"));
            r
        }
        Error::Internal(detail) => {
            let mut r = response;
            r.log = Some(format!("internal error: {detail}"));
            r
        }
        _ => response,
    }
}

/// An error body (RFC 6749 5.2), written straight out rather than through a `json!` value.
#[derive(serde::Serialize)]
struct Body {
    error: &'static str,
    error_description: std::borrow::Cow<'static, str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_401_carries_a_challenge() {
        let r = error(Error::invalid_client("nope"));
        assert_eq!(r.status, 401);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"edgeauth\"")
        );
        let r = error(Error::AdminUnauthorized);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"edgeauth-admin\"")
        );
    }

    #[test]
    fn a_reached_limit_is_429_with_its_wait() {
        let r = error(Error::TooManyRequests {
            reason: "at most 2 a minute".into(),
            retry_after: 17,
        });
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("17"));
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": "too_many_requests", "error_description": "at most 2 a minute"})
        );
    }

    #[test]
    fn the_body_is_the_code_then_the_description() {
        let r = error(Error::invalid_request("no \"grant_type\""));
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            r#"{"error":"invalid_request","error_description":"no \"grant_type\""}"#
        );
    }

    #[test]
    fn internals_never_reach_the_body() {
        let r = error(Error::Unavailable("kv said: secret-ish detail".into()));
        let body = String::from_utf8(r.body.clone()).unwrap();
        assert!(!body.contains("secret-ish"));
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("2"));
        assert!(r.log.unwrap().contains("secret-ish"));
    }
}
