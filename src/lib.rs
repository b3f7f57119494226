//! edgeauth: an OAuth 2.0 client-credentials authorization server for Cloudflare Workers.
//!
//! The core (everything but `shell`) knows nothing of Workers: time, randomness and storage
//! come in through the traits in [`platform`], so every endpoint runs on the host in tests.
#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]
#![warn(missing_docs)]

pub mod activity;
mod admin;
mod admin_governance;
mod app;
mod assertions;
pub mod audit;
mod cache;
mod client_auth;
mod clients;
mod config;
mod discovery;
mod encoding;
mod error;
mod http;
mod jose;
mod keys;
pub mod lockout;
pub mod memory;
pub mod platform;
mod remote_keys;
mod resources;
mod router;
mod scope;
mod secrets;
mod token_endpoint;
mod tokens;

#[cfg(target_arch = "wasm32")]
mod shell;

pub use app::{App, Isolate};
pub use assertions::{ASSERTION_TYPE, MAX_LIFETIME as MAX_ASSERTION_LIFETIME};
pub use cache::{ClientCache, CLIENT_CACHE_TTL_MS};
pub use clients::{Client, ClientId, ClientRecord, ResourceGrant};
pub use config::{Config, SETTINGS};
pub use error::Error;
pub use http::{Method, Request, Response};
pub use jose::{Alg, PublicJwk};
pub use remote_keys::RemoteKeys;
pub use resources::{Resource, ResourceId};
pub use router::handle;
