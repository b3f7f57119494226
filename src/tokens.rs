//! Access tokens: RFC 9068 JWT claims, signed with the current Ed25519 key.

use serde::Serialize;

use crate::encoding::b64url;
use crate::error::Error;
use crate::keys::SigningKey;
use crate::platform::Random;

/// The claims of an access token (RFC 9068 section 2.2).
#[derive(Debug, Serialize)]
pub struct AccessTokenClaims<'a> {
    /// Issuer.
    pub iss: &'a str,
    /// The client: there is no user in client credentials.
    pub sub: &'a str,
    /// The client again, as RFC 9068 asks.
    pub client_id: &'a str,
    /// The resource the token is for.
    pub aud: &'a str,
    /// Issued at.
    pub iat: u64,
    /// Expiry.
    pub exp: u64,
    /// Unique token id.
    pub jti: &'a str,
    /// Granted scopes, space-separated; omitted when none.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub scope: &'a str,
}

/// Makes a token id of 128 random bits.
pub fn new_jti(rng: &impl Random) -> Result<String, Error> {
    let mut b = [0u8; 16];
    rng.fill(&mut b)?;
    Ok(b64url(b))
}

/// Signs the claims as a compact JWS.
pub fn mint(key: &SigningKey, claims: &AccessTokenClaims<'_>) -> Result<String, Error> {
    let payload = serde_json::to_vec(claims).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(key.sign_jwt(&payload))
}
