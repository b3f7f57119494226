//! The token endpoint (RFC 6749 section 4.4, client credentials) as named steps:
//! parse, authenticate, authorize, mint, respond.

use serde::Serialize;

use crate::app::App;
use crate::client_auth::{self, AuthenticatedClient};
use crate::clients::is_absolute_uri;
use crate::encoding::{printable, Form};
use crate::error::Error;
use crate::http::{Request, Response};
use crate::platform::{ClientStore, Clock, Random};
use crate::scope::Scope;
use crate::tokens::{self, AccessTokenClaims};

/// Largest token request body accepted.
pub const MAX_TOKEN_BODY: usize = 16 * 1024;

/// What the client is granted.
#[derive(Debug, PartialEq)]
pub struct Grant {
    /// Scopes in the token.
    pub scope: Scope,
    /// The audience.
    pub audience: String,
}

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u32,
    #[serde(skip_serializing_if = "str::is_empty")]
    scope: &'a str,
}

/// Handles `POST /oauth/token`.
pub async fn handle<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    req: &Request,
) -> Result<Response, Error> {
    let form = parse(req)?;
    let presented = client_auth::extract(req, &form)?;
    let issuer = app.config.issuer(&req.origin);
    let client = client_auth::authenticate(app, presented, issuer).await?;
    if !client.record.client.enabled {
        return Err(Error::InvalidClient {
            reason: "the client is disabled".into(),
            basic: req.header("authorization").is_some(),
        });
    }
    let grant = authorize(&client, form.get("scope"), &form, issuer)?;
    let now = app.clock.now();
    let lifetime = client.record.client.access_token_lifetime;
    let jti = tokens::new_jti(app.rng)?;
    let scope = grant.scope.to_string();
    let client_id = client.record.client.client_id.as_str();
    let token = tokens::mint(
        &app.config.keys.current,
        &AccessTokenClaims {
            iss: issuer,
            sub: client_id,
            client_id,
            aud: &grant.audience,
            iat: now,
            exp: now + u64::from(lifetime),
            jti: &jti,
            scope: &scope,
        },
    )?;
    let body = TokenResponse {
        access_token: &token,
        token_type: "Bearer",
        expires_in: lifetime,
        scope: &scope,
    };
    Ok(Response::json(200, &body)
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache"))
}

/// Checks the body's form and the grant type, before any storage is touched.
fn parse(req: &Request) -> Result<Form, Error> {
    if req.media_type().as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(Error::invalid_request(
            "the content type must be application/x-www-form-urlencoded",
        ));
    }
    if req.body.len() > MAX_TOKEN_BODY {
        return Err(Error::invalid_request(format!(
            "the request body is larger than {MAX_TOKEN_BODY} bytes"
        )));
    }
    let form = Form::parse(&req.body, &["resource"])?;
    match form.get("grant_type") {
        None => Err(Error::invalid_request("grant_type is required")),
        Some("client_credentials") => Ok(form),
        Some(other) => Err(Error::UnsupportedGrantType(
            format!(
                "grant_type '{}' is not supported; use client_credentials",
                printable(other)
            )
            .into(),
        )),
    }
}

/// Decides scope and audience: the request, within what the client and its secret allow.
pub fn authorize(
    client: &AuthenticatedClient,
    requested_scope: Option<&str>,
    form: &Form,
    issuer: &str,
) -> Result<Grant, Error> {
    let registered = &client.record.client;
    let allowed = match &client.secret_scope {
        Some(limit) => registered.scope.intersect(limit),
        None => registered.scope.clone(),
    };
    let scope = match requested_scope {
        None => allowed,
        Some(text) => {
            let requested = Scope::parse(text).map_err(|e| Error::InvalidScope(e.into()))?;
            if let Some(extra) = requested.first_outside(&allowed) {
                return Err(Error::InvalidScope(
                    format!("scope '{extra}' is not allowed for this client").into(),
                ));
            }
            requested
        }
    };
    let mut resources = form.all("resource");
    let audience = match (resources.next(), resources.next()) {
        (Some(_), Some(_)) => {
            return Err(Error::InvalidTarget(
                "request one resource per token".into(),
            ))
        }
        (Some(r), None) if !is_absolute_uri(r) || r.contains('#') => {
            return Err(Error::InvalidTarget(
                "resource must be an absolute URI without a fragment".into(),
            ))
        }
        (Some(r), None) if !registered.resources.iter().any(|x| x == r) => {
            return Err(Error::InvalidTarget(
                format!("resource '{}' is not allowed for this client", printable(r)).into(),
            ))
        }
        (Some(r), None) => r.to_string(),
        (None, _) => registered
            .resources
            .first()
            .map_or_else(|| issuer.to_string(), String::clone),
    };
    Ok(Grant { scope, audience })
}
