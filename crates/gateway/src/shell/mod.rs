//! The Workers shell: reads the vars once per isolate, translates requests for the core, and
//! sends allowed requests on. No gateway logic lives here.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::Env;

use std::future::Future;
use std::pin::Pin;

use edgeauth_verify::dpop::ProofKey;
use edgeauth_verify::ProofAlg;

use crate::gateway::{Forward, Gateway, Incoming, Outcome, ProofSignatures, Target};
use crate::headers::list_with;
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
/// copy the headers one call each) and answers with the runtime's response.
#[wasm_bindgen(js_name = fetch)]
pub async fn fetch(req: web_sys::Request, env: Env, _ctx: JsValue) -> web_sys::Response {
    let gateway = match gateway(&env) {
        Ok(gateway) => gateway,
        Err(problem) => return reply(Reply::misconfigured(&problem)),
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
        Outcome::Reply(r) => reply(r),
        Outcome::Forward(f) => match forward(&req, &url, &env, f).await {
            Ok(response) => response,
            Err(e) => {
                let mut r = Reply::error(502, "bad_gateway", "the upstream could not be reached");
                r.log = Some(format!("upstream fetch failed: {e}"));
                reply(r)
            }
        },
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
export function send(binding, request) {
  return binding ? binding.fetch(request) : fetch(request);
}")]
extern "C" {
    /// The request's method, URL, and each header's name and value, one a line, in one
    /// crossing (no header name or value holds a line break).
    fn head(req: &web_sys::Request) -> String;
    /// WebCrypto's verification of a DPoP proof's signature (`false` for anything it refuses).
    fn verify_proof(alg: &str, jwk: &str, input: &[u8], signature: &[u8]) -> js_sys::Promise;
    /// The runtime's `fetch` of `request`, through the service `binding` if there is one.
    #[wasm_bindgen(catch)]
    fn send(binding: &JsValue, request: &web_sys::Request) -> Result<js_sys::Promise, JsValue>;
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

/// Sends the request on with the rewritten headers, its method and body unchanged, redirects
/// handed back to the caller; adds the CORS headers to the answer.
async fn forward(
    req: &web_sys::Request,
    url: &str,
    env: &Env,
    f: Forward,
) -> Result<web_sys::Response, String> {
    let js = |e: JsValue| format!("{e:?}");
    let headers = web_sys::Headers::new().map_err(js)?;
    for (name, value) in &f.headers {
        headers.append(name, value).map_err(js)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(&req.method());
    init.set_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if let Some(body) = req.body() {
        init.set_body(&body);
    }
    let target_url = match &f.target {
        Target::Url(u) => u.as_str(),
        Target::Origin | Target::Service(_) => url,
    };
    let outgoing = web_sys::Request::new_with_str_and_init(target_url, &init).map_err(js)?;
    let binding = match &f.target {
        Target::Service(name) => {
            let binding = js_sys::Reflect::get(env, &JsValue::from_str(name))
                .ok()
                .filter(|b| b.is_object())
                .ok_or_else(|| format!("no service binding {name}"))?;
            Some(binding)
        }
        Target::Origin | Target::Url(_) => None,
    };
    let binding = binding.unwrap_or(JsValue::UNDEFINED);
    let sent = send(&binding, &outgoing).map_err(js)?;
    let inner: web_sys::Response = JsFuture::from(sent).await.map_err(js)?.unchecked_into();
    let upstream_headers = inner.headers();
    if !f
        .response
        .change(|name| upstream_headers.has(name).unwrap_or(true))
    {
        return Ok(inner);
    }
    // The upstream's headers are immutable: copy them into a new response around its body.
    let copied = web_sys::Headers::new_with_headers(&upstream_headers).map_err(js)?;
    for name in &f.response.remove {
        copied.delete(name).map_err(js)?;
    }
    for (name, value) in &f.response.set {
        copied.set(name, value).map_err(js)?;
    }
    for (name, token) in &f.response.append {
        let current = copied.get(name).map_err(js)?;
        if let Some(value) = list_with(current.as_deref(), token) {
            copied.set(name, &value).map_err(js)?;
        }
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(inner.status());
    init.set_status_text(&inner.status_text());
    init.set_headers(&copied);
    let body = inner.body();
    web_sys::Response::new_with_opt_readable_stream_and_init(body.as_ref(), &init).map_err(js)
}
