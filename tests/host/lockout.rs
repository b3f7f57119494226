//! Lockout after failed authentications, and admin changes that bite through the client's
//! guard even where KV still serves an old copy of the record.

use edgeauth::support::cache::CACHE_TTL_MS;
use edgeauth::support::time::rfc3339;
use edgeauth::Method;
use serde_json::{json, Value};

use crate::*;

const GRANT: &str = "grant_type=client_credentials";

fn locked_text(until: u64) -> String {
    format!(
        "the client is locked after too many failed authentications until {}; an admin can unlock it",
        rfc3339(until)
    )
}

fn client(h: &Harness, body: Value) -> (String, String) {
    h.create(body)
}

fn get(h: &Harness, id: &str) -> Value {
    h.admin(Method::Get, &format!("/admin/clients/{id}"), None)
        .1
}

#[test]
fn five_failures_lock_the_client_even_for_the_right_secret_until_unlocked() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({"client_name": "c"}));
    for _ in 0..4 {
        let r = h.token_basic(&id, "wrong", GRANT);
        assert_error(&r, 401, "invalid_client", "client authentication failed");
    }
    let until = T0 + 3600;
    assert_error(
        &h.token_basic(&id, "wrong", GRANT),
        401,
        "invalid_client",
        &locked_text(until),
    );
    assert_error(
        &h.token_basic(&id, &secret, GRANT),
        401,
        "invalid_client",
        &locked_text(until),
    );
    let v = get(&h, &id);
    assert_eq!(
        (v["locked_until"].clone(), v["failed_attempts"].clone()),
        (json!(until), json!(5))
    );
    h.clock.advance(1);
    let (status, v) = h.admin(Method::Post, &format!("/admin/clients/{id}/unlock"), None);
    assert_eq!(
        (
            status,
            v["locked_until"].clone(),
            v["failed_attempts"].clone()
        ),
        (200, Value::Null, json!(0))
    );
    assert_eq!(h.token_basic(&id, &secret, GRANT).status, 200);
    let (_, audit) = h.admin(Method::Get, &format!("/admin/clients/{id}/audit"), None);
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["client.unlocked", "client.locked", "client.created"]
    );
    assert_eq!(audit["events"][1]["actor"], "system");
    assert_eq!(
        audit["events"][1]["detail"],
        format!(
            "locked after 5 failed authentications until {}",
            rfc3339(until)
        )
    );
}

#[test]
fn a_success_starts_the_count_over() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({"client_name": "c"}));
    for _ in 0..4 {
        h.token_basic(&id, "wrong", GRANT);
    }
    assert_eq!(h.token_basic(&id, &secret, GRANT).status, 200);
    assert_eq!(get(&h, &id)["failed_attempts"], 0);
    for _ in 0..4 {
        h.token_basic(&id, "wrong", GRANT);
    }
    assert_eq!(
        h.token_basic(&id, &secret, GRANT).status,
        200,
        "4 + 4 is not 5 in a row"
    );
}

#[test]
fn a_lock_ends_after_sixty_minutes() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({"client_name": "c"}));
    for _ in 0..5 {
        h.token_basic(&id, "wrong", GRANT);
    }
    h.clock.advance(3599);
    assert_eq!(h.token_basic(&id, &secret, GRANT).status, 401);
    h.clock.advance(1);
    assert_eq!(h.token_basic(&id, &secret, GRANT).status, 200);
}

#[test]
fn with_lockout_disabled_failures_are_counted_but_never_lock() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({"client_name": "c", "lockout_enabled": false}));
    for _ in 0..50 {
        assert_error(
            &h.token_basic(&id, "wrong", GRANT),
            401,
            "invalid_client",
            "client authentication failed",
        );
    }
    assert_eq!(
        (
            get(&h, &id)["failed_attempts"].clone(),
            get(&h, &id)["locked_until"].clone()
        ),
        (json!(50), Value::Null)
    );
    assert_eq!(h.token_basic(&id, &secret, GRANT).status, 200);
}

#[test]
fn bad_assertions_count_towards_the_lock_too() {
    let h = Harness::new();
    let (status, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "h", "token_endpoint_auth_method": "client_secret_jwt"})),
    );
    assert_eq!(status, 201);
    let id = v["client"]["client_id"].as_str().unwrap().to_string();
    let forged = crate::verifier::jws(
        &crate::verifier::TestKey::Hmac("guess".into()),
        json!({"alg": "HS256"}),
        json!({"iss": id, "sub": id, "aud": ORIGIN, "exp": T0 + 60, "jti": "x"}),
    );
    for _ in 0..5 {
        h.send(token_request(&format!(
            "grant_type=client_credentials&client_assertion_type={}&client_assertion={forged}",
            urlencode(edgeauth::oauth::assertions::ASSERTION_TYPE)
        )));
    }
    assert_eq!(get(&h, &id)["locked_until"], T0 + 3600);
}

#[test]
fn unknown_client_ids_create_no_state() {
    let h = Harness::new();
    let rng = edgeauth::testing::SeqRandom::default();
    for _ in 0..200 {
        let id = edgeauth::registry::clients::ClientId::generate(&rng).unwrap();
        h.token_basic(id.as_str(), "x", GRANT);
    }
    assert_eq!(h.guards.guarded(), 0);
    assert_eq!(h.guards.guard_calls(), 0);
}

#[test]
fn the_warm_success_path_never_calls_the_guard() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({"client_name": "c"}));
    assert_eq!(h.token_basic(&id, &secret, GRANT).status, 200);
    let calls = h.guards.guard_calls();
    for _ in 0..10 {
        assert_eq!(h.token_basic(&id, &secret, GRANT).status, 200);
    }
    assert_eq!(h.guards.guard_calls(), calls);
    h.clock.advance_ms(CACHE_TTL_MS);
    h.token_basic(&id, &secret, GRANT);
    assert_eq!(
        h.guards.guard_calls(),
        calls + 1,
        "one refresh per cache period"
    );
}

/// Another location may read an old copy of the record from KV for up to a minute: the guard
/// still refuses what an admin disabled, deleted or revoked.
#[test]
fn disable_delete_and_secret_removal_bite_despite_a_stale_kv_copy() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({"client_name": "c"}));
    let key = format!("client:{id}");
    let stale = h.store.get_raw(&key).unwrap();
    h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"enabled": false})),
    );
    h.store.put_raw(&key, &stale);
    h.clock.advance_ms(CACHE_TTL_MS);
    assert_error(
        &h.token_basic(&id, &secret, GRANT),
        401,
        "invalid_client",
        "the client is disabled",
    );
    h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"enabled": true})),
    );
    assert_eq!(h.token_basic(&id, &secret, GRANT).status, 200);

    let first = get(&h, &id)["secrets"][0]["secret_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, s) = h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/secrets"),
        Some(json!({})),
    );
    let stale = h.store.get_raw(&key).unwrap();
    h.admin(
        Method::Delete,
        &format!("/admin/clients/{id}/secrets/{first}"),
        None,
    );
    h.store.put_raw(&key, &stale);
    h.clock.advance_ms(CACHE_TTL_MS);
    assert_error(
        &h.token_basic(&id, &secret, GRANT),
        401,
        "invalid_client",
        "client authentication failed",
    );
    let second = s["client_secret"].as_str().unwrap();
    assert_eq!(h.token_basic(&id, second, GRANT).status, 200);

    let stale = h.store.get_raw(&key).unwrap();
    h.admin(Method::Delete, &format!("/admin/clients/{id}"), None);
    h.store.put_raw(&key, &stale);
    h.clock.advance_ms(CACHE_TTL_MS);
    assert_error(
        &h.token_basic(&id, second, GRANT),
        401,
        "invalid_client",
        "the client is disabled",
    );
}

#[test]
fn listings_show_lock_state() {
    let h = Harness::new();
    let (id, _) = client(&h, json!({"client_name": "c"}));
    for _ in 0..5 {
        h.token_basic(&id, "wrong", GRANT);
    }
    let (_, list) = h.admin(Method::Get, "/admin/clients", None);
    assert_eq!(list["clients"][0]["locked_until"], T0 + 3600);
    assert_eq!(list["clients"][0]["failed_attempts"], 5);
}

fn assertion_request(assertion: &str) -> Request {
    token_request(&format!(
        "grant_type=client_credentials&client_assertion_type={}&client_assertion={assertion}",
        urlencode(edgeauth::oauth::assertions::ASSERTION_TYPE)
    ))
}

fn signed(h: &Harness, key: &crate::verifier::TestKey, kid: &str, id: &str, jti: &str) -> String {
    crate::verifier::jws(
        key,
        json!({"alg": "EdDSA", "kid": kid}),
        json!({"iss": id, "sub": id, "aud": ORIGIN, "exp": h.clock.now() + 60, "jti": jti}),
    )
}

/// A `private_key_jwt` client with one Ed25519 key, kid `k1`: the key and the client id.
fn key_client(h: &Harness) -> (crate::verifier::TestKey, String) {
    let key = crate::verifier::TestKey::ed(1);
    let (_, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(
            json!({"client_name": "k", "token_endpoint_auth_method": "private_key_jwt",
                    "jwks": {"keys": [key.jwk("k1")]}}),
        ),
    );
    (key, v["client"]["client_id"].as_str().unwrap().to_string())
}

#[test]
fn nobody_locks_a_key_client_with_forged_signatures_unknown_kids_or_replays() {
    let h = Harness::new();
    let (key, id) = key_client(&h);
    let other = crate::verifier::TestKey::ed(2);
    let good = signed(&h, &key, "k1", &id, "once");
    assert_eq!(h.send(assertion_request(&good)).status, 200);
    for i in 0..10 {
        // Anyone who knows the id (it is in every token's sub) can send these.
        let forged = signed(&h, &other, "k1", &id, &format!("f{i}"));
        assert_eq!(h.send(assertion_request(&forged)).status, 401);
        let unknown = signed(&h, &other, "rotated", &id, &format!("u{i}"));
        assert_eq!(h.send(assertion_request(&unknown)).status, 401);
        assert_eq!(h.send(assertion_request(&good)).status, 401, "replay");
    }
    let v = get(&h, &id);
    assert_eq!(
        (v["failed_attempts"].clone(), v["locked_until"].clone()),
        (json!(0), Value::Null)
    );
    let fresh = signed(&h, &key, "k1", &id, "fresh");
    assert_eq!(h.send(assertion_request(&fresh)).status, 200);
}

#[test]
fn a_key_host_outage_and_a_rotation_never_lock_the_client() {
    let h = Harness::new();
    let url = "https://keys.client.test/jwks";
    let (old, new) = (
        crate::verifier::TestKey::ed(1),
        crate::verifier::TestKey::ed(2),
    );
    let set = |keys: Vec<Value>| json!({ "keys": keys }).to_string();
    h.fetcher.serve(url, &set(vec![old.jwk("old")]), None);
    let (_, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "r", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": url})),
    );
    let id = v["client"]["client_id"].as_str().unwrap().to_string();
    assert_eq!(
        h.send(assertion_request(&signed(&h, &old, "old", &id, "a")))
            .status,
        200
    );
    // The client publishes a new key and signs with it at once: within the refetch cooldown
    // it is an unknown kid, refused but never counted.
    h.fetcher
        .serve(url, &set(vec![old.jwk("old"), new.jwk("new")]), None);
    for i in 0..6 {
        let r = h.send(assertion_request(&signed(
            &h,
            &new,
            "new",
            &id,
            &format!("n{i}"),
        )));
        assert_eq!(r.status, 401);
    }
    // The host goes down: correctly signed assertions with the new key are a 503 to retry.
    h.fetcher.fail(url, "HTTP 500");
    h.clock.advance(61);
    for i in 0..6 {
        let r = h.send(assertion_request(&signed(
            &h,
            &new,
            "new",
            &id,
            &format!("d{i}"),
        )));
        assert_eq!(r.status, 503, "{}", body_json(&r));
        assert_eq!(r.header("retry-after"), Some("30"));
    }
    assert_eq!(get(&h, &id)["failed_attempts"], 0);
    // Back up: the new key works.
    h.fetcher.serve(url, &set(vec![new.jwk("new")]), None);
    h.clock.advance(61);
    let r = h.send(assertion_request(&signed(&h, &new, "new", &id, "back")));
    assert_eq!(r.status, 200, "{}", body_json(&r));
}

#[test]
fn failures_older_than_the_lock_window_no_longer_count() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({"client_name": "c"}));
    for _ in 0..4 {
        assert_eq!(h.token_basic(&id, "wrong", GRANT).status, 401);
    }
    h.clock.advance(30 * 86_400);
    assert_error(
        &h.token_basic(&id, "wrong", GRANT),
        401,
        "invalid_client",
        "client authentication failed",
    );
    assert_eq!(get(&h, &id)["failed_attempts"], 1);
    assert_eq!(h.token_basic(&id, &secret, GRANT).status, 200);
}

#[test]
fn a_removed_key_or_jwks_uri_bites_despite_a_stale_kv_copy() {
    let h = Harness::new();
    let (k1, k2) = (
        crate::verifier::TestKey::ed(1),
        crate::verifier::TestKey::ed(2),
    );
    let (_, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(
            json!({"client_name": "keys", "token_endpoint_auth_method": "private_key_jwt",
                    "jwks": {"keys": [k1.jwk("k1"), k2.jwk("k2")]}}),
        ),
    );
    let id = v["client"]["client_id"].as_str().unwrap().to_string();
    let record = format!("client:{id}");
    let stale = h.store.get_raw(&record).unwrap();
    let (status, _) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"jwks": {"keys": [k2.jwk("k2")]}})),
    );
    assert_eq!(status, 200);
    // Another location still reads the old record, with both keys.
    h.store.put_raw(&record, &stale);
    h.clock.advance_ms(CACHE_TTL_MS);
    let r = h.send(assertion_request(&signed(&h, &k1, "k1", &id, "old")));
    assert_error(&r, 401, "invalid_client", "client authentication failed");
    assert_eq!(
        h.send(assertion_request(&signed(&h, &k2, "k2", &id, "kept")))
            .status,
        200
    );
    // Putting the key back makes it work again at once.
    h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"jwks": {"keys": [k1.jwk("k1"), k2.jwk("k2")]}})),
    );
    let back = h.send(assertion_request(&signed(&h, &k1, "k1", &id, "back")));
    assert_eq!(back.status, 200, "{} {:?}", body_json(&back), back.log);

    // A jwks_uri replaced by inline keys: the old URL's keys stop everywhere too.
    let url = "https://keys.client.test/jwks";
    h.fetcher
        .serve(url, &json!({"keys": [k1.jwk("u1")]}).to_string(), None);
    h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"jwks": null, "jwks_uri": url})),
    );
    assert_eq!(
        h.send(assertion_request(&signed(&h, &k1, "u1", &id, "uri")))
            .status,
        200
    );
    let stale = h.store.get_raw(&record).unwrap();
    h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"jwks_uri": null, "jwks": {"keys": [k2.jwk("k2")]}})),
    );
    h.store.put_raw(&record, &stale);
    h.clock.advance_ms(CACHE_TTL_MS);
    let r = h.send(assertion_request(&signed(&h, &k1, "u1", &id, "uri-stale")));
    assert_error(&r, 401, "invalid_client", "client authentication failed");
    assert_eq!(
        r.log.as_deref(),
        Some("client authentication refused: the client's jwks_uri was removed")
    );
}

#[test]
fn nobody_locks_a_key_client_with_secrets_it_does_not_have_at_any_endpoint() {
    let h = Harness::new();
    let (key, id) = key_client(&h);
    // Anyone who knows the id (it is every token's sub) can send a secret for it, anywhere a
    // client authenticates: none of it is a guess at anything the client has.
    for path in ["/oauth/token", "/oauth/introspect", "/oauth/revoke"] {
        for i in 0..6 {
            let form = format!("{GRANT}&token=x&client_id={id}&client_secret=guess{i}");
            let body = edgeauth::Request::new(Method::Post, &format!("{ORIGIN}{path}"))
                .with_header("content-type", "application/x-www-form-urlencoded");
            let by_basic = body
                .clone()
                .with_header("authorization", &basic(&id, "wrong").unwrap())
                .with_body(format!("{GRANT}&token=x"));
            for r in [h.send(by_basic), h.send(body.with_body(form))] {
                assert_error(&r, 401, "invalid_client", "client authentication failed");
            }
        }
    }
    let v = get(&h, &id);
    assert_eq!(
        (v["failed_attempts"].clone(), v["locked_until"].clone()),
        (json!(0), Value::Null)
    );
    let good = signed(&h, &key, "k1", &id, "after");
    assert_eq!(h.send(assertion_request(&good)).status, 200);
}

#[test]
fn a_secret_client_whose_secrets_are_all_removed_is_not_locked_by_guesses() {
    let h = Harness::new();
    let (id, _) = client(&h, json!({"client_name": "c"}));
    let (_, list) = h.admin(Method::Get, &format!("/admin/clients/{id}/secrets"), None);
    for s in list["secrets"].as_array().unwrap() {
        let sid = s["secret_id"].as_str().unwrap();
        let path = format!("/admin/clients/{id}/secrets/{sid}");
        assert_eq!(h.admin(Method::Delete, &path, None).0, 204);
    }
    for _ in 0..6 {
        let r = h.token_basic(&id, "wrong", GRANT);
        assert_error(&r, 401, "invalid_client", "client authentication failed");
    }
    assert_eq!(get(&h, &id)["failed_attempts"], json!(0));
}
