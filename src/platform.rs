//! What the core needs from the world, as narrow traits: time, randomness, client storage,
//! resources, the audit trail and activity counters. The shell implements them over Workers;
//! [`crate::memory`] implements them for tests.

use std::future::Future;
use std::pin::Pin;

use crate::audit::AuditEvent;
use crate::clients::{ClientId, ClientRecord};
use crate::error::Error;
use crate::jose::{Alg, PublicJwk};
use crate::lockout::{GuardOp, GuardState};
use crate::resources::{Resource, ResourceId};

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
///
/// Resources, the audit trail and activity counters live in the same KV namespace, so the
/// one store handed to the core implements those narrow traits too; code that needs only
/// one of them still names only that one.
#[allow(async_fn_in_trait)]
pub trait ClientStore: ResourceStore + AuditLog + ActivityStore {
    /// Reads one client with its secrets.
    async fn get(&self, id: &ClientId) -> Result<Option<ClientRecord>, Error>;
    /// Writes one client with its secrets.
    async fn put(&self, client: &ClientRecord) -> Result<(), Error>;
    /// Deletes a client and its secrets.
    async fn delete(&self, id: &ClientId) -> Result<(), Error>;
    /// Lists clients in key order.
    async fn list(&self, cursor: Option<&str>, limit: usize) -> Result<ClientPage, Error>;
}

/// A boxed future, so the traits below stay object-safe and `App` needs no more type parameters.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Decisions that must be exact across locations: a Durable Object per client in production.
pub trait Coordinator {
    /// Marks assertion `jti` of `client` used until `until` (epoch seconds); answers `false`
    /// if it was already used. Two concurrent calls with the same jti: exactly one `true`.
    fn claim_jti<'a>(
        &'a self,
        client: &'a ClientId,
        jti: &'a str,
        until: u64,
    ) -> LocalFuture<'a, Result<bool, Error>>;

    /// Applies `op` to the client's guard state at `now` and answers the new state.
    fn guard<'a>(
        &'a self,
        client: &'a ClientId,
        op: GuardOp,
        now: u64,
    ) -> LocalFuture<'a, Result<GuardState, Error>>;
}

/// Signature checks the platform does natively (WebCrypto on Workers): RS256, PS256, ES256.
/// EdDSA and HS256 are checked by the core itself.
pub trait SignatureVerifier {
    /// Whether `signature` over `input` verifies with `key` under `alg`.
    fn verify<'a>(
        &'a self,
        alg: Alg,
        key: &'a PublicJwk,
        input: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, Error>>;
}

/// A fetched JWK Set document.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The body, already capped in size and checked for a JSON content type.
    pub body: Vec<u8>,
    /// The `Cache-Control` header, if any.
    pub cache_control: Option<String>,
}

/// Fetches a client's `jwks_uri`.
pub trait KeyFetcher {
    /// Fetches `url`; the error text is safe to show (no internals).
    fn fetch<'a>(&'a self, url: &'a str) -> LocalFuture<'a, Result<Fetched, String>>;
}

/// One page of a resource listing.
#[derive(Debug, Default)]
pub struct ResourcePage {
    /// The resources on this page, in key order.
    pub resources: Vec<Resource>,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<String>,
}

/// Registered resources (APIs).
#[allow(async_fn_in_trait)]
pub trait ResourceStore {
    /// Reads one resource.
    async fn get_resource(&self, id: &ResourceId) -> Result<Option<Resource>, Error>;
    /// The id of the resource with this identifier, from the identifier index.
    async fn resource_id_for(&self, identifier: &str) -> Result<Option<ResourceId>, Error>;
    /// Writes a resource and its identifier index entry.
    async fn put_resource(&self, resource: &Resource) -> Result<(), Error>;
    /// Deletes a resource and its identifier index entry.
    async fn delete_resource(&self, resource: &Resource) -> Result<(), Error>;
    /// Lists resources in key order.
    async fn list_resources(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ResourcePage, Error>;
}

/// One page of audit events, newest first.
#[derive(Debug, Default)]
pub struct AuditPage {
    /// The events, newest first.
    pub events: Vec<AuditEvent>,
    /// Where the next (older) page starts, if there is one.
    pub next_cursor: Option<String>,
}

/// The audit trail of admin changes.
#[allow(async_fn_in_trait)]
pub trait AuditLog {
    /// Appends an event (under the global and the per-client key), kept for `ttl_secs`.
    async fn append(&self, event: &AuditEvent, ttl_secs: u64) -> Result<(), Error>;
    /// Lists events newest first: all of them, or one client's.
    async fn events(
        &self,
        client: Option<&ClientId>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<AuditPage, Error>;
}

/// Token usage counters and secret last-use times, written in the background.
#[allow(async_fn_in_trait)]
pub trait ActivityStore {
    /// Sets this isolate's running total of tokens for a client on a day (`yyyy-mm-dd`).
    async fn put_usage(
        &self,
        client: &ClientId,
        date: &str,
        isolate: &str,
        tokens: u64,
    ) -> Result<(), Error>;
    /// Every stored usage entry of a client, as (date, tokens), one per isolate and day.
    async fn usage(&self, client: &ClientId) -> Result<Vec<(String, u64)>, Error>;
    /// Records when a secret was last used (epoch seconds).
    async fn put_last_used(&self, client: &ClientId, secret_id: &str, at: u64)
        -> Result<(), Error>;
    /// Every recorded last use of a client's secrets, as (secret_id, epoch seconds).
    async fn last_used(&self, client: &ClientId) -> Result<Vec<(String, u64)>, Error>;
    /// Forgets the last use of one secret, or of every secret of the client.
    async fn forget_last_used(
        &self,
        client: &ClientId,
        secret_id: Option<&str>,
    ) -> Result<(), Error>;
}
