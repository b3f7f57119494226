//! Access tokens: RFC 9068 JWT claims, signed with the current Ed25519 key (whose header and
//! compact form are `jose::keys`'s business).

use serde::Serialize;

use crate::context::Ctx;
use crate::error::Error;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::token::Authorized;
use crate::support::random::random_id;

/// The claims of an access token (RFC 9068 section 2.2).
#[derive(Debug, Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    /// The client: there is no user in client credentials.
    sub: &'a str,
    /// The client again, as RFC 9068 asks.
    client_id: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    /// 128 random bits.
    jti: &'a str,
    /// Granted scopes, space-separated; omitted when none.
    #[serde(skip_serializing_if = "str::is_empty")]
    scope: &'a str,
}

/// Mints the access token `authorized`, issued by `issuer` now.
pub fn access_token(
    ctx: &Ctx<'_>,
    client: &AuthenticatedClient,
    authorized: &Authorized,
    issuer: &str,
) -> Result<String, Error> {
    let jti = random_id::<16>(ctx.ports.rng)?;
    let client_id = client.record().client.client_id.as_str();
    let claims = AccessTokenClaims {
        iss: issuer,
        sub: client_id,
        client_id,
        aud: &authorized.audience,
        iat: ctx.now(),
        exp: ctx.now() + u64::from(authorized.lifetime),
        jti: &jti,
        scope: &authorized.scope.to_string(),
    };
    let payload = serde_json::to_vec(&claims).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(ctx.config.keys.current.sign_jwt(&payload))
}
