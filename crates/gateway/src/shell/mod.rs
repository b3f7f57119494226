//! The Workers shell: reads the vars once per isolate, translates requests for the core, and
//! sends allowed requests on. No gateway logic lives here.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use worker::{event, Context, Env};

use crate::gateway::{Forward, Gateway, Incoming, Outcome, Target};
use crate::headers::list_with;
use crate::reply::Reply;
use crate::settings::{Settings, ISSUER_BINDING, SETTINGS};

mod binding;

use binding::IssuerBinding;

/// The raw vars last seen, and the gateway built from them (or why none could be).
type Loaded = (
    Vec<Option<String>>,
    Result<Rc<Gateway<IssuerBinding>>, String>,
);

thread_local! {
    // The key cache lives in the gateway: keep it for the life of the isolate.
    static GATEWAY: RefCell<Option<Loaded>> = const { RefCell::new(None) };
}

#[event(fetch)]
async fn fetch(req: worker::Request, env: Env, _ctx: Context) -> worker::Result<worker::Response> {
    let gateway = match gateway(&env) {
        Ok(gateway) => gateway,
        Err(problem) => return reply(Reply::misconfigured(&problem)),
    };
    let method = req.inner().method().to_ascii_uppercase();
    let url = req.inner().url();
    let headers: Vec<(String, String)> = req.headers().entries().collect();
    let incoming = Incoming {
        method: &method,
        url: &url,
        headers: &headers,
    };
    let now = (js_sys::Date::now() / 1000.0) as u64;
    match gateway.handle(&incoming, now).await {
        Outcome::Reply(r) => reply(r),
        Outcome::Forward(f) => match forward(&req, &url, &env, f).await {
            Ok(response) => Ok(response),
            Err(e) => {
                let mut r = Reply::error(502, "bad_gateway", "the upstream could not be reached");
                r.log = Some(format!("upstream fetch failed: {e}"));
                reply(r)
            }
        },
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
    let values = vars(env);
    GATEWAY.with(|cell| {
        if let Some((seen, built)) = cell.borrow().as_ref() {
            if *seen == values {
                return built.clone();
            }
        }
        let lookup = |name: &str| {
            SETTINGS
                .iter()
                .position(|n| *n == name)
                .and_then(|i| values[i].clone())
        };
        let built = Settings::from_lookup(lookup).and_then(|settings| {
            let issuer = env
                .service(ISSUER_BINDING)
                .map_err(|_| format!("the service binding {ISSUER_BINDING} is missing"))?;
            Ok(Rc::new(Gateway::new(settings, IssuerBinding(issuer))))
        });
        *cell.borrow_mut() = Some((values.clone(), built.clone()));
        built
    })
}

fn reply(r: Reply) -> worker::Result<worker::Response> {
    if let Some(line) = &r.log {
        worker::console_error!("{line}");
    }
    let headers = worker::Headers::new();
    for (name, value) in &r.headers {
        headers.append(name, value)?;
    }
    let builder = worker::Response::builder()
        .with_status(r.status)
        .with_headers(headers);
    Ok(match r.body {
        Some(body) => builder.fixed(body.into_bytes()),
        None => builder.empty(),
    })
}

/// Sends the request on with the rewritten headers, its method and body unchanged, redirects
/// handed back to the caller; adds the CORS headers to the answer.
async fn forward(
    req: &worker::Request,
    url: &str,
    env: &Env,
    f: Forward,
) -> Result<worker::Response, String> {
    let js = |e: JsValue| format!("{e:?}");
    let headers = web_sys::Headers::new().map_err(js)?;
    for (name, value) in &f.headers {
        headers.append(name, value).map_err(js)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(&req.inner().method());
    init.set_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if let Some(body) = req.inner().body() {
        init.set_body(&body);
    }
    let target_url = match &f.target {
        Target::Url(u) => u.as_str(),
        Target::Origin | Target::Service(_) => url,
    };
    let outgoing = web_sys::Request::new_with_str_and_init(target_url, &init).map_err(js)?;
    let outgoing = worker::Request::from(outgoing);
    let response = match &f.target {
        Target::Service(name) => {
            let service = env
                .service(name)
                .map_err(|_| format!("no service binding {name}"))?;
            service.fetch_request(outgoing).await
        }
        Target::Origin | Target::Url(_) => worker::Fetch::Request(outgoing).send().await,
    }
    .map_err(|e| e.to_string())?;
    let inner: web_sys::Response = response.into();
    let upstream_headers = inner.headers();
    if !f
        .response
        .change(|name| upstream_headers.has(name).unwrap_or(true))
    {
        return Ok(worker::Response::from(inner));
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
    web_sys::Response::new_with_opt_readable_stream_and_init(body.as_ref(), &init)
        .map(|r| worker::Response::from(r.unchecked_into::<web_sys::Response>()))
        .map_err(js)
}
