//! The issuer's JWK Set through the service binding: no public round trip, one deadline for
//! headers and body, and the size cap enforced while reading.

use std::future::Future;
use std::time::Duration;

use edgeauth_verify::{Fetch, FetchResponse};
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use worker::{Delay, Fetcher};

const DEADLINE: Duration = Duration::from_secs(5);

/// [`Fetch`] over the `ISSUER_SERVICE` binding.
#[derive(Debug)]
pub struct IssuerBinding(pub Fetcher);

impl Fetch for IssuerBinding {
    fn get(
        &self,
        url: &str,
        max_body: usize,
    ) -> impl Future<Output = Result<FetchResponse, String>> {
        let fetcher = self.0.clone();
        let url = url.to_string();
        async move {
            let fetching = std::pin::pin!(get(fetcher, url, max_body));
            let deadline = std::pin::pin!(Delay::from(DEADLINE));
            match select(fetching, deadline).await {
                Either::Left((result, _)) => result,
                Either::Right(_) => Err(format!("timed out after {} s", DEADLINE.as_secs())),
            }
        }
    }
}

async fn get(fetcher: Fetcher, url: String, max_body: usize) -> Result<FetchResponse, String> {
    let mut response = fetcher
        .fetch(url, None)
        .await
        .map_err(|e| format!("the service binding failed: {e}"))?;
    let status = response.status_code();
    let cache_control = response.headers().get("cache-control").ok().flatten();
    let mut body = Vec::new();
    if status == 200 {
        let mut stream = response
            .stream()
            .map_err(|_| "the body could not be read".to_string())?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| "the body could not be read".to_string())?;
            // Past the cap the set is refused anyway: stop reading, keep one byte to say so.
            if body.len() + chunk.len() > max_body {
                body.extend_from_slice(&chunk[..=max_body - body.len()]);
                break;
            }
            body.extend_from_slice(&chunk);
        }
    }
    Ok(FetchResponse {
        status,
        cache_control,
        body,
    })
}
