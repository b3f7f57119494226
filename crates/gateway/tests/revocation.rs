//! Routes with `revocation`: the issuer's introspection is asked after offline verification,
//! answers are remembered for at most 5 s, and an issuer that cannot answer fails closed.

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use edgeauth_gateway::{Gateway, Outcome, Settings};
use serde_json::json;
use support::*;

const ROUTES: &str = r#"[
  {"prefix": "/live/", "audience": "https://api.example.com", "revocation": true,
   "upstream": {"url": "http://up.internal:9000"}},
  {"prefix": "/cached/", "audience": "https://api.example.com",
   "upstream": {"url": "http://up.internal:9000"}}
]"#;

fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
    Settings::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

/// The vars of a gateway with revocation routes and its introspection credential.
const VARS: [(&str, &str); 4] = [
    ("ISSUER", ISS),
    ("ROUTES", ROUTES),
    ("INTROSPECTION_CLIENT_ID", "gw"),
    ("INTROSPECTION_CLIENT_SECRET", "s3cret"),
];

fn gateway(keys: &Keys) -> Gateway<&Keys> {
    let s = settings(&VARS).unwrap();
    Gateway::new(s, keys)
}

fn get(g: &Gateway<&Keys>, now: u64, path: &str, token: &str) -> Outcome {
    let bearer = format!("Bearer {token}");
    run_at(
        g,
        now,
        "GET",
        &format!("https://gw.example.com{path}"),
        &[("authorization", &bearer)],
    )
}

#[test]
fn an_active_token_is_forwarded_after_asking_the_issuer_as_the_configured_client() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let t = token(json!({}));
    let f = forwarded(get(&g, NOW, "/live/items", &t));
    assert_eq!(header(&f.headers, "x-client-id"), Some("c1"));
    let calls = keys.introspected.borrow();
    assert_eq!(calls.len(), 1);
    let (url, authorization, body) = &calls[0];
    assert_eq!(url, &format!("{ISS}/oauth/introspect"));
    assert_eq!(
        authorization,
        &format!("Basic {}", STANDARD.encode("gw:s3cret"))
    );
    // A JWT is all unreserved characters and dots: form encoding leaves it as it is.
    assert_eq!(body, &format!("token={t}"));
}

#[test]
fn an_inactive_token_is_refused_with_the_exact_challenge() {
    let keys = Keys::default();
    keys.revoked.set(true);
    let g = gateway(&keys);
    let r = replied(get(&g, NOW, "/live/items", &token(json!({}))));
    assert_eq!(r.status, 401);
    assert_eq!(
        body(&r),
        json!({"error": "invalid_token", "error_description": "the token was revoked"})
    );
    assert_eq!(
        header(&r.headers, "www-authenticate"),
        Some(
            r#"Bearer realm="api", error="invalid_token", error_description="the token was revoked""#
        )
    );
    // A route without revocation still passes the same token offline, asking nothing.
    forwarded(get(&g, NOW, "/cached/items", &token(json!({}))));
    assert_eq!(keys.introspected.borrow().len(), 1);
}

#[test]
fn answers_are_remembered_for_at_most_five_seconds() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let t = token(json!({}));
    forwarded(get(&g, NOW, "/live/a", &t));
    keys.revoked.set(true);
    // Within 5 s the remembered answer stands, and the issuer is not asked.
    forwarded(get(&g, NOW + 4, "/live/b", &t));
    assert_eq!(keys.introspected.borrow().len(), 1);
    // Another token (another jti) is asked about on its own.
    let other = token(json!({"jti": "j2"}));
    replied(get(&g, NOW + 4, "/live/a", &other));
    assert_eq!(keys.introspected.borrow().len(), 2);
    // 5 s on, the issuer is asked again, and the revocation bites.
    let r = replied(get(&g, NOW + 5, "/live/a", &t));
    assert_eq!(r.status, 401);
    assert_eq!(keys.introspected.borrow().len(), 3);
    // A refusal is remembered too.
    keys.revoked.set(false);
    assert_eq!(replied(get(&g, NOW + 6, "/live/a", &t)).status, 401);
    assert_eq!(keys.introspected.borrow().len(), 3);
}

#[test]
fn tokens_refused_offline_cost_the_issuer_nothing() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let expired = token(json!({"exp": NOW - 61}));
    let r = replied(get(&g, NOW, "/live/a", &expired));
    assert_eq!(body(&r)["error_description"], "the token has expired");
    let forged = format!("{}AAAA", &token(json!({}))[..300]);
    assert_eq!(replied(get(&g, NOW, "/live/a", &forged)).status, 401);
    assert!(keys.introspected.borrow().is_empty());
}

#[test]
fn an_issuer_that_cannot_answer_is_a_503_with_retry_after_never_a_pass() {
    let failures: [(Answer, &str); 4] = [
        (Err("connection refused".into()), "connection refused"),
        (Ok((401, vec![])), "answered 401"),
        (Ok((500, vec![])), "answered 500"),
        (Ok((200, b"<html>".to_vec())), "no {\"active\": bool}"),
    ];
    for (answer, logged) in failures {
        let keys = Keys::default();
        *keys.introspection.borrow_mut() = Some(answer);
        let g = gateway(&keys);
        let t = token(json!({}));
        let r = replied(get(&g, NOW, "/live/a", &t));
        assert_eq!(r.status, 503, "{logged}");
        assert_eq!(body(&r)["error"], "temporarily_unavailable");
        assert_eq!(header(&r.headers, "retry-after"), Some("5"));
        assert_eq!(header(&r.headers, "www-authenticate"), None);
        let log = r.log.expect("a log line");
        assert!(log.contains(logged), "{log}");
        assert!(!log.contains("s3cret") && !log.contains(&t), "{log}");
        // A failure is not remembered: the next request asks again, and passes once it can.
        *keys.introspection.borrow_mut() = None;
        forwarded(get(&g, NOW, "/live/a", &t));
        assert_eq!(keys.introspected.borrow().len(), 2);
    }
}

#[test]
fn revocation_settings_are_validated() {
    let base = [("ISSUER", ISS), ("ROUTES", ROUTES)];
    let err = settings(&base).unwrap_err();
    assert_eq!(
        err,
        "ROUTES[0] checks revocation but INTROSPECTION_CLIENT_ID and \
         INTROSPECTION_CLIENT_SECRET are not set"
    );
    let only_id = [base[0], base[1], ("INTROSPECTION_CLIENT_ID", "gw")];
    assert!(settings(&only_id)
        .unwrap_err()
        .starts_with("INTROSPECTION_CLIENT_SECRET is not set"));
    let long = "x".repeat(513);
    let too_long = [
        base[0],
        base[1],
        ("INTROSPECTION_CLIENT_ID", "gw"),
        ("INTROSPECTION_CLIENT_SECRET", long.as_str()),
    ];
    let err = settings(&too_long).unwrap_err();
    assert!(
        err.starts_with("INTROSPECTION_CLIENT_SECRET must be"),
        "{err}"
    );
    assert!(!err.contains(&long));
    let public = r#"[{"prefix": "/", "public": true, "revocation": true}]"#;
    let err = settings(&[("ISSUER", ISS), ("ROUTES", public)]).unwrap_err();
    assert!(
        err.starts_with("ROUTES[0].revocation needs a token"),
        "{err}"
    );
    // Without revocation routes, no credential is needed; with one, Debug hides the secret.
    let none = r#"[{"prefix": "/", "audience": "https://api.example.com"}]"#;
    assert!(settings(&[("ISSUER", ISS), ("ROUTES", none)])
        .unwrap()
        .introspection
        .is_none());
    let s = settings(&VARS).unwrap();
    assert_eq!(s.introspection.as_ref().unwrap().client_id, "gw");
    assert!(!format!("{s:?}").contains("s3cret"));
}
