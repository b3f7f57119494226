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
