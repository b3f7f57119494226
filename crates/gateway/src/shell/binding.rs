//! The issuer through the service binding (its JWK Set, and introspection for revocation): no
//! public round trip, one deadline for headers and body, and the size cap enforced while
//! reading.

use std::future::Future;
use std::time::Duration;

use crate::revocation::Introspect;
use edgeauth_verify::{Fetch, FetchResponse};
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use wasm_bindgen::{JsCast, JsValue};
use worker::{Delay, Fetcher, Method, Request, RequestInit};

const DEADLINE: Duration = Duration::from_secs(5);

/// [`Fetch`] and [`Introspect`] over the `ISSUER_SERVICE` binding.
#[derive(Debug, Clone)]
pub struct IssuerBinding(pub Fetcher);

impl Fetch for IssuerBinding {
    fn get(
        &self,
        url: &str,
        max_body: usize,
    ) -> impl Future<Output = Result<FetchResponse, String>> {
        within_deadline(get(self.0.clone(), url.to_string(), max_body))
    }
}

impl Introspect for IssuerBinding {
    fn post_form(
        &self,
        url: &str,
        authorization: Option<&str>,
        body: String,
        max_body: usize,
    ) -> impl Future<Output = Result<(u16, Vec<u8>), String>> {
        let fetcher = self.0.clone();
        let (url, authorization) = (url.to_string(), authorization.map(str::to_string));
        within_deadline(async move {
            let headers = worker::Headers::new();
            let header = |name: &str, value: &str| {
                headers
                    .set(name, value)
                    .map_err(|_| format!("the {name} header could not be set"))
            };
            if let Some(authorization) = &authorization {
                header("authorization", authorization)?;
            }
            header("content-type", "application/x-www-form-urlencoded")?;
            header("accept", "application/json")?;
            let mut init = RequestInit::new();
            init.with_method(Method::Post)
                .with_headers(headers)
                .with_body(Some(body.into()));
            let request = Request::new_with_init(&url, &init)
                .map_err(|e| format!("the request could not be built: {e}"))?;
            let mut response = fetcher
                .fetch_request(request)
                .await
                .map_err(|e| format!("the service binding failed: {e}"))?;
            let status = response.status_code();
            let body = if status == 200 {
                read_capped(&mut response, max_body).await?
            } else {
                Vec::new()
            };
            Ok((status, body))
        })
    }

    fn random_id(&self) -> Result<[u8; 16], String> {
        let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
            .map_err(|_| "no crypto in the global scope".to_string())?
            .unchecked_into::<web_sys::Crypto>();
        let mut id = [0u8; 16];
        crypto
            .get_random_values_with_u8_array(&mut id)
            .map_err(|_| "crypto.getRandomValues failed".to_string())?;
        Ok(id)
    }
}

/// `work`, or a timeout error after [`DEADLINE`].
async fn within_deadline<T>(work: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    let work = std::pin::pin!(work);
    let deadline = std::pin::pin!(Delay::from(DEADLINE));
    match select(work, deadline).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(format!("timed out after {} s", DEADLINE.as_secs())),
    }
}

async fn get(fetcher: Fetcher, url: String, max_body: usize) -> Result<FetchResponse, String> {
    let mut response = fetcher
        .fetch(url, None)
        .await
        .map_err(|e| format!("the service binding failed: {e}"))?;
    let status = response.status_code();
    let cache_control = response.headers().get("cache-control").ok().flatten();
    let body = if status == 200 {
        read_capped(&mut response, max_body).await?
    } else {
        Vec::new()
    };
    Ok(FetchResponse {
        status,
        cache_control,
        body,
    })
}

/// The body, read up to `max_body` bytes and one more: past the cap the answer is refused
/// anyway, so reading stops there, keeping one byte to say so.
async fn read_capped(response: &mut worker::Response, max_body: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut stream = response
        .stream()
        .map_err(|_| "the body could not be read".to_string())?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| "the body could not be read".to_string())?;
        if body.len() + chunk.len() > max_body {
            body.extend_from_slice(&chunk[..=max_body - body.len()]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
