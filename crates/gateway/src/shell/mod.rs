//! The Workers shell: reads the vars once per isolate, translates requests for the core, and
//! sends allowed requests on. No gateway logic lives here.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::Env;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use edgeauth_verify::dpop::ProofKey;
use edgeauth_verify::ProofAlg;

use crate::gateway::{Forward, Gateway, Incoming, Outcome, ProofSignatures, Target};
use crate::reply::Reply;
use crate::settings::{Settings, ISSUER_BINDING, SETTINGS};

mod binding;

use binding::IssuerBinding;

/// The `env` object and raw vars last seen, and the gateway built from them (or why none
/// could be).
type Loaded = (
    JsValue,
    Vec<Option<String>>,
    Result<Rc<Gateway<IssuerBinding>>, String>,
);

thread_local! {
    // The key cache lives in the gateway: keep it for the life of the isolate.
    static GATEWAY: RefCell<Option<Loaded>> = const { RefCell::new(None) };
}

/// The fetch entry, in place of `#[event(fetch)]`: it takes the runtime's request as it is
/// (workers-rs would first read `request.cf`, which the runtime builds on first access, and
/// copy the headers one call each) and answers with the runtime's response, or a promise of
/// it. `failed` (from `entry.mjs`) answers a forward whose upstream could not be reached.
///
/// A request the core decides without waiting (a public route, a token whose keys are
/// cached) is answered without a wasm future: its forward is one JS call that builds, sends
/// and edits, and the runtime gets that call's promise as it is.
#[wasm_bindgen(js_name = fetch)]
pub fn fetch(req: web_sys::Request, env: Env, failed: js_sys::Function) -> JsValue {
    let mut answer = Box::pin(answer(req, env, failed));
    // Every future under it keeps the waker of its latest poll: should this first poll pend,
    // the promise's polls replace the no-op waker before anything wakes it.
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

/// The 502 for a forward whose upstream could not be reached (`why` goes to the log only).
#[wasm_bindgen]
pub fn bad_gateway(why: String) -> web_sys::Response {
    let mut r = Reply::error(502, "bad_gateway", "the upstream could not be reached");
    r.log = Some(format!("upstream fetch failed: {why}"));
    reply(r)
}

/// The answer to one request: the runtime's response, or (a forward) the promise of one.
async fn answer(req: web_sys::Request, env: Env, failed: js_sys::Function) -> JsValue {
    let gateway = match gateway(&env) {
        Ok(gateway) => gateway,
        Err(problem) => return reply(Reply::misconfigured(&problem)).into(),
    };
    let head = head(&req);
    let mut lines = head.split('\n');
    let method = lines.next().unwrap_or_default().to_ascii_uppercase();
    let url = lines.next().unwrap_or_default().to_string();
    let certificate = lines.next().filter(|c| !c.is_empty()).map(str::to_string);
    let mut headers = Vec::new();
    while let (Some(name), Some(value)) = (lines.next(), lines.next()) {
        headers.push((name.to_string(), value.to_string()));
    }
    let incoming = Incoming {
        method: &method,
        url: &url,
        headers: &headers,
        certificate: certificate.as_deref(),
    };
    let now = (js_sys::Date::now() / 1000.0) as u64;
    match gateway.handle(&incoming, now).await {
        Outcome::Reply(r) => reply(r).into(),
        Outcome::Forward(f) => {
            forward(&req, &env, f, &failed).unwrap_or_else(|why| bad_gateway(why).into())
        }
    }
}

#[wasm_bindgen(inline_js = "
export function head(r) {
  // The client certificate's fingerprint when one was presented (Cloudflare mTLS); read only
  // for requests with credentials, since the runtime builds request.cf on first access.
  const t = r.headers.has('authorization') && r.cf ? r.cf.tlsClientAuth : undefined;
  const cert = t && t.certPresented === '1' ? String(t.certFingerprintSHA256 ?? '') : '';
  const parts = [r.method, r.url, cert.replace(/[\\r\\n]/g, '')];
  for (const [name, value] of r.headers) parts.push(name, value);
  return parts.join('\\n');
}
const PROOF_ALGS = {
  ES256: [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }],
  EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }],
  RS256: [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, { name: 'RSASSA-PKCS1-v1_5' }],
  PS256: [{ name: 'RSA-PSS', hash: 'SHA-256' }, { name: 'RSA-PSS', saltLength: 32 }],
};
const proofKeys = new Map();
export async function verify_proof(alg, jwk, input, signature) {
  const params = PROOF_ALGS[alg];
  if (!params) return false;
  // A client signs every proof with one key: its import is kept (bounded), by algorithm and
  // key, so a request pays for the verification only.
  const id = alg + jwk;
  let key = proofKeys.get(id);
  try {
    if (!key) {
      key = await crypto.subtle.importKey('jwk', JSON.parse(jwk), params[0], false, ['verify']);
      if (proofKeys.size >= 256) proofKeys.delete(proofKeys.keys().next().value);
      proofKeys.set(id, key);
    }
    return await crypto.subtle.verify(params[1], key, signature, input);
  } catch {
    return false;
  }
}
/** Lines (`a`, newline, `b`, ...; undefined for none) as a list. */
const lines = (text) => (text === undefined ? [] : text.split('\\n'));
/** Lines of names and values in turn (undefined for none) as [name, value] pairs. */
function pairs(text) {
  const parts = lines(text);
  const out = [];
  for (let i = 0; i + 1 < parts.length; i += 2) out.push([parts[i], parts[i + 1]]);
  return out;
}
// The twin of list_with in headers.rs (the gateway's own replies use that one): `current`
// with `token` added, or null when it lists it already (or is `*`).
function listWith(current, token) {
  const c = (current ?? '').trim();
  if (c === '') return token;
  const t = token.toLowerCase();
  return c.split(',').some((x) => { x = x.trim(); return x === '*' || x.toLowerCase() === t; }) ? null : `${c}, ${token}`;
}
function edited(inner, remove, set, append) {
  const h = inner.headers;
  if (set === undefined && append === undefined && !remove.some((n) => h.has(n))) return inner;
  // The upstream's headers are immutable: copy them into a new response around its body.
  const copied = new Headers(h);
  for (const n of remove) copied.delete(n);
  for (const [n, v] of pairs(set)) copied.set(n, v);
  for (const [n, token] of pairs(append)) {
    const v = listWith(copied.get(n), token);
    if (v !== null) copied.set(n, v);
  }
  return new Response(inner.body, { status: inner.status, statusText: inner.statusText, headers: copied });
}
export function forward(req, env, service, url, drop, set, remove, reset, append, failed) {
  const init = { redirect: 'manual' };
  // The runtime's own headers, copied only when something in them changes.
  if (drop !== undefined || set !== undefined) {
    const headers = new Headers(req.headers);
    for (const n of lines(drop)) headers.delete(n);
    for (const [n, v] of pairs(set)) headers.set(n, v);
    init.headers = headers;
  }
  let outgoing;
  if (url === undefined) {
    // Method, headers and body as they came (less the changes), to the same URL.
    outgoing = new Request(req, init);
  } else {
    init.method = req.method;
    init.headers ??= req.headers;
    const body = req.body;
    if (body) init.body = body;
    outgoing = new Request(url, init);
  }
  const binding = service === undefined ? undefined : env[service];
  if (service !== undefined && (typeof binding !== 'object' || binding === null)) {
    return Promise.resolve(failed(`no service binding ${service}`));
  }
  const sent = binding ? binding.fetch(outgoing) : fetch(outgoing);
  return sent.then((inner) => {
    try { return edited(inner, lines(remove), reset, append); } catch (e) { return failed(e); }
  }, failed);
}")]
extern "C" {
    /// The request's method, URL, and each header's name and value, one a line, in one
    /// crossing (no header name or value holds a line break).
    fn head(req: &web_sys::Request) -> String;
    /// WebCrypto's verification of a DPoP proof's signature (`false` for anything it refuses).
    fn verify_proof(alg: &str, jwk: &str, input: &[u8], signature: &[u8]) -> js_sys::Promise;
    /// A promise of the upstream's answer to `req` sent on to `url` (its own URL if none),
    /// through the service binding of `env` named `service` if there is one, else `fetch`:
    /// its method and body, its headers less the `drop` names (`a\nb\n...`) and with `set`
    /// (`name\nvalue\n...`), redirects handed back; then the answer less the `remove` names,
    /// with `reset` (as `set`) and each `append` (name, token) list extended. `None` is an
    /// empty list. Anything that fails, the send or the edit, is answered by `failed`.
    #[wasm_bindgen(catch, js_name = forward)]
    #[allow(clippy::too_many_arguments)]
    fn forward_js(
        req: &web_sys::Request,
        env: &Env,
        service: Option<&str>,
        url: Option<&str>,
        drop: Option<&str>,
        set: Option<&str>,
        remove: Option<&str>,
        reset: Option<&str>,
        append: Option<&str>,
        failed: &js_sys::Function,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// DPoP proof signatures by the runtime's WebCrypto.
#[derive(Debug)]
struct WebCrypto;

impl ProofSignatures for WebCrypto {
    fn verify<'a>(
        &'a self,
        alg: ProofAlg,
        key: &'a ProofKey,
        input: &'a [u8],
        signature: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = bool> + 'a>> {
        let promise = verify_proof(alg.name(), &key.canonical, input, signature);
        Box::pin(async move {
            JsFuture::from(promise)
                .await
                .is_ok_and(|v| v.as_bool() == Some(true))
        })
    }
}

/// The vars as strings; a JSON var given as a TOML table or array is serialized back.
fn vars(env: &Env) -> Vec<Option<String>> {
    SETTINGS
        .iter()
        .map(|name| {
            let value = js_sys::Reflect::get(env, &JsValue::from_str(name)).ok()?;
            if value.is_undefined() || value.is_null() {
                return None;
            }
            value.as_string().or_else(|| {
                js_sys::JSON::stringify(&value)
                    .ok()
                    .and_then(|s| s.as_string())
            })
        })
        .collect()
}

/// The gateway for these vars: built on first use and whenever the vars change.
fn gateway(env: &Env) -> Result<Rc<Gateway<IssuerBinding>>, String> {
    // The runtime hands every request of an isolate the same `env` object: seeing it again
    // skips reading each var across the JS boundary.
    let js_env: &JsValue = env.as_ref();
    let same = GATEWAY.with(|cell| {
        let cell = cell.borrow();
        let (seen_env, _, built) = cell.as_ref()?;
        js_sys::Object::is(seen_env, js_env).then(|| built.clone())
    });
    if let Some(built) = same {
        return built;
    }
    let values = vars(env);
    GATEWAY.with(|cell| {
        let mut cell = cell.borrow_mut();
        let built = match cell.as_ref() {
            Some((_, seen, built)) if *seen == values => built.clone(),
            _ => {
                let lookup = |name: &str| {
                    SETTINGS
                        .iter()
                        .position(|n| *n == name)
                        .and_then(|i| values[i].clone())
                };
                Settings::from_lookup(lookup).and_then(|settings| {
                    let issuer = env
                        .service(ISSUER_BINDING)
                        .map_err(|_| format!("the service binding {ISSUER_BINDING} is missing"))?;
                    let gateway = Gateway::new(settings, IssuerBinding(issuer))
                        .with_proof_signatures(WebCrypto);
                    Ok(Rc::new(gateway))
                })
            }
        };
        *cell = Some((js_env.clone(), values, built.clone()));
        built
    })
}

/// The runtime's response for `r`; should it not build (a header the runtime refuses), a
/// plain 500, as workers-rs answered.
fn reply(r: Reply) -> web_sys::Response {
    if let Some(line) = &r.log {
        worker::console_error!("{line}");
    }
    // Bytes, not a string: the runtime would add a text/plain content type to a string.
    let mut body = r.body.map(String::into_bytes);
    let built = (|| {
        let headers = web_sys::Headers::new()?;
        for (name, value) in &r.headers {
            headers.append(name, value)?;
        }
        let init = web_sys::ResponseInit::new();
        init.set_status(r.status);
        init.set_headers(&headers);
        web_sys::Response::new_with_opt_u8_array_and_init(body.as_deref_mut(), &init)
    })();
    built.unwrap_or_else(|e| {
        worker::console_error!("building the response failed: {e:?}");
        let init = web_sys::ResponseInit::new();
        init.set_status(500);
        web_sys::Response::new_with_opt_str_and_init(Some("INTERNAL SERVER ERROR"), &init)
            .unwrap_or_else(|_| unreachable!("a plain 500 response is always valid"))
    })
}

/// Sends the request on with the header changes, its method and body unchanged, redirects
/// handed back to the caller, and the answer edited (hop-by-hop and CORS headers): the
/// promise of [`forward_js`], or why it could not be sent.
fn forward(
    req: &web_sys::Request,
    env: &Env,
    f: Forward,
    failed: &js_sys::Function,
) -> Result<JsValue, String> {
    let (url, service) = match &f.target {
        Target::Url(u) => (Some(u.as_str()), None),
        Target::Origin => (None, None),
        Target::Service(name) => (None, Some(name.as_str())),
    };
    let pairs =
        |list: &[(String, String)]| joined(list.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let sent = forward_js(
        req,
        env,
        service,
        url,
        listed(f.request.drop.iter().map(String::as_str)).as_deref(),
        pairs(&f.request.set)?.as_deref(),
        listed(f.response.remove.iter().copied()).as_deref(),
        pairs(&f.response.set)?.as_deref(),
        joined(f.response.append.iter().copied())?.as_deref(),
        failed,
    )
    .map_err(|e| format!("{e:?}"))?;
    Ok(sent.into())
}

/// Header names as `a\nb\n...`; `None` for none.
fn listed<'a>(names: impl Iterator<Item = &'a str>) -> Option<String> {
    let list = names.collect::<Vec<_>>().join("\n");
    (!list.is_empty()).then_some(list)
}

/// Name and value pairs as `name\nvalue\n...`; `None` for none. No header may hold a line
/// break: one that does is refused here, as the runtime would refuse it, rather than split
/// into another header.
fn joined<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Result<Option<String>, String> {
    let mut out = String::new();
    for (name, value) in pairs {
        if [name, value]
            .iter()
            .any(|s| s.bytes().any(|b| b == b'\n' || b == b'\r'))
        {
            return Err(format!("the header {name} holds a line break"));
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(name);
        out.push('\n');
        out.push_str(value);
    }
    Ok((!out.is_empty()).then_some(out))
}
