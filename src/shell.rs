//! The Workers shell: translates between `worker` types and the core's, and implements the
//! platform traits over KV and the JS clock. No protocol logic lives here.

use std::cell::RefCell;
use std::rc::Rc;

use worker::{event, Context, Env, Headers, KvStore};

use crate::cache::ClientCache;
use crate::clients::{ClientId, ClientRecord};
use crate::config::{Config, SETTINGS};
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::memory::{client_key, decode_record};
use crate::platform::{ClientPage, ClientStore, Clock, SystemRandom};
use crate::{admin, router, App};

const CLIENT_PREFIX: &str = "client:";

/// The raw settings last seen, and the configuration parsed from them.
type Loaded = (Vec<Option<String>>, Rc<Config>);

thread_local! {
    // Both live as long as the isolate: parsing config derives a key pair, so do it once.
    static CONFIG: RefCell<Option<Loaded>> = const { RefCell::new(None) };
    static CACHE: Rc<ClientCache> = Rc::new(ClientCache::default());
}

#[event(fetch)]
async fn fetch(req: worker::Request, env: Env, _ctx: Context) -> worker::Result<worker::Response> {
    let response = match translate(req).await {
        Err(e) => e.into_response(),
        Ok(request) => match (config(&env), env.kv("CLIENTS")) {
            (Err(detail), _) => Error::Internal(format!("configuration: {detail}")).into_response(),
            (_, Err(e)) => Error::Internal(format!("KV binding CLIENTS: {e}")).into_response(),
            (Ok(config), Ok(kv)) => {
                let cache = CACHE.with(Rc::clone);
                let app = App {
                    config: &config,
                    store: &KvClients(kv),
                    clock: &JsClock,
                    rng: &SystemRandom,
                    cache: &cache,
                };
                router::handle(&app, &request).await
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

/// Clients in Workers KV, one key per client (`client:{client_id}`).
struct KvClients(KvStore);

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("KV: {e}"))
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
