//! The token endpoint as named steps: parse (the grant type from [`Grant::ALL`]), the grant
//! (authenticate and authorize, see `oauth::grants`), admit (the client's token quota), mint,
//! count, respond.

use serde::Serialize;

use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Form, Request, Response};
use crate::oauth::access_token::{self, Confirmation};
use crate::oauth::dpop;
use crate::oauth::grants::{token_exchange, Grant, Granted};
use crate::services::token_quota as quota;
use crate::support::text::printable;

/// Largest token request body accepted.
pub const MAX_TOKEN_BODY: usize = 16 * 1024;

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    /// Only in a token exchange's answer (RFC 8693 section 2.2.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_token_type: Option<&'static str>,
    token_type: &'static str,
    expires_in: u32,
    #[serde(skip_serializing_if = "str::is_empty")]
    scope: &'a str,
}

/// Handles `POST /oauth/token`.
pub async fn handle(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    let (form, grant) = parse(req)?;
    let issuer = ctx.config.issuer(&req.origin);
    // Its form and claims before the client authenticates (a bad proof never counts toward
    // the lockout, and costs no storage); its signature after (see oauth::dpop).
    let proof = dpop::parse(ctx, req, issuer)?;
    // Read before authenticating: a storage failure after an assertion's jti is claimed would
    // burn it, and the client could not send it again.
    let keys = ctx.key_ring().await?;
    let Granted {
        client,
        mut authorized,
    } = grant.run(ctx, req, &form, issuer).await?;
    let client_id = &client.record().client.client_id;
    if let Some(proof) = &proof {
        dpop::verify(ctx, proof).await?;
    }
    dpop::bind(&client.record().client, proof.as_ref(), &mut authorized)?;
    // Counted in the isolate; the guard hears in batches (see services::token_quota).
    if let Some(limits) = &client.record().client.token_quota {
        quota::admit(ctx, client_id, limits).await?;
    }
    let signing = keys.signing(ctx.now());
    let issue = access_token::issue(ctx, signing, &client, &authorized, issuer);
    // The proof's jti is claimed while the token is signed: both must succeed, and the token
    // is answered only if the claim did.
    let token = match &proof {
        Some(proof) => {
            let (claimed, token) =
                futures_util::future::join(dpop::claim(ctx, client_id, proof), issue).await;
            claimed?;
            token?
        }
        None => issue.await?,
    };
    // Counted in the isolate only; written later in the background (see context::isolate::activity).
    ctx.isolate
        .activity
        .record_token(client_id, client.used_id(), ctx.now_ms());
    let scope = authorized.scope.to_string();
    let body = TokenResponse {
        access_token: &token,
        issued_token_type: authorized
            .exchange
            .as_ref()
            .map(|_| token_exchange::ACCESS_TOKEN_TYPE),
        token_type: Confirmation::token_type(authorized.confirmation.as_ref()),
        expires_in: authorized.lifetime,
        scope: &scope,
    };
    Ok(Response::json(200, &body)
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache"))
}

/// Checks the body's form and the grant type, before any storage is touched.
fn parse(req: &Request) -> Result<(Form, Grant), Error> {
    let form = req.form(MAX_TOKEN_BODY, &["resource"])?;
    let name = form
        .get("grant_type")
        .ok_or_else(|| Error::invalid_request("grant_type is required"))?;
    let Some(grant) = Grant::parse(name) else {
        let supported: Vec<&str> = Grant::ALL.iter().map(|g| g.name()).collect();
        return Err(Error::UnsupportedGrantType(
            format!(
                "grant_type '{}' is not supported; use {}",
                printable(name),
                supported.join(" or ")
            )
            .into(),
        ));
    };
    Ok((form, grant))
}
