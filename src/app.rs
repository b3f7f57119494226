//! The application context handed to every endpoint: configuration and the platform traits.

use std::rc::Rc;

use crate::activity::{Activity, ActivityWrite};
use crate::cache::{ClientCache, TtlCache};
use crate::clients::{ClientId, ClientRecord};
use crate::config::Config;
use crate::error::Error;
use crate::lockout::{GuardOp, GuardState};
use crate::platform::{ClientStore, Clock, Coordinator, KeyFetcher, Random, SignatureVerifier};
use crate::remote_keys::RemoteKeys;
use crate::resources::{Resource, ResourceCache, ResourceId};

/// What an isolate keeps between requests besides the client cache.
#[derive(Debug, Default)]
pub struct Isolate {
    /// Guard states by client, for the token endpoint (see [`crate::lockout`]).
    pub guards: TtlCache<ClientId, GuardState>,
    /// Resources by id, for the token endpoint.
    pub resources: ResourceCache,
    /// Usage counts and last uses waiting to be written.
    pub activity: Activity,
}

/// Configuration, storage, time and randomness for one request.
pub struct App<'a, S, C, R> {
    /// Parsed settings.
    pub config: &'a Config,
    /// The client registry.
    pub store: &'a S,
    /// Wall-clock time.
    pub clock: &'a C,
    /// Randomness.
    pub rng: &'a R,
    /// The isolate's client cache.
    pub cache: &'a ClientCache,
    /// Exact cross-location decisions (assertion replay).
    pub coordinator: &'a dyn Coordinator,
    /// Native RS256/PS256/ES256 verification.
    pub verifier: &'a dyn SignatureVerifier,
    /// Fetches clients' `jwks_uri`.
    pub fetcher: &'a dyn KeyFetcher,
    /// The isolate's cache of fetched client key sets.
    pub remote_keys: &'a RemoteKeys,
    /// The isolate's other state: resource cache and activity counters.
    pub isolate: &'a Isolate,
}

impl<S: ClientStore, C: Clock, R: Random> App<'_, S, C, R> {
    /// A client through the isolate cache: the token endpoint's read.
    pub async fn cached_client(&self, id: &ClientId) -> Result<Option<Rc<ClientRecord>>, Error> {
        let now = self.clock.now_ms();
        if let Some(hit) = self.cache.get(id, now) {
            return Ok(hit);
        }
        let record = self.store.get(id).await?.map(Rc::new);
        self.cache.put(id.clone(), record.clone(), now);
        Ok(record)
    }

    /// A resource through the isolate cache: the token endpoint's read for granted resources.
    pub async fn cached_resource(&self, id: &ResourceId) -> Result<Option<Rc<Resource>>, Error> {
        let now = self.clock.now_ms();
        if let Some(hit) = self.isolate.resources.get(id, now) {
            return Ok(hit);
        }
        let resource = self.store.get_resource(id).await?.map(Rc::new);
        self.isolate
            .resources
            .put(id.clone(), resource.clone(), now);
        Ok(resource)
    }

    /// Writes a resource and refreshes this isolate's cache.
    pub async fn save_resource(&self, resource: &Resource) -> Result<(), Error> {
        self.store.put_resource(resource).await?;
        let id = resource.resource_id.clone();
        self.isolate
            .resources
            .put(id, Some(Rc::new(resource.clone())), self.clock.now_ms());
        Ok(())
    }

    /// The background writes this isolate owes now (see [`crate::activity`]); the shell
    /// performs them after the response with `wait_until`.
    pub fn due_activity(&self) -> Vec<ActivityWrite> {
        self.isolate
            .activity
            .take_due(self.clock.now_ms(), self.rng)
    }

    /// The client's guard state through the isolate cache: the token endpoint's read.
    pub async fn cached_guard(&self, id: &ClientId) -> Result<GuardState, Error> {
        let now = self.clock.now_ms();
        if let Some(hit) = self.isolate.guards.get(id, now) {
            return Ok(hit);
        }
        self.guard(id, GuardOp::Read).await
    }

    /// Applies `op` at the client's guard and refreshes this isolate's copy.
    pub async fn guard(&self, id: &ClientId, op: GuardOp) -> Result<GuardState, Error> {
        let state = self.coordinator.guard(id, op, self.clock.now()).await?;
        self.isolate
            .guards
            .put(id.clone(), state.clone(), self.clock.now_ms());
        Ok(state)
    }

    /// Writes a client and refreshes this isolate's cache, so the change bites here at once.
    /// This is the one write path for client records: it bumps `version`, so a change based
    /// on an older read can be refused (see "Consistency" in docs/CONTRACT.md).
    pub async fn save_client(&self, record: &mut ClientRecord) -> Result<(), Error> {
        record.client.version += 1;
        self.store.put(record).await?;
        let id = record.client.client_id.clone();
        self.cache
            .put(id, Some(Rc::new(record.clone())), self.clock.now_ms());
        Ok(())
    }

    /// Deletes a client and forgets it in this isolate's cache.
    pub async fn delete_client(&self, id: &ClientId) -> Result<(), Error> {
        self.store.delete(id).await?;
        self.cache.put(id.clone(), None, self.clock.now_ms());
        Ok(())
    }
}
