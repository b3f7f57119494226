//! What an isolate keeps between requests, in one struct: the shell holds one per isolate.
//!
//! How long a change takes to bite in another isolate: a lock, disable, delete or secret
//! removal goes through the client's guard, whose state is cached here for
//! [`CACHE_TTL_MS`](crate::support::cache::CACHE_TTL_MS), so it bites everywhere within that
//! TTL. Other changes (scopes, lifetimes, new secrets, resources) take this TTL plus KV's own
//! propagation between locations (up to about 60 s). In the isolate that served the admin
//! change, everything bites at once: admin writes refresh the entries. Under steady use one
//! request reads an entry again in its last second (`REFRESH_AHEAD_MS`), so it rarely expires
//! at all; nothing is ever used past the TTL.

pub mod activity;
pub mod issuers;
pub mod quota_counts;
pub mod remote_keys;

use std::cell::RefCell;
use std::rc::Rc;

use crate::context::isolate::activity::Activity;
use crate::context::isolate::issuers::Issuers;
use crate::context::isolate::quota_counts::Quotas;
use crate::context::isolate::remote_keys::RemoteKeys;
use crate::registry::clients::{ClientId, ClientRecord};
use crate::registry::guard::GuardState;
use crate::registry::resources::{Resource, ResourceId};
use crate::registry::signing_keys::KeyRing;
use crate::support::cache::{Lookup, Stamp, TtlCache};
use edgeauth_verify::{JwkSet, Verifier};

/// Every per-isolate cache and counter.
#[derive(Debug, Default)]
pub struct IsolateState {
    /// Client records by id, and ids of no client (kept apart, see [`Lookup`]).
    pub clients: Lookup<ClientId, ClientRecord>,
    /// Guard states by client.
    pub guards: TtlCache<ClientId, GuardState>,
    /// Resources by id, and ids of no resource.
    pub resources: Lookup<ResourceId, Resource>,
    /// Fetched key sets of clients and of federated issuers, by `jwks_uri`.
    pub remote_keys: RemoteKeys,
    /// Federated issuers' discovered `jwks_uri`, by issuer.
    pub issuers: Issuers,
    /// Usage counts and last uses waiting to be written.
    pub activity: Activity,
    /// Token quota counts (see [`crate::services::token_quota`]).
    pub quota: Quotas,
    /// The verifier of our own tokens for the keys published now (see [`TokenVerifier`]).
    pub token_verifier: TokenVerifier,
    /// The signing keys, with when they were read; kept past their TTL so a refresh can
    /// reuse the derived keys.
    pub key_ring: RefCell<Option<(Stamp, Rc<KeyRing>)>>,
}

/// The isolate's verifier of the tokens we issue, kept while the issuer and the published keys
/// stay the same, so the signatures it remembers carry over between requests.
#[derive(Debug, Default)]
pub struct TokenVerifier {
    current: RefCell<Option<Built>>,
}

/// A verifier with the issuer and the kids it was built for.
type Built = (String, Vec<String>, Rc<Verifier<JwkSet>>);

impl TokenVerifier {
    /// The verifier for `issuer` and the keys `ring` publishes at `now`, made with `build` when
    /// either changed.
    pub fn for_keys(
        &self,
        issuer: &str,
        ring: &KeyRing,
        now: u64,
        build: impl FnOnce(&str, JwkSet) -> Verifier<JwkSet>,
    ) -> Rc<Verifier<JwkSet>> {
        let published = ring.published(now);
        let kids = || published.iter().map(|k| k.kid());
        if let Some((i, k, v)) = &*self.current.borrow() {
            if i == issuer && kids().eq(k.iter().map(String::as_str)) {
                return Rc::clone(v);
            }
        }
        let keys = JwkSet::new(published.iter().map(|k| k.verify_key().clone()).collect());
        let kids = kids().map(str::to_string).collect();
        let verifier = Rc::new(build(issuer, keys));
        *self.current.borrow_mut() = Some((issuer.to_string(), kids, Rc::clone(&verifier)));
        verifier
    }
}
