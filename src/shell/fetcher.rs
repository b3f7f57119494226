//! Fetches clients' `jwks_uri` with a timeout, a size cap and a content-type check.

use std::time::Duration;

use futures_util::future::{select, Either};
use worker::{AbortController, Delay, Fetch};

use crate::ports::{Fetched, KeyFetcher};
use crate::support::LocalFuture;

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BODY: usize = 64 * 1024;

/// [`KeyFetcher`] over the Workers `fetch`.
pub struct HttpFetcher;

async fn fetch(url: &str) -> Result<Fetched, String> {
    let controller = AbortController::default();
    // From a string, not `Fetch::Url`: that would link the `url` crate just for this.
    let request = worker::Request::new(url, worker::Method::Get)
        .map(Fetch::Request)
        .map_err(|_| "the URL is not valid".to_string())?;
    let signal = controller.signal();
    let sending = std::pin::pin!(request.send_with_signal(&signal));
    let timeout = std::pin::pin!(Delay::from(TIMEOUT));
    let mut resp = match select(sending, timeout).await {
        Either::Left((r, _)) => r.map_err(|_| "the request failed".to_string())?,
        Either::Right(_) => {
            controller.abort();
            return Err(format!("timed out after {} s", TIMEOUT.as_secs()));
        }
    };
    if resp.status_code() != 200 {
        return Err(format!("HTTP {}", resp.status_code()));
    }
    let header = |name: &str| resp.headers().get(name).ok().flatten();
    let media = header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let media = media.split(';').next().unwrap_or("").trim().to_string();
    if media != "application/json" && media != "application/jwk-set+json" {
        return Err(format!("content type '{media}' is not application/json"));
    }
    if header("content-length")
        .and_then(|l| l.parse::<usize>().ok())
        .is_some_and(|l| l > MAX_BODY)
    {
        return Err(format!("the document is larger than {MAX_BODY} bytes"));
    }
    let cache_control = header("cache-control");
    let body = resp
        .bytes()
        .await
        .map_err(|_| "the body could not be read".to_string())?;
    if body.len() > MAX_BODY {
        return Err(format!("the document is larger than {MAX_BODY} bytes"));
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
