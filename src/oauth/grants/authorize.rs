//! What a grant authorizes: scope, audience and lifetime, decided the same way for every grant
//! that gives a client a token for itself.
//!
//! Audience and scope come from the client's grants (`registry::audiences`): the requested
//! `resource`'s grant, or the default one. A registered resource's grant still holds only the
//! resource's current scopes, and its lifetime cap applies. The secret's scope limit applies
//! too, and requested scopes must be among what is left.

use crate::context::Ctx;
use crate::error::Error;
use crate::http::Form;
use crate::oauth::access_token::Authorized;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::registry::audiences::Audience;
use crate::registry::scope::Scope;
use crate::support::text::printable;
use crate::support::uri::is_absolute_uri;

/// What a grant produced: the client, and the scope, audience and lifetime it authorized.
pub struct Granted {
    /// The authenticated client, the token's subject.
    pub client: AuthenticatedClient,
    /// What the token carries.
    pub authorized: Authorized,
}

/// Decides scope, audience and lifetime: the request, within what the client, its grants and
/// its secret allow.
pub async fn authorize(
    ctx: &Ctx<'_>,
    client: &AuthenticatedClient,
    form: &Form,
    issuer: &str,
) -> Result<Authorized, Error> {
    let mut authorized = allowed(ctx, client, resource(form)?, issuer).await?;
    authorized.scope = requested_scope(form, authorized.scope, "is not allowed for this client")?;
    Ok(authorized)
}

/// The one `resource` parameter, if sent: an absolute URI without a fragment.
pub fn resource(form: &Form) -> Result<Option<&str>, Error> {
    let mut resources = form.all("resource");
    match (resources.next(), resources.next()) {
        (Some(_), Some(_)) => Err(Error::InvalidTarget(
            "request one resource per token".into(),
        )),
        (Some(r), None) if !is_absolute_uri(r) || r.contains('#') => Err(Error::InvalidTarget(
            "resource must be an absolute URI without a fragment".into(),
        )),
        (r, _) => Ok(r),
    }
}

/// The audience (`target`, else the default grant's), lifetime and every scope the client
/// may hold there: its grant, still within the resource's scopes, and its secret's limit.
pub async fn allowed(
    ctx: &Ctx<'_>,
    client: &AuthenticatedClient,
    target: Option<&str>,
    issuer: &str,
) -> Result<Authorized, Error> {
    let registered = &client.record().client;
    let not_allowed = |r: &str| {
        Error::InvalidTarget(
            format!("resource '{}' is not allowed for this client", printable(r)).into(),
        )
    };
    let grant = match target {
        Some(r) => registered
            .grants
            .for_resource(r)
            .ok_or_else(|| not_allowed(r))?,
        None => registered.grants.default_grant(),
    };
    let lifetime = registered.access_token_lifetime;
    let (base, audience, lifetime) = match &grant.audience {
        Audience::Issuer => (grant.scope.clone(), issuer.to_string(), lifetime),
        Audience::Uri(uri) => (grant.scope.clone(), uri.clone(), lifetime),
        Audience::Resource {
            identifier,
            resource_id,
        } => {
            // Grants point at live resources (deletion is refused while granted); a resource
            // gone anyway (KV lag) grants nothing.
            let resource = ctx
                .cached_resource(resource_id)
                .await?
                .ok_or_else(|| not_allowed(identifier))?;
            let lifetime = resource
                .access_token_lifetime
                .map_or(lifetime, |cap| cap.min(lifetime));
            // A scope the resource has since dropped is no longer granted.
            (
                grant.scope.intersect(&resource.scope_set()),
                identifier.clone(),
                lifetime,
            )
        }
    };
    let scope = match client.secret().and_then(|s| s.scope.as_ref()) {
        Some(limit) => base.intersect(limit),
        None => base,
    };
    Ok(Authorized {
        scope,
        audience,
        lifetime,
        exchange: None,
        confirmation: None,
    })
}

/// The `scope` parameter, each of whose scopes must be `allowed` (else `invalid_scope`
/// "scope '<s>' <refusal>"); without it, all of `allowed`.
pub fn requested_scope(form: &Form, allowed: Scope, refusal: &str) -> Result<Scope, Error> {
    let Some(text) = form.get("scope") else {
        return Ok(allowed);
    };
    let requested = Scope::parse(text).map_err(|e| Error::InvalidScope(e.into()))?;
    match requested.first_outside(&allowed) {
        Some(extra) => Err(Error::InvalidScope(
            format!("scope '{extra}' {refusal}").into(),
        )),
        None => Ok(requested),
    }
}
