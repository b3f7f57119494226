//! What the core needs from the world, as narrow traits, one per need, all in one place: the
//! client registry, resources, the audit trail, activity counters, the per-client guards, the
//! signing-key schedule and key fetching are declared here; time, randomness and the
//! platform's signature primitives are declared beside the code that defines their contract
//! and re-exported here; [`Ports`] bundles them for a request. The shell implements them over KV, Durable Objects and `fetch`;
//! `crate::testing` implements them in memory. They return boxed futures so they can be trait
//! objects: one dynamic call is nothing next to the KV or network call behind it.

use crate::error::Error;
pub use crate::jose::keys::PlatformSigner;
pub use crate::jose::verify::PlatformVerifier;
use crate::registry::audit::AuditEvent;
use crate::registry::clients::{ClientId, ClientRecord};
use crate::registry::guard::{GuardOp, GuardState};
use crate::registry::resources::{Resource, ResourceId};
use crate::registry::signing_keys::KeySchedule;
pub use crate::support::random::Random;
pub use crate::support::time::Clock;
use crate::support::LocalFuture;

/// The result of a port call.
pub type PortResult<'a, T> = LocalFuture<'a, Result<T, Error>>;

/// One page of a listing, in key order (audit events: newest first).
#[derive(Debug)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one (an opaque store cursor).
    pub next_cursor: Option<String>,
}

/// The client registry: one record per client, with its secrets.
pub trait Clients {
    /// Reads one client with its secrets.
    fn get<'a>(&'a self, id: &'a ClientId) -> PortResult<'a, Option<ClientRecord>>;
    /// Writes one client with its secrets.
    fn put<'a>(&'a self, record: &'a ClientRecord) -> PortResult<'a, ()>;
    /// Deletes a client and its secrets.
    fn delete<'a>(&'a self, id: &'a ClientId) -> PortResult<'a, ()>;
    /// Lists clients in key order.
    fn list<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> PortResult<'a, Page<ClientRecord>>;
}

/// Registered resources (APIs).
pub trait Resources {
    /// Reads one resource.
    fn get<'a>(&'a self, id: &'a ResourceId) -> PortResult<'a, Option<Resource>>;
    /// The id of the resource with this identifier, from the identifier index.
    fn id_for<'a>(&'a self, identifier: &'a str) -> PortResult<'a, Option<ResourceId>>;
    /// Writes a resource and its identifier index entry.
    fn put<'a>(&'a self, resource: &'a Resource) -> PortResult<'a, ()>;
    /// Deletes a resource and its identifier index entry.
    fn delete<'a>(&'a self, resource: &'a Resource) -> PortResult<'a, ()>;
    /// Lists resources in key order.
    fn list<'a>(&'a self, cursor: Option<&'a str>, limit: usize) -> PortResult<'a, Page<Resource>>;
}

/// The audit trail of admin changes.
pub trait AuditLog {
    /// Appends an event under every key it belongs to, kept for `ttl_secs`.
    fn append<'a>(&'a self, event: &'a AuditEvent, ttl_secs: u64) -> PortResult<'a, ()>;
    /// Lists events newest first: all of them, or one client's.
    fn events<'a>(
        &'a self,
        client: Option<&'a ClientId>,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> PortResult<'a, Page<AuditEvent>>;
}

/// Token usage counters and secret last-use times, written in the background.
pub trait ActivityStore {
    /// Sets this isolate's running total of tokens for a client on a day (`yyyy-mm-dd`).
    fn put_usage<'a>(
        &'a self,
        client: &'a ClientId,
        date: &'a str,
        isolate: &'a str,
        tokens: u64,
    ) -> PortResult<'a, ()>;
    /// Every stored usage entry of a client, as (date, tokens), one per isolate and day.
    fn usage<'a>(&'a self, client: &'a ClientId) -> PortResult<'a, Vec<(String, u64)>>;
    /// Records when a secret was last used (epoch seconds).
    fn put_last_used<'a>(
        &'a self,
        client: &'a ClientId,
        secret_id: &'a str,
        at: u64,
    ) -> PortResult<'a, ()>;
    /// Every recorded last use of a client's secrets, as (secret_id, epoch seconds).
    fn last_used<'a>(&'a self, client: &'a ClientId) -> PortResult<'a, Vec<(String, u64)>>;
    /// Forgets the last use of one secret, or of every secret of the client.
    fn forget_last_used<'a>(
        &'a self,
        client: &'a ClientId,
        secret_id: Option<&'a str>,
    ) -> PortResult<'a, ()>;
}

/// The per-client guards (see [`crate::registry::guard`]): exact across locations.
pub trait Guards {
    /// Marks assertion `jti` of `client` used until `until` (epoch seconds); answers `false`
    /// if it was already used. Two concurrent calls with the same jti: exactly one `true`.
    fn claim_jti<'a>(
        &'a self,
        client: &'a ClientId,
        jti: &'a str,
        until: u64,
    ) -> PortResult<'a, bool>;
    /// Applies `op` to the client's guard state at `now` and answers the new state.
    fn apply<'a>(
        &'a self,
        client: &'a ClientId,
        op: GuardOp,
        now: u64,
    ) -> PortResult<'a, GuardState>;
}

/// Where the signing-key rotation schedule is kept.
pub trait KeyStore {
    /// The stored schedule; `None` before the first rotation.
    fn schedule(&self) -> PortResult<'_, Option<KeySchedule>>;
    /// Replaces the stored schedule.
    fn put_schedule<'a>(&'a self, schedule: &'a KeySchedule) -> PortResult<'a, ()>;
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

/// The platform behind the core, one narrow trait per need.
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    /// The client registry.
    pub clients: &'a dyn Clients,
    /// Registered resources.
    pub resources: &'a dyn Resources,
    /// The audit trail.
    pub audit: &'a dyn AuditLog,
    /// Usage counts and last uses.
    pub activity: &'a dyn ActivityStore,
    /// The per-client guards.
    pub guards: &'a dyn Guards,
    /// The signing-key schedule.
    pub keys: &'a dyn KeyStore,
    /// Fetches clients' `jwks_uri`.
    pub fetcher: &'a dyn KeyFetcher,
    /// RS256, PS256 and ES256 verification.
    pub verifier: &'a dyn PlatformVerifier,
    /// Native Ed25519 signing of access tokens, where the platform has it.
    pub signer: &'a dyn PlatformSigner,
    /// Randomness.
    pub rng: &'a dyn Random,
}
