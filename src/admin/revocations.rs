//! `/admin/clients/{client_id}/revoked-tokens`: revoke one of a client's tokens by its `jti`
//! (when the token itself is not at hand; by value it is `POST /admin/tokens/revoke`), and
//! list what the client's guard holds.

use serde::{Deserialize, Serialize};

use crate::admin::shared::{json_body, load_client};
use crate::context::{Actor, Ctx};
use crate::error::Error;
use crate::http::{Request, Response};
use crate::registry::clients::MAX_LIFETIME;
use crate::registry::guard::{GuardOp, RevokedToken, MAX_REVOKED_TOKENS, TOKEN_SKEW};

/// Longest `jti` accepted; ours are 22 characters.
pub const MAX_JTI_LEN: usize = 128;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ByJti {
    jti: String,
    /// The token's `exp`, if known: the guard holds the `jti` until then (plus skew) instead
    /// of the longest token lifetime.
    #[serde(default)]
    exp: Option<u64>,
}

#[derive(Serialize)]
struct Held<'a> {
    jti: &'a str,
    held_until: u64,
}

/// `POST /admin/clients/{id}/revoked-tokens` with `{"jti": "...", "exp"?: n}`.
pub async fn add(ctx: &Ctx<'_>, id: &str, req: &Request) -> Result<Response, Error> {
    let record = load_client(ctx, id).await?;
    let input: ByJti = json_body(req)?;
    let token = held(input, ctx.now())?;
    let id = &record.client.client_id;
    let revocation = ctx.revoke_token(id, token, Actor::Admin).await?;
    let mut response = Response::json(200, &revocation);
    response.log = revocation.audit_failure;
    Ok(response)
}

/// `GET /admin/clients/{id}/revoked-tokens`: the `jti`s held and the "valid after" mark.
pub async fn list(ctx: &Ctx<'_>, id: &str) -> Result<Response, Error> {
    let record = load_client(ctx, id).await?;
    let guard = ctx.guard(&record.client.client_id, GuardOp::Read).await?;
    let tokens: Vec<Held<'_>> = guard
        .revoked_tokens
        .iter()
        .map(|r| Held {
            jti: &r.jti,
            held_until: r.exp + TOKEN_SKEW,
        })
        .collect();
    let body = Revoked {
        max_revoked_tokens: MAX_REVOKED_TOKENS,
        revoked_tokens: tokens,
        tokens_valid_after: guard.tokens_valid_after,
    };
    Ok(Response::json(200, &body))
}

/// The revocation list; members in name order, as `json!` wrote them.
#[derive(Serialize)]
struct Revoked<'a> {
    max_revoked_tokens: usize,
    revoked_tokens: Vec<Held<'a>>,
    tokens_valid_after: Option<u64>,
}

/// Checks the input. With no `exp`, the token may have been issued up to now (plus skew) and
/// live the longest lifetime: the guard holds the `jti` that long, and a fold into the mark
/// (see `GuardOp::RevokeToken`) covers it.
fn held(input: ByJti, now: u64) -> Result<RevokedToken, Error> {
    let jti = input.jti;
    if jti.is_empty() || jti.len() > MAX_JTI_LEN || !jti.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid_metadata(format!(
            "jti must be 1 to {MAX_JTI_LEN} printable ASCII characters without spaces"
        )));
    }
    let latest = now + u64::from(MAX_LIFETIME);
    let exp = match input.exp {
        None => latest,
        Some(exp) if exp.saturating_add(TOKEN_SKEW) <= now => {
            return Err(Error::invalid_metadata(
                "exp has passed: that token has expired already, nothing to revoke",
            ))
        }
        Some(exp) if exp > latest + TOKEN_SKEW => {
            return Err(Error::invalid_metadata(format!(
                "exp is more than {MAX_LIFETIME} s ahead: no token lives that long"
            )))
        }
        Some(exp) => exp,
    };
    Ok(RevokedToken {
        jti,
        iat: now + TOKEN_SKEW,
        exp,
    })
}
