//! Client authentication at the token endpoint: one method per request, and it must be the
//! client's registered method. Only this module makes an [`AuthenticatedClient`].

use std::rc::Rc;

use zeroize::Zeroizing;

use crate::context::{Actor, Ctx};
use crate::error::Error;
use crate::http::form::{form_decode, Form};
use crate::http::{ClientCertificate, Request};
use crate::oauth::assertions::{self, UnverifiedAssertion, ASSERTION_TYPE};
use crate::oauth::{federation, mtls, Refusal};
use crate::registry::audit::{Action, Subject};
use crate::registry::clients::{AuthMethod, ClientId, ClientRecord};
use crate::registry::federation::CredentialId;
use crate::registry::guard::GuardOp;
use crate::registry::secrets::{self, SecretCheck, SecretUse, MAX_SECRET_LEN};
use crate::support::b64::b64_decode;
use crate::support::time::rfc3339;

/// Credentials as presented, before any check against the registry.
pub enum Credentials<'f> {
    /// A client secret, by Basic or in the body.
    Secret {
        /// The client id given.
        client_id: String,
        /// The secret given.
        secret: Zeroizing<String>,
        /// How it was given.
        method: AuthMethod,
    },
    /// A JWT assertion (RFC 7523), parsed but not verified.
    Assertion(Box<UnverifiedAssertion<'f>>),
    /// An external token for a client's federated credentials, parsed but not verified.
    External {
        /// The client id given.
        client_id: &'f str,
        /// The token.
        token: Box<UnverifiedAssertion<'f>>,
    },
    /// The TLS client certificate (RFC 8705), for the `client_id` in the form.
    Certificate {
        /// The client id given.
        client_id: &'f str,
        /// The certificate presented.
        cert: &'f ClientCertificate,
    },
}

impl Credentials<'_> {
    /// The client these credentials claim to be.
    fn client_id(&self) -> &str {
        match self {
            Credentials::Secret { client_id, .. } => client_id,
            Credentials::Assertion(a) => a.client_id(),
            Credentials::External { client_id, .. }
            | Credentials::Certificate { client_id, .. } => client_id,
        }
    }
}

/// Proof that a client authenticated: made only by [`authenticate`].
#[derive(Debug)]
pub struct AuthenticatedClient {
    record: Rc<ClientRecord>,
    secret: Option<SecretUse>,
    credential: Option<CredentialId>,
}

impl AuthenticatedClient {
    /// The client's stored record.
    pub fn record(&self) -> &ClientRecord {
        &self.record
    }

    /// The secret the client proved, if it used one.
    pub fn secret(&self) -> Option<&SecretUse> {
        self.secret.as_ref()
    }

    /// The secret or federated credential the client proved, by id, for its last use.
    pub fn used_id(&self) -> Option<&str> {
        match (&self.secret, &self.credential) {
            (Some(s), _) => Some(s.id.as_str()),
            (None, c) => c.as_ref().map(CredentialId::as_str),
        }
    }
}

const FAILED: &str = "client authentication failed";

/// The one generic refusal of a caller who did not prove to be a client.
pub fn failed() -> Error {
    Error::invalid_client(FAILED)
}

/// Finds the credentials in the request: HTTP Basic (RFC 6749 2.3.1), the form body, or an
/// assertion (parsed here, once). An assertion whose `iss` is not the `client_id` sent beside
/// it is an external token for the client's federated credentials; a self-signed one has
/// `iss` = `sub` = `client_id`. Failing those, a `client_id` alone on a connection with a
/// client certificate is a certificate client (RFC 8705 section 2).
pub fn extract<'f>(req: &'f Request, form: &'f Form) -> Result<Credentials<'f>, Error> {
    let basic = req.header("authorization").map(parse_basic).transpose()?;
    let form_id = form.get("client_id");
    let form_secret = form.get("client_secret");
    let assertion_type = form.get("client_assertion_type");
    if assertion_type.is_some() || form.get("client_assertion").is_some() {
        if basic.is_some() || form_secret.is_some() {
            return Err(Error::invalid_request(
                "use one client authentication method: an assertion, Basic or client_secret, not several",
            ));
        }
        if assertion_type != Some(ASSERTION_TYPE) {
            return Err(Error::InvalidRequest(
                format!("client_assertion_type must be {ASSERTION_TYPE}").into(),
            ));
        }
        let assertion = form.get("client_assertion").ok_or_else(|| {
            Error::invalid_request("client_assertion is required with client_assertion_type")
        })?;
        let parsed = assertions::parse(assertion)?;
        return match form_id {
            Some(id) if parsed.client_id() != id => Ok(Credentials::External {
                client_id: id,
                token: Box::new(parsed),
            }),
            _ => parsed
                .self_signed()
                .map(|a| Credentials::Assertion(Box::new(a))),
        };
    }
    match (basic, form_secret) {
        (Some(_), Some(_)) => Err(Error::invalid_request(
            "use one client authentication method: Basic or client_secret in the body, not both",
        )),
        (Some((id, secret)), None) => {
            if form_id.is_some_and(|f| f != id) {
                return Err(Error::invalid_request(
                    "client_id in the body does not match the Basic credentials",
                ));
            }
            Ok(Credentials::Secret {
                client_id: id,
                secret,
                method: AuthMethod::ClientSecretBasic,
            })
        }
        (None, Some(secret)) => {
            let id = form_id.ok_or_else(|| {
                Error::invalid_request("client_id is required with client_secret")
            })?;
            if secret.len() > MAX_SECRET_LEN {
                return Err(Error::invalid_request("client_secret is too long"));
            }
            Ok(Credentials::Secret {
                client_id: id.to_string(),
                secret: Zeroizing::new(secret.to_string()),
                method: AuthMethod::ClientSecretPost,
            })
        }
        (None, None) => match (form_id, &req.client_cert) {
            (Some(client_id), Some(cert)) if cert.presented => {
                Ok(Credentials::Certificate { client_id, cert })
            }
            _ => Err(Error::invalid_client(mtls::MISSING)),
        },
    }
}

fn parse_basic(header: &str) -> Result<(String, Zeroizing<String>), Error> {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(Error::invalid_request(
            "the Authorization header must use the Basic scheme at the token endpoint",
        ));
    }
    let malformed = || {
        Error::invalid_request(
            "malformed Basic credentials: expected base64 of client_id:client_secret",
        )
    };
    if rest.len() > 4 * MAX_SECRET_LEN {
        return Err(Error::invalid_request("Basic credentials are too long"));
    }
    let decoded = Zeroizing::new(b64_decode(rest.trim()).ok_or_else(malformed)?);
    let text = std::str::from_utf8(&decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    // RFC 6749 2.3.1: both halves are form-urlencoded before being joined.
    let id = form_decode(id)?;
    let secret = Zeroizing::new(form_decode(secret)?);
    if id.is_empty() {
        return Err(malformed());
    }
    Ok((id, secret))
}

/// Checks credentials against the registry and the client's guard: a wrong secret counts
/// towards the lockout, a locked or disabled client is refused even with good credentials, and
/// a success after failures starts the count over.
pub async fn authenticate(
    ctx: &Ctx<'_>,
    credentials: Credentials<'_>,
    issuer: &str,
) -> Result<AuthenticatedClient, Error> {
    // Unknown ids stop here, before the guard is asked: they create no state anywhere.
    let id = ClientId::parse(credentials.client_id()).ok_or_else(failed)?;
    let record = ctx.cached_client(&id).await?.ok_or_else(failed)?;
    let guard = ctx.cached_guard(&id).await?;
    let checked = match &credentials {
        Credentials::Secret { secret, method, .. } => {
            check_secret(ctx, &record, secret, *method).map(|s| (Some(s), None))
        }
        Credentials::Assertion(a) => assertions::verify(ctx, &record, &guard, a, issuer)
            .await
            .map(|s| (s, None)),
        Credentials::External { token, .. } => federation::verify(ctx, &record, &guard, token)
            .await
            .map(|c| (None, Some(c)))
            .map_err(Refusal::Other),
        Credentials::Certificate { cert, .. } => {
            mtls::authenticate(&record, &guard, cert, ctx.now())
                .map(|()| (None, None))
                .map_err(Refusal::Other)
        }
    };
    // Only wrong guesses at a secret count towards the lockout (see `Refusal`).
    let (secret, credential) = match checked {
        // A secret removed moments ago elsewhere may still be in a stale KV copy here.
        Ok((Some(used), _)) if guard.is_revoked(&used.id) => {
            return Err(count_failure(ctx, &record, failed()).await?)
        }
        Ok(proved) => proved,
        Err(Refusal::WrongSecret(e)) => return Err(count_failure(ctx, &record, e).await?),
        Err(Refusal::Other(e)) => return Err(e),
    };
    let now = ctx.now();
    if record.client.lockout_enabled {
        if let Some(until) = guard.locked(now) {
            return Err(locked(until));
        }
    }
    if guard.failures > 0 {
        ctx.guard(&id, GuardOp::Success).await?;
    }
    if !record.client.enabled || guard.is_disabled(now) {
        return Err(Error::invalid_client("the client is disabled"));
    }
    Ok(AuthenticatedClient {
        record,
        secret,
        credential,
    })
}

fn locked(until: u64) -> Error {
    Error::InvalidClient(
        format!(
            "the client is locked after too many failed authentications until {}; an admin can unlock it",
            rfc3339(until)
        )
        .into(),
    )
}

/// Counts a failed authentication at the guard; answers the error to send, which says
/// "locked" once the count locks the client. The lock is audited once, when it starts.
async fn count_failure(ctx: &Ctx<'_>, record: &ClientRecord, error: Error) -> Result<Error, Error> {
    let client = &record.client;
    let lock = client.lockout_enabled;
    let after = ctx
        .guard(&client.client_id, GuardOp::Failure { lock })
        .await?;
    let now = ctx.now();
    match after.locked(now) {
        Some(until) if lock => {
            if after.just_locked(now) {
                let detail = format!(
                    "locked after {} failed authentications until {}",
                    after.failures,
                    rfc3339(until)
                );
                let subject = Subject::client(&client.client_id);
                // The lock holds whether or not the audit write succeeds.
                let _ = ctx
                    .audit(Actor::System, Action::ClientLocked, subject, detail)
                    .await;
            }
            Ok(locked(until))
        }
        _ => Ok(error),
    }
}

/// Checks a presented secret; answers which secret it was.
fn check_secret(
    ctx: &Ctx<'_>,
    record: &ClientRecord,
    presented: &str,
    method: AuthMethod,
) -> Result<SecretUse, Refusal> {
    let client = &record.client;
    // Nothing to guess, so nothing to count: otherwise anyone who learns a key-based client's
    // id (it is in every token the client holds) could lock it with five wrong secrets.
    if !record.holds_secret() {
        return Err(failed().into());
    }
    let id = client.client_id.as_str();
    let used = match secrets::check(
        &record.secrets,
        &ctx.config.pepper,
        id,
        presented,
        ctx.now(),
    ) {
        SecretCheck::Valid(used) => used,
        SecretCheck::Expired => {
            return Err(Error::invalid_client("the client secret has expired").into())
        }
        SecretCheck::Invalid => return Err(Refusal::WrongSecret(failed())),
    };
    // Registration details are told only to a caller who proved the secret. A client that
    // presents its secret may do so by Basic or in the body, whichever it registered.
    let registered = client.token_endpoint_auth_method;
    if registered != method && !(registered.presents_secret() && method.presents_secret()) {
        let e = format!("this client is registered for {}", registered.name());
        return Err(Error::InvalidClient(e.into()).into());
    }
    Ok(used)
}
