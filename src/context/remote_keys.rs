//! Keys of clients registered with a `jwks_uri`: fetched through [`KeyFetcher`], kept in the
//! isolate for a bounded time that honours `Cache-Control`, refetched at most once a minute
//! per URL when an unknown `kid` arrives, and kept in use when a refetch fails.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::jose::jwk::usable_keys;
use crate::jose::PublicJwk;
use crate::ports::KeyFetcher;

/// Shortest and longest time a fetched set is trusted, and the default without `max-age`.
pub const MIN_TTL_MS: u64 = 60_000;
/// Longest time a fetched set is trusted.
pub const MAX_TTL_MS: u64 = 3_600_000;
const DEFAULT_TTL_MS: u64 = 300_000;
/// Least time between two fetches of one URL, whatever the requests ask for.
pub const MIN_REFETCH_MS: u64 = 60_000;
const MAX_URLS: usize = 256;

#[derive(Debug, Clone)]
struct Entry {
    keys: Rc<Vec<PublicJwk>>,
    fetched_at: u64,
    ttl: u64,
    last_attempt: u64,
    last_error: Option<String>,
}

/// The isolate's cache of remote key sets, by URL.
#[derive(Debug, Default)]
pub struct RemoteKeys {
    entries: RefCell<HashMap<String, Entry>>,
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
    pub async fn keys(
        &self,
        fetcher: &dyn KeyFetcher,
        url: &str,
        kid: Option<&str>,
        now: u64,
    ) -> Result<Rc<Vec<PublicJwk>>, String> {
        let entry = self.entries.borrow().get(url).cloned();
        let knows_kid = |keys: &[PublicJwk]| kid.is_none_or(|k| keys.iter().any(|x| x.kid == k));
        if let Some(e) = &entry {
            let fresh = now.saturating_sub(e.fetched_at) < e.ttl && e.last_error.is_none();
            let throttled = now.saturating_sub(e.last_attempt) < MIN_REFETCH_MS;
            if (fresh && knows_kid(&e.keys)) || throttled {
                // While the host is failing, a key the kept set lacks is an outage, not a
                // wrong key: the client may well have published it.
                return match &e.last_error {
                    Some(err) if e.keys.is_empty() || !knows_kid(&e.keys) => Err(err.clone()),
                    _ => Ok(e.keys.clone()),
                };
            }
        }
        let fetched = fetcher
            .fetch(url)
            .await
            .and_then(|f| usable_keys(&f.body).map(|k| (k, f.cache_control)));
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_URLS && !entries.contains_key(url) {
            entries.clear();
        }
        match fetched {
            Ok((keys, cache_control)) => {
                let keys = Rc::new(keys);
                let e = Entry {
                    keys: keys.clone(),
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
                // A failed refetch keeps the last good set in use.
                let keys = entry.map(|e| e.keys).unwrap_or_default();
                let e = Entry {
                    keys: keys.clone(),
                    fetched_at: 0,
                    ttl: 0,
                    last_attempt: now,
                    last_error: Some(reason.clone()),
                };
                entries.insert(url.to_string(), e);
                if keys.is_empty() || !knows_kid(&keys) {
                    Err(reason)
                } else {
                    Ok(keys)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryFetcher;

    const URL: &str = "https://client.test/jwks";

    fn set(x: &str) -> String {
        format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"{x}","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}]}}"#
        )
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        let mut f = std::pin::pin!(f);
        match f
            .as_mut()
            .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
        {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("pending"),
        }
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
}
