//! The remote key source's cache rules, on a fake fetcher and fake time.

mod support;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use edgeauth_verify::{
    ttl_from_cache_control, Fetch, FetchResponse, RemoteJwks, Verifier, VerifyError,
    MAX_JWKS_BYTES, MAX_STALE, MAX_TTL, MIN_TTL, REFETCH_COOLDOWN,
};
use futures_util::FutureExt;
use serde_json::json;
use support::*;

const URL: &str = "https://auth.example.com/.well-known/jwks.json";

/// Serves what the test sets; counts fetches; holds answers while `closed`.
#[derive(Default)]
struct FakeFetch {
    answer: RefCell<Option<Result<FetchResponse, String>>>,
    fetches: Cell<u32>,
    closed: Cell<bool>,
    max_body_seen: Cell<usize>,
}

impl FakeFetch {
    fn serve(&self, body: String, cache_control: Option<&str>) {
        *self.answer.borrow_mut() = Some(Ok(FetchResponse {
            status: 200,
            cache_control: cache_control.map(String::from),
            body: body.into_bytes(),
        }));
    }

    fn respond(&self, answer: Result<FetchResponse, String>) {
        *self.answer.borrow_mut() = Some(answer);
    }
}

impl Fetch for &FakeFetch {
    fn get(
        &self,
        url: &str,
        max_body: usize,
    ) -> impl Future<Output = Result<FetchResponse, String>> {
        assert_eq!(url, URL);
        self.fetches.set(self.fetches.get() + 1);
        self.max_body_seen.set(max_body);
        std::future::poll_fn(move |_| {
            if self.closed.get() {
                return Poll::Pending;
            }
            Poll::Ready(self.answer.borrow().clone().expect("an answer is set"))
        })
    }
}

fn remote(f: &FakeFetch) -> Verifier<RemoteJwks<&FakeFetch>> {
    Verifier::new(ISS, [API], RemoteJwks::new(URL, f))
}

/// A token signed by key `seed`, naming it, valid for longer than the cache keeps anything.
fn by(seed: u8) -> String {
    let claims = with("exp", json!(NOW + 2 * MAX_STALE));
    sign_raw(
        seed,
        &with_header("kid", json!(kid(seed))).to_string(),
        &claims.to_string(),
    )
}

/// Verifies at `now`; the fake fetcher answers at once, so this never waits.
fn verify(
    v: &Verifier<RemoteJwks<&FakeFetch>>,
    token: &str,
    now: u64,
) -> Result<String, VerifyError> {
    v.verify(token, now)
        .now_or_never()
        .expect("ready")
        .map(|c| c.client_id)
}

#[test]
fn cache_control_max_age_is_clamped_to_one_to_ten_minutes() {
    assert_eq!(ttl_from_cache_control(None), 300);
    assert_eq!(ttl_from_cache_control(Some("public, max-age=120")), 120);
    assert_eq!(ttl_from_cache_control(Some("Max-Age=\"240\"")), 240);
    assert_eq!(ttl_from_cache_control(Some("max-age=1")), MIN_TTL);
    assert_eq!(ttl_from_cache_control(Some("max-age=0")), MIN_TTL);
    assert_eq!(ttl_from_cache_control(Some("max-age=86400")), MAX_TTL);
    assert_eq!(ttl_from_cache_control(Some("max-age=junk")), MIN_TTL);
    assert_eq!(
        ttl_from_cache_control(Some("max-age=600, no-store")),
        MIN_TTL
    );
    assert_eq!(ttl_from_cache_control(Some("no-cache")), MIN_TTL);
}

#[test]
fn a_set_is_refetched_when_its_clamped_max_age_runs_out() {
    let f = FakeFetch::default();
    let v = remote(&f);
    f.serve(jwks_json(&[1]), Some("max-age=120"));
    assert_eq!(verify(&v, &by(1), NOW), Ok("c1".into()));
    assert_eq!(verify(&v, &by(1), NOW + 119), Ok("c1".into()));
    assert_eq!(f.fetches.get(), 1);
    // A day-long max-age is trusted ten minutes.
    f.serve(jwks_json(&[1]), Some("max-age=86400"));
    assert_eq!(verify(&v, &by(1), NOW + 120), Ok("c1".into()));
    assert_eq!(f.fetches.get(), 2);
    assert_eq!(verify(&v, &by(1), NOW + 120 + 599), Ok("c1".into()));
    assert_eq!(f.fetches.get(), 2);
    assert_eq!(verify(&v, &by(1), NOW + 120 + 600), Ok("c1".into()));
    assert_eq!(f.fetches.get(), 3);
    assert_eq!(f.max_body_seen.get(), MAX_JWKS_BYTES);
}

#[test]
fn an_unknown_kid_refetches_at_most_once_per_cooldown() {
    let f = FakeFetch::default();
    let v = remote(&f);
    f.serve(jwks_json(&[1]), Some("max-age=600"));
    assert!(verify(&v, &by(1), NOW).is_ok());
    // The issuer rotates: key 2 is published, the cache still holds key 1 only.
    f.serve(jwks_json(&[2, 1]), Some("max-age=600"));
    assert_eq!(
        verify(&v, &by(2), NOW + REFETCH_COOLDOWN - 1),
        Err(VerifyError::UnknownKey)
    );
    assert_eq!(f.fetches.get(), 1, "within the cooldown: no fetch");
    assert_eq!(verify(&v, &by(2), NOW + REFETCH_COOLDOWN), Ok("c1".into()));
    assert_eq!(f.fetches.get(), 2);
    // A flood of forged kids costs one fetch per cooldown, not one per token.
    let bogus = sign_raw(
        3,
        &with_header("kid", json!("nope")).to_string(),
        &claims().to_string(),
    );
    for t in 0..REFETCH_COOLDOWN {
        let now = NOW + REFETCH_COOLDOWN * 2 + t;
        assert_eq!(verify(&v, &bogus, now), Err(VerifyError::UnknownKey));
    }
    assert_eq!(f.fetches.get(), 3);
    assert!(verify(&v, &by(1), NOW + REFETCH_COOLDOWN * 3).is_ok());
    assert_eq!(
        f.fetches.get(),
        3,
        "a known kid in a fresh set needs no fetch"
    );
}

#[test]
fn concurrent_verifies_share_one_fetch() {
    let f = FakeFetch::default();
    let v = remote(&f);
    f.serve(jwks_json(&[1]), None);
    f.closed.set(true);
    let (t1, t2) = (by(1), by(1));
    let all = futures_util::future::join3(
        v.verify(&t1, NOW),
        v.verify(&t2, NOW),
        v.verify(&t1, NOW + 1),
    );
    let mut all = pin!(all);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(all.as_mut().poll(&mut cx).is_pending());
    assert_eq!(
        f.fetches.get(),
        1,
        "the others wait for the fetch in flight"
    );
    f.closed.set(false);
    // Each waiter is woken in turn when the lock passes; a few polls let all of them finish.
    let done = (0..5).find_map(|_| match all.as_mut().poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    });
    let (a, b, c) = done.expect("all answered");
    assert_eq!(
        (a.unwrap().jti, b.unwrap().jti, c.unwrap().jti),
        ("j1".into(), "j1".into(), "j1".into())
    );
    assert_eq!(f.fetches.get(), 1);
}

#[test]
fn a_failed_fetch_keeps_the_last_good_set_for_a_bounded_time() {
    let f = FakeFetch::default();
    let v = remote(&f);
    f.serve(jwks_json(&[1]), Some("max-age=60"));
    assert!(verify(&v, &by(1), NOW).is_ok());
    f.respond(Err("connection reset".into()));
    assert_eq!(
        verify(&v, &by(1), NOW + 61),
        Ok("c1".into()),
        "stale but kept"
    );
    assert_eq!(f.fetches.get(), 2);
    assert_eq!(v.keys().last_error().as_deref(), Some("connection reset"));
    // While the issuer is down, an unknown kid is an outage, not a forgery.
    assert_eq!(
        verify(&v, &by(2), NOW + 62),
        Err(VerifyError::KeysUnavailable)
    );
    assert_eq!(verify(&v, &by(1), NOW + MAX_STALE - 1), Ok("c1".into()));
    assert_eq!(
        verify(&v, &by(1), NOW + MAX_STALE),
        Err(VerifyError::KeysUnavailable)
    );
    // Recovery replaces the set and clears the error.
    f.serve(jwks_json(&[2]), None);
    let later = NOW + MAX_STALE + REFETCH_COOLDOWN;
    assert_eq!(verify(&v, &by(2), later), Ok("c1".into()));
    assert_eq!(v.keys().last_error(), None);
    assert_eq!(verify(&v, &by(1), later + 1), Err(VerifyError::UnknownKey));
}

#[test]
fn without_a_good_set_a_failure_is_unavailable_and_retried_after_the_cooldown() {
    let f = FakeFetch::default();
    let v = remote(&f);
    f.respond(Ok(FetchResponse {
        status: 500,
        cache_control: None,
        body: b"oops".to_vec(),
    }));
    assert_eq!(verify(&v, &by(1), NOW), Err(VerifyError::KeysUnavailable));
    assert_eq!(v.keys().last_error().as_deref(), Some("HTTP 500"));
    assert_eq!(
        verify(&v, &by(1), NOW + REFETCH_COOLDOWN - 1),
        Err(VerifyError::KeysUnavailable)
    );
    assert_eq!(f.fetches.get(), 1);
    f.serve(jwks_json(&[1]), None);
    assert_eq!(verify(&v, &by(1), NOW + REFETCH_COOLDOWN), Ok("c1".into()));
}

#[test]
fn oversized_or_invalid_bodies_are_failed_fetches() {
    let f = FakeFetch::default();
    let v = remote(&f);
    let mut big = jwks_json(&[1]);
    big.push_str(&" ".repeat(MAX_JWKS_BYTES + 1 - big.len()));
    f.serve(big, None);
    assert_eq!(verify(&v, &by(1), NOW), Err(VerifyError::KeysUnavailable));
    assert_eq!(
        v.keys().last_error(),
        Some(format!("the body is over {MAX_JWKS_BYTES} bytes"))
    );
    let mut fits = jwks_json(&[1]);
    fits.push_str(&" ".repeat(MAX_JWKS_BYTES - fits.len()));
    f.serve(fits, None);
    assert!(verify(&v, &by(1), NOW + REFETCH_COOLDOWN).is_ok());

    let g = FakeFetch::default();
    let w = remote(&g);
    let private = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"AA"}]}"#;
    g.serve(private.into(), None);
    assert_eq!(verify(&w, &by(1), NOW), Err(VerifyError::KeysUnavailable));
    assert_eq!(
        w.keys().last_error().as_deref(),
        Some("the JWK Set holds private or symmetric key material")
    );
}

#[test]
fn header_checks_run_before_any_fetch() {
    let f = FakeFetch::default();
    let v = remote(&f);
    let hs = token(&with_header("alg", json!("HS256")), &claims());
    assert_eq!(verify(&v, &hs, NOW), Err(VerifyError::AlgorithmNotAllowed));
    assert_eq!(verify(&v, "x.y", NOW), Err(VerifyError::Malformed));
    assert_eq!(f.fetches.get(), 0, "garbage never makes the verifier fetch");
}
