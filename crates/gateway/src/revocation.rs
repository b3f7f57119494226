//! Whether a verified token is still active: asked of the issuer's introspection endpoint
//! (RFC 7662) through the service binding, and remembered per token for a few seconds so a busy
//! client costs the issuer one call per token every [`REMEMBER_SECS`].

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Deserialize;

/// How long an answer is trusted, in seconds: a revocation bites at the gateway within the
/// issuer's own bound (5 s) plus this.
pub const REMEMBER_SECS: u64 = 5;
/// Answers each isolate remembers; the oldest is forgotten first.
pub const REMEMBERED: usize = 4096;
/// Largest introspection answer read, in bytes (ours are a few hundred).
pub const MAX_ANSWER_BYTES: usize = 16 * 1024;
/// `Retry-After` when the issuer cannot answer, in seconds.
pub const RETRY_AFTER_SECS: u64 = 5;

/// A form POST to the issuer; the shell's goes over the `ISSUER_SERVICE` binding.
pub trait Introspect {
    /// POSTs the form `body` to `url` with this `Authorization` value; answers the status and
    /// at most `max_body` bytes of the body (more may be cut). `Err` for a transport failure,
    /// with a reason for logs.
    fn post_form(
        &self,
        url: &str,
        authorization: &str,
        body: String,
        max_body: usize,
    ) -> impl Future<Output = Result<(u16, Vec<u8>), String>>;
}

/// The client the gateway introspects as (one with `introspection_allowed` on the issuer).
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// `INTROSPECTION_CLIENT_ID`.
    pub client_id: String,
    secret: String,
}

impl Credential {
    /// A credential from its id and secret.
    pub fn new(client_id: String, secret: String) -> Credential {
        Credential { client_id, secret }
    }

    /// `Basic` with the id and secret form-encoded first (RFC 6749 section 2.3.1).
    fn authorization(&self) -> String {
        let pair = format!(
            "{}:{}",
            form_encode(&self.client_id),
            form_encode(&self.secret)
        );
        format!("Basic {}", B64.encode(pair))
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret never reaches a log through a Debug print of the settings.
        f.debug_struct("Credential")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Why the issuer's answer could not be had; the reason is for logs only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

#[derive(Deserialize)]
struct Answer {
    active: bool,
}

/// Remembered answers: per jti, whether it was active and when (Unix seconds) it was asked.
#[derive(Debug, Default)]
struct Remembered {
    answers: HashMap<String, (bool, u64)>,
    order: VecDeque<String>,
}

/// The revocation check of one isolate: where to ask, as whom, and the answers remembered.
#[derive(Debug)]
pub struct Revocation<I> {
    url: String,
    authorization: String,
    issuer: I,
    remembered: RefCell<Remembered>,
}

impl<I: Introspect> Revocation<I> {
    /// A check asking the introspection endpoint of `issuer_url` through `issuer`.
    pub fn new(issuer_url: &str, credential: &Credential, issuer: I) -> Revocation<I> {
        Revocation {
            url: format!("{issuer_url}/oauth/introspect"),
            authorization: credential.authorization(),
            issuer,
            remembered: RefCell::default(),
        }
    }

    /// Whether the token (already verified offline; `jti` is its signed id) is still active at
    /// `now` (Unix seconds): remembered for [`REMEMBER_SECS`], else asked of the issuer.
    pub async fn is_active(&self, token: &str, jti: &str, now: u64) -> Result<bool, Unavailable> {
        if let Some(&(active, at)) = self.remembered.borrow().answers.get(jti) {
            // Asked during second `at`, so at most REMEMBER_SECS ago while now < at + that.
            if now < at.saturating_add(REMEMBER_SECS) && now >= at {
                return Ok(active);
            }
        }
        let body = format!("token={}", form_encode(token));
        let (status, bytes) = self
            .issuer
            .post_form(&self.url, &self.authorization, body, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| Unavailable(format!("introspection failed: {e}")))?;
        if status != 200 {
            return Err(Unavailable(format!("introspection answered {status}")));
        }
        let answer: Answer = serde_json::from_slice(&bytes)
            .map_err(|_| Unavailable("introspection answered no {\"active\": bool}".into()))?;
        self.remember(jti, answer.active, now);
        Ok(answer.active)
    }

    fn remember(&self, jti: &str, active: bool, now: u64) {
        let mut r = self.remembered.borrow_mut();
        if r.answers.insert(jti.to_string(), (active, now)).is_none() {
            r.order.push_back(jti.to_string());
        }
        while r.order.len() > REMEMBERED {
            if let Some(old) = r.order.pop_front() {
                r.answers.remove(&old);
            }
        }
    }
}

/// `application/x-www-form-urlencoded`: unreserved bytes as they are, the rest percent-encoded.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        let c = Credential::new("a:b".into(), "s+/ é".into());
        let expected = format!("Basic {}", B64.encode("a%3Ab:s%2B%2F%20%C3%A9"));
        assert_eq!(c.authorization(), expected);
        assert!(!format!("{c:?}").contains("s+/"), "Debug hides the secret");
    }
}
