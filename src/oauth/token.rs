//! The token endpoint (RFC 6749 section 4.4, client credentials) as named steps:
//! parse, authenticate, authorize, admit (the client's token quota), mint, count, respond.
//!
//! Audience and scope come from the client's grants (`registry::audiences`): the requested
//! `resource`'s grant, or the default one. A registered resource's grant still holds only the
//! resource's current scopes, and its lifetime cap applies. The secret's scope limit applies
//! too, and requested scopes must be among what is left.

use serde::Serialize;

use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Form, Request, Response};
use crate::oauth::access_token::{self, Authorized};
use crate::oauth::client_auth::{self, AuthenticatedClient};
use crate::registry::audiences::Audience;
use crate::registry::scope::Scope;
use crate::services::token_quota as quota;
use crate::support::text::printable;
use crate::support::uri::is_absolute_uri;

/// Largest token request body accepted.
pub const MAX_TOKEN_BODY: usize = 16 * 1024;

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u32,
    #[serde(skip_serializing_if = "str::is_empty")]
    scope: &'a str,
}

/// Handles `POST /oauth/token`.
pub async fn handle(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    let form = parse(req)?;
    let credentials = client_auth::extract(req, &form)?;
    let issuer = ctx.config.issuer(&req.origin);
    // Read before authenticating: a storage failure after an assertion's jti is claimed would
    // burn it, and the client could not send it again.
    let keys = ctx.key_ring().await?;
    let client = client_auth::authenticate(ctx, credentials, issuer).await?;
    let authorized = authorize(ctx, &client, &form, issuer).await?;
    let client_id = &client.record().client.client_id;
    // Counted in the isolate; the guard hears in batches (see services::token_quota).
    if let Some(limits) = &client.record().client.token_quota {
        quota::admit(ctx, client_id, limits).await?;
    }
    let signing = keys.signing(ctx.now());
    let token = access_token::issue(ctx, signing, &client, &authorized, issuer).await?;
    // Counted in the isolate only; written later in the background (see context::isolate::activity).
    let secret_id = client.secret().map(|s| s.id.as_str());
    ctx.isolate
        .activity
        .record_token(client_id, secret_id, ctx.now_ms());
    let scope = authorized.scope.to_string();
    let body = TokenResponse {
        access_token: &token,
        token_type: "Bearer",
        expires_in: authorized.lifetime,
        scope: &scope,
    };
    Ok(Response::json(200, &body)
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache"))
}

/// Checks the body's form and the grant type, before any storage is touched.
fn parse(req: &Request) -> Result<Form, Error> {
    let form = req.form(MAX_TOKEN_BODY, &["resource"])?;
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

/// Decides scope, audience and lifetime: the request, within what the client, its grants and
/// its secret allow.
pub async fn authorize(
    ctx: &Ctx<'_>,
    client: &AuthenticatedClient,
    form: &Form,
    issuer: &str,
) -> Result<Authorized, Error> {
    let registered = &client.record().client;
    let not_allowed = |r: &str| {
        Error::InvalidTarget(
            format!("resource '{}' is not allowed for this client", printable(r)).into(),
        )
    };
    let mut resources = form.all("resource");
    let grant = match (resources.next(), resources.next()) {
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
        (Some(r), None) => registered
            .grants
            .for_resource(r)
            .ok_or_else(|| not_allowed(r))?,
        (None, _) => registered.grants.default_grant(),
    };
    let lifetime = registered.access_token_lifetime;
    let (base, audience, lifetime) = match &grant.audience {
        Audience::Issuer => (grant.scope.clone(), issuer.to_string(), lifetime),
        Audience::Uri(uri) => (grant.scope.clone(), uri.clone(), lifetime),
        Audience::Resource {
            identifier,
            resource_id,
        } => {
            // Grants point at live resources (deletion is refused while granted); a resource
            // gone anyway (KV lag) grants nothing.
            let resource = ctx
                .cached_resource(resource_id)
                .await?
                .ok_or_else(|| not_allowed(identifier))?;
            let lifetime = resource
                .access_token_lifetime
                .map_or(lifetime, |cap| cap.min(lifetime));
            // A scope the resource has since dropped is no longer granted.
            (
                grant.scope.intersect(&resource.scope_set()),
                identifier.clone(),
                lifetime,
            )
        }
    };
    let allowed = match client.secret().and_then(|s| s.scope.as_ref()) {
        Some(limit) => base.intersect(limit),
        None => base,
    };
    let scope = match form.get("scope") {
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
    Ok(Authorized {
        scope,
        audience,
        lifetime,
    })
}
