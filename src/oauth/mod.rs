//! The OAuth endpoints: the token endpoint (client credentials) with client authentication,
//! assertion rules and access-token issuing, and discovery (metadata and the JWKS).

pub mod assertions;
pub mod client_auth;
pub mod discovery;
pub mod issue;
pub mod token;
