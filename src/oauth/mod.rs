//! The OAuth endpoints: the token endpoint (its grants in `grants/`, one file each) with client
//! authentication, assertion rules, federated credentials, client certificates (RFC 8705) and access tokens, introspection (RFC 7662), revocation (RFC 7009), and discovery (metadata and the
//! JWKS).

pub mod access_token;
pub mod admins;
pub mod assertions;
pub mod client_auth;
pub mod discovery;
pub mod dpop;
pub mod federation;
pub mod grants;
pub mod introspect;
pub mod mtls;
pub mod revocation;
pub mod token;

use serde::Deserialize;

/// Where the token endpoint lives, relative to the issuer.
pub const TOKEN_PATH: &str = "/oauth/token";

use crate::error::Error;

/// The admin's body naming one token by value: `{"token": "..."}` and nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// The access token.
    pub token: String,
}

/// A refused credential, told apart by whether it was a wrong guess at a secret: the one
/// kind of failure the lockout counts. A failed signature of a key-based client, an unknown
/// kid, a key-host outage or a replayed `jti` prove nothing guessable, so counting them would
/// only let anyone who knows a client id lock it, or a client lock itself while rotating keys.
#[derive(Debug)]
pub enum Refusal {
    /// A wrong client secret, or a `client_secret_jwt` HMAC that no secret of the client makes.
    WrongSecret(Error),
    /// Any other refusal.
    Other(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Refusal {
        Refusal::Other(e)
    }
}
