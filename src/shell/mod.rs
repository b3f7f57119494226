//! The Workers shell: translates between `worker` types and the core's, and implements the
//! ports over KV, the Durable Object, WebCrypto and `fetch`. No protocol logic lives here.

use std::cell::RefCell;
use std::rc::Rc;

use std::future::Future;
use std::task::Poll;

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::{event, Context, Env, ObjectNamespace, ScheduleContext, ScheduledEvent};

use crate::config::{Config, SETTINGS};
use crate::context::isolate::activity;
use crate::context::{Ctx, IsolateState};
use crate::error::Error;
use crate::http::{
    respond, Method, Request, Response, ASSET_HEADER, BODY_HEADERS, REQUEST_HEADERS,
};
use crate::ports::Ports;
use crate::services::token_quota as quota;
use crate::support::random::SystemRandom;
use crate::{admin, router};

mod body;
mod clock;
mod fetcher;
mod guard;
mod guards;
mod kv;
mod webcrypto;

/// The `env` object and raw settings last seen, and the configuration parsed from them.
type Loaded = (wasm_bindgen::JsValue, Vec<Option<String>>, Rc<Config>);

thread_local! {
    // Both live as long as the isolate: parsing config derives a key pair, so do it once.
    static CONFIG: RefCell<Option<Loaded>> = const { RefCell::new(None) };
    static ISOLATE: Rc<IsolateState> = Rc::new(IsolateState::default());
    static BOUND: RefCell<Option<(js_sys::Object, ObjectNamespace)>> = const { RefCell::new(None) };
}

/// The fetch entry, in place of `#[event(fetch)]`: it takes the runtime's request as it is
/// (workers-rs would first read `request.cf`, which the runtime builds on first access), and
/// answers without a promise when nothing had to wait (health, and keys or metadata from the
/// isolate's cache): a promise costs a microtask turn and its closures.
#[wasm_bindgen(js_name = fetch)]
pub fn fetch(req: web_sys::Request, env: Env, ctx: worker::worker_sys::Context) -> JsValue {
    let raw_ctx: worker::worker_sys::Context = ctx.clone().unchecked_into();
    let wctx = Context::new(ctx);
    let mut answer = Box::pin(async move {
        let response = match translate(&req).await {
            Err(e) => respond::error(e),
            Ok(request) => serve(&request, &env, &wctx, raw_ctx)
                .await
                .unwrap_or_else(respond::error),
        };
        if let Some(line) = &response.log {
            worker::console_error!("{line}");
        }
        let asset = response.header(ASSET_HEADER).is_some();
        let response = into_js(response);
        match asset {
            // The core has checked the request (the admin bearer): the body is a static file.
            true => serve_asset(env.as_ref(), &response),
            false => JsValue::from(response),
        }
    });
    // Every future under it keeps the waker of its latest poll, as futures must: when this
    // first poll pends, the promise's polls replace the no-op waker before anything wakes it.
    //
    // Tried and reverted (2026-12-02): polling the request's future straight from the callback
    // that wakes it, instead of wasm-bindgen's queue (one turn per wake; see [`start`] for
    // what a turn costs now). Under load, `private_key_jwt` requests then failed with
    // "Cannot perform I/O on behalf of a different request" (about a quarter of them in
    // `bench/issuer.mjs --cases pkjwt`), even with its wakes deferred to that queue: the claims'
    // gates (see `claims`) rely on something in this exact arrangement that was not found.
    match answer
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        Poll::Ready(response) => response,
        Poll::Pending => {
            wasm_bindgen_futures::future_to_promise(async move { Ok(answer.await) }).into()
        }
    }
}

#[wasm_bindgen(inline_js = "
let hidden;
export function hide_queue_microtask(hide) {
  if (hide) {
    hidden = Object.getOwnPropertyDescriptor(globalThis, 'queueMicrotask');
    try { globalThis.queueMicrotask = undefined; } catch { hidden = null; }
  } else if (hidden !== null) {
    if (hidden) Object.defineProperty(globalThis, 'queueMicrotask', hidden);
    else delete globalThis.queueMicrotask;
  }
}")]
extern "C" {
    /// Hides the global `queueMicrotask` (`true`), or puts it back as it was (`false`).
    fn hide_queue_microtask(hide: bool);
}

/// Runs once, as the module loads (outside any request): makes wasm-bindgen's task queue
/// schedule its turns with `then` on a settled promise instead of `queueMicrotask`. The queue
/// picks one when it is made, by whether `queueMicrotask` exists, so it is made here with that
/// hidden for a moment. workerd's `queueMicrotask` costs about 2 µs a call where V8's own
/// `then` costs a tenth of that (measured with a JS Worker), and a token request makes several
/// turns. The promise is made here because the runtime ties a promise made in a request to it.
/// If the global cannot be hidden, the queue keeps `queueMicrotask`: slower, no different.
#[wasm_bindgen(start)]
pub fn start() {
    hide_queue_microtask(true);
    wasm_bindgen_futures::spawn_local(async {});
    hide_queue_microtask(false);
}

/// What a request or a scheduled run needs from the environment: the configuration and the
/// storage bindings behind the ports.
struct Bindings {
    config: Rc<Config>,
    store: kv::KvRegistry,
    guards: guards::DurableGuards,
}

impl Bindings {
    fn from_env(
        env: &Env,
        context: Option<worker::worker_sys::Context>,
    ) -> Result<Bindings, Error> {
        let config = config(env).map_err(|d| Error::Internal(format!("configuration: {d}")))?;
        let (kv, namespace) = storage(env)?;
        Ok(Bindings {
            config,
            store: kv::KvRegistry(kv),
            guards: guards::DurableGuards { namespace, context },
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
async fn serve(
    request: &Request,
    env: &Env,
    wctx: &Context,
    raw_ctx: worker::worker_sys::Context,
) -> Result<Response, Error> {
    let bindings = Bindings::from_env(env, Some(raw_ctx))?;
    let isolate = ISOLATE.with(Rc::clone);
    let ctx = Ctx::new(
        &bindings.config,
        bindings.ports(),
        &isolate,
        &clock::JsClock,
    );
    let response = router::handle(&ctx, request).await;
    // Usage counts, last uses and quota reports go out after the response, off the hot path.
    let writes = ctx.due_activity();
    let reports = quota::due(&ctx);
    if !writes.is_empty() || !reports.is_empty() {
        wctx.wait_until(async move {
            let clock = &clock::JsClock;
            let ctx = Ctx::new(&bindings.config, bindings.ports(), &isolate, clock);
            for e in activity::write(ctx.ports.activity, writes).await {
                worker::console_error!("activity write failed: {e:?}");
            }
            for e in quota::settle(&ctx, reports).await {
                worker::console_error!("quota report failed: {e:?}");
            }
        });
    }
    Ok(response)
}

/// The Cron Trigger: the signing-key schedule's work (retiring keys, periodic rotation).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let outcome = match Bindings::from_env(&env, None) {
        Err(e) => Err(e),
        Ok(bindings) => {
            let isolate = ISOLATE.with(Rc::clone);
            let ctx = Ctx::new(
                &bindings.config,
                bindings.ports(),
                &isolate,
                &clock::JsClock,
            );
            admin::keys::tick(&ctx).await
        }
    };
    if let Err(e) = outcome {
        worker::console_error!("scheduled key work failed: {e:?}");
    }
}

/// The KV and Durable Object bindings, looked up again only when the `env` object changes:
/// the lookups cost a few runtime calls per request. [`config`], called first for every
/// request, forgets them when it sees a new `env`, so one identity check serves both.
fn storage(env: &Env) -> Result<(js_sys::Object, ObjectNamespace), Error> {
    if let Some(bound) = BOUND.with(|cell| cell.borrow().clone()) {
        return Ok(bound);
    }
    let kv = js_sys::Reflect::get(env.as_ref(), &JsValue::from_str("CLIENTS"))
        .ok()
        .and_then(|b| b.dyn_into::<js_sys::Object>().ok())
        .ok_or_else(|| Error::Internal("KV binding CLIENTS: missing".into()))?;
    let namespace = env
        .durable_object("CLIENT_GUARD")
        .map_err(|e| Error::Internal(format!("DO binding CLIENT_GUARD: {e}")))?;
    BOUND.with(|cell| *cell.borrow_mut() = Some((kv.clone(), namespace.clone())));
    Ok((kv, namespace))
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
    BOUND.with(|cell| cell.borrow_mut().take());
    // A setting is a string (a var or a secret); anything else is unset, as `Env::var` had it,
    // read here without its type check by constructor name and its error texts.
    let values: Vec<Option<String>> = SETTINGS
        .iter()
        .map(|name| {
            js_sys::Reflect::get(js_env, &JsValue::from_str(name))
                .ok()
                .and_then(|v| v.as_string())
        })
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

async fn translate(req: &web_sys::Request) -> Result<Request, Error> {
    // The runtime hands over a serialized WHATWG URL: split it rather than link a URL parser
    // (the `url` crate and its IDNA tables cost about 60 KB of wasm).
    let mut request =
        Request::from_head(&HEADER_NAMES.with(|names| head(req, names, BODY_HEADERS)));
    if matches!(request.method, Method::Post | Method::Patch | Method::Put) {
        let cap = router::max_body(&request.path);
        let declared = request.header("content-length").map(str::to_string);
        request.body = read_body(req, declared.as_deref(), cap).await?;
    }
    Ok(request)
}

#[wasm_bindgen(inline_js = "
export function head(r, names, bodiless) {
  const h = r.headers;
  const m = r.method;
  // A request without a body has no use for the headers about one (nor for a DPoP proof,
  // read at the token endpoint only): `bodiless` is how many of `names`, last, those are.
  const read = m === 'POST' || m === 'PUT' || m === 'PATCH' ? names.length : names.length - bodiless;
  let line = m + '\\n' + r.url;
  for (let i = 0; i < names.length; i++) line += '\\n' + (i < read ? h.get(names[i]) ?? '\\0' : '\\0');
  if (m !== 'POST') return line;
  const t = r.cf?.tlsClientAuth;
  if (!t) return line;
  return line + '\\n' + t.certPresented + '\\n' + t.certVerified + '\\n' +
    (t.certFingerprintSHA256 ?? '') + '\\n' + (t.certSubjectDNRFC2253 ?? '');
}")]
extern "C" {
    /// The request's method, URL and the headers in `names`, as [`Request::from_head`] reads
    /// them: one crossing and one string, where a call per part cost about 5 µs a request.
    /// For a method without a body the last `bodiless` names are not read (absent).
    /// For a `POST` (only client authentication reads it), the client certificate's fields of
    /// `request.cf.tlsClientAuth` follow, when the edge gave them (mutual TLS on the hostname);
    /// other requests never touch `request.cf`, which the runtime builds on first access.
    fn head(req: &web_sys::Request, names: &js_sys::Array, bodiless: usize) -> String;
}

thread_local! {
    /// [`REQUEST_HEADERS`] as a JS array, made once.
    static HEADER_NAMES: js_sys::Array =
        REQUEST_HEADERS.iter().map(|n| JsValue::from_str(n)).collect();
}

/// Reads the body: at once when its length is declared (HTTP framing holds it to that), else
/// through a capped stream, so that past `cap` bytes (declared or actually sent) the request
/// is refused at once and the rest of the stream is cancelled: a body without
/// `Content-Length` is never read whole.
async fn read_body(
    req: &web_sys::Request,
    declared: Option<&str>,
    cap: usize,
) -> Result<Vec<u8>, Error> {
    let too_large =
        || Error::invalid_request(format!("the request body is larger than {cap} bytes"));
    let unreadable = || Error::invalid_request("the request body could not be read");
    let promise = match declared.and_then(|l| l.parse::<usize>().ok()) {
        Some(l) if l > cap => return Err(too_large()),
        Some(_) => req.array_buffer().map_err(|_| unreadable())?,
        None => body::read_capped(req, cap),
    };
    match body::bytes(promise).await {
        Ok(Some(body)) => Ok(body),
        Ok(None) => Err(too_large()),
        Err(()) => Err(unreadable()),
    }
}

#[wasm_bindgen(inline_js = "
const kept = [];
export function respond(status, id, head, body) {
  let headers = kept[id];
  if (head !== undefined) {
    const record = {};
    const parts = head.split('\\n');
    for (let i = 0; i + 1 < parts.length; i += 2) record[parts[i]] = parts[i + 1];
    headers = kept[id] = new Headers(record);
  }
  return new Response(body ?? null, { status, headers });
}")]
extern "C" {
    /// A response with `status`, the headers of head `id`, and `body`. Each head gets a
    /// `Headers` object, built once and kept, which every response with that head copies:
    /// about 10 µs a response less than a plain record, which the runtime reads property by
    /// property (measured with a JS Worker, four headers). `head` (`name\nvalue\n...`) comes
    /// with the first use of an id, or when [`HEADS`] gives the id to another head.
    #[wasm_bindgen(catch)]
    fn respond(
        status: u16,
        id: u32,
        head: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<web_sys::Response, JsValue>;
}

/// The most heads kept: every head the core makes is one of a few fixed sets, but a header
/// that carries a value (a challenge, say) makes more; when this fills, all are forgotten.
const KEPT_HEADS: usize = 64;

thread_local! {
    /// The heads `respond` keeps, by id (their index): sending the id of a head seen before
    /// spares decoding its text and finding it in a map.
    static HEADS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The id of `head`, and whether `respond` has yet to see it (the id is new, or reused).
fn head_id(head: String) -> (u32, Option<String>) {
    HEADS.with(|heads| {
        let mut heads = heads.borrow_mut();
        if let Some(i) = heads.iter().position(|h| *h == head) {
            return (i as u32, None);
        }
        if heads.len() >= KEPT_HEADS {
            heads.clear();
        }
        heads.push(head.clone());
        ((heads.len() - 1) as u32, Some(head))
    })
}

/// The runtime's response. A name given twice keeps its last value, as setting them one by one
/// did. `\n` separates names and values because no header may hold a line break: one that does
/// is refused here, as the runtime would refuse it, rather than split into another header.
fn into_js(response: Response) -> web_sys::Response {
    let mut head = String::with_capacity(256);
    let mut broken = false;
    for (name, value) in &response.headers {
        broken |= [*name, value.as_str()]
            .iter()
            .any(|s| s.bytes().any(|b| b == b'\n' || b == b'\r'));
        if !head.is_empty() {
            head.push('\n');
        }
        // The core's names are lower case already; a `Headers` record would fold them anyway.
        head.extend(name.chars().map(|c| c.to_ascii_lowercase()));
        head.push('\n');
        head.push_str(value);
    }
    let body = (!response.body.is_empty()).then_some(response.body.as_slice());
    let built = match broken {
        true => Err(JsValue::from_str("a header holds a line break")),
        false => {
            let (id, new) = head_id(head);
            respond(response.status, id, new.as_deref(), body)
        }
    };
    built.unwrap_or_else(|e| {
        worker::console_error!("building the response failed: {e:?}");
        let (id, new) = head_id(String::new());
        respond(500, id, new.as_deref(), Some(b"INTERNAL SERVER ERROR"))
            .unwrap_or_else(|_| unreachable!("a plain 500 response is always valid"))
    })
}

#[wasm_bindgen(inline_js = "
export function serve_asset(env, head) {
  const path = head.headers.get('x-edgeauth-asset');
  const headers = new Headers(head.headers);
  headers.delete('x-edgeauth-asset');
  const failed = (why) => {
    console.error(`static asset ${path}: ${why}`);
    const body = { error: 'server_error', error_description: 'internal server error' };
    return new Response(JSON.stringify(body), { status: 500, headers });
  };
  try {
    return env.ASSETS.fetch(new URL(path, 'https://assets.invalid')).then(
      (r) => (r.ok ? new Response(r.body, { status: head.status, headers }) : failed(`status ${r.status}`)),
      failed,
    );
  } catch (e) {
    return Promise.resolve(failed(e));
  }
}")]
extern "C" {
    /// A promise of the body of the static asset that `head` (the core's answer) names in its
    /// [`ASSET_HEADER`], fetched through the `ASSETS` binding, with the status and the other
    /// headers of `head`; should the asset be missing, of a 500 `server_error`, logged.
    fn serve_asset(env: &JsValue, head: &web_sys::Response) -> JsValue;
}
