//! Access tokens: RFC 9068 JWT claims, signed with the current Ed25519 key (whose header and
//! compact form are `jose::keys`'s business), and the full check of a token we issued.

use edgeauth_verify::{JwkSet, Verifier};
use serde::Serialize;
use serde_json::Value;

use crate::context::Ctx;
use crate::error::Error;
use crate::jose::keys::SigningKey;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::registry::scope::Scope;
use crate::support::b64::b64url_decode;
use crate::support::json;
use crate::support::random::random_id;

/// What one token is for: decided by the token endpoint (`oauth::grants::authorize`), and
/// issued here.
#[derive(Debug, PartialEq)]
pub struct Authorized {
    /// Scopes in the token.
    pub scope: Scope,
    /// The audience.
    pub audience: String,
    /// Token lifetime in seconds.
    pub lifetime: u32,
    /// Set for a token exchange (RFC 8693): whom the token is about and who acted before.
    pub exchange: Option<Exchanged>,
}

/// What an exchanged token carries beside the exchanging client: the subject token's `sub`,
/// and its own `act` (if any), which nests inside the exchanging client's.
#[derive(Debug, PartialEq)]
pub struct Exchanged {
    /// The original caller: the subject token's `sub`.
    pub sub: String,
    /// The subject token's actor chain.
    pub act: Option<Value>,
}

/// The `act` claim (RFC 8693 section 4.1): the current actor, then the earlier ones inside.
#[derive(Debug, Serialize)]
struct Act<'a> {
    sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<&'a Value>,
}

/// Longest token accepted for checking; ours are well under 1 KiB.
pub const MAX_TOKEN_LEN: usize = 4 * 1024;
/// Clock difference tolerated when checking `exp`, `nbf` and `iat`; the guard holds a revoked
/// token until `exp` plus the same skew.
pub const SKEW: u64 = crate::registry::guard::TOKEN_SKEW;

/// The claims of an access token (RFC 9068 section 2.2).
#[derive(Debug, Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    /// The client: there is no user in client credentials. An exchanged token's is the
    /// subject token's.
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
    /// An exchanged token's actors, the exchanging client outermost.
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<Act<'a>>,
}

/// Mints the access token `authorized`, issued by `issuer` now, signed with `key`.
pub async fn issue(
    ctx: &Ctx<'_>,
    key: &SigningKey,
    client: &AuthenticatedClient,
    authorized: &Authorized,
    issuer: &str,
) -> Result<String, Error> {
    let jti = random_id::<16>(ctx.ports.rng)?;
    let client_id = client.record().client.client_id.as_str();
    let exchange = authorized.exchange.as_ref();
    let claims = AccessTokenClaims {
        iss: issuer,
        sub: exchange.map_or(client_id, |e| e.sub.as_str()),
        client_id,
        aud: &authorized.audience,
        iat: ctx.now(),
        exp: ctx.now() + u64::from(authorized.lifetime),
        jti: &jti,
        scope: &authorized.scope.to_string(),
        act: exchange.map(|e| Act {
            sub: client_id,
            act: e.act.as_ref(),
        }),
    };
    let mut payload = serde_json::to_vec(&claims).map_err(|e| Error::Internal(e.to_string()))?;
    client.record().client.token_claims.append_to(&mut payload);
    Ok(key.sign_jwt_with(ctx.ports.signer, &payload).await)
}

/// The claims of a token that passed [`verify`].
#[derive(Debug, Clone)]
pub struct VerifiedClaims {
    /// Issuer.
    pub iss: String,
    /// Subject (the client).
    pub sub: String,
    /// The client.
    pub client_id: String,
    /// Audience.
    pub aud: String,
    /// Issued at.
    pub iat: u64,
    /// Expiry.
    pub exp: u64,
    /// Token id.
    pub jti: String,
    /// Scopes, space-separated.
    pub scope: String,
}

/// Checks a token as one of ours, in full, with the `edgeauth-verify` crate our resource
/// servers use: size, `alg` EdDSA and `typ` `at+jwt`, a key we publish now, the Ed25519
/// signature, then `iss` and time with [`SKEW`]; any audience. `None` for anything else: the
/// caller answers "inactive" and says nothing more. An error only when the keys cannot be
/// read.
pub async fn verify(
    ctx: &Ctx<'_>,
    token: &str,
    issuer: &str,
) -> Result<Option<VerifiedClaims>, Error> {
    let ring = ctx.key_ring().await?;
    let verifier = ctx
        .isolate
        .token_verifier
        .for_keys(issuer, &ring, ctx.now(), build);
    Ok(check(&verifier, ctx.now(), token))
}

/// How we check our own tokens: any audience, our skew and size cap, and the signatures that
/// verified remembered, since an API tends to ask about one token many times.
fn build(issuer: &str, keys: JwkSet) -> Verifier<JwkSet> {
    Verifier::new(issuer, std::iter::empty::<String>(), keys)
        .accept_any_audience()
        .with_skew(SKEW)
        .with_max_token_len(MAX_TOKEN_LEN)
        .with_seen_signatures(SEEN_SIGNATURES)
}

/// Verified signatures an isolate remembers for introspection (32 bytes each).
const SEEN_SIGNATURES: usize = 4096;

fn check(verifier: &Verifier<JwkSet>, now: u64, token: &str) -> Option<VerifiedClaims> {
    let claims = verifier.verify(token, now).ok()?;
    // We issue one audience, as a string.
    let [aud] = <[String; 1]>::try_from(claims.audiences).ok()?;
    Some(VerifiedClaims {
        iss: claims.iss,
        sub: claims.sub,
        client_id: claims.client_id,
        aud,
        iat: claims.iat,
        exp: claims.exp,
        jti: claims.jti,
        scope: claims.scopes.join(" "),
    })
}

/// The `act` claim of a token that passed [`verify`]. `edgeauth-verify` does not hand it
/// over, so the payload is read again: a few hundred bytes, small beside the check itself.
pub fn actors(token: &str) -> Option<Value> {
    let payload = b64url_decode(token.split('.').nth(1)?)?;
    let mut claims: Value = json::from_slice(&payload).ok()?;
    claims.get_mut("act").map(Value::take)
}
