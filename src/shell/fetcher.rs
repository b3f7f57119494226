//! Fetches clients' `jwks_uri` under one deadline for headers and body together, with the size
//! cap enforced while reading, no redirects followed, and a JSON content-type check. A host
//! that trickles its answer cannot hold a token request open longer than the deadline.

use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use worker::{AbortController, Delay, Fetch};

use crate::ports::{Fetched, KeyFetcher};
use crate::support::LocalFuture;

const DEADLINE: Duration = Duration::from_secs(5);
const MAX_BODY: usize = 64 * 1024;

/// [`KeyFetcher`] over the Workers `fetch`.
pub struct HttpFetcher;

async fn fetch(url: &str) -> Result<Fetched, String> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetching = std::pin::pin!(fetch_within(url, &signal));
    let deadline = std::pin::pin!(Delay::from(DEADLINE));
    match select(fetching, deadline).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => {
            controller.abort();
            Err(format!("timed out after {} s", DEADLINE.as_secs()))
        }
    }
}

/// The whole exchange, headers and body, so one deadline covers both.
async fn fetch_within(url: &str, signal: &worker::AbortSignal) -> Result<Fetched, String> {
    // web-sys's RequestInit, not workers-rs's: that one links every `cf` option (about 11 KB).
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    // An https URL must not lead to http (or anywhere else) behind the client's back.
    init.set_redirect(web_sys::RequestRedirect::Manual);
    // From a string, not `Fetch::Url`: that would link the `url` crate just for this.
    let request = web_sys::Request::new_with_str_and_init(url, &init)
        .map(|r| Fetch::Request(r.into()))
        .map_err(|_| "the URL is not valid".to_string())?;
    let mut resp = request
        .send_with_signal(signal)
        .await
        .map_err(|_| "the request failed".to_string())?;
    match resp.status_code() {
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
    let mut stream = resp
        .stream()
        .map_err(|_| "the body could not be read".to_string())?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| "the body could not be read".to_string())?;
        // Never more than the cap in memory: dropping the stream cancels the rest.
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
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
