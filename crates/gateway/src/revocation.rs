//! Whether a verified token is still active: asked of the issuer's introspection endpoint
//! (RFC 7662) through the service binding, and remembered per token for a few seconds so a busy
//! client costs the issuer one call per token every [`REMEMBER_SECS`].

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;

use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use edgeauth_verify::Key;
use serde::Deserialize;
use serde_json::json;

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
    /// POSTs the form `body` to `url`, with this `Authorization` value if any; answers the
    /// status and at most `max_body` bytes of the body (more may be cut). `Err` for a transport
    /// failure, with a reason for logs.
    fn post_form(
        &self,
        url: &str,
        authorization: Option<&str>,
        body: String,
        max_body: usize,
    ) -> impl Future<Output = Result<(u16, Vec<u8>), String>>;

    /// 16 fresh random bytes, for the `jti` of each assertion; `Err` (a reason for logs) when
    /// the runtime has none to give.
    fn random_id(&self) -> Result<[u8; 16], String>;
}

/// The assertion type of RFC 7523 section 2.2.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long an assertion is valid, in seconds: it is used at once, and the issuer holds its
/// `jti` until then.
pub const ASSERTION_LIFETIME_SECS: u64 = 60;

/// The client the gateway introspects as (one with `introspection_allowed` on the issuer).
#[derive(Clone)]
pub struct Credential {
    /// `INTROSPECTION_CLIENT_ID`.
    pub client_id: String,
    proof: Proof,
}

/// How the gateway proves it is that client.
#[derive(Clone)]
enum Proof {
    /// `INTROSPECTION_CLIENT_SECRET`, sent by HTTP Basic.
    Secret(String),
    /// `INTROSPECTION_KEY_SEED`: `private_key_jwt` assertions signed with this key.
    Key(Box<IntrospectionKey>),
}

/// The gateway's Ed25519 key for `private_key_jwt`, and its `kid` (the RFC 7638 thumbprint
/// of its public key, the `kid` the issuer gives a registered key that names none).
#[derive(Clone)]
struct IntrospectionKey {
    signing: SigningKey,
    kid: String,
}

impl Credential {
    /// A credential proven by a client secret (`client_secret_basic`).
    pub fn new(client_id: String, secret: String) -> Credential {
        Credential {
            client_id,
            proof: Proof::Secret(secret),
        }
    }

    /// A credential proven by `private_key_jwt` with the Ed25519 key of this 32-byte seed.
    pub fn with_key_seed(client_id: String, seed: &[u8; 32]) -> Credential {
        let signing = SigningKey::from_bytes(seed);
        let kid = thumbprint(signing.verifying_key().as_bytes());
        Credential {
            client_id,
            proof: Proof::Key(Box::new(IntrospectionKey { signing, kid })),
        }
    }

    /// The public JWK to register on the issuer client (in its `jwks`), for the key form.
    pub fn public_jwk(&self) -> Option<serde_json::Value> {
        let Proof::Key(key) = &self.proof else {
            return None;
        };
        let x = B64URL.encode(key.signing.verifying_key().as_bytes());
        Some(
            json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": key.kid,
                    "alg": "EdDSA", "use": "sig"}),
        )
    }

    /// A `private_key_jwt` assertion (RFC 7523 section 3) for `audience` (the issuer), with
    /// this `jti`, issued at `now` and valid for [`ASSERTION_LIFETIME_SECS`]; `None` for the
    /// secret form.
    pub fn assertion(&self, audience: &str, jti: &str, now: u64) -> Option<String> {
        let Proof::Key(key) = &self.proof else {
            return None;
        };
        let header = json!({"alg": "EdDSA", "kid": key.kid});
        let claims = json!({"iss": self.client_id, "sub": self.client_id, "aud": audience,
                            "iat": now, "exp": now + ASSERTION_LIFETIME_SECS, "jti": jti});
        let input = format!(
            "{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(claims.to_string())
        );
        let signature = key.signing.sign(input.as_bytes());
        Some(format!("{input}.{}", B64URL.encode(signature.to_bytes())))
    }

    /// `Basic` with the id and secret form-encoded first (RFC 6749 section 2.3.1); `None` for
    /// the key form.
    fn basic(&self) -> Option<String> {
        let Proof::Secret(secret) = &self.proof else {
            return None;
        };
        let pair = format!("{}:{}", form_encode(&self.client_id), form_encode(secret));
        Some(format!("Basic {}", B64.encode(pair)))
    }

    /// The key's `kid`, for the key form.
    fn kid(&self) -> Option<&str> {
        match &self.proof {
            Proof::Key(key) => Some(&key.kid),
            Proof::Secret(_) => None,
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Neither the secret nor the key reaches a log through a Debug print of the settings.
        f.debug_struct("Credential")
            .field("client_id", &self.client_id)
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Credential {
    fn eq(&self, other: &Credential) -> bool {
        let same = match (&self.proof, &other.proof) {
            (Proof::Secret(a), Proof::Secret(b)) => a == b,
            (Proof::Key(a), Proof::Key(b)) => a.signing.to_bytes() == b.signing.to_bytes(),
            _ => false,
        };
        same && self.client_id == other.client_id
    }
}

impl Eq for Credential {}

/// RFC 7638 thumbprint of an Ed25519 public key, as `edgeauth-verify` and the issuer make it.
fn thumbprint(public: &[u8; 32]) -> String {
    Key::ed25519(public, None)
        .map(|k| k.kid().to_string())
        // Every key made from a seed is a valid point: this arm is never taken.
        .unwrap_or_default()
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
    /// The `aud` of assertions: the issuer's identifier.
    audience: String,
    credential: Credential,
    /// The Basic header of the secret form, made once.
    basic: Option<String>,
    issuer: I,
    remembered: RefCell<Remembered>,
}

impl<I: Introspect> Revocation<I> {
    /// A check asking the introspection endpoint of `issuer_url` through `issuer`.
    pub fn new(issuer_url: &str, credential: &Credential, issuer: I) -> Revocation<I> {
        Revocation {
            url: format!("{issuer_url}/oauth/introspect"),
            audience: issuer_url.to_string(),
            credential: credential.clone(),
            basic: credential.basic(),
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
        let mut body = format!("token={}", form_encode(token));
        // A fresh assertion per call: its jti is single-use at the issuer.
        if self.basic.is_none() {
            let id = self
                .issuer
                .random_id()
                .map_err(|e| Unavailable(format!("no random jti for the assertion: {e}")))?;
            let jti = B64URL.encode(id);
            if let Some(assertion) = self.credential.assertion(&self.audience, &jti, now) {
                body.push_str("&client_assertion_type=");
                body.push_str(&form_encode(ASSERTION_TYPE));
                body.push_str("&client_assertion=");
                body.push_str(&assertion);
            }
        }
        let (status, bytes) = self
            .issuer
            .post_form(&self.url, self.basic.as_deref(), body, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| Unavailable(format!("introspection failed: {e}")))?;
        if status != 200 {
            let mut reason = format!("introspection answered {status}");
            if let (401, Some(kid)) = (status, self.credential.kid()) {
                reason.push_str(&format!(
                    " (is the public key with kid {kid} registered on client {}, with \
                     private_key_jwt and introspection_allowed?)",
                    self.credential.client_id
                ));
            }
            return Err(Unavailable(reason));
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
        assert_eq!(c.basic(), Some(expected));
        assert!(!format!("{c:?}").contains("s+/"), "Debug hides the secret");
    }
}
