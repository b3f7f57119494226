//! The one place an [`Error`] becomes a response. Challenge headers are decided here, from the
//! request, rather than carried through the domain as flags.

use crate::error::Error;
use crate::http::{Request, Response};

/// The response for `error`; `request` (when there is one) decides the challenge.
pub fn error(error: Error, request: Option<&Request>) -> Response {
    let body = serde_json::json!({
        "error": error.code(),
        "error_description": error.description(),
    });
    let response = Response::json(error.status(), &body).with_header("cache-control", "no-store");
    match error {
        // RFC 6749 5.2: a client that tried HTTP Basic gets the Basic challenge back.
        Error::InvalidClient(_) if request.is_some_and(|r| r.authorization("basic").is_some()) => {
            response.with_header("www-authenticate", "Basic realm=\"edgeauth\"")
        }
        Error::AdminUnauthorized => {
            response.with_header("www-authenticate", "Bearer realm=\"edgeauth-admin\"")
        }
        Error::MethodNotAllowed(allow) => response.with_header("allow", allow),
        Error::Unavailable(detail) => {
            let mut r = response.with_header("retry-after", "2");
            r.log = Some(format!("storage unavailable: {detail}"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    #[test]
    fn invalid_client_after_basic_carries_www_authenticate() {
        let basic = Request::new(Method::Post, "https://a.test/oauth/token")
            .with_header("authorization", "Basic eDp5");
        let r = error(Error::invalid_client("nope"), Some(&basic));
        assert_eq!(r.status, 401);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"edgeauth\"")
        );
        let form = Request::new(Method::Post, "https://a.test/oauth/token");
        let r = error(Error::invalid_client("nope"), Some(&form));
        assert_eq!(r.header("www-authenticate"), None);
    }

    #[test]
    fn internals_never_reach_the_body() {
        let r = error(
            Error::Unavailable("kv said: secret-ish detail".into()),
            None,
        );
        let body = String::from_utf8(r.body.clone()).unwrap();
        assert!(!body.contains("secret-ish"));
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("2"));
        assert!(r.log.unwrap().contains("secret-ish"));
    }
}
