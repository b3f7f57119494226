//! Keys of clients registered with a `jwks_uri`: fetched through [`KeyFetcher`], kept in the
//! isolate for a bounded time that honours `Cache-Control`, refetched at most once a minute
//! per URL when an unknown `kid` arrives (every [`ISSUER_REFETCH_MS`] for federated issuers), one fetch per URL at a time, and kept in use when a
//! refetch fails, for at most [`MAX_STALE_MS`] after the last good fetch.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::jose::jwk::usable_keys;
use crate::jose::PublicJwk;
use crate::ports::KeyFetcher;
use crate::support::Lock;

/// Shortest and longest time a fetched set is trusted, and the default without `max-age`.
pub const MIN_TTL_MS: u64 = 60_000;
/// Longest time a fetched set is trusted.
pub const MAX_TTL_MS: u64 = 3_600_000;
const DEFAULT_TTL_MS: u64 = 300_000;
/// Least time between two fetches of one URL, whatever the requests ask for.
pub const MIN_REFETCH_MS: u64 = 60_000;
/// Least time between two fetches of a federated issuer's key set: issuers such as GitHub
/// rotate keys without notice, so their new kid is looked for sooner than a client's.
pub const ISSUER_REFETCH_MS: u64 = 30_000;
/// Longest a last good set stays in use while refetches fail.
pub const MAX_STALE_MS: u64 = 24 * 3_600_000;
const MAX_URLS: usize = 256;

#[derive(Debug, Clone)]
struct Entry {
    keys: Rc<Vec<PublicJwk>>,
    /// When `keys` were fetched (the last good fetch).
    good_at: u64,
    fetched_at: u64,
    ttl: u64,
    last_attempt: u64,
    last_error: Option<String>,
}

/// The isolate's cache of remote key sets, by URL.
#[derive(Debug, Default)]
pub struct RemoteKeys {
    entries: RefCell<HashMap<String, Entry>>,
    /// One lock per URL being fetched, so concurrent requests share one fetch.
    fetching: RefCell<HashMap<String, Rc<Lock>>>,
}

/// The trusted lifetime a `Cache-Control` header asks for, within bounds.
pub fn ttl_from_cache_control(header: Option<&str>) -> u64 {
    let Some(h) = header else {
        return DEFAULT_TTL_MS;
    };
    let directives: Vec<String> = h
        .split(',')
        .map(|d| d.trim().to_ascii_lowercase())
        .collect();
    if directives
        .iter()
        .any(|d| d == "no-store" || d == "no-cache")
    {
        return MIN_TTL_MS;
    }
    directives
        .iter()
        .find_map(|d| {
            d.strip_prefix("max-age=")
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(DEFAULT_TTL_MS, |s| {
            s.saturating_mul(1000).clamp(MIN_TTL_MS, MAX_TTL_MS)
        })
}

impl RemoteKeys {
    /// The keys at `url`, refetched when stale or when `kid` is unknown (rate-limited).
    pub fn keys<'a>(
        &'a self,
        fetcher: &'a dyn KeyFetcher,
        url: &'a str,
        kid: Option<&'a str>,
        now: u64,
    ) -> impl std::future::Future<Output = Result<Rc<Vec<PublicJwk>>, String>> + 'a {
        self.keys_within(fetcher, url, kid, now, MIN_REFETCH_MS)
    }

    /// [`RemoteKeys::keys`], refetching at most once per `min_refetch` ms.
    pub async fn keys_within(
        &self,
        fetcher: &dyn KeyFetcher,
        url: &str,
        kid: Option<&str>,
        now: u64,
        min_refetch: u64,
    ) -> Result<Rc<Vec<PublicJwk>>, String> {
        if let Some(answer) = self.cached(url, kid, now, min_refetch) {
            return answer;
        }
        // A request that finds a fetch of this URL in flight waits for it, then finds its
        // result here: the refetch throttle counts from that attempt.
        let lock = self.lock(url);
        let _held = lock.lock().await;
        if let Some(answer) = self.cached(url, kid, now, min_refetch) {
            return answer;
        }
        let fetched = fetcher
            .fetch(url)
            .await
            .and_then(|f| usable_keys(&f.body).map(|k| (k, f.cache_control)));
        self.fetching.borrow_mut().remove(url);
        self.store(url, kid, now, fetched)
    }

    fn lock(&self, url: &str) -> Rc<Lock> {
        let mut fetching = self.fetching.borrow_mut();
        if fetching.len() >= MAX_URLS && !fetching.contains_key(url) {
            fetching.clear();
        }
        fetching.entry(url.to_string()).or_default().clone()
    }

    /// The answer the cache can give without a fetch, if any.
    fn cached(
        &self,
        url: &str,
        kid: Option<&str>,
        now: u64,
        min_refetch: u64,
    ) -> Option<Result<Rc<Vec<PublicJwk>>, String>> {
        let entries = self.entries.borrow();
        let e = entries.get(url)?;
        let fresh = now.saturating_sub(e.fetched_at) < e.ttl && e.last_error.is_none();
        let throttled = now.saturating_sub(e.last_attempt) < min_refetch;
        if !((fresh && knows(&e.keys, kid)) || throttled) {
            return None;
        }
        // While the host is failing, a key the kept set lacks is an outage, not a wrong key:
        // the client may well have published it.
        Some(match &e.last_error {
            Some(err) if e.keys.is_empty() || !knows(&e.keys, kid) => Err(err.clone()),
            _ => Ok(e.keys.clone()),
        })
    }

    /// Records a fetch's outcome and answers from it.
    fn store(
        &self,
        url: &str,
        kid: Option<&str>,
        now: u64,
        fetched: Result<(Vec<PublicJwk>, Option<String>), String>,
    ) -> Result<Rc<Vec<PublicJwk>>, String> {
        let mut entries = self.entries.borrow_mut();
        let previous = entries.get(url).cloned();
        if entries.len() >= MAX_URLS && previous.is_none() {
            entries.clear();
        }
        match fetched {
            Ok((keys, cache_control)) => {
                let keys = Rc::new(keys);
                let e = Entry {
                    keys: keys.clone(),
                    good_at: now,
                    fetched_at: now,
                    ttl: ttl_from_cache_control(cache_control.as_deref()),
                    last_attempt: now,
                    last_error: None,
                };
                entries.insert(url.to_string(), e);
                Ok(keys)
            }
            Err(reason) => {
                let reason = format!("the client's jwks_uri could not be fetched: {reason}");
                // A failed refetch keeps the last good set in use, for a bounded time.
                let (keys, good_at) = previous
                    .filter(|e| now.saturating_sub(e.good_at) < MAX_STALE_MS)
                    .map_or_else(Default::default, |e| (e.keys, e.good_at));
                let e = Entry {
                    keys: keys.clone(),
                    good_at,
                    fetched_at: 0,
                    ttl: 0,
                    last_attempt: now,
                    last_error: Some(reason.clone()),
                };
                entries.insert(url.to_string(), e);
                if keys.is_empty() || !knows(&keys, kid) {
                    Err(reason)
                } else {
                    Ok(keys)
                }
            }
        }
    }
}

/// Whether `keys` hold `kid` (any key does when no kid is named).
fn knows(keys: &[PublicJwk], kid: Option<&str>) -> bool {
    kid.is_none_or(|k| keys.iter().any(|x| x.kid == k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{run_ready as run, MemoryFetcher};

    const URL: &str = "https://client.test/jwks";

    fn set(x: &str) -> String {
        format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"{x}","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}]}}"#
        )
    }

    #[test]
    fn cache_control_is_honoured_within_bounds() {
        assert_eq!(ttl_from_cache_control(None), 300_000);
        assert_eq!(ttl_from_cache_control(Some("public, max-age=600")), 600_000);
        assert_eq!(ttl_from_cache_control(Some("max-age=1")), MIN_TTL_MS);
        assert_eq!(ttl_from_cache_control(Some("max-age=999999")), MAX_TTL_MS);
        assert_eq!(ttl_from_cache_control(Some("no-store")), MIN_TTL_MS);
    }

    #[test]
    fn a_set_is_reused_until_its_ttl() {
        let (f, c) = (MemoryFetcher::default(), RemoteKeys::default());
        f.serve(URL, &set("a"), Some("max-age=120"));
        assert_eq!(run(c.keys(&f, URL, Some("a"), 0)).unwrap()[0].kid, "a");
        run(c.keys(&f, URL, Some("a"), 119_999)).unwrap();
        assert_eq!(f.fetches(), 1);
        run(c.keys(&f, URL, Some("a"), 120_000)).unwrap();
        assert_eq!(f.fetches(), 2);
    }

    #[test]
    fn an_unknown_kid_refetches_at_most_once_a_minute() {
        let (f, c) = (MemoryFetcher::default(), RemoteKeys::default());
        f.serve(URL, &set("a"), None);
        run(c.keys(&f, URL, None, 0)).unwrap();
        f.serve(URL, &set("b"), None);
        let keys = run(c.keys(&f, URL, Some("b"), 1_000)).unwrap();
        assert_eq!(keys[0].kid, "a", "throttled: the cached set answers");
        assert_eq!(f.fetches(), 1);
        let keys = run(c.keys(&f, URL, Some("b"), MIN_REFETCH_MS)).unwrap();
        assert_eq!(keys[0].kid, "b");
        assert_eq!(f.fetches(), 2);
    }

    #[test]
    fn a_failed_refetch_keeps_the_cached_set_and_no_set_is_an_error() {
        let (f, c) = (MemoryFetcher::default(), RemoteKeys::default());
        f.serve(URL, &set("a"), Some("max-age=60"));
        run(c.keys(&f, URL, None, 0)).unwrap();
        f.fail(URL, "timed out");
        assert_eq!(run(c.keys(&f, URL, None, 61_000)).unwrap()[0].kid, "a");
        let other = "https://other.test/jwks";
        f.fail(other, "HTTP 500");
        assert_eq!(
            run(c.keys(&f, other, None, 0)).unwrap_err(),
            "the client's jwks_uri could not be fetched: HTTP 500"
        );
        assert_eq!(
            run(c.keys(&f, other, None, 1)).unwrap_err(),
            "the client's jwks_uri could not be fetched: HTTP 500"
        );
        assert_eq!(f.fetches(), 3, "the second failure was throttled");
        // A key the kept set lacks, while the host fails, is the outage's error.
        assert_eq!(
            run(c.keys(&f, URL, Some("new"), 200_000)).unwrap_err(),
            "the client's jwks_uri could not be fetched: timed out"
        );
        assert_eq!(
            run(c.keys(&f, URL, Some("a"), 200_001)).unwrap()[0].kid,
            "a"
        );
    }

    /// A fetcher whose answers wait until the test opens the gate.
    #[derive(Default)]
    struct GateFetcher {
        open: std::cell::Cell<bool>,
        fetches: std::cell::Cell<u64>,
    }

    impl KeyFetcher for GateFetcher {
        fn fetch<'a>(
            &'a self,
            _url: &'a str,
        ) -> crate::support::LocalFuture<'a, Result<crate::ports::Fetched, String>> {
            self.fetches.set(self.fetches.get() + 1);
            Box::pin(std::future::poll_fn(move |_| {
                if !self.open.get() {
                    return std::task::Poll::Pending;
                }
                std::task::Poll::Ready(Ok(crate::ports::Fetched {
                    body: set("b").into_bytes(),
                    cache_control: None,
                }))
            }))
        }
    }

    #[test]
    fn concurrent_requests_share_one_fetch_per_url() {
        use std::future::Future;
        let (f, c) = (GateFetcher::default(), RemoteKeys::default());
        let both = futures_util::future::join3(
            c.keys(&f, URL, Some("b"), 0),
            c.keys(&f, URL, Some("b"), 0),
            c.keys(&f, URL, Some("b"), 1),
        );
        let mut both = std::pin::pin!(both);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(both.as_mut().poll(&mut cx).is_pending());
        assert_eq!(
            f.fetches.get(),
            1,
            "the others wait for the fetch in flight"
        );
        f.open.set(true);
        // Each waiter is woken in turn; a few polls let all of them finish.
        let mut answers = None;
        for _ in 0..5 {
            if let std::task::Poll::Ready(v) = both.as_mut().poll(&mut cx) {
                answers = Some(v);
                break;
            }
        }
        let (a, b, d) = answers.expect("all answered");
        assert_eq!(
            (a.unwrap()[0].kid.as_str(), b.unwrap()[0].kid.as_str()),
            ("b", "b")
        );
        assert_eq!(d.unwrap()[0].kid, "b");
        assert_eq!(f.fetches.get(), 1);
    }

    #[test]
    fn the_last_good_set_is_kept_through_failures_for_a_day_at_most() {
        let (f, c) = (MemoryFetcher::default(), RemoteKeys::default());
        f.serve(URL, &set("a"), Some("max-age=60"));
        run(c.keys(&f, URL, None, 0)).unwrap();
        f.fail(URL, "HTTP 500");
        assert_eq!(run(c.keys(&f, URL, None, 61_000)).unwrap()[0].kid, "a");
        let late = MAX_STALE_MS - 1;
        assert_eq!(run(c.keys(&f, URL, None, late)).unwrap()[0].kid, "a");
        assert_eq!(
            run(c.keys(&f, URL, None, MAX_STALE_MS + MIN_REFETCH_MS)).unwrap_err(),
            "the client's jwks_uri could not be fetched: HTTP 500"
        );
    }
}
