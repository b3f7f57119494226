//! Fetches clients' `jwks_uri` under one deadline for headers and body together, with the size
//! cap enforced while reading, no redirects followed, and a JSON content-type check. A host
//! that trickles its answer cannot hold a token request open longer than the deadline.

use std::time::Duration;

use futures_util::future::{select, Either};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use worker::Delay;

use super::body;
use crate::ports::{Fetched, KeyFetcher};
use crate::support::LocalFuture;

const DEADLINE: Duration = Duration::from_secs(5);
const MAX_BODY: usize = 64 * 1024;

/// [`KeyFetcher`] over the Workers `fetch`.
pub struct HttpFetcher;

async fn fetch(url: &str) -> Result<Fetched, String> {
    let controller =
        web_sys::AbortController::new().map_err(|_| "no AbortController".to_string())?;
    let fetching = std::pin::pin!(fetch_within(url, controller.signal()));
    let deadline = std::pin::pin!(Delay::from(DEADLINE));
    match select(fetching, deadline).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => {
            controller.abort();
            Err(format!("timed out after {} s", DEADLINE.as_secs()))
        }
    }
}

/// The whole exchange, headers and body, so one deadline covers both. web-sys's types
/// throughout, not workers-rs's: its `RequestInit` links every `cf` option (about 11 KB), its
/// `Fetch::Url` the `url` crate, and its response body stream an adapter over wasm-streams;
/// the body is read by the JS helper the request bodies use, with the same cap rule.
async fn fetch_within(url: &str, signal: web_sys::AbortSignal) -> Result<Fetched, String> {
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    // An https URL must not lead to http (or anywhere else) behind the client's back.
    init.set_redirect(web_sys::RequestRedirect::Manual);
    init.set_signal(Some(&signal));
    let request = web_sys::Request::new_with_str_and_init(url, &init)
        .map_err(|_| "the URL is not valid".to_string())?;
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let resp: web_sys::Response = JsFuture::from(global.fetch_with_request(&request))
        .await
        .and_then(JsCast::dyn_into)
        .map_err(|_| "the request failed".to_string())?;
    match resp.status() {
        200 => {}
        300..=399 => return Err("it answered with a redirect, which is not followed".into()),
        other => return Err(format!("HTTP {other}")),
    }
    let header = |name: &str| resp.headers().get(name).ok().flatten();
    let media = header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let media = media.split(';').next().unwrap_or("").trim().to_string();
    if media != "application/json" && media != "application/jwk-set+json" {
        return Err(format!("content type '{media}' is not application/json"));
    }
    let too_large = || format!("the document is larger than {MAX_BODY} bytes");
    if header("content-length")
        .and_then(|l| l.parse::<usize>().ok())
        .is_some_and(|l| l > MAX_BODY)
    {
        return Err(too_large());
    }
    let cache_control = header("cache-control");
    // Never more than the cap in memory: past it the rest is cancelled, not read.
    let body = match body::bytes(body::read_capped(&resp, MAX_BODY)).await {
        Ok(Some(body)) => body,
        Ok(None) => return Err(too_large()),
        Err(()) => return Err("the body could not be read".to_string()),
    };
    Ok(Fetched {
        body,
        cache_control,
    })
}

impl KeyFetcher for HttpFetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> LocalFuture<'a, Result<Fetched, String>> {
        Box::pin(fetch(url))
    }
}
