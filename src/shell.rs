//! The Workers shell: translates between `worker` types and the core's, and implements the
//! platform traits over KV and the JS clock. No protocol logic lives here.

use std::cell::RefCell;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use worker::{event, Context, Env, Headers, KvStore};

use crate::activity::{self, USAGE_TTL_SECS};
use crate::app::Isolate;
use crate::audit::{client_event_key, event_key, prefix, AuditEvent};
use crate::cache::ClientCache;
use crate::clients::{ClientId, ClientRecord};
use crate::config::{Config, SETTINGS};
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::memory::{client_key, decode, decode_record, encode};
use crate::platform::{
    ActivityStore, AuditLog, AuditPage, ClientPage, ClientStore, Clock, ResourcePage,
    ResourceStore, SystemRandom,
};
use crate::resources::{identifier_key, resource_key, Resource, ResourceId};
use crate::{admin, router, App};

const CLIENT_PREFIX: &str = "client:";
const RESOURCE_PREFIX: &str = "resource:";

/// The raw settings last seen, and the configuration parsed from them.
type Loaded = (Vec<Option<String>>, Rc<Config>);

thread_local! {
    // Both live as long as the isolate: parsing config derives a key pair, so do it once.
    static CONFIG: RefCell<Option<Loaded>> = const { RefCell::new(None) };
    static CACHE: Rc<ClientCache> = Rc::new(ClientCache::default());
    static ISOLATE: Rc<Isolate> = Rc::new(Isolate::default());
}

#[event(fetch)]
async fn fetch(req: worker::Request, env: Env, ctx: Context) -> worker::Result<worker::Response> {
    let response = match translate(req).await {
        Err(e) => e.into_response(),
        Ok(request) => match (config(&env), env.kv("CLIENTS")) {
            (Err(detail), _) => Error::Internal(format!("configuration: {detail}")).into_response(),
            (_, Err(e)) => Error::Internal(format!("KV binding CLIENTS: {e}")).into_response(),
            (Ok(config), Ok(kv)) => {
                let cache = CACHE.with(Rc::clone);
                let isolate = ISOLATE.with(Rc::clone);
                let store = KvClients(kv);
                let app = App {
                    config: &config,
                    store: &store,
                    clock: &JsClock,
                    rng: &SystemRandom,
                    cache: &cache,
                    isolate: &isolate,
                };
                let response = router::handle(&app, &request).await;
                // Usage counts and last uses go out after the response, off the hot path.
                let writes = app.due_activity();
                if !writes.is_empty() {
                    let store = KvClients(store.0.clone());
                    ctx.wait_until(async move {
                        for e in activity::write(&store, writes).await {
                            worker::console_error!("activity write failed: {e:?}");
                        }
                    });
                }
                response
            }
        },
    };
    if let Some(line) = &response.log {
        worker::console_error!("{line}");
    }
    into_worker(response)
}

fn config(env: &Env) -> Result<Rc<Config>, String> {
    let values: Vec<Option<String>> = SETTINGS
        .iter()
        .map(|name| env.var(name).ok().map(|v| v.to_string()))
        .collect();
    CONFIG.with(|cell| {
        if let Some((seen, config)) = cell.borrow().as_ref() {
            if *seen == values {
                return Ok(Rc::clone(config));
            }
        }
        let lookup = |name: &str| {
            SETTINGS
                .iter()
                .position(|n| *n == name)
                .and_then(|i| values[i].clone())
        };
        let config = Rc::new(Config::from_lookup(lookup)?);
        *cell.borrow_mut() = Some((values.clone(), Rc::clone(&config)));
        Ok(config)
    })
}

async fn translate(mut req: worker::Request) -> Result<Request, Error> {
    let url = req
        .url()
        .map_err(|_| Error::invalid_request("unparseable request URL"))?;
    let method = Method::parse(req.method().as_ref());
    let headers: Vec<(String, String)> = req.headers().entries().collect();
    let mut request = Request {
        method,
        origin: url.origin().ascii_serialization(),
        path: url.path().to_string(),
        query: url.query().unwrap_or("").to_string(),
        headers,
        body: Vec::new(),
    };
    if matches!(method, Method::Post | Method::Patch | Method::Put) {
        // Refuse a declared oversized body before reading it; the core checks the real size.
        let declared = request
            .header("content-length")
            .and_then(|l| l.parse::<usize>().ok());
        if declared.is_some_and(|l| l > admin::MAX_ADMIN_BODY) {
            return Err(Error::invalid_request(format!(
                "the request body is larger than {} bytes",
                admin::MAX_ADMIN_BODY
            )));
        }
        request.body = req
            .bytes()
            .await
            .map_err(|_| Error::invalid_request("the request body could not be read"))?;
    }
    Ok(request)
}

fn into_worker(response: Response) -> worker::Result<worker::Response> {
    let headers = Headers::new();
    for (name, value) in &response.headers {
        headers.set(name, value)?;
    }
    let out = if response.body.is_empty() {
        worker::Response::empty()?
    } else {
        worker::Response::from_bytes(response.body)?
    };
    Ok(out.with_status(response.status).with_headers(headers))
}

struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> u64 {
        worker::Date::now().as_millis()
    }
}

/// The registry in Workers KV: clients (`client:{client_id}`), resources, the audit trail
/// and activity counters; key layouts are documented in the core modules that define them.
struct KvClients(KvStore);

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("KV: {e}"))
}

/// A listed key's numeric metadata field, as written by this shell.
fn metadata_u64(key: &worker::kv::Key, field: &str) -> Option<u64> {
    key.metadata.as_ref()?.get(field)?.as_u64()
}

impl KvClients {
    async fn put_text(&self, key: &str, value: String, ttl: Option<u64>) -> Result<(), Error> {
        let mut put = self.0.put(key, value).map_err(unavailable)?;
        if let Some(ttl) = ttl {
            put = put.expiration_ttl(ttl);
        }
        put.execute().await.map_err(unavailable)
    }

    async fn put_counted(
        &self,
        key: &str,
        field: &str,
        n: u64,
        ttl: Option<u64>,
    ) -> Result<(), Error> {
        // The number goes in the metadata too, so one list call reads them all.
        let mut put = self
            .0
            .put(key, n.to_string())
            .map_err(unavailable)?
            .metadata(serde_json::json!({ field: n }))
            .map_err(unavailable)?;
        if let Some(ttl) = ttl {
            put = put.expiration_ttl(ttl);
        }
        put.execute().await.map_err(unavailable)
    }

    /// One page of keys under `prefix` with their JSON values decoded.
    async fn page<T: DeserializeOwned>(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<T>, Option<String>), Error> {
        let mut list = self.0.list().prefix(prefix.into()).limit(limit as u64);
        if let Some(c) = cursor {
            list = list.cursor(c.into());
        }
        let listed = list.execute().await.map_err(unavailable)?;
        let names: Vec<&str> = listed.keys.iter().map(|k| k.name.as_str()).collect();
        let mut values = if names.is_empty() {
            Default::default()
        } else {
            self.0.get_bulk(&names).text().await.map_err(unavailable)?
        };
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            // A key deleted (or expired) between list and read is skipped, not an error.
            if let Some(Some(json)) = values.remove(name) {
                out.push(decode(name, &json)?);
            }
        }
        Ok((
            out,
            (!listed.list_complete).then_some(listed.cursor).flatten(),
        ))
    }

    /// Every key under `prefix`, across list pages.
    async fn all_keys(&self, prefix: &str) -> Result<Vec<worker::kv::Key>, Error> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut list = self.0.list().prefix(prefix.into());
            if let Some(c) = cursor.take() {
                list = list.cursor(c);
            }
            let listed = list.execute().await.map_err(unavailable)?;
            keys.extend(listed.keys);
            match listed.cursor.filter(|_| !listed.list_complete) {
                Some(c) => cursor = Some(c),
                None => return Ok(keys),
            }
        }
    }
}

impl ResourceStore for KvClients {
    async fn get_resource(&self, id: &ResourceId) -> Result<Option<Resource>, Error> {
        let key = resource_key(id);
        let text = self.0.get(&key).text().await.map_err(unavailable)?;
        text.map(|t| decode(&key, &t)).transpose()
    }

    async fn resource_id_for(&self, identifier: &str) -> Result<Option<ResourceId>, Error> {
        let key = identifier_key(identifier);
        let text = self.0.get(&key).text().await.map_err(unavailable)?;
        Ok(text.and_then(|t| ResourceId::parse(&t)))
    }

    async fn put_resource(&self, resource: &Resource) -> Result<(), Error> {
        let id = &resource.resource_id;
        self.put_text(&resource_key(id), encode(resource)?, None)
            .await?;
        self.put_text(
            &identifier_key(&resource.identifier),
            id.as_str().into(),
            None,
        )
        .await
    }

    async fn delete_resource(&self, resource: &Resource) -> Result<(), Error> {
        self.0
            .delete(&resource_key(&resource.resource_id))
            .await
            .map_err(unavailable)?;
        self.0
            .delete(&identifier_key(&resource.identifier))
            .await
            .map_err(unavailable)
    }

    async fn list_resources(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ResourcePage, Error> {
        let (resources, next_cursor) = self.page(RESOURCE_PREFIX, cursor, limit).await?;
        Ok(ResourcePage {
            resources,
            next_cursor,
        })
    }
}

impl AuditLog for KvClients {
    async fn append(&self, event: &AuditEvent, ttl_secs: u64) -> Result<(), Error> {
        let json = encode(event)?;
        if let Some(client) = &event.client_id {
            self.put_text(
                &client_event_key(client, event),
                json.clone(),
                Some(ttl_secs),
            )
            .await?;
        }
        self.put_text(&event_key(event), json, Some(ttl_secs)).await
    }

    async fn events(
        &self,
        client: Option<&ClientId>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<AuditPage, Error> {
        let (events, next_cursor) = self.page(&prefix(client), cursor, limit).await?;
        Ok(AuditPage {
            events,
            next_cursor,
        })
    }
}

impl ActivityStore for KvClients {
    async fn put_usage(
        &self,
        client: &ClientId,
        date: &str,
        isolate: &str,
        tokens: u64,
    ) -> Result<(), Error> {
        let key = format!("usage:{}:{date}:{isolate}", client.as_str());
        self.put_counted(&key, "n", tokens, Some(USAGE_TTL_SECS))
            .await
    }

    async fn usage(&self, client: &ClientId) -> Result<Vec<(String, u64)>, Error> {
        let prefix = format!("usage:{}:", client.as_str());
        let keys = self.all_keys(&prefix).await?;
        Ok(keys
            .iter()
            .filter_map(|k| {
                let date = k.name.get(prefix.len()..)?.split(':').next()?;
                Some((date.to_string(), metadata_u64(k, "n")?))
            })
            .collect())
    }

    async fn put_last_used(
        &self,
        client: &ClientId,
        secret_id: &str,
        at: u64,
    ) -> Result<(), Error> {
        let key = format!("used:{}:{secret_id}", client.as_str());
        self.put_counted(&key, "at", at, None).await
    }

    async fn last_used(&self, client: &ClientId) -> Result<Vec<(String, u64)>, Error> {
        let prefix = format!("used:{}:", client.as_str());
        let keys = self.all_keys(&prefix).await?;
        Ok(keys
            .iter()
            .filter_map(|k| {
                let secret = k.name.get(prefix.len()..)?;
                Some((secret.to_string(), metadata_u64(k, "at")?))
            })
            .collect())
    }

    async fn forget_last_used(
        &self,
        client: &ClientId,
        secret_id: Option<&str>,
    ) -> Result<(), Error> {
        let prefix = format!("used:{}:", client.as_str());
        let names: Vec<String> = match secret_id {
            Some(s) => vec![format!("{prefix}{s}")],
            None => self
                .all_keys(&prefix)
                .await?
                .into_iter()
                .map(|k| k.name)
                .collect(),
        };
        for name in names {
            self.0.delete(&name).await.map_err(unavailable)?;
        }
        Ok(())
    }
}

impl ClientStore for KvClients {
    async fn get(&self, id: &ClientId) -> Result<Option<ClientRecord>, Error> {
        let key = client_key(id);
        let text = self.0.get(&key).text().await.map_err(unavailable)?;
        text.map(|t| decode_record(&key, &t)).transpose()
    }

    async fn put(&self, client: &ClientRecord) -> Result<(), Error> {
        let json = serde_json::to_string(client).map_err(|e| Error::Internal(e.to_string()))?;
        let key = client_key(&client.client.client_id);
        self.0
            .put(&key, json)
            .map_err(unavailable)?
            .execute()
            .await
            .map_err(unavailable)
    }

    async fn delete(&self, id: &ClientId) -> Result<(), Error> {
        self.0.delete(&client_key(id)).await.map_err(unavailable)
    }

    async fn list(&self, cursor: Option<&str>, limit: usize) -> Result<ClientPage, Error> {
        let mut list = self
            .0
            .list()
            .prefix(CLIENT_PREFIX.into())
            .limit(limit as u64);
        if let Some(c) = cursor {
            list = list.cursor(c.into());
        }
        let listed = list.execute().await.map_err(unavailable)?;
        let names: Vec<&str> = listed.keys.iter().map(|k| k.name.as_str()).collect();
        let mut values = if names.is_empty() {
            Default::default()
        } else {
            self.0.get_bulk(&names).text().await.map_err(unavailable)?
        };
        let mut clients = Vec::with_capacity(names.len());
        for name in names {
            // A key deleted between list and read is skipped, not an error.
            if let Some(Some(json)) = values.remove(name) {
                clients.push(decode_record(name, &json)?);
            }
        }
        Ok(ClientPage {
            clients,
            next_cursor: (!listed.list_complete).then_some(listed.cursor).flatten(),
        })
    }
}
