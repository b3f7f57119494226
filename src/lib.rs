//! edgeauth: an OAuth 2.0 client-credentials authorization server for Cloudflare Workers.
//!
//! The layers, each importing only from those above it in this list (docs/ARCHITECTURE.md):
//! `error` and `support` (leaves), `http`, `jose`, `registry` (the domain), `ports` and
//! `config`, `context` (the request context and isolate state), `services` (token quotas and
//! the revocation of one token), `oauth` and `admin` (the endpoints), `router`, and last the wasm `shell`. `testing` holds the in-memory ports for
//! host tests and is not compiled into the release build.
#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]
#![warn(missing_docs)]

pub mod admin;
pub mod config;
pub mod context;
pub mod error;
pub mod http;
pub mod jose;
pub mod oauth;
pub mod ports;
pub mod registry;
pub mod router;
pub mod services;
pub mod support;

#[cfg(target_arch = "wasm32")]
mod shell;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use config::{Config, SETTINGS};
pub use context::{Ctx, IsolateState, Ports};
pub use error::Error;
pub use http::{Method, Request, Response};
pub use router::handle;
