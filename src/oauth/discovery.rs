//! Authorization server metadata (RFC 8414) and the JWKS.

use edgeauth_verify::dpop::DPOP_ALG_NAMES;
use serde::Serialize;

use crate::config::Config;
use crate::context::Ctx;
use crate::error::Error;
use crate::http::Response;
use crate::jose::keys::{Jwks, SigningKey};
use crate::jose::Alg;
use crate::oauth::grants::Grant;
use crate::registry::clients::AuthMethod;

pub use crate::oauth::TOKEN_PATH;
/// Where token introspection (RFC 7662) lives, relative to the issuer.
pub const INTROSPECTION_PATH: &str = "/oauth/introspect";
/// Where token revocation (RFC 7009) lives, relative to the issuer.
pub const REVOCATION_PATH: &str = "/oauth/revoke";
/// Where the JWKS lives, relative to the issuer.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

#[derive(Serialize)]
struct Metadata<'a> {
    issuer: &'a str,
    token_endpoint: String,
    jwks_uri: String,
    introspection_endpoint: String,
    introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    revocation_endpoint: String,
    revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    grant_types_supported: Vec<&'static str>,
    response_types_supported: [&'static str; 0],
    token_endpoint_auth_methods_supported: Vec<&'static str>,
    token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    access_token_signing_alg_values_supported: [&'static str; 1],
    dpop_signing_alg_values_supported: [&'static str; 4],
    /// RFC 8705 section 3.3: tokens of clients that register for it are certificate-bound.
    tls_client_certificate_bound_access_tokens: bool,
}

/// The metadata document for a request arriving at `origin`.
pub fn metadata(config: &Config, origin: &str) -> Response {
    let issuer = config.issuer(origin);
    let body = Metadata {
        issuer,
        token_endpoint: format!("{issuer}{TOKEN_PATH}"),
        jwks_uri: format!("{issuer}{JWKS_PATH}"),
        introspection_endpoint: format!("{issuer}{INTROSPECTION_PATH}"),
        // Clients as at the token endpoint; operators with the admin bearer token.
        introspection_endpoint_auth_methods_supported: AuthMethod::ALL
            .iter()
            .map(|m| m.name())
            .collect(),
        revocation_endpoint: format!("{issuer}{REVOCATION_PATH}"),
        // Clients only, exactly as at the token endpoint.
        revocation_endpoint_auth_methods_supported: AuthMethod::ALL
            .iter()
            .map(|m| m.name())
            .collect(),
        grant_types_supported: Grant::ALL.iter().map(|g| g.name()).collect(),
        response_types_supported: [],
        token_endpoint_auth_methods_supported: AuthMethod::ALL.iter().map(|m| m.name()).collect(),
        token_endpoint_auth_signing_alg_values_supported: Alg::PUBLIC
            .iter()
            .chain(&Alg::SECRET)
            .map(|a| a.name())
            .collect(),
        access_token_signing_alg_values_supported: [SigningKey::ALG],
        dpop_signing_alg_values_supported: DPOP_ALG_NAMES,
        tls_client_certificate_bound_access_tokens: true,
    };
    Response::json(200, &body).with_header("cache-control", "public, max-age=300")
}

/// How long caches may keep the JWKS: `KEY_PUBLISH_LEAD` must be longer, so every verifier
/// has a new key before it signs.
pub const JWKS_MAX_AGE: u64 = 300;

/// The JWKS at this instant: the signing key, the next one if a rotation is under way, and
/// replaced keys whose tokens may still be valid.
pub async fn jwks(ctx: &Ctx<'_>) -> Result<Response, Error> {
    let ring = ctx.key_ring().await?;
    let body = Jwks::of(ring.published(ctx.now()));
    let cache = format!("public, max-age={JWKS_MAX_AGE}");
    Ok(Response::json(200, &body).with_header("cache-control", &cache))
}
