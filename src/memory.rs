//! In-memory implementations of the platform traits, for host tests and benchmarks.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::activity::{usage_key, usage_prefix, used_key, used_prefix, USAGE_TTL_SECS};
use crate::audit::{client_event_key, event_key, prefix, AuditEvent};
use crate::clients::{ClientId, ClientRecord};
use crate::error::Error;
use crate::lockout::{GuardOp, GuardState};
use crate::platform::{
    ActivityStore, AuditLog, AuditPage, ClientPage, ClientStore, Clock, Coordinator, Fetched,
    KeyFetcher, LocalFuture, Random, ResourcePage, ResourceStore,
};
use crate::resources::{identifier_key, resource_key, Resource, ResourceId};

/// A clock that only moves when told.
#[derive(Debug, Default)]
pub struct FixedClock(Cell<u64>);

impl FixedClock {
    /// A clock at `secs` seconds past the epoch.
    pub fn at(secs: u64) -> FixedClock {
        FixedClock(Cell::new(secs * 1000))
    }

    /// Moves the clock forward.
    pub fn advance(&self, secs: u64) {
        self.0.set(self.0.get() + secs * 1000);
    }

    /// Moves the clock forward by milliseconds.
    pub fn advance_ms(&self, ms: u64) {
        self.0.set(self.0.get() + ms);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.0.get()
    }
}

/// Deterministic "random" bytes: SHA-256 of a counter. For tests only.
#[derive(Debug, Default)]
pub struct SeqRandom(Cell<u64>);

impl Random for SeqRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        for chunk in buf.chunks_mut(32) {
            let n = self.0.get();
            self.0.set(n + 1);
            let block = Sha256::digest(n.to_le_bytes());
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

/// A client store over a map of JSON strings, as KV holds them; it can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: RefCell<BTreeMap<String, String>>,
    failing: Cell<bool>,
    reads: Cell<u64>,
    ttls: RefCell<HashMap<String, u64>>,
}

impl MemoryStore {
    /// Makes every later call fail as an outage would.
    pub fn set_failing(&self, failing: bool) {
        self.failing.set(failing);
    }

    /// How many client and resource reads reached the store.
    pub fn reads(&self) -> u64 {
        self.reads.get()
    }

    /// Writes a raw value under a key, as an older version of the code might have.
    pub fn put_raw(&self, key: &str, value: &str) {
        self.map.borrow_mut().insert(key.into(), value.into());
    }

    /// Reads a raw value.
    pub fn get_raw(&self, key: &str) -> Option<String> {
        self.map.borrow().get(key).cloned()
    }

    /// Every key starting with `prefix`, in order.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        self.map
            .borrow()
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The expiration (seconds to live) a key was written with, as KV would hold it.
    pub fn ttl(&self, key: &str) -> Option<u64> {
        self.ttls.borrow().get(key).copied()
    }

    fn put_expiring(&self, key: String, value: String, ttl: u64) {
        self.ttls.borrow_mut().insert(key.clone(), ttl);
        self.map.borrow_mut().insert(key, value);
    }

    /// One page of values under `prefix`, after the key named by `cursor` (a key suffix).
    fn page(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> (Vec<(String, String)>, Option<String>) {
        let map = self.map.borrow();
        let start = format!("{prefix}{}", cursor.unwrap_or(""));
        let mut out: Vec<(String, String)> = Vec::new();
        let mut next = None;
        for (k, v) in map.range(start.clone()..) {
            if !k.starts_with(prefix) {
                break;
            }
            if cursor.is_some() && *k == start {
                continue;
            }
            if out.len() == limit {
                next = out.last().map(|(k, _)| k[prefix.len()..].to_string());
                break;
            }
            out.push((k.clone(), v.clone()));
        }
        (out, next)
    }

    fn check(&self) -> Result<(), Error> {
        if self.failing.get() {
            Err(Error::Unavailable("memory store told to fail".into()))
        } else {
            Ok(())
        }
    }
}

/// The KV key of a client record.
pub fn client_key(id: &ClientId) -> String {
    format!("client:{}", id.as_str())
}

/// Decodes a stored record; a corrupt record is an internal error, not a panic.
pub fn decode_record(key: &str, json: &str) -> Result<ClientRecord, Error> {
    serde_json::from_str(json).map_err(|e| Error::Internal(format!("corrupt record {key}: {e}")))
}

impl ClientStore for MemoryStore {
    async fn get(&self, id: &ClientId) -> Result<Option<ClientRecord>, Error> {
        self.check()?;
        self.reads.set(self.reads.get() + 1);
        let key = client_key(id);
        self.map
            .borrow()
            .get(&key)
            .map(|j| decode_record(&key, j))
            .transpose()
    }

    async fn put(&self, client: &ClientRecord) -> Result<(), Error> {
        self.check()?;
        let json = serde_json::to_string(client).map_err(|e| Error::Internal(e.to_string()))?;
        self.map
            .borrow_mut()
            .insert(client_key(&client.client.client_id), json);
        Ok(())
    }

    async fn delete(&self, id: &ClientId) -> Result<(), Error> {
        self.check()?;
        self.map.borrow_mut().remove(&client_key(id));
        Ok(())
    }

    async fn list(&self, cursor: Option<&str>, limit: usize) -> Result<ClientPage, Error> {
        self.check()?;
        let (values, next_cursor) = self.page("client:", cursor, limit);
        let clients = values
            .iter()
            .map(|(k, v)| decode_record(k, v))
            .collect::<Result<_, _>>()?;
        Ok(ClientPage {
            clients,
            next_cursor,
        })
    }
}

/// Replay records in a map; `claim_jti` is atomic because nothing here is concurrent.
#[derive(Debug, Default)]
pub struct MemoryCoordinator {
    used: RefCell<HashMap<(ClientId, String), u64>>,
    guards: RefCell<HashMap<ClientId, GuardState>>,
    calls: Cell<u64>,
}

impl MemoryCoordinator {
    /// How many jti records are held, for bound checks in tests.
    pub fn held(&self) -> usize {
        self.used.borrow().len()
    }

    /// How many clients have guard state, for bound checks in tests.
    pub fn guarded(&self) -> usize {
        self.guards.borrow().len()
    }

    /// How many guard calls were made, to check the warm path makes none.
    pub fn guard_calls(&self) -> u64 {
        self.calls.get()
    }
}

impl Coordinator for MemoryCoordinator {
    fn claim_jti<'a>(
        &'a self,
        client: &'a ClientId,
        jti: &'a str,
        until: u64,
    ) -> LocalFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let mut used = self.used.borrow_mut();
            let key = (client.clone(), jti.to_string());
            let fresh = !used.contains_key(&key);
            if fresh {
                used.insert(key, until);
            }
            Ok(fresh)
        })
    }

    fn guard<'a>(
        &'a self,
        client: &'a ClientId,
        op: GuardOp,
        now: u64,
    ) -> LocalFuture<'a, Result<GuardState, Error>> {
        self.calls.set(self.calls.get() + 1);
        Box::pin(async move {
            let mut guards = self.guards.borrow_mut();
            let mut state = guards.get(client).cloned().unwrap_or_default();
            state.apply(&op, now);
            if state.is_empty() {
                guards.remove(client);
            } else {
                guards.insert(client.clone(), state.clone());
            }
            Ok(state)
        })
    }
}

/// Decodes a stored JSON value; a corrupt value is an internal error, not a panic.
pub fn decode<T: serde::de::DeserializeOwned>(key: &str, json: &str) -> Result<T, Error> {
    serde_json::from_str(json).map_err(|e| Error::Internal(format!("corrupt value {key}: {e}")))
}

/// Encodes a value for storage.
pub fn encode(value: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))
}

impl ResourceStore for MemoryStore {
    async fn get_resource(&self, id: &ResourceId) -> Result<Option<Resource>, Error> {
        self.check()?;
        self.reads.set(self.reads.get() + 1);
        let key = resource_key(id);
        self.get_raw(&key).map(|j| decode(&key, &j)).transpose()
    }

    async fn resource_id_for(&self, identifier: &str) -> Result<Option<ResourceId>, Error> {
        self.check()?;
        Ok(self
            .get_raw(&identifier_key(identifier))
            .and_then(|id| ResourceId::parse(&id)))
    }

    async fn put_resource(&self, resource: &Resource) -> Result<(), Error> {
        self.check()?;
        self.put_raw(&resource_key(&resource.resource_id), &encode(resource)?);
        self.put_raw(
            &identifier_key(&resource.identifier),
            resource.resource_id.as_str(),
        );
        Ok(())
    }

    async fn delete_resource(&self, resource: &Resource) -> Result<(), Error> {
        self.check()?;
        let mut map = self.map.borrow_mut();
        map.remove(&resource_key(&resource.resource_id));
        map.remove(&identifier_key(&resource.identifier));
        Ok(())
    }

    async fn list_resources(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ResourcePage, Error> {
        self.check()?;
        let (values, next_cursor) = self.page("resource:", cursor, limit);
        let resources = values
            .iter()
            .map(|(k, v)| decode(k, v))
            .collect::<Result<_, _>>()?;
        Ok(ResourcePage {
            resources,
            next_cursor,
        })
    }
}

/// JWKS documents by URL, set by tests; counts fetches.
#[derive(Debug, Default)]
pub struct MemoryFetcher {
    documents: RefCell<HashMap<String, Result<Fetched, String>>>,
    fetches: Cell<u64>,
}

impl MemoryFetcher {
    /// Serves `body` at `url` with an optional `Cache-Control`.
    pub fn serve(&self, url: &str, body: &str, cache_control: Option<&str>) {
        let doc = Fetched {
            body: body.as_bytes().to_vec(),
            cache_control: cache_control.map(String::from),
        };
        self.documents.borrow_mut().insert(url.into(), Ok(doc));
    }

    /// Makes `url` fail with `reason`.
    pub fn fail(&self, url: &str, reason: &str) {
        self.documents
            .borrow_mut()
            .insert(url.into(), Err(reason.into()));
    }

    /// How many fetches were made.
    pub fn fetches(&self) -> u64 {
        self.fetches.get()
    }
}

impl KeyFetcher for MemoryFetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> LocalFuture<'a, Result<Fetched, String>> {
        self.fetches.set(self.fetches.get() + 1);
        let doc = self.documents.borrow().get(url).cloned();
        Box::pin(async move { doc.unwrap_or_else(|| Err("HTTP 404".into())) })
    }
}

impl AuditLog for MemoryStore {
    async fn append(&self, event: &AuditEvent, ttl_secs: u64) -> Result<(), Error> {
        self.check()?;
        let json = encode(event)?;
        if let Some(client) = &event.client_id {
            self.put_expiring(client_event_key(client, event), json.clone(), ttl_secs);
        }
        self.put_expiring(event_key(event), json, ttl_secs);
        Ok(())
    }

    async fn events(
        &self,
        client: Option<&ClientId>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<AuditPage, Error> {
        self.check()?;
        let (values, next_cursor) = self.page(&prefix(client), cursor, limit);
        let events = values
            .iter()
            .map(|(k, v)| decode(k, v))
            .collect::<Result<_, _>>()?;
        Ok(AuditPage {
            events,
            next_cursor,
        })
    }
}

impl ActivityStore for MemoryStore {
    async fn put_usage(
        &self,
        client: &ClientId,
        date: &str,
        isolate: &str,
        tokens: u64,
    ) -> Result<(), Error> {
        self.check()?;
        let key = usage_key(client, date, isolate);
        self.put_expiring(key, tokens.to_string(), USAGE_TTL_SECS);
        Ok(())
    }

    async fn usage(&self, client: &ClientId) -> Result<Vec<(String, u64)>, Error> {
        self.check()?;
        let prefix = usage_prefix(client);
        Ok(self
            .keys(&prefix)
            .into_iter()
            .filter_map(|k| {
                let date = k[prefix.len()..].split(':').next()?.to_string();
                let n = self.get_raw(&k)?.parse().ok()?;
                Some((date, n))
            })
            .collect())
    }

    async fn put_last_used(
        &self,
        client: &ClientId,
        secret_id: &str,
        at: u64,
    ) -> Result<(), Error> {
        self.check()?;
        self.put_raw(&used_key(client, secret_id), &at.to_string());
        Ok(())
    }

    async fn last_used(&self, client: &ClientId) -> Result<Vec<(String, u64)>, Error> {
        self.check()?;
        let prefix = used_prefix(client);
        Ok(self
            .keys(&prefix)
            .into_iter()
            .filter_map(|k| {
                Some((
                    k[prefix.len()..].to_string(),
                    self.get_raw(&k)?.parse().ok()?,
                ))
            })
            .collect())
    }

    async fn forget_last_used(
        &self,
        client: &ClientId,
        secret_id: Option<&str>,
    ) -> Result<(), Error> {
        self.check()?;
        let prefix = used_key(client, secret_id.unwrap_or(""));
        for k in self.keys(&prefix) {
            if secret_id.is_none() || k.len() == prefix.len() {
                self.map.borrow_mut().remove(&k);
            }
        }
        Ok(())
    }
}
