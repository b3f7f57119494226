//! What the core needs from the world, as narrow traits: time, randomness, client storage.
//! The shell implements them over Workers; [`crate::memory`] implements them for tests.

use crate::clients::{ClientId, ClientRecord};
use crate::error::Error;

/// Wall-clock time.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// Seconds since the Unix epoch.
    fn now(&self) -> u64 {
        self.now_ms() / 1000
    }
}

/// A cryptographically secure random source.
pub trait Random {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error>;
}

/// The operating system's (or, on wasm32, `crypto.getRandomValues`') random source.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

impl Random for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(buf).map_err(|e| Error::Internal(format!("getrandom: {e}")))
    }
}

/// One page of a client listing.
#[derive(Debug, Default)]
pub struct ClientPage {
    /// The clients on this page, in key order.
    pub clients: Vec<ClientRecord>,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<String>,
}

/// The client registry (Workers KV in production).
#[allow(async_fn_in_trait)]
pub trait ClientStore {
    /// Reads one client with its secrets.
    async fn get(&self, id: &ClientId) -> Result<Option<ClientRecord>, Error>;
    /// Writes one client with its secrets.
    async fn put(&self, client: &ClientRecord) -> Result<(), Error>;
    /// Deletes a client and its secrets.
    async fn delete(&self, id: &ClientId) -> Result<(), Error>;
    /// Lists clients in key order.
    async fn list(&self, cursor: Option<&str>, limit: usize) -> Result<ClientPage, Error>;
}
