//! What an isolate keeps between requests, in one struct: the shell holds one per isolate.
//!
//! How long a change takes to bite in another isolate: a lock, disable, delete or secret
//! removal goes through the client's guard, whose state is cached here for
//! [`CACHE_TTL_MS`](crate::support::cache::CACHE_TTL_MS), so it bites everywhere within that
//! TTL. Other changes (scopes, lifetimes, new secrets, resources) take this TTL plus KV's own
//! propagation between locations (up to about 60 s). In the isolate that served the admin
//! change, everything bites at once: admin writes refresh the entries.

use std::cell::RefCell;
use std::rc::Rc;

use crate::context::activity::Activity;
use crate::context::remote_keys::RemoteKeys;
use crate::registry::clients::{ClientId, ClientRecord};
use crate::registry::guard::GuardState;
use crate::registry::resources::{Resource, ResourceId};
use crate::registry::signing_keys::KeyRing;
use crate::support::cache::TtlCache;

/// Every per-isolate cache and counter.
#[derive(Debug, Default)]
pub struct IsolateState {
    /// Client records by id; `None` caches "no such client".
    pub clients: TtlCache<ClientId, Option<Rc<ClientRecord>>>,
    /// Guard states by client.
    pub guards: TtlCache<ClientId, GuardState>,
    /// Resources by id; `None` caches "no such resource".
    pub resources: TtlCache<ResourceId, Option<Rc<Resource>>>,
    /// Fetched client key sets, by `jwks_uri`.
    pub remote_keys: RemoteKeys,
    /// Usage counts and last uses waiting to be written.
    pub activity: Activity,
    /// The signing keys, with when they were read; kept past their TTL so a refresh can
    /// reuse the derived keys.
    pub key_ring: RefCell<Option<(u64, Rc<KeyRing>)>>,
}
