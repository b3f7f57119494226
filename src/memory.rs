//! In-memory implementations of the platform traits, for host tests and benchmarks.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::clients::{ClientId, ClientRecord};
use crate::error::Error;
use crate::platform::{
    ClientPage, ClientStore, Clock, Coordinator, Fetched, KeyFetcher, LocalFuture, Random,
};

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
}

impl MemoryStore {
    /// Makes every later call fail as an outage would.
    pub fn set_failing(&self, failing: bool) {
        self.failing.set(failing);
    }

    /// How many `get` calls reached the store.
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
        let map = self.map.borrow();
        let start = cursor.unwrap_or("");
        let mut page = ClientPage::default();
        for (k, v) in map.range(format!("client:{start}")..) {
            if !k.starts_with("client:") {
                break;
            }
            if cursor.is_some() && k == &format!("client:{start}") {
                continue;
            }
            if page.clients.len() == limit {
                page.next_cursor = page
                    .clients
                    .last()
                    .map(|c| c.client.client_id.as_str().to_string());
                break;
            }
            page.clients.push(decode_record(k, v)?);
        }
        Ok(page)
    }
}

/// Replay records in a map; `claim_jti` is atomic because nothing here is concurrent.
#[derive(Debug, Default)]
pub struct MemoryCoordinator {
    used: RefCell<HashMap<(ClientId, String), u64>>,
}

impl MemoryCoordinator {
    /// How many jti records are held, for bound checks in tests.
    pub fn held(&self) -> usize {
        self.used.borrow().len()
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
