//! Who is calling the admin API (issue 26), decided once per `/admin/*` request by the router:
//!
//! 1. `Authorization: Bearer` with the break-glass `ADMIN_TOKEN` (unless turned off): every
//!    permission, named by `ADMIN_TOKEN_LABEL`.
//! 2. `Authorization: Bearer` with a management token: one of our access tokens whose `aud` is
//!    the built-in resource `{ISSUER}/admin`, active as introspection decides (signature,
//!    `typ`, `iss`, time, client existing and enabled, not revoked); its `admin:*` scopes are
//!    its permissions, and it is named `client:<client_id>`.
//! 3. Cloudflare Access's `Cf-Access-Jwt-Assertion`, when `ACCESS_TEAM_DOMAIN` is set: RS256
//!    with a key from `{team}/cdn-cgi/access/certs` (fetched and kept as federated issuers'
//!    keys are, and verified by the platform, so no RSA code ships in the wasm), `iss` the team
//!    domain, `aud` holding an `ACCESS_AUD` tag, `exp` required and `nbf`/`iat` checked with
//!    60 s skew. The person is the `email` claim (a service token's `common_name`); the role
//!    comes from `ADMIN_ROLES`, with the `groups` claim if the application passes one. No role
//!    is 403. A change (any method but GET and HEAD) must come from the issuer's own origin,
//!    as Access authenticates a browser by cookie: a cross-site form post is refused.

use serde_json::Value;

use crate::config::AccessSettings;
use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Method, Request};
use crate::jose::jws::parse_compact;
use crate::jose::Alg;
use crate::oauth::federation::{check_signature, SKEW};
use crate::oauth::introspect;
use crate::registry::admins::{Permissions, Principal, Via, ADMIN_RESOURCE_PATH};
use crate::support::json;
use crate::support::text::printable;

/// The header Cloudflare Access adds to every request it lets through.
pub const ACCESS_HEADER: &str = "cf-access-jwt-assertion";
/// Where a team domain publishes its signing keys.
pub const ACCESS_CERTS_PATH: &str = "/cdn-cgi/access/certs";
/// Longest Access token accepted (they are about 1 KiB, more with groups).
pub const MAX_ACCESS_TOKEN: usize = 16 * 1024;
/// Longest identity (email or service token name) accepted.
const MAX_IDENTITY: usize = 256;

fn unproven(reason: impl Into<String>) -> Error {
    Error::AdminUnproven(reason.into())
}

/// The caller of an `/admin/*` request, or 401 (no valid credential) or 403 (no role, or a
/// change from another origin).
pub async fn authenticate(ctx: &Ctx<'_>, req: &Request) -> Result<Principal, Error> {
    let issuer = ctx.config.issuer(&req.origin);
    if let Some(token) = req.authorization("bearer") {
        if ctx.config.is_admin_token(token) {
            return Ok(Principal {
                actor: ctx.config.admin_label.clone(),
                via: Via::AdminToken,
                role: None,
                permissions: Permissions::ALL,
            });
        }
        return management_token(ctx, token, issuer).await;
    }
    let (Some(settings), Some(token)) = (&ctx.config.access, req.header(ACCESS_HEADER)) else {
        return Err(Error::AdminUnauthorized);
    };
    let (actor, groups) = access_identity(ctx, settings, token).await?;
    let role = ctx.config.roles.role_of(&actor, &groups).ok_or_else(|| {
        Error::Forbidden(format!(
            "{actor} has no admin role: ADMIN_ROLES names neither them nor a group of theirs"
        ))
    })?;
    if !matches!(req.method, Method::Get | Method::Head) && !same_origin(req, issuer) {
        return Err(Error::Forbidden(format!(
            "a change signed in through Cloudflare Access must come from the admin page: Origin must be {}",
            origin_of(issuer)
        )));
    }
    Ok(Principal {
        actor,
        via: Via::Access,
        role: Some(role),
        permissions: role.permissions(),
    })
}

/// A management token: active, and for the admin resource of this issuer.
async fn management_token(ctx: &Ctx<'_>, token: &str, issuer: &str) -> Result<Principal, Error> {
    // Neither the admin token nor any JWT: not worth a key-ring read.
    if token.bytes().filter(|b| *b == b'.').count() != 2 {
        return Err(Error::AdminUnauthorized);
    }
    let (claims, _) = introspect::active(ctx, token, issuer, None)
        .await?
        .map_err(|why| unproven(format!("management token: {why}")))?;
    // The admin API reads no DPoP proof: a token bound to a key is refused rather than
    // accepted as a bearer token, which would defeat its binding.
    if claims.cnf.as_ref().is_some_and(|c| c.jkt.is_some()) {
        return Err(unproven(
            "management token: DPoP-bound tokens are not accepted by the admin API",
        ));
    }
    if claims.aud.strip_prefix(issuer) != Some(ADMIN_RESOURCE_PATH) {
        return Err(unproven(format!(
            "the token's audience '{}' is not {issuer}{ADMIN_RESOURCE_PATH}",
            printable(&claims.aud)
        )));
    }
    Ok(Principal {
        actor: format!("client:{}", claims.client_id),
        via: Via::ManagementToken,
        role: None,
        permissions: Permissions::from_scope(&claims.scope),
    })
}

/// Verifies an Access token; answers the identity and the groups it names.
async fn access_identity(
    ctx: &Ctx<'_>,
    settings: &AccessSettings,
    token: &str,
) -> Result<(String, Vec<String>), Error> {
    let jws = parse_compact(token, MAX_ACCESS_TOKEN).map_err(unproven)?;
    if jws.header.alg != "RS256" {
        return Err(unproven("the Access token is not RS256"));
    }
    let claims: Value = json::from_slice(&jws.payload)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| unproven("the Access token's payload is not a JSON object"))?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(settings.team_domain.as_str()) {
        return Err(unproven("the Access token's iss is not ACCESS_TEAM_DOMAIN"));
    }
    let aud_fits = |a: &Value| {
        a.as_str()
            .is_some_and(|a| settings.audiences.iter().any(|x| x == a))
    };
    let aud = claims.get("aud");
    if !(aud.is_some_and(aud_fits)
        || aud
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(aud_fits)))
    {
        return Err(unproven("the Access token's aud holds no ACCESS_AUD tag"));
    }
    check_time(&claims, ctx.now())?;
    let url = format!("{}{ACCESS_CERTS_PATH}", settings.team_domain);
    check_signature(ctx, &url, Alg::RS256, &jws)
        .await
        .map_err(|e| match e {
            Error::Unproven(why) => unproven(why),
            other => other,
        })?;
    let identity = text("email")
        .or_else(|| text("common_name"))
        .filter(|i| {
            !i.is_empty() && i.len() <= MAX_IDENTITY && i.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| unproven("the Access token names no email or common_name"))?;
    let groups = claims
        .get("groups")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|g| g.as_str().or_else(|| g.get("name").and_then(Value::as_str)))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Ok((identity.to_string(), groups))
}

/// `exp` present and not past, `nbf` and `iat` not ahead, each with [`SKEW`].
fn check_time(claims: &Value, now: u64) -> Result<(), Error> {
    let time = |name| claims.get(name).map(Value::as_u64);
    match time("exp") {
        Some(Some(exp)) if exp + SKEW > now => {}
        _ => return Err(unproven("the Access token has expired or has no exp")),
    }
    for name in ["nbf", "iat"] {
        match time(name) {
            None => {}
            Some(Some(t)) if t <= now + SKEW => {}
            _ => {
                return Err(unproven(
                    "the Access token's nbf or iat is ahead or not a number",
                ))
            }
        }
    }
    Ok(())
}

/// Whether a change comes from the issuer's own pages: its `Origin`, or a browser's
/// `Sec-Fetch-Site: same-origin`.
fn same_origin(req: &Request, issuer: &str) -> bool {
    req.header("origin") == Some(origin_of(issuer))
        || req.header("sec-fetch-site") == Some("same-origin")
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    match url[start..].find('/') {
        Some(end) => &url[..start + end],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_of_an_issuer_drops_its_path() {
        assert_eq!(origin_of("https://auth.test/tenant"), "https://auth.test");
        assert_eq!(origin_of("http://127.0.0.1:8787"), "http://127.0.0.1:8787");
    }
}
