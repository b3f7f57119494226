//! JOSE: the algorithm allow-list, compact JWS, public JWKs and their thumbprint, PEM import
//! (keys, and the little of an X.509 certificate that registering one needs),
//! signature verification and the server's own signing keys.
//!
//! Nothing here picks a verifier from a header: the caller decides which algorithms a client
//! may use, and a key only verifies the algorithm of its own family.

pub mod alg;
mod der;
pub mod jwk;
pub mod jws;
pub mod keys;
pub mod pem;
pub mod verify;
pub mod x509;

pub use alg::{Alg, JoseError};
pub use jwk::PublicJwk;
pub use jws::CompactJws;
