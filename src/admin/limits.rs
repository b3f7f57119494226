//! `GET /admin/limits`: the input rules the admin page checks before sending, taken from the
//! server's own constants and settings so the page never copies them.

use serde::Serialize;

use crate::context::Ctx;
use crate::http::Response;
use crate::jose::jwk::MAX_KEYS;
use crate::registry::federation::{MAX_AUDIENCES, MAX_CLAIMS, MAX_CREDENTIALS};
use crate::registry::{
    clients, federation_input as fed, quota, resources, scope, secrets, token_claims,
};

// The document's parts. Members are declared in name order, the order `json!` wrote them in
// before these structs (each entry of a `json!` map took a conversion to `Value` of its own).

#[derive(Serialize)]
struct Limits {
    access_token_lifetime: Lifetime,
    client: ClientLimits,
    federated_credential: Credential,
    resource: Resource,
    scope: Scope,
    secret: Secret,
    token_claims: Claims,
    token_quota: Quota,
}

#[derive(Serialize)]
struct Lifetime {
    default: u32,
    max: u32,
    min: u32,
}

#[derive(Serialize)]
struct ClientLimits {
    description_max: usize,
    grants_max: usize,
    keys_max: usize,
    name_max: usize,
    resource_max: usize,
    resources_max: usize,
}

#[derive(Serialize)]
struct Credential {
    audiences_max: usize,
    claim_name_max: usize,
    claims_max: usize,
    description_max: usize,
    name_max: usize,
    per_client: usize,
    reserved_claims: &'static [&'static str],
    value_max: usize,
}

#[derive(Serialize)]
struct Resource {
    identifier_max: usize,
    name_max: usize,
    scope_description_max: usize,
    scopes_max: usize,
}

#[derive(Serialize)]
struct Scope {
    token_max: usize,
    token_pattern: &'static str,
    tokens_max: usize,
}

#[derive(Serialize)]
struct Secret {
    allow_never: bool,
    default_lifetime_days: u64,
    description_max: usize,
    max_lifetime_days: Option<u64>,
    per_client: usize,
}

#[derive(Serialize)]
struct Claims {
    bytes_max: usize,
    members_max: usize,
    name_max: usize,
    reserved: &'static [&'static str],
}

#[derive(Serialize)]
struct Quota {
    max: u32,
    min: u32,
}

/// The limits document.
pub fn show(ctx: &Ctx<'_>) -> Response {
    let policy = &ctx.config.secret_policy;
    let limits = Limits {
        access_token_lifetime: Lifetime {
            default: clients::DEFAULT_LIFETIME,
            max: clients::MAX_LIFETIME,
            min: clients::MIN_LIFETIME,
        },
        client: ClientLimits {
            description_max: clients::MAX_DESCRIPTION,
            grants_max: resources::MAX_GRANTS,
            keys_max: MAX_KEYS,
            name_max: clients::MAX_NAME,
            resource_max: clients::MAX_RESOURCE_LEN,
            resources_max: clients::MAX_RESOURCES,
        },
        federated_credential: Credential {
            audiences_max: MAX_AUDIENCES,
            claim_name_max: fed::MAX_CLAIM_NAME,
            claims_max: MAX_CLAIMS,
            description_max: fed::MAX_DESCRIPTION,
            name_max: fed::MAX_NAME,
            per_client: MAX_CREDENTIALS,
            reserved_claims: &fed::RESERVED_CLAIMS,
            value_max: fed::MAX_VALUE,
        },
        resource: Resource {
            identifier_max: resources::MAX_IDENTIFIER,
            name_max: resources::MAX_NAME,
            scope_description_max: resources::MAX_SCOPE_DESCRIPTION,
            scopes_max: resources::MAX_RESOURCE_SCOPES,
        },
        scope: Scope {
            token_max: scope::MAX_TOKEN_LEN,
            token_pattern: scope::TOKEN_PATTERN,
            tokens_max: scope::MAX_TOKENS,
        },
        secret: Secret {
            allow_never: policy.allows_never(),
            default_lifetime_days: policy.default_lifetime() / 86_400,
            description_max: secrets::MAX_DESCRIPTION,
            max_lifetime_days: policy.max_lifetime.map(|m| m / 86_400),
            per_client: policy.max_per_client,
        },
        token_claims: Claims {
            bytes_max: token_claims::MAX_BYTES,
            members_max: token_claims::MAX_MEMBERS,
            name_max: token_claims::MAX_NAME,
            reserved: &token_claims::RESERVED,
        },
        token_quota: Quota {
            max: quota::MAX_QUOTA,
            min: 1,
        },
    };
    Response::json(200, &limits)
}
