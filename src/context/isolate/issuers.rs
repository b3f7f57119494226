//! Where federated issuers keep their keys: the `jwks_uri` of each issuer's OpenID discovery
//! document (`{issuer}/.well-known/openid-configuration`), fetched through [`KeyFetcher`] (so
//! under the same deadline, size cap and no-redirect rule as key sets), kept for the time its
//! `Cache-Control` allows within the key sets' bounds, fetched again at most every
//! [`ISSUER_REFETCH_MS`] while it fails, and kept in use through failures for at most
//! [`MAX_STALE_MS`].

use serde_json::Value;

use crate::context::isolate::remote_keys::{
    ttl_from_cache_control, ISSUER_REFETCH_MS, MAX_STALE_MS,
};
use crate::error::Error;
use crate::ports::KeyFetcher;
use crate::support::cache::Recent;
use crate::support::json;
use crate::support::uri::HttpUrl;

/// Most issuers kept; a client holds at most 20 credentials, and few clients differ in issuer.
const MAX_ISSUERS: usize = 64;
/// The discovery document's path below the issuer (OpenID Connect Discovery 1.0 section 4).
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

#[derive(Debug, Clone)]
struct Entry {
    /// The last good `jwks_uri`, and when it was read.
    good: Option<(String, u64)>,
    fetched_at: u64,
    ttl: u64,
    last_attempt: u64,
    /// Why the last attempt failed, if it did: whether it was an outage, and the reason.
    last_error: Option<(bool, String)>,
}

/// The isolate's discovered `jwks_uri` by issuer.
#[derive(Debug)]
pub struct Issuers(Recent<String, Entry>);

impl Default for Issuers {
    fn default() -> Issuers {
        Issuers(Recent::new(MAX_ISSUERS))
    }
}

impl Issuers {
    /// The `jwks_uri` that `issuer`'s discovery document names. An issuer that cannot be
    /// reached is [`Error::KeysUnavailable`] (retry); a document that names another issuer or
    /// a `jwks_uri` that is not https is [`Error::Unproven`]: nothing can be verified with it.
    pub async fn jwks_uri(
        &self,
        fetcher: &dyn KeyFetcher,
        issuer: &str,
        now: u64,
    ) -> Result<String, Error> {
        let previous = self.0.get(issuer);
        if let Some(e) = &previous {
            let fresh = now.saturating_sub(e.fetched_at) < e.ttl && e.last_error.is_none();
            let throttled = now.saturating_sub(e.last_attempt) < ISSUER_REFETCH_MS;
            if fresh || throttled {
                return answer(e);
            }
        }
        let url = format!("{issuer}{DISCOVERY_PATH}");
        let fetched = fetcher.fetch(&url).await;
        let read = fetched
            .map_err(|e| (true, format!("{url} could not be fetched: {e}")))
            .and_then(|f| read(&f.body, issuer).map(|uri| (uri, f.cache_control)));
        let entry = match read {
            Ok((uri, cache_control)) => Entry {
                good: Some((uri, now)),
                fetched_at: now,
                ttl: ttl_from_cache_control(cache_control.as_deref()),
                last_attempt: now,
                last_error: None,
            },
            // An issuer that fails keeps its last good answer in use, for a bounded time.
            Err(e) => Entry {
                good: previous
                    .and_then(|p| p.good)
                    .filter(|(_, at)| now.saturating_sub(*at) < MAX_STALE_MS),
                fetched_at: 0,
                ttl: 0,
                last_attempt: now,
                last_error: Some(e),
            },
        };
        let result = answer(&entry);
        self.0.remove(issuer);
        self.0.put(issuer.to_string(), entry);
        result
    }
}

fn answer(e: &Entry) -> Result<String, Error> {
    match (&e.good, &e.last_error) {
        (Some((uri, _)), _) => Ok(uri.clone()),
        (None, Some((true, why))) => Err(Error::KeysUnavailable(why.clone())),
        (None, Some((false, why))) => Err(Error::Unproven(why.clone())),
        (None, None) => Err(Error::KeysUnavailable("no discovery document".into())),
    }
}

/// The document's `jwks_uri`, if the document is `issuer`'s and the URI is https (plain http
/// only on this machine, for tests); else whether it is an outage, and why.
fn read(body: &[u8], issuer: &str) -> Result<String, (bool, String)> {
    let doc: Value = json::from_slice(body).map_err(|_| {
        (
            true,
            format!("{issuer}{DISCOVERY_PATH} is not a JSON discovery document"),
        )
    })?;
    let text = |name: &str| doc.get(name).and_then(Value::as_str);
    if text("issuer") != Some(issuer) {
        return Err((
            false,
            format!("the discovery document of {issuer} names another issuer"),
        ));
    }
    match text("jwks_uri") {
        Some(uri) if HttpUrl::parse(uri).is_some_and(|u| u.https || u.is_loopback()) => {
            Ok(uri.to_string())
        }
        _ => Err((
            false,
            format!("the discovery document of {issuer} has no https jwks_uri"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{run_ready as run, MemoryFetcher};

    const ISS: &str = "https://issuer.test";
    const DOC: &str = "https://issuer.test/.well-known/openid-configuration";

    fn doc(issuer: &str, jwks_uri: &str) -> String {
        format!(r#"{{"issuer":"{issuer}","jwks_uri":"{jwks_uri}"}}"#)
    }

    #[test]
    fn the_document_must_be_the_issuers_and_name_an_https_jwks_uri() {
        let (f, c) = (MemoryFetcher::default(), Issuers::default());
        f.serve(DOC, &doc(ISS, "https://issuer.test/keys"), None);
        assert_eq!(
            run(c.jwks_uri(&f, ISS, 0)).unwrap(),
            "https://issuer.test/keys"
        );
        let cases = [
            (
                doc("https://other.test", "https://issuer.test/keys"),
                "the discovery document of https://issuer.test names another issuer",
            ),
            (
                doc(ISS, "http://issuer.test/keys"),
                "the discovery document of https://issuer.test has no https jwks_uri",
            ),
            (
                r#"{"issuer":"https://issuer.test"}"#.to_string(),
                "the discovery document of https://issuer.test has no https jwks_uri",
            ),
        ];
        for (body, reason) in cases {
            let (f, c) = (MemoryFetcher::default(), Issuers::default());
            f.serve(DOC, &body, None);
            assert_eq!(
                run(c.jwks_uri(&f, ISS, 0)),
                Err(Error::Unproven(reason.into()))
            );
        }
        // Plain http on this machine only, for tests and local issuers.
        let local = "http://127.0.0.1:9999";
        let (f, c) = (MemoryFetcher::default(), Issuers::default());
        f.serve(
            &format!("{local}{DISCOVERY_PATH}"),
            &doc(local, "http://127.0.0.1:9999/jwks"),
            None,
        );
        assert_eq!(
            run(c.jwks_uri(&f, local, 0)).unwrap(),
            "http://127.0.0.1:9999/jwks"
        );
    }

    #[test]
    fn the_document_is_kept_for_its_ttl_and_through_failures() {
        let (f, c) = (MemoryFetcher::default(), Issuers::default());
        f.serve(DOC, &doc(ISS, "https://issuer.test/a"), Some("max-age=120"));
        run(c.jwks_uri(&f, ISS, 0)).unwrap();
        run(c.jwks_uri(&f, ISS, 119_999)).unwrap();
        assert_eq!(f.fetches(), 1);
        f.fail(DOC, "HTTP 500");
        assert_eq!(
            run(c.jwks_uri(&f, ISS, 120_000)).unwrap(),
            "https://issuer.test/a"
        );
        assert_eq!(f.fetches(), 2);
        // Failing: tried again at most every 30 s.
        run(c.jwks_uri(&f, ISS, 120_000 + ISSUER_REFETCH_MS - 1)).unwrap();
        assert_eq!(f.fetches(), 2);
        f.serve(DOC, &doc(ISS, "https://issuer.test/b"), None);
        assert_eq!(
            run(c.jwks_uri(&f, ISS, 120_000 + ISSUER_REFETCH_MS)).unwrap(),
            "https://issuer.test/b"
        );
    }

    #[test]
    fn an_unreachable_issuer_is_an_outage() {
        let (f, c) = (MemoryFetcher::default(), Issuers::default());
        f.fail(DOC, "timed out after 5 s");
        let outage = Err(Error::KeysUnavailable(format!(
            "{DOC} could not be fetched: timed out after 5 s"
        )));
        assert_eq!(run(c.jwks_uri(&f, ISS, 0)), outage);
        assert_eq!(run(c.jwks_uri(&f, ISS, 1_000)), outage);
        assert_eq!(f.fetches(), 1, "the second failure was throttled");
    }
}
