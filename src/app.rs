//! The application context handed to every endpoint: configuration and the platform traits.

use std::rc::Rc;

use crate::cache::ClientCache;
use crate::clients::{ClientId, ClientRecord};
use crate::config::Config;
use crate::error::Error;
use crate::platform::{ClientStore, Clock, Coordinator, KeyFetcher, Random, SignatureVerifier};
use crate::remote_keys::RemoteKeys;

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

    /// Writes a client and refreshes this isolate's cache, so the change bites here at once.
    pub async fn save_client(&self, record: &ClientRecord) -> Result<(), Error> {
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
