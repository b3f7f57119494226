//! Token introspection (RFC 7662) for the access tokens we issue.
//!
//! Callers authenticate as at the token endpoint (any client authentication method). A client
//! sees its own tokens; a client registered with `introspection_allowed` sees any, and so do
//! admins at `POST /admin/tokens/introspect` (the admin bearer is refused at the OAuth endpoint). Everything else, and every token that
//! is malformed, forged, foreign or expired, is `{"active": false}`, so the answer reveals
//! nothing. A token is active only while its client exists and is enabled, which the guard
//! makes true everywhere within the 5 s cache time.

use std::rc::Rc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Request, Response};
use crate::oauth::access_token::{self, Act, Confirmation, VerifiedClaims};
use crate::oauth::{client_auth, TokenInput};
use crate::registry::clients::{ClientId, ClientRecord};
use crate::registry::token_claims::{self, TokenClaims};

/// Where admins introspect: under `/admin/`, answered here.
pub const ADMIN_INTROSPECT_PATH: &str = "/admin/tokens/introspect";
/// Largest introspection request body accepted (form or admin JSON).
pub const MAX_INTROSPECTION_BODY: usize = 16 * 1024;

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
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<Act<'a>>,
    /// The token's binding (RFC 9449 section 6.2, RFC 8705 section 3.2), both members when
    /// present.
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<&'a Confirmation>,
}

/// Handles `POST /oauth/introspect`.
pub async fn handle(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    // The admin bearer is not an OAuth credential: this endpoint stays outside single sign-on
    // (machines call it), so accepting it here would let a leaked or guessed admin token in.
    if req.authorization("bearer").is_some() {
        return Err(client_auth::failed());
    }
    let form = req.form(MAX_INTROSPECTION_BODY, &[])?;
    let issuer = ctx.config.issuer(&req.origin);
    let credentials = client_auth::extract(req, &form)?;
    let client = client_auth::authenticate(ctx, credentials, issuer).await?;
    let registered = &client.record().client;
    let token = form
        .get("token")
        .ok_or_else(|| Error::invalid_request("token is required"))?;
    let sees = match registered.introspection_allowed {
        true => None,
        false => Some(&registered.client_id),
    };
    answer(ctx, token, issuer, sees).await
}

/// Handles `POST /admin/tokens/introspect`: `{"token": "..."}` from an admin with
/// `tokens:revoke` (the admin route table checks), answered as a client with `introspection_allowed` is.
pub async fn admin_handle(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    let input: TokenInput = req.json(MAX_INTROSPECTION_BODY)?;
    answer(ctx, &input.token, ctx.config.issuer(&req.origin), None).await
}

/// The introspection answer for `token`, as seen by a caller who sees every client's tokens
/// (`only: None`) or only the tokens of one client.
async fn answer(
    ctx: &Ctx<'_>,
    token: &str,
    issuer: &str,
    only: Option<&ClientId>,
) -> Result<Response, Error> {
    let body = match active(ctx, token, issuer, only).await? {
        Ok((c, _)) => active_body(token, &c)?,
        Err(_) => br#"{"active":false}"#.to_vec(),
    };
    Ok(Response::json_bytes(200, body)
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache"))
}

/// The answer for an active token: its claims, and the client's token claims it carries
/// beside them (named apart from every member here, see [`token_claims::RESERVED`]), written
/// straight out and joined as text, as minting joins them (a `Value` in between took a
/// second serializer for the claims).
fn active_body(token: &str, c: &VerifiedClaims) -> Result<Vec<u8>, Error> {
    let mut body = serde_json::to_vec(&Active {
        active: true,
        client_id: &c.client_id,
        sub: &c.sub,
        scope: &c.scope,
        aud: &c.aud,
        iss: &c.iss,
        exp: c.exp,
        iat: c.iat,
        jti: &c.jti,
        token_type: Confirmation::token_type(c.cnf.as_ref()),
        act: c.actors.split_first().map(|(a, rest)| Act(a, rest)),
        cnf: c.cnf.as_ref(),
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    let mut members = Map::new();
    token_claims::copy_from_token(token, &mut members);
    TokenClaims::stored(Some(Value::Object(members))).append_to(&mut body);
    Ok(body)
}

/// Why a token is not active, worded for the token exchange's subject token, which says it
/// (introspection says nothing).
pub type Inactive = &'static str;

/// Whether `token` is active, as introspection decides for every caller (and the token
/// exchange for its subject token): one of ours in full, visible to the caller (`only`), its
/// client existing and enabled, not revoked. Active: its claims and its client's record.
pub async fn active(
    ctx: &Ctx<'_>,
    token: &str,
    issuer: &str,
    only: Option<&ClientId>,
) -> Result<Result<(VerifiedClaims, Rc<ClientRecord>), Inactive>, Error> {
    let Some(claims) = access_token::verify(ctx, token, issuer).await? else {
        return Ok(Err(
            "subject_token is not a valid access token of this issuer (signature, type, issuer or time)",
        ));
    };
    if only.is_some_and(|id| claims.client_id != id.as_str()) {
        return Ok(Err("subject_token was issued to another client"));
    }
    const GONE: Inactive =
        "subject_token was issued to a client that no longer exists or is disabled";
    let Some(id) = ClientId::parse(&claims.client_id) else {
        return Ok(Err(GONE));
    };
    let Some(record) = ctx.cached_client(&id).await? else {
        return Ok(Err(GONE));
    };
    let guard = ctx.cached_guard(&id).await?;
    if !record.client.enabled || guard.is_disabled(ctx.now()) {
        return Ok(Err(GONE));
    }
    if guard.is_token_revoked(&claims.jti, claims.iat) {
        return Ok(Err("subject_token has been revoked"));
    }
    Ok(Ok((claims, record)))
}
