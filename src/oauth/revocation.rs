//! Token revocation (RFC 7009) for the access tokens we issue, and the admin's revocation of
//! one token by value (which needs the same check of the token, so it lives here).
//!
//! A client authenticates as at the token endpoint and revokes a token issued to itself. A
//! token that is not one of our live tokens (unknown, garbage, forged, foreign or expired)
//! answers 200 and writes nothing: there is nothing to revoke. A live token of another client
//! is refused (RFC 7009 section 2.1) and stays active. The revoked `jti` is held in the
//! client's guard until the token expires, so introspection everywhere answers
//! `{"active": false}` within the guard cache time.

use crate::context::{Actor, Ctx};
use crate::error::Error;
use crate::http::{Request, Response};
use crate::oauth::access_token::{self, VerifiedClaims};
use crate::oauth::{client_auth, TokenInput};
use crate::registry::clients::ClientId;
use crate::registry::guard::RevokedToken;

/// Where the admin revokes one token by value: under `/admin/`, answered here.
pub const ADMIN_REVOKE_PATH: &str = "/admin/tokens/revoke";
/// Largest revocation request body accepted (form or admin JSON).
pub const MAX_REVOCATION_BODY: usize = 16 * 1024;

/// Handles `POST /oauth/revoke`. `token_type_hint` is ignored, as RFC 7009 section 2.1
/// allows: we issue access tokens only, and every token is searched as one.
pub async fn handle(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    let form = req.form(MAX_REVOCATION_BODY, &[])?;
    let issuer = ctx.config.issuer(&req.origin);
    let credentials = client_auth::extract(req, &form)?;
    let client = client_auth::authenticate(ctx, credentials, issuer).await?;
    let caller = &client.record().client.client_id;
    let token = form
        .get("token")
        .ok_or_else(|| Error::invalid_request("token is required"))?;
    let mut response = Response::empty(200);
    if let Some(claims) = access_token::verify(ctx, token, issuer).await? {
        if claims.client_id != caller.as_str() {
            return Err(Error::UnauthorizedClient(
                "the token was not issued to this client".into(),
            ));
        }
        let revoked = ctx.revoke_token(caller, held(&claims), Actor::Client);
        response.log = revoked.await?.audit_failure;
    }
    Ok(response
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache"))
}

/// Handles `POST /admin/tokens/revoke`: `{"token": "..."}`, any client's token, from an admin
/// with `tokens:revoke` (the admin route table checks). A token we cannot verify (or already expired) is 422: nothing was revoked.
pub async fn admin_handle(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    let input: TokenInput = req.json(MAX_REVOCATION_BODY)?;
    let issuer = ctx.config.issuer(&req.origin);
    let verified = access_token::verify(ctx, &input.token, issuer).await?;
    let claims = verified.ok_or_else(|| {
        Error::invalid_metadata(
            "token is not a live access token of this server (malformed, forged, foreign or expired); nothing was revoked",
        )
    })?;
    let id = ClientId::parse(&claims.client_id)
        .ok_or_else(|| Error::NotFound("no such client".into()))?;
    if ctx.client(&id).await?.is_none() {
        return Err(Error::NotFound("no such client".into()));
    }
    let revocation = ctx.revoke_token(&id, held(&claims), Actor::Admin).await?;
    let mut response = Response::json(200, &revocation).with_header("cache-control", "no-store");
    response.log = revocation.audit_failure;
    Ok(response)
}

/// What the guard holds of a verified token.
fn held(claims: &VerifiedClaims) -> RevokedToken {
    RevokedToken {
        jti: claims.jti.clone(),
        iat: claims.iat,
        exp: claims.exp,
    }
}
