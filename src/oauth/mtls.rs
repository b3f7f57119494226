//! RFC 8705 at the token endpoint: client authentication by TLS client certificate
//! (`tls_client_auth`, `self_signed_tls_client_auth`) and certificate-bound access tokens.
//!
//! The certificate is the edge's (on Cloudflare, `request.cf.tlsClientAuth`, checked once into
//! [`ClientCertificate`]). A refused certificate proves nothing guessable, so it never counts
//! towards the lockout: nobody can lock a client with certificates they do not hold.

use crate::error::Error;
use crate::http::{ClientCertificate, Request};
use crate::registry::certificates::{self, x5t_s256};
use crate::registry::clients::{AuthMethod, ClientRecord};
use crate::registry::guard::GuardState;

/// Checks the request's certificate (one was presented: `client_auth::extract` makes
/// certificate credentials only then) against a certificate client's registration at `now`.
///
/// `tls_client_auth`: a certificate the edge verified (it chains to a CA configured for the
/// hostname) whose subject DN, trimmed, is exactly the registered one (RFC 8705 section 2.1.2
/// allows exact string matching; Cloudflare gives the DN as RFC 2253 text).
/// `self_signed_tls_client_auth`: whether or not the edge verified it, a certificate whose
/// SHA-256 fingerprint is one registered, within its validity and not removed moments ago
/// (the guard remembers removals while a stale KV copy may still hold them).
pub fn authenticate(
    record: &ClientRecord,
    guard: &GuardState,
    cert: &ClientCertificate,
    now: u64,
) -> Result<(), Error> {
    let client = &record.client;
    match client.token_endpoint_auth_method {
        AuthMethod::TlsClientAuth => {
            if !cert.verified {
                return Err(refused(
                    "the client certificate is not verified by a trusted CA",
                ));
            }
            let registered = client.tls_client_auth_subject_dn.as_deref();
            match (cert.subject_dn.as_deref(), registered) {
                (Some(given), Some(dn)) if given == dn => Ok(()),
                _ => Err(refused(
                    "the client certificate's subject DN does not match",
                )),
            }
        }
        AuthMethod::SelfSignedTlsClientAuth => {
            let fingerprint = cert
                .fingerprint
                .as_ref()
                .ok_or_else(|| refused("the client certificate has no usable fingerprint"))?;
            let found = certificates::find(&record.certificates, fingerprint)
                .filter(|c| !guard.is_key_revoked(&c.guard_name()))
                .ok_or_else(|| refused("the client certificate is not registered"))?;
            // A certificate not yet valid was accepted at upload all the same: only its end counts.
            if now >= found.not_after {
                return Err(refused("the client certificate has expired"));
            }
            Ok(())
        }
        // Not a certificate client: the caller gave no credential it registered.
        _ => Err(Error::invalid_client(MISSING)),
    }
}

/// What a caller that gave no credential at all is told.
pub const MISSING: &str = "client authentication is required (Basic, client_secret_post, an assertion, or client_id and a client certificate)";

fn refused(why: &'static str) -> Error {
    Error::invalid_client(why)
}

/// The `x5t#S256` a token for this client must carry, if it registered
/// `tls_client_certificate_bound_access_tokens` (RFC 8705 section 3): the request's
/// certificate, verified by the edge or not (RFC 8705 section 3 binds to whatever certificate
/// the client proved possession of in the TLS handshake). Such a client without a usable
/// certificate is refused (400), as its tokens could not be bound.
pub fn binding(req: &Request, record: &ClientRecord) -> Result<Option<String>, Error> {
    if !record.client.tls_client_certificate_bound_access_tokens {
        return Ok(None);
    }
    match req
        .client_cert
        .as_ref()
        .and_then(|c| c.fingerprint.as_ref())
    {
        Some(fingerprint) => Ok(Some(x5t_s256(fingerprint))),
        None => Err(Error::invalid_request(
            "this client's tokens are certificate-bound: send a client certificate",
        )),
    }
}
