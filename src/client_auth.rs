//! Client authentication at the token endpoint: one method per request, and it must be the
//! client's registered method. Only this module makes an [`AuthenticatedClient`].

use std::rc::Rc;

use zeroize::Zeroizing;

use crate::app::App;
use crate::assertions::{self, ASSERTION_TYPE};
use crate::clients::{AuthMethod, ClientId, ClientRecord};
use crate::encoding::{b64_decode, form_decode, Form};
use crate::error::Error;
use crate::http::Request;
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

/// Checks presented credentials against the registry.
pub async fn authenticate<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    presented: Presented,
    issuer: &str,
) -> Result<AuthenticatedClient, Error> {
    match presented {
        Presented::Secret {
            client_id,
            secret,
            method,
        } => authenticate_secret(app, &client_id, &secret, method).await,
        Presented::Assertion {
            assertion,
            client_id,
        } => assertions::authenticate(app, &assertion, client_id.as_deref(), issuer).await,
    }
}

async fn authenticate_secret<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    client_id: &str,
    presented: &str,
    method: AuthMethod,
) -> Result<AuthenticatedClient, Error> {
    let basic = method == AuthMethod::ClientSecretBasic;
    let fail = |reason: &'static str| Error::InvalidClient {
        reason: reason.into(),
        basic,
    };
    let id = ClientId::parse(client_id).ok_or_else(|| fail(FAILED))?;
    let record = app.cached_client(&id).await?.ok_or_else(|| fail(FAILED))?;
    let now = app.clock.now();
    let (secret_scope, secret_id) = match secrets::check(
        &record.secrets,
        &app.config.pepper,
        id.as_str(),
        presented,
        now,
    ) {
        SecretCheck::Valid(meta) => (meta.scope.clone(), Some(meta.secret_id.clone())),
        SecretCheck::Expired => return Err(fail("the client secret has expired")),
        SecretCheck::Invalid => return Err(fail(FAILED)),
    };
    // Registration details are told only to a caller who proved the secret.
    if record.client.token_endpoint_auth_method != method {
        return Err(Error::InvalidClient {
            reason: format!(
                "this client is registered for {}",
                record.client.token_endpoint_auth_method.name()
            )
            .into(),
            basic,
        });
    }
    Ok(AuthenticatedClient {
        record,
        secret_scope,
        secret_id,
    })
}
