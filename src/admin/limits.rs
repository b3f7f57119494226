//! `GET /admin/limits`: the input rules the admin page checks before sending, taken from the
//! server's own constants and settings so the page never copies them.

use serde_json::json;

use crate::context::Ctx;
use crate::http::Response;
use crate::jose::jwk::MAX_KEYS;
use crate::registry::federation::{MAX_AUDIENCES, MAX_CLAIMS, MAX_CREDENTIALS};
use crate::registry::{
    clients, federation_input as fed, quota, resources, scope, secrets, token_claims,
};

/// The limits document.
pub fn show(ctx: &Ctx<'_>) -> Response {
    let policy = &ctx.config.secret_policy;
    Response::json(
        200,
        &json!({
            "client": {
                "name_max": clients::MAX_NAME,
                "description_max": clients::MAX_DESCRIPTION,
                "resources_max": clients::MAX_RESOURCES,
                "resource_max": clients::MAX_RESOURCE_LEN,
                "grants_max": resources::MAX_GRANTS,
                "keys_max": MAX_KEYS,
            },
            "access_token_lifetime": {
                "min": clients::MIN_LIFETIME,
                "max": clients::MAX_LIFETIME,
                "default": clients::DEFAULT_LIFETIME,
            },
            "token_quota": { "min": 1, "max": quota::MAX_QUOTA },
            "token_claims": {
                "members_max": token_claims::MAX_MEMBERS,
                "bytes_max": token_claims::MAX_BYTES,
                "name_max": token_claims::MAX_NAME,
                "reserved": token_claims::RESERVED,
            },
            "scope": {
                "tokens_max": scope::MAX_TOKENS,
                "token_max": scope::MAX_TOKEN_LEN,
                "token_pattern": scope::TOKEN_PATTERN,
            },
            "secret": {
                "per_client": policy.max_per_client,
                "description_max": secrets::MAX_DESCRIPTION,
                "default_lifetime_days": policy.default_lifetime() / 86_400,
                "max_lifetime_days": policy.max_lifetime.map(|m| m / 86_400),
                "allow_never": policy.allows_never(),
            },
            "federated_credential": {
                "per_client": MAX_CREDENTIALS,
                "name_max": fed::MAX_NAME,
                "description_max": fed::MAX_DESCRIPTION,
                "value_max": fed::MAX_VALUE,
                "audiences_max": MAX_AUDIENCES,
                "claims_max": MAX_CLAIMS,
                "claim_name_max": fed::MAX_CLAIM_NAME,
                "reserved_claims": fed::RESERVED_CLAIMS,
            },
            "resource": {
                "identifier_max": resources::MAX_IDENTIFIER,
                "name_max": resources::MAX_NAME,
                "scopes_max": resources::MAX_RESOURCE_SCOPES,
                "scope_description_max": resources::MAX_SCOPE_DESCRIPTION,
            },
        }),
    )
}
