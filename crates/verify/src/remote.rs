//! A JWK Set fetched from a URL, cached within bounds: `Cache-Control: max-age` honoured
//! between 1 and 10 minutes, a refetch for an unknown `kid` at most once per 30 s, one fetch
//! in flight, and the last good set kept through failed fetches for at most 24 hours.
//!
//! Time is the caller's `now` (Unix seconds), so the rules are testable and runtime-agnostic.

use std::cell::RefCell;
use std::future::Future;

use futures_util::lock::Mutex;

use crate::jwks::MAX_JWKS_BYTES;
use crate::{Algorithm, JwkSet, Key, VerifyError};

/// Shortest time a fetched set is trusted (also with `no-cache` or `no-store`), in seconds.
pub const MIN_TTL: u64 = 60;
/// Longest time a fetched set is trusted, whatever `max-age` says.
pub const MAX_TTL: u64 = 600;
/// How long a set without `max-age` is trusted.
pub const DEFAULT_TTL: u64 = 300;
/// Least time between two fetch attempts, whatever the tokens ask for.
pub const REFETCH_COOLDOWN: u64 = 30;
/// Longest the last good set stays in use while fetches fail, counted from when it was fetched.
pub const MAX_STALE: u64 = 24 * 3600;

/// An HTTP answer, as much of it as the cache needs.
#[derive(Debug, Clone)]
pub struct FetchResponse {
    /// HTTP status; anything but 200 is a failed fetch.
    pub status: u16,
    /// The `Cache-Control` header, if any.
    pub cache_control: Option<String>,
    /// The body: more than `max_body` bytes is a failed fetch.
    pub body: Vec<u8>,
}

/// How the cache fetches, supplied by the runtime (a Worker's `fetch`, a service binding,
/// an HTTP client, a test double). In a workers-rs Worker, for example:
///
/// ```ignore
/// struct WorkerFetch;
///
/// impl edgeauth_verify::Fetch for WorkerFetch {
///     async fn get(&self, url: &str, max_body: usize) -> Result<FetchResponse, String> {
///         let mut r = worker::Fetch::Url(url.parse().map_err(|_| "bad URL")?)
///             .send().await.map_err(|e| e.to_string())?;
///         let cache_control = r.headers().get("cache-control").ok().flatten();
///         let body = r.bytes().await.map_err(|e| e.to_string())?; // or stop at max_body
///         Ok(FetchResponse { status: r.status_code(), cache_control, body })
///     }
/// }
/// ```
pub trait Fetch {
    /// GETs `url`. May stop reading after `max_body` bytes: a longer body is refused anyway.
    /// `Err` for a transport failure, with a reason for logs.
    fn get(
        &self,
        url: &str,
        max_body: usize,
    ) -> impl Future<Output = Result<FetchResponse, String>>;
}

/// The trusted lifetime `Cache-Control` asks for, clamped to [`MIN_TTL`]..=[`MAX_TTL`].
pub fn ttl_from_cache_control(header: Option<&str>) -> u64 {
    let Some(header) = header else {
        return DEFAULT_TTL;
    };
    let mut ttl = DEFAULT_TTL;
    for directive in header.split(',').map(str::trim) {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return MIN_TTL;
        }
        if name.eq_ignore_ascii_case("max-age") {
            ttl = value.trim_matches('"').parse::<u64>().unwrap_or(MIN_TTL);
        }
    }
    ttl.clamp(MIN_TTL, MAX_TTL)
}

#[derive(Debug, Default)]
struct State {
    /// The last good set and when it was fetched.
    good: Option<(JwkSet, u64)>,
    fresh_until: u64,
    last_attempt: Option<u64>,
    last_error: Option<String>,
}

/// A JWK Set at a URL, cached in memory. Keep one per URL for the life of the isolate or
/// process; it is not `Sync` (Workers run one thread per isolate).
#[derive(Debug)]
pub struct RemoteJwks<F> {
    url: String,
    fetcher: F,
    state: RefCell<State>,
    /// Held while a fetch runs, so concurrent verifies wait for it instead of fetching again.
    in_flight: Mutex<()>,
}

impl<F: Fetch> RemoteJwks<F> {
    /// An empty cache of the set at `url`, fetched through `fetcher`.
    pub fn new(url: impl Into<String>, fetcher: F) -> RemoteJwks<F> {
        RemoteJwks {
            url: url.into(),
            fetcher,
            state: RefCell::default(),
            in_flight: Mutex::new(()),
        }
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Why the last fetch failed, while it has not succeeded since: for logs, not for clients.
    pub fn last_error(&self) -> Option<String> {
        self.state.borrow().last_error.clone()
    }

    /// The key `kid` for `alg`, fetching first when the set is stale or lacks `kid` and the
    /// cooldown allows.
    pub(crate) async fn key(
        &self,
        kid: &str,
        alg: Algorithm,
        now: u64,
    ) -> Result<Key, VerifyError> {
        if let Some(answer) = self.cached(kid, alg, now) {
            return answer;
        }
        let _held = self.in_flight.lock().await;
        // A fetch that finished while this one waited counts: the cooldown now answers.
        if let Some(answer) = self.cached(kid, alg, now) {
            return answer;
        }
        let fetched = self.fetch().await;
        self.record(fetched, now);
        self.cached(kid, alg, now)
            .unwrap_or(Err(VerifyError::KeysUnavailable))
    }

    /// The answer the cache gives without fetching; `None` when a fetch is due and allowed.
    fn cached(&self, kid: &str, alg: Algorithm, now: u64) -> Option<Result<Key, VerifyError>> {
        let state = self.state.borrow();
        let set = state
            .good
            .as_ref()
            .filter(|(_, good_at)| now.saturating_sub(*good_at) < MAX_STALE)
            .map(|(set, _)| set);
        let key = set.and_then(|s| s.find(kid, alg));
        let fresh = now < state.fresh_until && state.last_error.is_none();
        let may_fetch = state
            .last_attempt
            .is_none_or(|at| now.saturating_sub(at) >= REFETCH_COOLDOWN);
        if (!fresh || key.is_none()) && may_fetch {
            return None;
        }
        Some(match key {
            Some(key) => Ok(key.clone()),
            // While fetches fail, a kid the kept set lacks may well be a new published key.
            None if set.is_none() || state.last_error.is_some() => {
                Err(VerifyError::KeysUnavailable)
            }
            None => Err(VerifyError::UnknownKey),
        })
    }

    async fn fetch(&self) -> Result<(JwkSet, u64), String> {
        let response = self.fetcher.get(&self.url, MAX_JWKS_BYTES).await?;
        if response.status != 200 {
            return Err(format!("HTTP {}", response.status));
        }
        if response.body.len() > MAX_JWKS_BYTES {
            return Err(format!("the body is over {MAX_JWKS_BYTES} bytes"));
        }
        let set = JwkSet::from_json(&response.body).map_err(|e| e.to_string())?;
        Ok((
            set,
            ttl_from_cache_control(response.cache_control.as_deref()),
        ))
    }

    fn record(&self, fetched: Result<(JwkSet, u64), String>, now: u64) {
        let mut state = self.state.borrow_mut();
        state.last_attempt = Some(now);
        match fetched {
            Ok((set, ttl)) => {
                state.good = Some((set, now));
                state.fresh_until = now.saturating_add(ttl);
                state.last_error = None;
            }
            Err(reason) => state.last_error = Some(reason),
        }
    }
}
