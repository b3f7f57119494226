//! The Workers shell: translates between `worker` types and the core's, and implements the
//! ports over KV, the Durable Object, WebCrypto and `fetch`. No protocol logic lives here.

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::StreamExt;
use worker::{event, Context, Env, Headers, ScheduleContext, ScheduledEvent};

use crate::config::{Config, SETTINGS};
use crate::context::{activity, Ctx, IsolateState, Ports};
use crate::error::Error;
use crate::http::{respond, Method, Request, Response};
use crate::support::random::SystemRandom;
use crate::support::time::Clock;
use crate::{admin, router};

mod fetcher;
mod guard;
mod kv;
mod webcrypto;

/// The `env` object and raw settings last seen, and the configuration parsed from them.
type Loaded = (wasm_bindgen::JsValue, Vec<Option<String>>, Rc<Config>);

thread_local! {
    // Both live as long as the isolate: parsing config derives a key pair, so do it once.
    static CONFIG: RefCell<Option<Loaded>> = const { RefCell::new(None) };
    static ISOLATE: Rc<IsolateState> = Rc::new(IsolateState::default());
}

#[event(fetch)]
async fn fetch(req: worker::Request, env: Env, ctx: Context) -> worker::Result<worker::Response> {
    let response = match translate(req).await {
        Err(e) => respond::error(e),
        Ok(request) => serve(&request, &env, &ctx)
            .await
            .unwrap_or_else(respond::error),
    };
    if let Some(line) = &response.log {
        worker::console_error!("{line}");
    }
    into_worker(response)
}

/// What a request or a scheduled run needs from the environment: the configuration and the
/// storage bindings behind the ports.
struct Bindings {
    config: Rc<Config>,
    store: kv::KvRegistry,
    guards: guard::DurableGuards,
}

impl Bindings {
    fn from_env(env: &Env) -> Result<Bindings, Error> {
        let config = config(env).map_err(|d| Error::Internal(format!("configuration: {d}")))?;
        let kv = env
            .kv("CLIENTS")
            .map_err(|e| Error::Internal(format!("KV binding CLIENTS: {e}")))?;
        let namespace = env
            .durable_object("CLIENT_GUARD")
            .map_err(|e| Error::Internal(format!("DO binding CLIENT_GUARD: {e}")))?;
        Ok(Bindings {
            config,
            store: kv::KvRegistry(kv),
            guards: guard::DurableGuards { namespace },
        })
    }

    fn ports(&self) -> Ports<'_> {
        Ports {
            clients: &self.store,
            resources: &self.store,
            audit: &self.store,
            activity: &self.store,
            guards: &self.guards,
            keys: &self.store,
            fetcher: &fetcher::HttpFetcher,
            verifier: &webcrypto::WebCrypto,
            signer: &webcrypto::WebCrypto,
            rng: &SystemRandom,
        }
    }
}

/// Binds the ports for this request, answers it, and leaves the background writes it owes to
/// `wait_until`.
async fn serve(request: &Request, env: &Env, wctx: &Context) -> Result<Response, Error> {
    let bindings = Bindings::from_env(env)?;
    let isolate = ISOLATE.with(Rc::clone);
    let ctx = Ctx::new(&bindings.config, bindings.ports(), &isolate, &JsClock);
    let response = router::handle(&ctx, request).await;
    // Usage counts and last uses go out after the response, off the hot path.
    let writes = ctx.due_activity();
    if !writes.is_empty() {
        let store = kv::KvRegistry(bindings.store.0.clone());
        wctx.wait_until(async move {
            for e in activity::write(&store, writes).await {
                worker::console_error!("activity write failed: {e:?}");
            }
        });
    }
    Ok(response)
}

/// The Cron Trigger: the signing-key schedule's work (retiring keys, periodic rotation).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let outcome = match Bindings::from_env(&env) {
        Err(e) => Err(e),
        Ok(bindings) => {
            let isolate = ISOLATE.with(Rc::clone);
            let ctx = Ctx::new(&bindings.config, bindings.ports(), &isolate, &JsClock);
            admin::keys::tick(&ctx).await
        }
    };
    if let Err(e) = outcome {
        worker::console_error!("scheduled key work failed: {e:?}");
    }
}

fn config(env: &Env) -> Result<Rc<Config>, String> {
    // The runtime hands every request of an isolate the same `env` object: seeing it again
    // skips reading each setting across the JS boundary.
    let js_env: &wasm_bindgen::JsValue = env.as_ref();
    let same = CONFIG.with(|cell| {
        cell.borrow().as_ref().and_then(|(seen_env, _, config)| {
            js_sys::Object::is(seen_env, js_env).then(|| Rc::clone(config))
        })
    });
    if let Some(config) = same {
        return Ok(config);
    }
    let values: Vec<Option<String>> = SETTINGS
        .iter()
        .map(|name| env.var(name).ok().map(|v| v.to_string()))
        .collect();
    CONFIG.with(|cell| {
        let unchanged = cell
            .borrow()
            .as_ref()
            .filter(|(_, seen, _)| *seen == values)
            .map(|(_, _, config)| Rc::clone(config));
        let config = match unchanged {
            Some(config) => config,
            None => {
                let lookup = |name: &str| {
                    SETTINGS
                        .iter()
                        .position(|n| *n == name)
                        .and_then(|i| values[i].clone())
                };
                Rc::new(Config::from_lookup(lookup)?)
            }
        };
        *cell.borrow_mut() = Some((js_env.clone(), values, Rc::clone(&config)));
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
        request.body = read_body(&mut req, router::max_body(&request.path)).await?;
    }
    Ok(request)
}

/// Reads the body through a capped stream: past `cap` bytes (declared or actually sent) the
/// request is refused at once and the rest of the stream is cancelled (dropping it does that),
/// so a body without `Content-Length` is never read whole.
async fn read_body(req: &mut worker::Request, cap: usize) -> Result<Vec<u8>, Error> {
    let too_large =
        || Error::invalid_request(format!("the request body is larger than {cap} bytes"));
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|l| l.parse::<usize>().ok());
    match declared {
        Some(l) if l > cap => return Err(too_large()),
        // HTTP framing holds a body to its declared length: read it in one call, the
        // cheapest way across the JS/wasm boundary.
        Some(_) => {
            return req
                .bytes()
                .await
                .map_err(|_| Error::invalid_request("the request body could not be read"))
        }
        None => {}
    }
    // No body at all is an empty body.
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new());
    };
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| Error::invalid_request("the request body could not be read"))?;
        if body.len() + chunk.len() > cap {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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
