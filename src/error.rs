//! The one error type. Each variant knows its protocol code, HTTP status and public
//! description (RFC 6749 5.2, RFC 7591 3.2.2); `http::respond` turns it into a response, in
//! one place, with the headers the request calls for.

use std::borrow::Cow;

/// Everything that can go wrong while answering a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The request is malformed (RFC 6749 `invalid_request`).
    InvalidRequest(Cow<'static, str>),
    /// Client authentication failed (RFC 6749 `invalid_client`, 401).
    InvalidClient(Cow<'static, str>),
    /// Client authentication failed before the caller proved anything: answered with the one
    /// generic text, so nothing about the registration (method, kids, key types) leaks; the
    /// precise reason is for the log only.
    Unproven(String),
    /// The client may not use this grant (RFC 6749 `unauthorized_client`).
    UnauthorizedClient(Cow<'static, str>),
    /// The grant type is not supported (RFC 6749 `unsupported_grant_type`).
    UnsupportedGrantType(Cow<'static, str>),
    /// The requested scope is not allowed (RFC 6749 `invalid_scope`).
    InvalidScope(Cow<'static, str>),
    /// The requested resource is not allowed (RFC 8707 `invalid_target`).
    InvalidTarget(Cow<'static, str>),
    /// A DPoP proof is missing, invalid or replayed (RFC 9449 `invalid_dpop_proof`, 400).
    InvalidDpopProof(Cow<'static, str>),
    /// The admin credential is missing or wrong.
    AdminUnauthorized,
    /// An admin credential that did not verify (a Cloudflare Access or management token):
    /// answered as [`Error::AdminUnauthorized`]; the reason is for the log only.
    AdminUnproven(String),
    /// The caller is known but may not do this (403 `forbidden`): the description says who,
    /// what and the permission it needs.
    Forbidden(String),
    /// No such route or object.
    NotFound(Cow<'static, str>),
    /// The route exists but not for this method; holds the `Allow` header value.
    MethodNotAllowed(&'static str),
    /// Admin input is well-formed but not acceptable (RFC 7591 `invalid_client_metadata`).
    InvalidMetadata(Cow<'static, str>),
    /// The change conflicts with the stored state (for example a limit is reached).
    Conflict(Cow<'static, str>),
    /// A per-client limit is reached: 429 `too_many_requests`, with `Retry-After` in seconds.
    TooManyRequests {
        /// What limit, and when it frees up.
        reason: Cow<'static, str>,
        /// Seconds until the request may succeed.
        retry_after: u64,
    },
    /// Storage or coordination failed; the detail is for the log only.
    Unavailable(String),
    /// A client's `jwks_uri` or a federated issuer's keys could not be fetched (and no kept key
    /// set has the key): an outage to retry, not a wrong credential. The detail is for the log
    /// only.
    KeysUnavailable(String),
    /// A bug or misconfiguration; the detail is for the log only.
    Internal(String),
}

impl Error {
    /// Shorthand for [`Error::InvalidRequest`].
    pub fn invalid_request(reason: impl Into<Cow<'static, str>>) -> Error {
        Error::InvalidRequest(reason.into())
    }

    /// Shorthand for [`Error::InvalidClient`].
    pub fn invalid_client(reason: impl Into<Cow<'static, str>>) -> Error {
        Error::InvalidClient(reason.into())
    }

    /// Shorthand for [`Error::InvalidMetadata`].
    pub fn invalid_metadata(reason: impl Into<Cow<'static, str>>) -> Error {
        Error::InvalidMetadata(reason.into())
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidClient(_)
            | Error::Unproven(_)
            | Error::AdminUnauthorized
            | Error::AdminUnproven(_) => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::MethodNotAllowed(_) => 405,
            Error::Conflict(_) => 409,
            Error::TooManyRequests { .. } => 429,
            Error::InvalidMetadata(_) => 422,
            Error::Unavailable(_) | Error::KeysUnavailable(_) => 503,
            Error::Internal(_) => 500,
            _ => 400,
        }
    }

    /// The protocol error code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "invalid_request",
            Error::InvalidClient(_) | Error::Unproven(_) => "invalid_client",
            Error::UnauthorizedClient(_) => "unauthorized_client",
            Error::UnsupportedGrantType(_) => "unsupported_grant_type",
            Error::InvalidScope(_) => "invalid_scope",
            Error::InvalidTarget(_) => "invalid_target",
            Error::InvalidDpopProof(_) => "invalid_dpop_proof",
            Error::AdminUnauthorized | Error::AdminUnproven(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::MethodNotAllowed(_) => "method_not_allowed",
            Error::InvalidMetadata(_) => "invalid_client_metadata",
            Error::Conflict(_) => "conflict",
            Error::TooManyRequests { .. } => "too_many_requests",
            Error::Unavailable(_) | Error::KeysUnavailable(_) => "temporarily_unavailable",
            Error::Internal(_) => "server_error",
        }
    }

    /// The description sent to the caller: never internals, never secrets.
    pub fn description(&self) -> Cow<'static, str> {
        match self {
            Error::InvalidRequest(d)
            | Error::InvalidClient(d)
            | Error::UnauthorizedClient(d)
            | Error::UnsupportedGrantType(d)
            | Error::InvalidScope(d)
            | Error::InvalidTarget(d)
            | Error::InvalidDpopProof(d)
            | Error::NotFound(d)
            | Error::InvalidMetadata(d)
            | Error::Conflict(d)
            | Error::TooManyRequests { reason: d, .. } => d.clone(),
            Error::Unproven(_) => "client authentication failed".into(),
            Error::AdminUnauthorized | Error::AdminUnproven(_) => {
                "a valid admin bearer token is required".into()
            }
            Error::Forbidden(d) => d.clone().into(),
            Error::MethodNotAllowed(_) => "method not allowed on this path".into(),
            Error::Unavailable(_) => "storage is temporarily unavailable, retry shortly".into(),
            Error::KeysUnavailable(_) => {
                "the key set that checks this credential could not be fetched (the client's jwks_uri or its federated issuer's keys), retry shortly".into()
            }
            Error::Internal(_) => "internal server error".into(),
        }
    }
}
