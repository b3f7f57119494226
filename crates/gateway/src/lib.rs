//! edgeauth's gateway: a Worker in front of an API that routes each request by host, path
//! prefix and method, verifies the bearer token with `edgeauth-verify` (keys from the issuer
//! Worker through a Service Binding), answers refusals per RFC 6750, and forwards allowed
//! requests with the verified client id, scopes, subject and (for an exchanged token) actor
//! chain in headers.
//!
//! The core (`routes`, `settings`, `gateway`, `headers`, `reply`, `revocation`) knows nothing
//! of Workers and is tested on the host; `shell` (wasm only) translates to and from the runtime.
#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]
#![warn(missing_docs)]

pub mod gateway;
pub mod headers;
pub mod reply;
pub mod revocation;
pub mod routes;
pub mod settings;

#[cfg(target_arch = "wasm32")]
mod shell;

pub use gateway::{Forward, Gateway, Incoming, Outcome, Target};
pub use gateway::{InWasm, ProofSignatures};
pub use headers::{RequestEdits, ResponseEdits};
pub use reply::Reply;
pub use revocation::{Credential, Introspect};
pub use routes::{
    Access, Cors, Miss, NonCanonical, Route, RouteTable, ScopeRule, SenderConstraint, Upstream,
};
pub use settings::Settings;
