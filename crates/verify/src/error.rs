//! Why a token was refused, and how to say so over HTTP (RFC 6750 section 3).

use std::fmt;

use crate::dpop::{ProofError, DPOP_ALGS};

/// The RFC 6750 section 3.1 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request is malformed (400).
    InvalidRequest,
    /// The token is expired, revoked, malformed or otherwise invalid (401).
    InvalidToken,
    /// The token lacks a scope the resource needs (403).
    InsufficientScope,
    /// The DPoP proof is missing or invalid (RFC 9449 section 7.1, 401).
    InvalidDpopProof,
}

impl ErrorCode {
    /// The code as it appears in `error="..."`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
        }
    }
}

/// A refused request or token. Descriptions are fixed texts: nothing from the token is echoed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization` header, or another scheme than Bearer (RFC 6750 section 3.1: no code).
    NoCredentials,
    /// The `Authorization` header says Bearer but is not `Bearer <b64token>`.
    MalformedAuthorization,
    /// Longer than the configured cap.
    TooLong,
    /// Not three base64url parts, or a header that is not a JSON object with a string `alg`.
    Malformed,
    /// `alg` is not in the allow-list (this covers `none` and every HMAC algorithm).
    AlgorithmNotAllowed,
    /// The header has `crit`: no extension is understood, so none may be critical.
    CriticalHeader,
    /// `typ` is missing or is not the required type.
    WrongType,
    /// No key with the header's `kid` (or no `kid`), after any refetch the cache allows.
    UnknownKey,
    /// The key source could not be reached and holds no usable key for this `kid`.
    KeysUnavailable,
    /// The signature does not verify.
    BadSignature,
    /// The payload is not a JSON object (arrays included).
    PayloadNotObject,
    /// `iss` is not the expected issuer.
    WrongIssuer,
    /// No `aud` value is an accepted audience.
    WrongAudience,
    /// `exp` has passed, beyond the skew.
    Expired,
    /// `nbf` is still ahead, beyond the skew.
    NotYetValid,
    /// `iat` is in the future, beyond the skew.
    IssuedInFuture,
    /// A required claim is missing or has the wrong JSON type; names the claim.
    BadClaim(&'static str),
    /// A verified token lacks scopes the resource needs; holds them, space-separated.
    InsufficientScope(String),
    /// The DPoP proof sent with the token was refused (`invalid_dpop_proof`).
    Proof(ProofError),
    /// A token bound to a DPoP key was presented as `Bearer`.
    BoundToken,
    /// A token not bound to a DPoP key was presented as `DPoP`.
    NotBound,
    /// A token bound to a client certificate came without that certificate.
    WrongCertificate,
    /// The resource accepts only sender-constrained tokens and this one is a plain bearer token.
    BindingRequired,
}

impl VerifyError {
    /// The RFC 6750 code; `None` when the request carried no credentials, or when the key
    /// source is down (no code fits a server-side outage).
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            VerifyError::NoCredentials | VerifyError::KeysUnavailable => None,
            VerifyError::MalformedAuthorization => Some(ErrorCode::InvalidRequest),
            VerifyError::InsufficientScope(_) => Some(ErrorCode::InsufficientScope),
            VerifyError::Proof(_) => Some(ErrorCode::InvalidDpopProof),
            _ => Some(ErrorCode::InvalidToken),
        }
    }

    /// The HTTP status to answer with: 400, 401, 403, or 503 when the keys are unavailable.
    pub fn status(&self) -> u16 {
        match (self, self.code()) {
            (VerifyError::KeysUnavailable, _) => 503,
            (_, Some(ErrorCode::InvalidRequest)) => 400,
            (_, Some(ErrorCode::InsufficientScope)) => 403,
            _ => 401,
        }
    }

    /// A short public description, safe to send: fixed text only.
    pub fn description(&self) -> &'static str {
        match self {
            VerifyError::NoCredentials => "no bearer token was sent",
            VerifyError::MalformedAuthorization => {
                "the Authorization header is not 'Bearer' followed by one space and a token"
            }
            VerifyError::TooLong => "the token is too long",
            VerifyError::Malformed => "the token is not a well-formed JWT",
            VerifyError::AlgorithmNotAllowed => "the token's algorithm is not accepted",
            VerifyError::CriticalHeader => "the token has critical header parameters",
            VerifyError::WrongType => "the token is not an access token (typ at+jwt)",
            VerifyError::UnknownKey => "the token was not signed by a known key",
            VerifyError::KeysUnavailable => "the issuer's keys are unavailable",
            VerifyError::BadSignature => "the token's signature is invalid",
            VerifyError::PayloadNotObject => "the token's claims are not a JSON object",
            VerifyError::WrongIssuer => "the token is from another issuer",
            VerifyError::WrongAudience => "the token is not for this audience",
            VerifyError::Expired => "the token has expired",
            VerifyError::NotYetValid => "the token is not valid yet",
            VerifyError::IssuedInFuture => "the token is issued in the future",
            VerifyError::BadClaim(_) => "a required claim is missing or malformed",
            VerifyError::InsufficientScope(_) => "the token lacks a required scope",
            VerifyError::Proof(e) => e.description(),
            VerifyError::BoundToken => {
                "the token is bound to a DPoP key: send it as 'DPoP' with a proof"
            }
            VerifyError::NotBound => "the token is not bound to a DPoP key",
            VerifyError::WrongCertificate => {
                "the token is bound to a client certificate this request was not made with"
            }
            VerifyError::BindingRequired => {
                "this resource accepts only sender-constrained (DPoP or certificate-bound) tokens"
            }
        }
    }

    /// The `WWW-Authenticate` value for this error: `Bearer realm="..."`, then `error`,
    /// `error_description` and (for `insufficient_scope`) `scope`. Characters RFC 6750 does
    /// not allow in those values are dropped, and the realm is an escaped quoted-string.
    pub fn www_authenticate(&self, realm: &str) -> String {
        self.challenge("Bearer", realm)
    }

    /// The `DPoP` challenge of RFC 9449 section 7.1 for this error: as
    /// [`VerifyError::www_authenticate`] with the `DPoP` scheme, and `algs` listing the proof
    /// algorithms accepted.
    pub fn www_authenticate_dpop(&self, realm: &str) -> String {
        let mut out = self.challenge("DPoP", realm);
        attribute(&mut out, "algs", DPOP_ALGS);
        out
    }

    fn challenge(&self, scheme: &str, realm: &str) -> String {
        let mut out = String::from(scheme);
        out.push_str(" realm=\"");
        for c in realm.chars().filter(|c| (' '..='~').contains(c)) {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        let Some(code) = self.code() else {
            return out;
        };
        attribute(&mut out, "error", code.as_str());
        attribute(&mut out, "error_description", self.description());
        if let VerifyError::InsufficientScope(scope) = self {
            attribute(&mut out, "scope", scope);
        }
        out
    }
}

/// Appends `, name="value"`, keeping only the characters RFC 6750 allows in the value
/// (%x20-21 / %x23-5B / %x5D-7E: printable ASCII without `"` and `\`).
fn attribute(out: &mut String, name: &str, value: &str) {
    out.push_str(", ");
    out.push_str(name);
    out.push_str("=\"");
    out.extend(
        value
            .chars()
            .filter(|c| (' '..='~').contains(c) && *c != '"' && *c != '\\'),
    );
    out.push('"');
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::BadClaim(name) => write!(f, "{} ({name})", self.description()),
            VerifyError::InsufficientScope(s) => write!(f, "{} (needs {s})", self.description()),
            _ => f.write_str(self.description()),
        }
    }
}

impl std::error::Error for VerifyError {}
