//! Token revocation (RFC 7009) and the admin's revocation of one token: who may revoke what,
//! that nothing else writes state, how long a revoked `jti` is held, the full list's
//! fail-closed fold, and the 5 s bound across isolates.

use edgeauth::registry::guard::MAX_REVOKED_TOKENS;
use edgeauth::support::cache::{CACHE_TTL_MS, REFRESH_AHEAD_MS};
use edgeauth::{IsolateState, Method, Request, Response};
use serde_json::{json, Value};

use crate::*;
use edgeauth::support::time::rfc3339;

const GRANT: &str = "grant_type=client_credentials&scope=read";

fn post(path: &str, authorization: Option<String>, form: &str) -> Request {
    let mut req = Request::new(Method::Post, &format!("{ORIGIN}{path}"))
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_body(form.to_string());
    if let Some(a) = authorization {
        req = req.with_header("authorization", &a);
    }
    req
}

fn revoke(h: &Harness, id: &str, secret: &str, form: &str) -> Response {
    h.send(post("/oauth/revoke", basic(id, secret), form))
}

fn introspect_in(h: &Harness, isolate: &IsolateState, token: &str) -> Value {
    body_json(&h.send_in(isolate, admin_introspect(token)))
}

fn active(h: &Harness, token: &str) -> bool {
    introspect_in(h, &h.isolate, token)["active"] == json!(true)
}

fn token(h: &Harness, id: &str, secret: &str) -> String {
    let r = h.token_basic(id, secret, GRANT);
    assert_eq!(r.status, 200);
    body_json(&r)["access_token"].as_str().unwrap().to_string()
}

fn jti(h: &Harness, token: &str) -> String {
    verify(h, token).1["jti"].as_str().unwrap().to_string()
}

/// The RFC 7009 success: 200, no body, not cacheable.
fn revoked_ok(r: &Response) {
    assert_eq!((r.status, r.body.len()), (200, 0), "{}", body_json(r));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

fn held(h: &Harness, id: &str) -> Value {
    let (status, v) = h.admin(
        Method::Get,
        &format!("/admin/clients/{id}/revoked-tokens"),
        None,
    );
    assert_eq!(status, 200, "{v}");
    v
}

fn events(h: &Harness, id: &str) -> Vec<Value> {
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}/audit"), None);
    v["events"].as_array().unwrap().clone()
}

fn revocation_events(h: &Harness, id: &str) -> Vec<Value> {
    events(h, id)
        .into_iter()
        .filter(|e| e["action"] == "client.token_revoked")
        .collect()
}

fn self_revocation_events(h: &Harness, id: &str) -> Vec<Value> {
    events(h, id)
        .into_iter()
        .filter(|e| e["action"] == "client.tokens_self_revoked")
        .collect()
}

fn self_revoked_detail(count: u32, hour: u64, at: u64) -> String {
    format!(
        "{count} token(s) revoked by the client in the hour from {} (count as of {})",
        rfc3339(hour),
        rfc3339(at)
    )
}

#[test]
fn a_client_revokes_its_own_token_and_only_that_one() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let (t1, t2) = (token(&h, &id, &secret), token(&h, &id, &secret));
    revoked_ok(&revoke(
        &h,
        &id,
        &secret,
        &format!("token={t1}&token_type_hint=access_token"),
    ));
    // At once in this isolate; the other token is untouched.
    assert_eq!(introspect_in(&h, &h.isolate, &t1), json!({"active": false}));
    assert!(active(&h, &t2));
    assert!(revocation_events(&h, &id).is_empty());
    let events = self_revocation_events(&h, &id);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor"], "client");
    assert_eq!(events[0]["detail"], self_revoked_detail(1, T0, T0));
    assert!(!events[0].to_string().contains(&t1));
    assert_eq!(
        held(&h, &id),
        json!({"revoked_tokens": [{"jti": jti(&h, &t1), "held_until": T0 + 3600 + 60}],
               "tokens_valid_after": null, "max_revoked_tokens": MAX_REVOKED_TOKENS})
    );
    // Revoking again answers the same and neither writes nor audits again. An unknown hint
    // is ignored (RFC 7009 2.2.1); the secret in the body works as at the token endpoint.
    let calls = h.guards.guard_calls();
    let form = format!(
        "token={t1}&token_type_hint=refresh_token&client_id={id}&client_secret={}",
        urlencode(&secret)
    );
    revoked_ok(&h.send(post("/oauth/revoke", None, &form)));
    assert_eq!(h.guards.guard_calls(), calls);
    assert_eq!(self_revocation_events(&h, &id).len(), 1);
    // The hint does not limit the search either.
    revoked_ok(&revoke(
        &h,
        &id,
        &secret,
        &format!("token={t2}&token_type_hint=refresh_token"),
    ));
    assert!(!active(&h, &t2));
}

#[test]
fn another_clients_token_is_refused_and_stays_active() {
    let h = Harness::new();
    let (a, a_secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let (b, b_secret) =
        h.create(json!({"client_name": "b", "scope": "read", "introspection_allowed": true}));
    let t = token(&h, &a, &a_secret);
    let r = revoke(&h, &b, &b_secret, &format!("token={t}"));
    assert_error(
        &r,
        400,
        "unauthorized_client",
        "the token was not issued to this client",
    );
    assert!(active(&h, &t));
    assert_eq!(held(&h, &a)["revoked_tokens"], json!([]));
    assert!(revocation_events(&h, &a).is_empty());
}

#[test]
fn garbage_forged_foreign_and_expired_tokens_answer_200_and_write_nothing() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let t = token(&h, &id, &secret);
    // Warm: the caller's record and guard state are cached, so any guard call below would be
    // a write.
    revoked_ok(&revoke(&h, &id, &secret, "token=warm-up"));
    let calls = h.guards.guard_calls();
    for bad in not_our_tokens(&id, &t) {
        revoked_ok(&revoke(
            &h,
            &id,
            &secret,
            &format!("token={}", urlencode(&bad)),
        ));
    }
    assert_eq!(h.guards.guard_calls(), calls);
    // Expired (past exp + skew): nothing to revoke, nothing held.
    h.clock.advance(3600 + 60);
    revoked_ok(&revoke(&h, &id, &secret, &format!("token={t}")));
    assert_eq!(
        held(&h, &id)["revoked_tokens"],
        json!([]),
        "nothing written"
    );
    assert!(revocation_events(&h, &id).is_empty());
    assert_eq!(h.guards.guarded(), 0, "no guard state at all");
}

#[test]
fn callers_must_authenticate_and_name_a_token_and_wrong_secrets_count_towards_the_lockout() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let t = token(&h, &id, &secret);
    let r = h.send(post("/oauth/revoke", None, &format!("token={t}")));
    assert_error(
        &r,
        401,
        "invalid_client",
        "client authentication is required (Basic, client_secret_post, an assertion, or client_id and a client certificate)",
    );
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"edgeauth\"")
    );
    assert_error(
        &revoke(&h, &id, &secret, "token_type_hint=access_token"),
        400,
        "invalid_request",
        "token is required",
    );
    let big = format!("token={}", "x".repeat(16 * 1024));
    assert_error(
        &revoke(&h, &id, &secret, &big),
        400,
        "invalid_request",
        "the request body is larger than 16384 bytes",
    );
    let get = h.send(Request::new(Method::Get, &format!("{ORIGIN}/oauth/revoke")));
    assert_eq!((get.status, get.header("allow")), (405, Some("POST")));
    for _ in 0..5 {
        let r = revoke(&h, &id, "wrong", &format!("token={t}"));
        assert_eq!(body_json(&r)["error"], "invalid_client");
    }
    let r = revoke(&h, &id, &secret, &format!("token={t}"));
    assert!(
        body_json(&r)["error_description"]
            .as_str()
            .unwrap()
            .starts_with("the client is locked"),
        "{}",
        body_json(&r)
    );
    assert!(active(&h, &t), "a refused revocation revokes nothing");
}

#[test]
fn a_revoked_jti_is_held_until_exp_plus_skew_and_then_forgotten() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let t = token(&h, &id, &secret);
    revoked_ok(&revoke(&h, &id, &secret, &format!("token={t}")));
    h.clock.advance(3600 + 59);
    assert_eq!(held(&h, &id)["revoked_tokens"][0]["jti"], jti(&h, &t));
    assert!(!active(&h, &t));
    h.clock.advance(1);
    assert_eq!(held(&h, &id)["revoked_tokens"], json!([]));
    assert_eq!(h.guards.guarded(), 0, "the guard state is empty again");
}

/// The bound the README states: a revocation made in one isolate is seen by another isolate's
/// introspection once its cached guard state (at most 5 s old) is read again.
#[test]
fn a_revocation_bites_in_another_isolate_within_the_guard_cache_time() {
    let h = Harness::new();
    let other = IsolateState::default();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let t = token(&h, &id, &secret);
    assert_eq!(introspect_in(&h, &other, &t)["active"], true);
    revoked_ok(&revoke(&h, &id, &secret, &format!("token={t}")));
    // Until its last second the other isolate uses its copy; then one request reads again.
    h.clock.advance_ms(CACHE_TTL_MS - REFRESH_AHEAD_MS - 1);
    assert_eq!(
        introspect_in(&h, &other, &t)["active"],
        true,
        "still within the other isolate's cache time"
    );
    h.clock.advance_ms(REFRESH_AHEAD_MS + 1);
    assert_eq!(introspect_in(&h, &other, &t), json!({"active": false}));
}

#[test]
fn a_full_revocation_list_folds_its_oldest_into_the_mark_revoking_more_never_less() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let (oldest, bystander) = (token(&h, &id, &secret), token(&h, &id, &secret));
    h.clock.advance(5);
    let later = token(&h, &id, &secret);
    revoked_ok(&revoke(&h, &id, &secret, &format!("token={oldest}")));
    let path = format!("/admin/clients/{id}/revoked-tokens");
    for i in 1..MAX_REVOKED_TOKENS {
        let (status, _) = h.admin(Method::Post, &path, Some(json!({"jti": format!("j{i}")})));
        assert_eq!(status, 200);
    }
    assert_eq!(
        held(&h, &id)["revoked_tokens"].as_array().unwrap().len(),
        MAX_REVOKED_TOKENS
    );
    h.clock.advance(5);
    let newest = token(&h, &id, &secret);
    revoked_ok(&revoke(&h, &id, &secret, &format!("token={newest}")));
    let v = held(&h, &id);
    assert_eq!(
        v["tokens_valid_after"], T0,
        "the oldest revoked token's iat"
    );
    assert_eq!(
        v["revoked_tokens"].as_array().unwrap().len(),
        MAX_REVOKED_TOKENS
    );
    // Every token asked for is revoked; the one issued with the oldest is too, one later is not.
    for t in [&oldest, &newest, &bystander] {
        assert!(!active(&h, t));
    }
    assert!(active(&h, &later));
}

#[test]
fn a_client_revokes_at_most_sixty_of_its_tokens_a_minute_and_they_are_one_event_an_hour() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    h.clock.advance(15);
    let tokens: Vec<String> = (0..62).map(|_| token(&h, &id, &secret)).collect();
    // Another isolate that has read the guard before the revocations below.
    let other = IsolateState::default();
    let warm = h.send_in(&other, admin_introspect(&tokens[0]));
    assert_eq!(body_json(&warm)["active"], true);
    for t in &tokens[..60] {
        revoked_ok(&revoke(&h, &id, &secret, &format!("token={t}")));
    }
    let calls = h.guards.guard_calls();
    let r = revoke(&h, &id, &secret, &format!("token={}", tokens[60]));
    assert_error(
        &r,
        429,
        "too_many_requests",
        "a client may revoke at most 60 of its own tokens a minute; retry in 45 s",
    );
    assert_eq!(r.header("retry-after"), Some("45"));
    assert_eq!(
        h.guards.guard_calls(),
        calls,
        "refused from what the isolate knows"
    );
    assert!(active(&h, &tokens[60]));
    // The other isolate does not know yet: the guard itself refuses, and nothing changes.
    let req = post(
        "/oauth/revoke",
        basic(&id, &secret),
        &format!("token={}", tokens[60]),
    );
    assert_eq!(h.send_in(&other, req).status, 429);
    assert!(active(&h, &tokens[60]));
    // One event for the hour however many were revoked; its count is kept at most a minute
    // behind, and an admin's revocation is its own event.
    let events = self_revocation_events(&h, &id);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["detail"], self_revoked_detail(1, T0, T0 + 15));
    h.clock.advance(45);
    revoked_ok(&revoke(&h, &id, &secret, &format!("token={}", tokens[60])));
    assert!(!active(&h, &tokens[60]));
    let events = self_revocation_events(&h, &id);
    assert_eq!(
        events[0]["detail"],
        self_revoked_detail(1, T0, T0 + 15),
        "within a minute"
    );
    h.clock.advance(15);
    revoked_ok(&revoke(&h, &id, &secret, &format!("token={}", tokens[61])));
    let events = self_revocation_events(&h, &id);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["detail"], self_revoked_detail(62, T0, T0 + 75));
    let path = format!("/admin/clients/{id}/revoked-tokens");
    let (status, _) = h.admin(Method::Post, &path, Some(json!({"jti": "another"})));
    assert_eq!(status, 200);
    assert_eq!(revocation_events(&h, &id).len(), 1);
    // The next hour is a new event.
    h.clock.advance(3600);
    let t = token(&h, &id, &secret);
    revoked_ok(&revoke(&h, &id, &secret, &format!("token={t}")));
    let events = self_revocation_events(&h, &id);
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0]["detail"],
        self_revoked_detail(1, T0 + 3600, T0 + 3675)
    );
}

#[test]
fn an_admin_revokes_one_token_by_value() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let t = token(&h, &id, &secret);
    let (status, v) = h.admin(
        Method::Post,
        "/admin/tokens/revoke",
        Some(json!({"token": t})),
    );
    assert_eq!(
        (status, v),
        (
            200,
            json!({"client_id": id, "jti": jti(&h, &t), "held_until": T0 + 3660,
                   "tokens_valid_after": null})
        )
    );
    assert!(!active(&h, &t));
    let events = revocation_events(&h, &id);
    assert_eq!(
        (&events[0]["actor"], &events[0]["detail"]),
        (
            &json!("admin"),
            &json!(format!("token {} revoked", jti(&h, &t)))
        )
    );
    let (status, v) = h.admin(
        Method::Post,
        "/admin/tokens/revoke",
        Some(json!({"token": "garbage"})),
    );
    assert_eq!(
        (status, v),
        (
            422,
            json!({"error": "invalid_client_metadata", "error_description":
                "token is not a live access token of this server (malformed, forged, foreign or expired); nothing was revoked"})
        )
    );
    let (status, v) = h.admin(
        Method::Post,
        "/admin/tokens/revoke",
        Some(json!({"jti": "x"})),
    );
    assert_eq!(
        (status, &v["error"]),
        (400, &json!("invalid_request")),
        "{v}"
    );
    let r = h.send(
        Request::new(Method::Post, &format!("{ORIGIN}/admin/tokens/revoke"))
            .with_header("content-type", "application/json")
            .with_body(json!({"token": t}).to_string()),
    );
    assert_error(
        &r,
        401,
        "unauthorized",
        "a valid admin bearer token is required",
    );
    // A deleted client's token: 404, as for every admin call about a client that is gone.
    let t2 = token(&h, &id, &secret);
    h.admin(Method::Delete, &format!("/admin/clients/{id}"), None);
    let (status, v) = h.admin(
        Method::Post,
        "/admin/tokens/revoke",
        Some(json!({"token": t2})),
    );
    assert_eq!(
        (status, v),
        (
            404,
            json!({"error": "not_found", "error_description": "no such client"})
        )
    );
}

#[test]
fn an_admin_revokes_one_token_by_jti() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let (t1, t2) = (token(&h, &id, &secret), token(&h, &id, &secret));
    let path = format!("/admin/clients/{id}/revoked-tokens");
    let (status, v) = h.admin(Method::Post, &path, Some(json!({"jti": jti(&h, &t1)})));
    // Without exp, held as long as any token can live.
    assert_eq!(
        (status, v),
        (
            200,
            json!({"client_id": id, "jti": jti(&h, &t1), "held_until": T0 + 86_400 + 60,
                   "tokens_valid_after": null})
        )
    );
    let body = json!({"jti": jti(&h, &t2), "exp": T0 + 3600});
    let (_, v) = h.admin(Method::Post, &path, Some(body));
    assert_eq!(v["held_until"], T0 + 3660);
    assert!(!active(&h, &t1) && !active(&h, &t2));
    assert_eq!(revocation_events(&h, &id).len(), 2);
    for (body, message) in [
        (
            json!({"jti": ""}),
            "jti must be 1 to 128 printable ASCII characters without spaces",
        ),
        (
            json!({"jti": "a b"}),
            "jti must be 1 to 128 printable ASCII characters without spaces",
        ),
        (
            json!({"jti": "x".repeat(129)}),
            "jti must be 1 to 128 printable ASCII characters without spaces",
        ),
        (
            json!({"jti": "x", "exp": T0 - 60}),
            "exp has passed: that token has expired already, nothing to revoke",
        ),
        (
            json!({"jti": "x", "exp": T0 + 86_400 + 61}),
            "exp is more than 86400 s ahead: no token lives that long",
        ),
    ] {
        let (status, v) = h.admin(Method::Post, &path, Some(body));
        assert_eq!(
            (status, v),
            (
                422,
                json!({"error": "invalid_client_metadata", "error_description": message})
            )
        );
    }
    let (status, v) = h.admin(Method::Post, &path, Some(json!({"jti": "x", "token": "y"})));
    assert_eq!(
        (status, &v["error"]),
        (400, &json!("invalid_request")),
        "{v}"
    );
    let (status, _) = h.admin(
        Method::Post,
        "/admin/clients/nosuchclient/revoked-tokens",
        Some(json!({"jti": "x"})),
    );
    assert_eq!(status, 404);
    let (status, _) = h.admin(Method::Delete, &path, None);
    assert_eq!(status, 405);
    assert_eq!(held(&h, &id)["revoked_tokens"].as_array().unwrap().len(), 2);
}
