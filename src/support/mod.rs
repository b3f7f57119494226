//! Small helpers that know nothing of OAuth: encodings, text, time, randomness, URI rules and
//! a bounded TTL cache. Everything else builds on these.

pub mod b64;
pub mod cache;
pub mod coalesce;
pub mod json;
pub mod random;
pub mod text;
pub mod time;
pub mod uri;

use std::future::Future;
use std::pin::Pin;

/// A boxed future that need not be `Send` (a Worker isolate is single-threaded), so the ports
/// can be trait objects.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;
