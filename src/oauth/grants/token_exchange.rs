//! Token exchange (RFC 8693) for chains of services: an API that received a caller's token
//! (the subject token) trades it for a token to another API, on the caller's behalf. The API
//! authenticates as a client (any method it has) and must be the provider of the resource
//! the subject token is for; the new token keeps the caller as `sub`, names the API as the
//! actor (`act`, the subject token's own actors nested inside), holds no scope the subject
//! token lacked, and ends no later than it.

use crate::context::Ctx;
use crate::error::Error;
use crate::http::Form;
use crate::oauth::access_token::{Authorized, Exchanged};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::grants::authorize;
use crate::oauth::introspect;
use crate::registry::audiences::Audience;
use crate::registry::scope::Scope;

/// The `grant_type` value.
pub const NAME: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The one token type taken and issued.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Most actors an exchanged token names (`act` nested this deep).
pub const MAX_ACT_DEPTH: usize = edgeauth_verify::MAX_ACTORS;

const UNSUPPORTED_REQUESTED: &str =
    "requested_token_type is not supported: only urn:ietf:params:oauth:token-type:access_token is issued";
const UNSUPPORTED_SUBJECT: &str =
    "subject_token_type is not supported: only urn:ietf:params:oauth:token-type:access_token is accepted";
const DISAGREE: &str =
    "resource and audience name different targets: send one, or the same value in both";
const NOT_PROVIDED: &str =
    "subject_token is for an audience this client does not provide (the resource's provider_client_id)";
const TOO_DEEP: &str = "subject_token already names 5 actors, the most a token may name";

/// What an exchange asks for, read from the form before the client authenticates (so a
/// malformed request claims no assertion `jti`).
pub struct Exchange<'f> {
    subject_token: &'f str,
    target: Option<&'f str>,
}

/// The exchange's parameters: `subject_token` of the access-token type, no `actor_token`,
/// the access-token type if one is requested, and at most one target (`resource` and
/// `audience` must agree when both are sent).
pub fn request(form: &Form) -> Result<Exchange<'_>, Error> {
    if form.get("actor_token").is_some() || form.get("actor_token_type").is_some() {
        return Err(Error::invalid_request(
            "actor_token is not supported: the authenticated client is the actor",
        ));
    }
    if form
        .get("requested_token_type")
        .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
    {
        return Err(Error::invalid_request(UNSUPPORTED_REQUESTED));
    }
    let subject_token = form
        .get("subject_token")
        .ok_or_else(|| Error::invalid_request("subject_token is required"))?;
    match form.get("subject_token_type") {
        None => return Err(Error::invalid_request("subject_token_type is required")),
        Some(ACCESS_TOKEN_TYPE) => {}
        Some(_) => return Err(Error::invalid_request(UNSUPPORTED_SUBJECT)),
    }
    let target = match (authorize::resource(form)?, form.get("audience")) {
        (Some(r), Some(a)) if r != a => return Err(Error::invalid_request(DISAGREE)),
        (r, a) => r.or(a),
    };
    Ok(Exchange {
        subject_token,
        target,
    })
}

/// Decides the exchanged token for `client`, which has authenticated: the subject token's
/// rules (400 `invalid_request`, never echoing the token), then the target and the scope as
/// for any token of the client, the scope also within the subject token's.
pub async fn authorize(
    ctx: &Ctx<'_>,
    client: &AuthenticatedClient,
    exchange: Exchange<'_>,
    form: &Form,
    issuer: &str,
) -> Result<Authorized, Error> {
    let (subject, subject_client) =
        match introspect::active(ctx, exchange.subject_token, issuer, None).await? {
            Ok(active) => active,
            Err(why) => return Err(Error::invalid_request(why)),
        };
    // Active includes the skew past `exp`; a token can never outlive its subject token.
    let left = subject.exp.saturating_sub(ctx.now());
    if left == 0 {
        return Err(Error::invalid_request("subject_token has expired"));
    }
    // The subject token's audience is a resource of its client's grants (that is how it got
    // the token), so the resource is found by id, from the isolate's cache.
    let me = &client.record().client.client_id;
    let provided = match subject_client.client.grants.for_resource(&subject.aud) {
        Some(grant) => match &grant.audience {
            Audience::Resource { resource_id, .. } => ctx
                .cached_resource(resource_id)
                .await?
                .is_some_and(|r| r.provider_client_id.as_ref() == Some(me)),
            _ => false,
        },
        None => false,
    };
    if !provided {
        return Err(Error::invalid_request(NOT_PROVIDED));
    }
    if subject.actors.len() >= MAX_ACT_DEPTH {
        return Err(Error::invalid_request(TOO_DEEP));
    }
    let mut authorized = authorize::allowed(ctx, client, exchange.target, issuer).await?;
    let within = Scope::parse(&subject.scope)
        .unwrap_or_default()
        .intersect(&authorized.scope);
    authorized.scope = authorize::requested_scope(
        form,
        within,
        "is not within the subject token's scope and this client's grant for the target",
    )?;
    authorized.lifetime = authorized
        .lifetime
        .min(u32::try_from(left).unwrap_or(u32::MAX));
    authorized.exchange = Some(Exchanged {
        sub: subject.sub,
        actors: subject.actors,
    });
    Ok(authorized)
}
