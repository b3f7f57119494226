//! Token introspection (RFC 7662) for the access tokens we issue.
//!
//! Callers authenticate as at the token endpoint (any client authentication method), or with
//! the admin bearer token. A client sees its own tokens; a client registered with
//! `introspection_allowed` and the admin token see any. Everything else, and every token that
//! is malformed, forged, foreign or expired, is `{"active": false}`, so the answer reveals
//! nothing. A token is active only while its client exists and is enabled, which the guard
//! makes true everywhere within the 5 s cache time.

use serde::Serialize;
use serde_json::json;

use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Request, Response};
use crate::oauth::access_token::{self, VerifiedClaims};
use crate::oauth::client_auth;
use crate::registry::clients::ClientId;

/// Largest introspection request body accepted.
pub const MAX_INTROSPECTION_BODY: usize = 16 * 1024;

/// Who asked.
enum Caller {
    Admin,
    Client { id: ClientId, sees_all: bool },
}

#[derive(Serialize)]
struct Active<'a> {
    active: bool,
    client_id: &'a str,
    sub: &'a str,
    scope: &'a str,
    aud: &'a str,
    iss: &'a str,
    exp: u64,
    iat: u64,
    jti: &'a str,
    token_type: &'static str,
}

/// Handles `POST /oauth/introspect`.
pub async fn handle(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    let form = req.form(MAX_INTROSPECTION_BODY, &[])?;
    let issuer = ctx.config.issuer(&req.origin);
    let caller = match req.authorization("bearer") {
        Some(token) if ctx.config.is_admin_token(token) => Caller::Admin,
        Some(_) => return Err(Error::AdminUnauthorized),
        None => {
            let credentials = client_auth::extract(req, &form)?;
            let client = client_auth::authenticate(ctx, credentials, issuer).await?;
            let registered = &client.record().client;
            Caller::Client {
                id: registered.client_id.clone(),
                sees_all: registered.introspection_allowed,
            }
        }
    };
    let token = form
        .get("token")
        .ok_or_else(|| Error::invalid_request("token is required"))?;
    let claims = access_token::verify(ctx, token, issuer).await?;
    let visible = claims.filter(|c| match &caller {
        Caller::Admin => true,
        Caller::Client { id, sees_all } => *sees_all || c.client_id == id.as_str(),
    });
    let body = match visible {
        Some(c) if still_good(ctx, &c).await? => serde_json::to_value(Active {
            active: true,
            client_id: &c.client_id,
            sub: &c.sub,
            scope: &c.scope,
            aud: &c.aud,
            iss: &c.iss,
            exp: c.exp,
            iat: c.iat,
            jti: &c.jti,
            token_type: "Bearer",
        })
        .map_err(|e| Error::Internal(e.to_string()))?,
        _ => json!({ "active": false }),
    };
    Ok(Response::json(200, &body)
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache"))
}

/// Whether the token's client still exists and is enabled, and its tokens were not revoked.
async fn still_good(ctx: &Ctx<'_>, claims: &VerifiedClaims) -> Result<bool, Error> {
    let Some(id) = ClientId::parse(&claims.client_id) else {
        return Ok(false);
    };
    let Some(record) = ctx.cached_client(&id).await? else {
        return Ok(false);
    };
    let guard = ctx.cached_guard(&id).await?;
    let revoked = guard.is_token_revoked(&claims.jti, claims.iat);
    Ok(record.client.enabled && !guard.is_disabled(ctx.now()) && !revoked)
}
