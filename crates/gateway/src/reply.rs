//! Answers the gateway gives itself: refusals, preflights, and its own failures.

use edgeauth_verify::{VerifyError, REFETCH_COOLDOWN};

use crate::revocation::RETRY_AFTER_SECS;
use serde_json::json;

/// A response made by the gateway rather than the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// JSON body, if any.
    pub body: Option<String>,
    /// A line for the Worker's log: the detail a client is not told.
    pub log: Option<String>,
}

impl Reply {
    /// A JSON error `{"error", "error_description"}`, not cached.
    pub fn error(status: u16, error: &str, description: &str) -> Reply {
        Reply {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("cache-control".into(), "no-store".into()),
            ],
            body: Some(json!({"error": error, "error_description": description}).to_string()),
            log: None,
        }
    }

    /// The RFC 6750 answer to a refused token or request: its status, the challenge, and the
    /// same code in the body. A missing token gets the bare challenge (section 3.1); the
    /// issuer's keys being unreachable is a 503 with `Retry-After`, logged with the reason.
    pub fn refused(err: &VerifyError, realm: &str, keys_error: Option<String>) -> Reply {
        let error = match (err, err.code()) {
            (VerifyError::KeysUnavailable, _) => "temporarily_unavailable",
            (_, Some(code)) => code.as_str(),
            (_, None) => "unauthorized",
        };
        let mut reply = Reply::error(err.status(), error, err.description());
        if let VerifyError::KeysUnavailable = err {
            reply.header("retry-after", &REFETCH_COOLDOWN.to_string());
            reply.log = Some(format!(
                "the issuer's keys are unavailable: {}",
                keys_error.as_deref().unwrap_or("no key set fetched yet")
            ));
        } else {
            reply.header("www-authenticate", &err.www_authenticate(realm));
        }
        reply
    }

    /// As [`Reply::refused`], with the `DPoP` challenge of RFC 9449 section 7.1 (`algs` listing
    /// the proof algorithms accepted).
    pub fn refused_dpop(err: &VerifyError, realm: &str) -> Reply {
        let mut reply = Reply::refused(err, realm, None);
        for (name, value) in &mut reply.headers {
            if name == "www-authenticate" {
                *value = err.www_authenticate_dpop(realm);
            }
        }
        reply
    }

    /// A verified token the issuer says is no longer active: 401 `invalid_token`, with the
    /// challenge built like the verifier's.
    pub fn revoked(realm: &str) -> Reply {
        const DESCRIPTION: &str = "the token was revoked";
        let mut reply = Reply::error(401, "invalid_token", DESCRIPTION);
        // The bare challenge carries the escaped realm; the rest is fixed text.
        let challenge = format!(
            "{}, error=\"invalid_token\", error_description=\"{DESCRIPTION}\"",
            VerifyError::NoCredentials.www_authenticate(realm)
        );
        reply.header("www-authenticate", &challenge);
        reply
    }

    /// The issuer could not say whether the token is revoked: fail closed, 503 with
    /// `Retry-After`, and the reason logged.
    pub fn revocation_unknown(reason: &str) -> Reply {
        let mut reply = Reply::error(
            503,
            "temporarily_unavailable",
            "the issuer cannot confirm the token is still valid",
        );
        reply.header("retry-after", &RETRY_AFTER_SECS.to_string());
        reply.log = Some(format!("revocation check: {reason}"));
        reply
    }

    /// The route of the longest prefix that fits the path serves other methods: 405 with
    /// `Allow` listing them.
    pub fn method_not_allowed(allowed: &[&str]) -> Reply {
        let mut reply = Reply::error(
            405,
            "method_not_allowed",
            "the route for this path does not serve this method",
        );
        reply.header("allow", &allowed.join(", "));
        reply
    }

    /// Every request while the configuration is invalid: a 500 that names nothing, and a log
    /// line that names the problem.
    pub fn misconfigured(problem: &str) -> Reply {
        let mut reply = Reply::error(500, "server_error", "the gateway is misconfigured");
        reply.log = Some(format!("gateway configuration: {problem}"));
        reply
    }

    /// Adds a header.
    pub fn header(&mut self, name: &str, value: &str) {
        self.headers.push((name.into(), value.into()));
    }
}
