//! Client authentication at the token endpoint: one method per request, and it must be the
//! client's registered method. Only this module makes an [`AuthenticatedClient`].

use std::rc::Rc;

use zeroize::Zeroizing;

use std::borrow::Cow;

use crate::app::App;
use crate::assertions::{self, ASSERTION_TYPE};
use crate::audit;
use crate::clients::{AuthMethod, ClientId, ClientRecord};
use crate::encoding::{b64_decode, form_decode, Form};
use crate::error::Error;
use crate::http::Request;
use crate::lockout::{rfc3339, GuardOp};
use crate::platform::{ClientStore, Clock, Random};
use crate::scope::Scope;
use crate::secrets::{self, SecretCheck, MAX_SECRET_LEN};

/// Credentials as presented, before any check against the registry.
pub enum Presented {
    /// A client secret, by Basic or in the body.
    Secret {
        /// The client id given.
        client_id: String,
        /// The secret given.
        secret: Zeroizing<String>,
        /// How it was given.
        method: AuthMethod,
    },
    /// A JWT assertion (RFC 7523).
    Assertion {
        /// The compact JWS.
        assertion: String,
        /// The body's `client_id`, if given.
        client_id: Option<String>,
    },
}

/// Proof that a client authenticated: made only by [`authenticate`].
#[derive(Debug)]
pub struct AuthenticatedClient {
    /// The client's stored record.
    pub record: Rc<ClientRecord>,
    /// The scope limit of the secret used, if it has one.
    pub secret_scope: Option<Scope>,
    /// The secret used, if the client authenticated with one (for its last-use time).
    pub secret_id: Option<String>,
}

const FAILED: &str = "client authentication failed";

/// Finds the credentials in the request: HTTP Basic (RFC 6749 2.3.1) or the form body.
pub fn extract(req: &Request, form: &Form) -> Result<Presented, Error> {
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
        return Ok(Presented::Assertion {
            assertion: assertion.to_string(),
            client_id: form_id.map(String::from),
        });
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
            Ok(Presented::Secret {
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
            Ok(Presented::Secret {
                client_id: id.to_string(),
                secret: Zeroizing::new(secret.to_string()),
                method: AuthMethod::ClientSecretPost,
            })
        }
        (None, None) => Err(Error::InvalidClient {
            reason: "client authentication is required (HTTP Basic, client_secret_post or a client assertion)".into(),
            basic: false,
        }),
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

/// Checks presented credentials against the registry and the client's guard: every failed
/// check counts towards the lockout, a locked or disabled client is refused even with good
/// credentials, and a success after failures starts the count over.
pub async fn authenticate<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    presented: Presented,
    issuer: &str,
) -> Result<AuthenticatedClient, Error> {
    let basic = matches!(
        presented,
        Presented::Secret {
            method: AuthMethod::ClientSecretBasic,
            ..
        }
    );
    let refuse = |reason: Cow<'static, str>| Error::InvalidClient { reason, basic };
    let parsed = match &presented {
        Presented::Assertion {
            assertion,
            client_id,
        } => Some(assertions::parse(assertion, client_id.as_deref())?),
        Presented::Secret { .. } => None,
    };
    let claimed = match (&presented, &parsed) {
        (Presented::Secret { client_id, .. }, _) => client_id.as_str(),
        (_, Some(p)) => p.client_id(),
        (_, None) => "",
    };
    // Unknown ids stop here, before the guard is asked: they create no state anywhere.
    let id = ClientId::parse(claimed).ok_or_else(|| refuse(FAILED.into()))?;
    let record = app
        .cached_client(&id)
        .await?
        .ok_or_else(|| refuse(FAILED.into()))?;
    let guard = app.cached_guard(&id).await?;
    let checked = match (&presented, &parsed) {
        (Presented::Secret { secret, method, .. }, _) => {
            check_secret(app, &record, secret, *method)
        }
        (_, Some(p)) => assertions::verify(app, &record, p, issuer).await,
        (_, None) => Err(refuse(FAILED.into())),
    };
    let (secret_scope, secret_id) = match checked {
        // A secret removed moments ago elsewhere may still be in a stale KV copy here.
        Ok((_, Some(sid))) if guard.is_revoked(&sid) => {
            return Err(failed(app, &record, refuse(FAILED.into()), basic).await?)
        }
        Ok(proof) => proof,
        Err(e @ Error::InvalidClient { .. }) => return Err(failed(app, &record, e, basic).await?),
        Err(e) => return Err(e),
    };
    let now = app.clock.now();
    if record.client.lockout_enabled {
        if let Some(until) = guard.locked(now) {
            return Err(locked(until, basic));
        }
    }
    if guard.failures > 0 {
        app.guard(&id, GuardOp::Success).await?;
    }
    if !record.client.enabled || guard.is_disabled(now) {
        return Err(refuse("the client is disabled".into()));
    }
    Ok(AuthenticatedClient {
        record,
        secret_scope,
        secret_id,
    })
}

fn locked(until: u64, basic: bool) -> Error {
    Error::InvalidClient {
        reason: format!(
            "the client is locked after too many failed authentications until {}; an admin can unlock it",
            rfc3339(until)
        )
        .into(),
        basic,
    }
}

/// Counts a failed authentication at the guard; answers the error to send, which says
/// "locked" once the count locks the client. The lock is audited once, when it starts.
async fn failed<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    record: &ClientRecord,
    error: Error,
    basic: bool,
) -> Result<Error, Error> {
    let client = &record.client;
    let after = app
        .guard(
            &client.client_id,
            GuardOp::Failure {
                lock: client.lockout_enabled,
            },
        )
        .await?;
    let now = app.clock.now();
    match after.locked(now) {
        Some(until) if client.lockout_enabled => {
            if after.just_locked(now) {
                let detail = format!(
                    "locked after {} failed authentications until {}",
                    after.failures,
                    rfc3339(until)
                );
                // The lock holds whether or not the audit write succeeds.
                let _ = audit::record_client_locked(app, &client.client_id, detail).await;
            }
            Ok(locked(until, basic))
        }
        _ => Ok(error),
    }
}

/// Checks a presented secret; answers the secret's scope limit and id.
fn check_secret<S, C: Clock, R>(
    app: &App<'_, S, C, R>,
    record: &ClientRecord,
    presented: &str,
    method: AuthMethod,
) -> Result<(Option<Scope>, Option<String>), Error> {
    let basic = method == AuthMethod::ClientSecretBasic;
    let fail = |reason: &'static str| Error::InvalidClient {
        reason: reason.into(),
        basic,
    };
    let client = &record.client;
    let proof = match secrets::check(
        &record.secrets,
        &app.config.pepper,
        client.client_id.as_str(),
        presented,
        app.clock.now(),
    ) {
        SecretCheck::Valid(meta) => (meta.scope.clone(), Some(meta.secret_id.clone())),
        SecretCheck::Expired => return Err(fail("the client secret has expired")),
        SecretCheck::Invalid => return Err(fail(FAILED)),
    };
    // Registration details are told only to a caller who proved the secret.
    if client.token_endpoint_auth_method != method {
        return Err(Error::InvalidClient {
            reason: format!(
                "this client is registered for {}",
                client.token_endpoint_auth_method.name()
            )
            .into(),
            basic,
        });
    }
    Ok(proof)
}
