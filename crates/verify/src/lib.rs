//! Verifies the access tokens edgeauth issues: RFC 9068 JWTs
//! (`typ: at+jwt`) signed with Ed25519 (`alg: EdDSA`), the key named by `kid`.
//!
//! No runtime dependency: it builds for `wasm32-unknown-unknown` (a Rust Worker) and for the
//! host. Time is always the caller's `now`, in Unix seconds.
//!
//! A [`Verifier`] holds the policy (issuer, accepted audiences, clock skew, required `typ`,
//! algorithm allow-list, size cap) and a key source: a static [`JwkSet`], or a [`RemoteJwks`]
//! that fetches the issuer's `jwks_uri` through your [`Fetch`] and caches it within bounds.
//! Checks run cheapest first and in a fixed order: size, three base64url parts, header object,
//! `alg` allowed, no `crit`, `typ`, key by `kid`, signature, then the claims (object, `iss`,
//! `aud`, `exp`/`nbf`/`iat` with skew, required claims and their types, the `act` chain of an
//! exchanged token).
//!
//! Every failure is a [`VerifyError`] that knows its RFC 6750 code, HTTP status and
//! `WWW-Authenticate` challenge.
//!
//! ```
//! use ed25519_dalek::{Signer, SigningKey};
//! use edgeauth_verify::{bearer_token, JwkSet, Key, Scopes, Verifier, VerifyError};
//! # use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
//!
//! // A test key, and a token signed with it as edgeauth signs (normally the issuer does this).
//! let signer = SigningKey::from_bytes(&[7; 32]);
//! let key = Key::ed25519(signer.verifying_key().as_bytes(), None)?;
//! let header = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}"}}"#, key.kid());
//! let claims = r#"{"iss":"https://auth.example.com","sub":"c1","client_id":"c1",
//!     "aud":"https://api.example.com","scope":"read write","iat":1700000000,
//!     "exp":1700000600,"jti":"j1"}"#;
//! let input = format!("{}.{}", B64.encode(header), B64.encode(claims));
//! let token = format!("{input}.{}", B64.encode(signer.sign(input.as_bytes()).to_bytes()));
//!
//! // The resource server: usually `JwkSet::from_json` of the issuer's JWKS, or `RemoteJwks`.
//! let verifier = Verifier::new(
//!     "https://auth.example.com",
//!     ["https://api.example.com"],
//!     JwkSet::new(vec![key]),
//! );
//! let authorization = format!("Bearer {token}");
//! let claims = verifier.verify(bearer_token(Some(&authorization))?, 1_700_000_100)?;
//! assert_eq!(claims.client_id, "c1");
//! assert_eq!(claims.scopes, ["read", "write"]);
//! claims.require_scopes(Scopes::AllOf(&["read"]))?;
//!
//! // A refusal knows how to answer.
//! let err = claims.require_scopes(Scopes::AllOf(&["admin"])).unwrap_err();
//! assert_eq!(err.status(), 403);
//! assert_eq!(
//!     err.www_authenticate("api"),
//!     r#"Bearer realm="api", error="insufficient_scope", error_description="the token lacks a required scope", scope="admin""#
//! );
//! assert_eq!(verifier.verify(&token, 1_700_000_660), Err(VerifyError::Expired));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod b64;
mod bearer;
mod claims;
pub mod dpop;
mod error;
#[doc(hidden)]
pub mod json;
mod jwks;
mod remote;
mod seen;
mod token;
mod verifier;

pub use bearer::{access_token, bearer_token, Scheme};
pub use claims::{Claims, Confirmation, Scopes, MAX_ACTORS};
pub use dpop::{Proof, ProofAlg, ProofError, ProofReplay, ProofRules};
pub use error::{ErrorCode, VerifyError};
pub use jwks::{Algorithm, JwkSet, JwksError, Key, MAX_JWKS_BYTES};
pub use remote::{
    ttl_from_cache_control, Fetch, FetchResponse, RemoteJwks, DEFAULT_TTL, MAX_STALE, MAX_TTL,
    MIN_TTL, REFETCH_COOLDOWN,
};
pub use verifier::{Verifier, ACCESS_TOKEN_TYP, DEFAULT_MAX_TOKEN_LEN, DEFAULT_SKEW};
