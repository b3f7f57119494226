//! Access tokens: RFC 9068 JWT claims, signed with the current Ed25519 key (whose header and
//! compact form are `jose::keys`'s business), and the full check of a token we issued.

use edgeauth_verify::{JwkSet, Verifier};
use serde::Serialize;

use crate::context::Ctx;
use crate::error::Error;
use crate::jose::keys::SigningKey;
use crate::jose::verify;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::registry::scope::Scope;
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
    /// The key the token is bound to, if any: written as its `cnf` claim.
    pub confirmation: Option<Confirmation>,
}

/// A token's key binding, its `cnf` claim (RFC 7800): a DPoP key's JWK thumbprint (RFC 9449
/// section 6.1), a client certificate's SHA-256 thumbprint (RFC 8705 section 3.1), or both
/// when a client bound to its certificate also sends a DPoP proof; each base64url without
/// padding. A token with both needs both at the API.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Confirmation {
    /// `jkt`: the token needs a DPoP proof made with that key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    /// `x5t#S256`: the token needs that client certificate on the connection.
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
}

impl Confirmation {
    /// The `token_type` a token with this binding is issued and introspected as: `DPoP` for
    /// a DPoP-bound token (RFC 9449 section 5), `Bearer` otherwise (RFC 8705 keeps the bearer
    /// scheme for certificate-bound tokens).
    pub fn token_type(confirmation: Option<&Confirmation>) -> &'static str {
        match confirmation {
            Some(Confirmation { jkt: Some(_), .. }) => "DPoP",
            _ => "Bearer",
        }
    }
}

/// What an exchanged token carries beside the exchanging client: the subject token's `sub`,
/// and its own actors (if any), which nest inside the exchanging client's.
#[derive(Debug, PartialEq)]
pub struct Exchanged {
    /// The original caller: the subject token's `sub`.
    pub sub: String,
    /// The subject token's actors, outermost first.
    pub actors: Vec<String>,
}

/// The `act` claim (RFC 8693 section 4.1) of a chain of actors, outermost first: the first
/// actor's `sub`, the rest nested inside as `act`. Our tokens' `act` holds nothing else, so
/// the chain read back from a token rebuilds it exactly.
#[derive(Debug)]
pub struct Act<'a>(pub &'a str, pub &'a [String]);

impl Serialize for Act<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("sub", self.0)?;
        if let Some((first, rest)) = self.1.split_first() {
            map.serialize_entry("act", &Act(first, rest))?;
        }
        map.end()
    }
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
    /// The key the token is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<&'a Confirmation>,
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
        act: exchange.map(|e| Act(client_id, &e.actors)),
        cnf: authorized.confirmation.as_ref(),
    };
    let mut payload = serde_json::to_vec(&claims).map_err(|e| Error::Internal(e.to_string()))?;
    client.record().client.token_claims.append_to(&mut payload);
    key.sign_jwt_with(ctx.ports.signer, &payload).await
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
    /// An exchanged token's actors, outermost first (empty for any other token).
    pub actors: Vec<String>,
    /// The key the token is bound to, if any.
    pub cnf: Option<Confirmation>,
}

/// Checks a token as one of ours, in full, with the `edgeauth-verify` crate our resource
/// servers use: size, `alg` EdDSA and `typ` `at+jwt`, a key we publish now, the Ed25519
/// signature (by the platform where it can), then `iss`, time with [`SKEW`] and the `act`
/// chain; any audience. `None` for anything else: the caller answers "inactive" and says
/// nothing more. An error only when the keys cannot be read.
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
    let platform = ctx.ports.verifier;
    // The platform answers every signature (so the crate's own Ed25519 is not linked); should
    // it fail, the request does, rather than call the token inactive.
    let failure = std::cell::Cell::new(None);
    let failed = &failure;
    let native = |key, input, signature| async move {
        verify::ed25519_native(platform, key, input, signature)
            .await
            .unwrap_or_else(|e| {
                failed.set(Some(e));
                false
            })
    };
    let verified = verifier.verify_with(token, ctx.now(), native).await;
    if let Some(e) = failure.take() {
        return Err(e);
    }
    let Ok(claims) = verified else {
        return Ok(None);
    };
    // We issue one audience, as a string.
    let Ok([aud]) = <[String; 1]>::try_from(claims.audiences) else {
        return Ok(None);
    };
    Ok(Some(VerifiedClaims {
        iss: claims.iss,
        sub: claims.sub,
        client_id: claims.client_id,
        aud,
        iat: claims.iat,
        exp: claims.exp,
        jti: claims.jti,
        scope: claims.scopes.join(" "),
        actors: claims.actors,
        cnf: claims.cnf.is_bound().then_some(Confirmation {
            jkt: claims.cnf.jkt,
            x5t_s256: claims.cnf.x5t_s256,
        }),
    }))
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
