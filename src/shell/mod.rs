//! The Workers shell: translates between `worker` types and the core's, and implements the
//! platform traits over KV and the JS clock. No protocol logic lives here.

use std::cell::RefCell;
use std::rc::Rc;

use worker::{event, Context, Env, Headers};

use crate::activity;
use crate::app::Isolate;
use crate::cache::ClientCache;
use crate::config::{Config, SETTINGS};
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::platform::{Clock, SystemRandom};
use crate::remote_keys::RemoteKeys;
use crate::{admin, router, App};

mod fetcher;
mod guard;
mod kv;
mod webcrypto;

use kv::KvClients;

/// The raw settings last seen, and the configuration parsed from them.
type Loaded = (Vec<Option<String>>, Rc<Config>);

thread_local! {
    // Both live as long as the isolate: parsing config derives a key pair, so do it once.
    static CONFIG: RefCell<Option<Loaded>> = const { RefCell::new(None) };
    static CACHE: Rc<ClientCache> = Rc::new(ClientCache::default());
    static REMOTE_KEYS: Rc<RemoteKeys> = Rc::new(RemoteKeys::default());
    static ISOLATE: Rc<Isolate> = Rc::new(Isolate::default());
}

#[event(fetch)]
async fn fetch(req: worker::Request, env: Env, ctx: Context) -> worker::Result<worker::Response> {
    let response = match translate(req).await {
        Err(e) => e.into_response(),
        Ok(request) => match (
            config(&env),
            env.kv("CLIENTS"),
            env.durable_object("CLIENT_GUARD"),
        ) {
            (Err(detail), _, _) => {
                Error::Internal(format!("configuration: {detail}")).into_response()
            }
            (_, Err(e), _) => Error::Internal(format!("KV binding CLIENTS: {e}")).into_response(),
            (_, _, Err(e)) => {
                Error::Internal(format!("DO binding CLIENT_GUARD: {e}")).into_response()
            }
            (Ok(config), Ok(kv), Ok(namespace)) => {
                let cache = CACHE.with(Rc::clone);
                let remote_keys = REMOTE_KEYS.with(Rc::clone);
                let coordinator = guard::GuardCoordinator { namespace };
                let isolate = ISOLATE.with(Rc::clone);
                let store = KvClients(kv);
                let app = App {
                    config: &config,
                    store: &store,
                    clock: &JsClock,
                    rng: &SystemRandom,
                    cache: &cache,
                    isolate: &isolate,
                    coordinator: &coordinator,
                    verifier: &webcrypto::WebCrypto,
                    fetcher: &fetcher::HttpFetcher,
                    remote_keys: &remote_keys,
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
    // The runtime hands over a serialized WHATWG URL: split it rather than link a URL parser
    // (the `url` crate and its IDNA tables cost about 60 KB of wasm).
    let method = Method::parse(req.method().as_ref());
    let mut request = Request::new(method, &req.inner().url());
    request.headers = req.headers().entries().collect();
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
