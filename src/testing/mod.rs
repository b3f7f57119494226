//! In-memory implementations of the ports, a fixed clock and a deterministic random source,
//! for host tests. Compiled only for tests (`cfg(test)` or the `testing` feature, which the
//! host tests enable through a dev-dependency on this crate), so the release wasm ships none
//! of it.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::ports::{
    ActivityStore, AuditLog, Clients, Fetched, Guards, KeyFetcher, KeyStore, Page, PortResult,
    Resources,
};
use crate::registry::audit::AuditEvent;
use crate::registry::clients::{ClientId, ClientRecord};
use crate::registry::guard::{GuardOp, GuardState};
use crate::registry::keyspace::{self, decode, encode};
use crate::registry::resources::{Resource, ResourceId};
use crate::registry::signing_keys::KeySchedule;
use crate::support::random::Random;
use crate::support::time::Clock;
use crate::support::LocalFuture;

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

    /// Seconds since the epoch.
    pub fn now(&self) -> u64 {
        self.0.get() / 1000
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

/// Outages on demand: every call, or one chosen call. Each port call asks once, before it
/// touches anything, so a failed call changes nothing (as a refused KV or Durable Object call).
#[derive(Debug, Default)]
pub struct Faults {
    failing: Cell<bool>,
    calls: Cell<u64>,
    fail_at: Cell<Option<u64>>,
}

impl Faults {
    /// Makes every later call fail (or none again).
    pub fn set_failing(&self, failing: bool) {
        self.failing.set(failing);
    }

    /// Makes the `n`th call from now fail (1: the next one), once; 0 fails none.
    pub fn fail_nth_call(&self, n: u64) {
        self.fail_at.set((n > 0).then(|| self.calls.get() + n));
    }

    /// How many calls were made, failed ones included.
    pub fn calls(&self) -> u64 {
        self.calls.get()
    }

    /// Counts one port call; fails it if every call fails or it is the chosen one.
    fn check(&self, what: &str) -> Result<(), Error> {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        if self.failing.get() || self.fail_at.get() == Some(n) {
            Err(Error::Unavailable(format!("{what} told to fail")))
        } else {
            Ok(())
        }
    }
}

/// A client store over a map of JSON strings, as KV holds them; it can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: RefCell<BTreeMap<String, String>>,
    /// Outages on demand.
    pub faults: Faults,
    reads: Cell<u64>,
    ttls: RefCell<HashMap<String, u64>>,
}

impl MemoryStore {
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
        self.faults.check("memory store")
    }
}

impl MemoryStore {
    /// One page of decoded values under `prefix`.
    fn decoded<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<T>, Error> {
        self.check()?;
        let (values, next_cursor) = self.page(prefix, cursor, limit);
        let items = values
            .iter()
            .map(|(k, v)| decode(k, v))
            .collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }

    /// A value read by key, counted as a read that reached the store.
    fn read<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.check()?;
        self.reads.set(self.reads.get() + 1);
        self.get_raw(key).map(|j| decode(key, &j)).transpose()
    }

    /// Values of every key under `prefix`, as (key suffix, number).
    fn numbers(&self, prefix: &str) -> Result<Vec<(String, u64)>, Error> {
        self.check()?;
        Ok(self
            .keys(prefix)
            .into_iter()
            .filter_map(|k| {
                Some((
                    k[prefix.len()..].to_string(),
                    self.get_raw(&k)?.parse().ok()?,
                ))
            })
            .collect())
    }
}

/// Answers at once: nothing in memory waits.
fn ready<'a, T: 'a>(value: Result<T, Error>) -> PortResult<'a, T> {
    Box::pin(std::future::ready(value))
}

impl Clients for MemoryStore {
    fn get<'a>(&'a self, id: &'a ClientId) -> PortResult<'a, Option<ClientRecord>> {
        ready(self.read(&keyspace::client_key(id)))
    }

    fn put<'a>(&'a self, record: &'a ClientRecord) -> PortResult<'a, ()> {
        ready(self.check().and_then(|_| {
            let key = keyspace::client_key(&record.client.client_id);
            self.put_raw(&key, &encode(record)?);
            Ok(())
        }))
    }

    fn delete<'a>(&'a self, id: &'a ClientId) -> PortResult<'a, ()> {
        ready(self.check().map(|_| {
            self.map.borrow_mut().remove(&keyspace::client_key(id));
        }))
    }

    fn list<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> PortResult<'a, Page<ClientRecord>> {
        ready(self.decoded(keyspace::CLIENT_PREFIX, cursor, limit))
    }
}

impl KeyStore for MemoryStore {
    fn schedule(&self) -> PortResult<'_, Option<KeySchedule>> {
        let key = keyspace::SIGNING_KEYS;
        ready(
            self.check()
                .and_then(|_| self.get_raw(key).map(|j| decode(key, &j)).transpose()),
        )
    }

    fn put_schedule<'a>(&'a self, schedule: &'a KeySchedule) -> PortResult<'a, ()> {
        ready(self.check().and_then(|_| {
            self.put_raw(keyspace::SIGNING_KEYS, &encode(schedule)?);
            Ok(())
        }))
    }
}

impl Resources for MemoryStore {
    fn get<'a>(&'a self, id: &'a ResourceId) -> PortResult<'a, Option<Resource>> {
        ready(self.read(&keyspace::resource_key(id)))
    }

    fn id_for<'a>(&'a self, identifier: &'a str) -> PortResult<'a, Option<ResourceId>> {
        ready(self.check().map(|_| {
            self.get_raw(&keyspace::identifier_key(identifier))
                .and_then(|id| ResourceId::parse(&id))
        }))
    }

    fn put<'a>(&'a self, resource: &'a Resource) -> PortResult<'a, ()> {
        ready(self.check().and_then(|_| {
            let id = &resource.resource_id;
            self.put_raw(&keyspace::resource_key(id), &encode(resource)?);
            self.put_raw(&keyspace::identifier_key(&resource.identifier), id.as_str());
            Ok(())
        }))
    }

    fn delete<'a>(&'a self, resource: &'a Resource) -> PortResult<'a, ()> {
        ready(self.check().map(|_| {
            let mut map = self.map.borrow_mut();
            map.remove(&keyspace::resource_key(&resource.resource_id));
            map.remove(&keyspace::identifier_key(&resource.identifier));
        }))
    }

    fn list<'a>(&'a self, cursor: Option<&'a str>, limit: usize) -> PortResult<'a, Page<Resource>> {
        ready(self.decoded(keyspace::RESOURCE_PREFIX, cursor, limit))
    }
}

impl AuditLog for MemoryStore {
    fn append<'a>(&'a self, event: &'a AuditEvent, ttl_secs: u64) -> PortResult<'a, ()> {
        ready(self.check().and_then(|_| {
            let json = encode(event)?;
            for key in keyspace::event_keys(event) {
                self.put_expiring(key, json.clone(), ttl_secs);
            }
            Ok(())
        }))
    }

    fn events<'a>(
        &'a self,
        client: Option<&'a ClientId>,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> PortResult<'a, Page<AuditEvent>> {
        ready(self.decoded(&keyspace::audit_prefix(client), cursor, limit))
    }
}

impl ActivityStore for MemoryStore {
    fn put_usage<'a>(
        &'a self,
        client: &'a ClientId,
        date: &'a str,
        isolate: &'a str,
        tokens: u64,
    ) -> PortResult<'a, ()> {
        ready(self.check().map(|_| {
            let key = keyspace::usage_key(client, date, isolate);
            self.put_expiring(key, tokens.to_string(), keyspace::USAGE_TTL_SECS);
        }))
    }

    fn usage<'a>(&'a self, client: &'a ClientId) -> PortResult<'a, Vec<(String, u64)>> {
        let prefix = keyspace::usage_prefix(client);
        ready(self.numbers(&prefix).map(|entries| {
            entries
                .into_iter()
                .filter_map(|(rest, n)| Some((keyspace::usage_date(&rest)?.to_string(), n)))
                .collect()
        }))
    }

    fn put_last_used<'a>(
        &'a self,
        client: &'a ClientId,
        secret_id: &'a str,
        at: u64,
    ) -> PortResult<'a, ()> {
        ready(self.check().map(|_| {
            self.put_raw(&keyspace::used_key(client, secret_id), &at.to_string());
        }))
    }

    fn last_used<'a>(&'a self, client: &'a ClientId) -> PortResult<'a, Vec<(String, u64)>> {
        ready(self.numbers(&keyspace::used_prefix(client)))
    }

    fn forget_last_used<'a>(
        &'a self,
        client: &'a ClientId,
        secret_id: Option<&'a str>,
    ) -> PortResult<'a, ()> {
        ready(self.check().map(|_| {
            let prefix = keyspace::used_key(client, secret_id.unwrap_or(""));
            for k in self.keys(&prefix) {
                if secret_id.is_none() || k.len() == prefix.len() {
                    self.map.borrow_mut().remove(&k);
                }
            }
        }))
    }
}

/// Guards and replay records in maps; every operation is atomic because nothing here is
/// concurrent.
#[derive(Debug, Default)]
pub struct MemoryGuards {
    used: RefCell<HashMap<(ClientId, String), u64>>,
    guards: RefCell<HashMap<ClientId, GuardState>>,
    calls: Cell<u64>,
    /// Outages on demand.
    pub faults: Faults,
}

impl MemoryGuards {
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

impl Guards for MemoryGuards {
    fn claim_jti<'a>(
        &'a self,
        client: &'a ClientId,
        jti: &'a str,
        until: u64,
    ) -> PortResult<'a, bool> {
        if let Err(e) = self.faults.check("memory guards") {
            return ready(Err(e));
        }
        let mut used = self.used.borrow_mut();
        let key = (client.clone(), jti.to_string());
        let fresh = !used.contains_key(&key);
        if fresh {
            used.insert(key, until);
        }
        ready(Ok(fresh))
    }

    fn apply<'a>(
        &'a self,
        client: &'a ClientId,
        op: GuardOp,
        now: u64,
    ) -> PortResult<'a, GuardState> {
        self.calls.set(self.calls.get() + 1);
        if let Err(e) = self.faults.check("memory guards") {
            return ready(Err(e));
        }
        let mut guards = self.guards.borrow_mut();
        let mut state = guards.get(client).cloned().unwrap_or_default();
        state.apply(&op, now);
        if state.is_empty() {
            guards.remove(client);
        } else {
            guards.insert(client.clone(), state.clone());
        }
        ready(Ok(state))
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

/// Runs a future that never waits (the in-memory ports answer at once) to its answer.
pub fn run_ready<T>(f: impl std::future::Future<Output = T>) -> T {
    let mut f = std::pin::pin!(f);
    match f
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the in-memory platform never pends"),
    }
}
