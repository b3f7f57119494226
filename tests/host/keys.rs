//! Signing-key rotation: the next key is published before it signs, the switch comes after the
//! publish lead, the replaced key stays published until its tokens have expired, and the Cron
//! Trigger retires it and rotates on a period. Every boundary on the fixed clock.

use edgeauth::registry::signing_keys::RETIRE_AFTER;
use edgeauth::support::cache::CACHE_TTL_MS;
use edgeauth::{IsolateState, Method, Request};
use serde_json::{json, Value};

use crate::*;

const LEAD: u64 = 600;

fn jwks_kids(h: &Harness) -> Vec<String> {
    let r = h.send(Request::new(
        Method::Get,
        &format!("{ORIGIN}/.well-known/jwks.json"),
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    body_json(&r)["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// A token's `kid`, after checking it verifies through the published JWKS.
fn token_kid(h: &Harness, id: &str, secret: &str) -> (String, String) {
    let r = h.token_basic(id, secret, "grant_type=client_credentials");
    assert_eq!(r.status, 200, "{:?}", body_json(&r));
    let token = body_json(&r)["access_token"].as_str().unwrap().to_string();
    let (header, _) = verify(h, &token);
    (header["kid"].as_str().unwrap().to_string(), token)
}

fn active(h: &Harness, token: &str) -> bool {
    body_json(&h.send(admin_introspect(token)))["active"] == json!(true)
}

fn states(v: &Value) -> Vec<(String, String)> {
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let kid = k["kid"].as_str().unwrap().to_string();
            (kid, k["state"].as_str().unwrap().to_string())
        })
        .collect()
}

fn rotate(h: &Harness) -> (u16, Value) {
    h.admin(Method::Post, "/admin/keys/rotate", None)
}

#[test]
fn a_rotation_publishes_at_once_switches_after_the_lead_and_retires_after_the_tokens() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a"}));
    let (old_kid, old_token) = token_kid(&h, &id, &secret);
    assert_eq!(jwks_kids(&h), std::slice::from_ref(&old_kid));

    let (status, v) = rotate(&h);
    assert_eq!(status, 200, "{v}");
    let listed = states(&v);
    assert_eq!(listed[0], (old_kid.clone(), "current".into()));
    assert_eq!(listed[1].1, "next");
    let new_kid = listed[1].0.clone();
    assert_eq!(v["keys"][1]["published_at"], T0);
    assert_eq!(v["keys"][1]["signs_from"], T0 + LEAD);
    assert_eq!(v["publish_lead_secs"], LEAD);

    // Before the switch: published, not signing.
    assert_eq!(jwks_kids(&h), [old_kid.clone(), new_kid.clone()]);
    h.clock.advance(LEAD - 1);
    assert_eq!(token_kid(&h, &id, &secret).0, old_kid);

    // At the switch: the new key signs; the old one is still published and its tokens live.
    h.clock.advance(1);
    let (kid, new_token) = token_kid(&h, &id, &secret);
    assert_eq!(kid, new_kid);
    assert_eq!(jwks_kids(&h), [new_kid.clone(), old_kid.clone()]);
    assert!(active(&h, &new_token));
    let (_, v) = h.admin(Method::Get, "/admin/keys", None);
    assert_eq!(
        states(&v),
        [
            (old_kid.clone(), "previous".into()),
            (new_kid.clone(), "current".into())
        ]
    );
    assert_eq!(v["keys"][0]["retires_at"], T0 + LEAD + RETIRE_AFTER);
    assert_eq!(verify(&h, &old_token).0["kid"], json!(old_kid));
    assert!(
        active(&h, &old_token),
        "tokens of the replaced key stay valid"
    );

    // Just before retirement the old key is still published; at retirement it is gone, and
    // the scheduled run drops it from storage and records it.
    h.clock.advance(RETIRE_AFTER - 1);
    assert_eq!(jwks_kids(&h), [new_kid.clone(), old_kid.clone()]);
    h.clock.advance(1);
    assert_eq!(jwks_kids(&h), std::slice::from_ref(&new_kid));
    h.run_scheduled().unwrap();
    let (_, v) = h.admin(Method::Get, "/admin/keys", None);
    assert_eq!(states(&v), [(new_kid.clone(), "current".into())]);
    let (_, events) = h.admin(Method::Get, "/admin/audit", None);
    assert_eq!(events["events"][0]["action"], "keys.retired");
    assert_eq!(events["events"][0]["actor"], "system");
    assert_eq!(
        events["events"][0]["detail"],
        format!("retired key {old_kid} (index 0)")
    );
    assert_eq!(events["events"][1]["action"], "keys.rotated");
    assert_eq!(events["events"][1]["actor"], "admin");
    assert_eq!(
        events["events"][1]["detail"],
        format!("published key {new_kid} (index 1); it signs from 2027-01-15T08:10:00Z")
    );
}

#[test]
fn a_second_rotation_is_refused_until_the_first_has_switched() {
    let h = Harness::new();
    assert_eq!(rotate(&h).0, 200);
    h.clock.advance(10);
    let (status, v) = rotate(&h);
    assert_eq!(
        (status, v),
        (
            409,
            json!({"error": "conflict",
                   "error_description": "a rotation is under way: the next key signs from 2027-01-15T08:10:00Z"})
        )
    );
    h.clock.advance(LEAD);
    let (status, v) = rotate(&h);
    assert_eq!(status, 200);
    let listed: Vec<String> = states(&v).into_iter().map(|(_, s)| s).collect();
    assert_eq!(listed, ["previous", "current", "next"]);
    assert_eq!(v["keys"][2]["index"], 2);
}

#[test]
fn another_isolate_learns_of_a_rotation_within_the_cache_time_and_before_the_switch() {
    let mut h = Harness::new();
    let first = jwks_kids(&h);
    // A second isolate with the schedule cached from before the rotation.
    let mut other = IsolateState::default();
    std::mem::swap(&mut h.isolate, &mut other);
    assert_eq!(jwks_kids(&h), first);
    std::mem::swap(&mut h.isolate, &mut other);
    assert_eq!(rotate(&h).0, 200);
    assert_eq!(
        jwks_kids(&h).len(),
        2,
        "the rotating isolate sees it at once"
    );
    std::mem::swap(&mut h.isolate, &mut other);
    assert_eq!(jwks_kids(&h), first, "still cached");
    h.clock.advance_ms(CACHE_TTL_MS);
    assert_eq!(jwks_kids(&h).len(), 2, "seen within the cache time");
    const { assert!(CACHE_TTL_MS / 1000 < LEAD) };
}

#[test]
fn the_cron_trigger_rotates_on_the_configured_period_only() {
    let h = Harness::new();
    h.run_scheduled().unwrap();
    let (_, v) = h.admin(Method::Get, "/admin/keys", None);
    assert_eq!(v["keys"].as_array().unwrap().len(), 1, "off by default");
    assert_eq!(v["rotation_period_days"], Value::Null);

    let h = Harness::with(&[("KEY_ROTATION_DAYS", "30"), ("KEY_PUBLISH_LEAD", "120")]);
    h.run_scheduled().unwrap();
    let (_, v) = h.admin(Method::Get, "/admin/keys", None);
    let listed: Vec<String> = states(&v).into_iter().map(|(_, s)| s).collect();
    assert_eq!(listed, ["current", "next"]);
    assert_eq!(v["keys"][1]["signs_from"], T0 + 120);
    assert_eq!(v["rotation_period_days"], 30);
    let (_, events) = h.admin(Method::Get, "/admin/audit", None);
    assert_eq!(events["events"][0]["actor"], "system");
    assert!(events["events"][0]["detail"]
        .as_str()
        .unwrap()
        .ends_with("(periodic rotation)"));
    // Not again until the new key has signed for the whole period (the first key has long
    // retired by then, and the same run dropped it).
    h.clock.advance(120 + 30 * 86_400 - 1);
    h.run_scheduled().unwrap();
    let (_, v) = h.admin(Method::Get, "/admin/keys", None);
    let listed: Vec<String> = states(&v).into_iter().map(|(_, s)| s).collect();
    assert_eq!(listed, ["current"]);
    assert_eq!(v["keys"][0]["index"], 1);
    h.clock.advance(1);
    h.run_scheduled().unwrap();
    let (_, v) = h.admin(Method::Get, "/admin/keys", None);
    let listed: Vec<String> = states(&v).into_iter().map(|(_, s)| s).collect();
    assert_eq!(listed, ["current", "next"]);
    assert_eq!(v["keys"][1]["index"], 2);
}

#[test]
fn the_configured_previous_seed_stays_published_and_verifiable() {
    let old_seed = URL_SAFE_NO_PAD.encode([4u8; 32]);
    let before = Harness::with(&[("SIGNING_KEY_SEED", &old_seed)]);
    let (id, secret) = before.create(json!({"client_name": "a"}));
    let (old_kid, old_token) = token_kid(&before, &id, &secret);

    // The manual rotation from before scheduled rotation: the old seed moves to
    // PREVIOUS_SIGNING_KEY_SEED. The store carries over.
    let mut after = Harness::with(&[("PREVIOUS_SIGNING_KEY_SEED", &old_seed)]);
    after.store = std::mem::take(&mut { before }.store);
    let kids = jwks_kids(&after);
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[1], old_kid);
    assert!(active(&after, &old_token));
    let (_, v) = after.admin(Method::Get, "/admin/keys", None);
    assert_eq!(v["keys"][1]["source"], "PREVIOUS_SIGNING_KEY_SEED");
    assert_eq!(v["keys"][1]["state"], "previous");
}

#[test]
fn keys_need_the_admin_token_and_the_right_method() {
    let h = Harness::new();
    for (method, path) in [
        (Method::Get, "/admin/keys"),
        (Method::Post, "/admin/keys/rotate"),
    ] {
        let r = h.send(Request::new(method, &format!("{ORIGIN}{path}")));
        assert_eq!(r.status, 401);
    }
    assert_eq!(h.admin(Method::Post, "/admin/keys", None).0, 405);
    assert_eq!(h.admin(Method::Get, "/admin/keys/rotate", None).0, 405);
    let (_, v) = h.admin(Method::Get, "/admin/keys", None);
    assert_eq!(v["keys"].as_array().unwrap().len(), 1, "nothing rotated");
}

#[test]
fn a_corrupt_stored_schedule_is_an_error_not_a_guess_and_is_not_overwritten() {
    let h = Harness::new();
    let corrupt = r#"{"keys":[{"index":3,"published_at":0,"signs_from":50},{"index":1,"published_at":0,"signs_from":0}]}"#;
    h.store.put_raw("signing-keys", corrupt);
    let r = h.send(Request::new(
        Method::Get,
        &format!("{ORIGIN}/.well-known/jwks.json"),
    ));
    assert_eq!(r.status, 500);
    assert!(!String::from_utf8_lossy(&r.body).contains("index"));
    assert_eq!(rotate(&h).0, 500);
    assert!(h.run_scheduled().is_err());
    assert_eq!(h.store.get_raw("signing-keys").as_deref(), Some(corrupt));
}

/// Whether the client that holds `token` sees it active at introspection in `isolate` (the
/// client's own credential: the admin bearer is not an OAuth credential).
fn active_for_client(
    h: &Harness,
    isolate: &IsolateState,
    (id, secret): (&str, &str),
    token: &str,
) -> bool {
    let req = Request::new(Method::Post, &format!("{ORIGIN}/oauth/introspect"))
        .with_header("authorization", &basic(id, secret).unwrap())
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_body(format!("token={token}"));
    let r = h.send_in(isolate, req);
    assert_eq!(r.status, 200);
    body_json(&r)["active"] == json!(true)
}

fn revoke(h: &Harness, kid: &str) -> (u16, Value) {
    h.admin(Method::Post, &format!("/admin/keys/{kid}/revoke"), None)
}

fn key_events(h: &Harness) -> Vec<(String, String)> {
    let (_, events) = h.admin(Method::Get, "/admin/audit", None);
    let events = events["events"].as_array().unwrap().iter();
    events
        .filter(|e| e["action"].as_str().unwrap().starts_with("keys."))
        .map(|e| {
            (
                e["action"].as_str().unwrap().into(),
                e["detail"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn revoking_the_signing_key_pulls_it_from_signing_jwks_and_introspection_at_once() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a"}));
    let client = (id.as_str(), secret.as_str());
    let (old_kid, old_token) = token_kid(&h, &id, &secret);
    assert!(active_for_client(&h, &h.isolate, client, &old_token));

    h.clock.advance(7);
    let (status, v) = revoke(&h, &old_kid);
    assert_eq!(status, 200, "{v}");
    let new_kid = v["keys"][1]["kid"].as_str().unwrap().to_string();
    assert_ne!(new_kid, old_kid);
    assert_eq!(
        v["keys"],
        json!([
            {"kid": old_kid, "state": "revoked", "source": "schedule", "index": 0,
             "published_at": 0, "signs_from": 0, "retires_at": null, "revoked_at": T0 + 7},
            {"kid": new_kid, "state": "current", "source": "schedule", "index": 1,
             "published_at": T0 + 7, "signs_from": T0 + 7, "retires_at": null, "revoked_at": null},
        ])
    );
    // Same second: the JWKS has only the new key, it signs, and the old token is refused.
    assert_eq!(jwks_kids(&h), std::slice::from_ref(&new_kid));
    let (kid, new_token) = token_kid(&h, &id, &secret);
    assert_eq!(kid, new_kid);
    assert!(active_for_client(&h, &h.isolate, client, &new_token));
    assert!(!active_for_client(&h, &h.isolate, client, &old_token));
    let (_, listed) = h.admin(Method::Get, "/admin/keys", None);
    assert_eq!(listed["keys"], v["keys"]);
    assert_eq!(
        key_events(&h),
        [(
            "keys.revoked".to_string(),
            format!("revoked key {old_kid} (index 0)")
        )]
    );
    let (_, events) = h.admin(Method::Get, "/admin/audit", None);
    assert_eq!(events["events"][0]["actor"], "admin");
}

#[test]
fn revoking_again_answers_the_same_list_and_records_nothing_more() {
    let h = Harness::new();
    let kid = jwks_kids(&h).remove(0);
    let (status, first) = revoke(&h, &kid);
    assert_eq!(status, 200);
    h.clock.advance(30);
    let calls = h.store.faults.calls();
    let (status, again) = revoke(&h, &kid);
    assert_eq!((status, &again), (200, &first));
    // One read of the schedule; no write (KV takes one a second per key) and no audit event.
    assert_eq!(h.store.faults.calls() - calls, 1);
    assert_eq!(key_events(&h).len(), 1);
    assert_eq!(jwks_kids(&h).len(), 1, "no second fresh key");
}

#[test]
fn a_revoked_key_never_comes_back_through_rotations_or_the_cron_trigger() {
    let h = Harness::with(&[("KEY_ROTATION_DAYS", "2")]);
    let (id, secret) = h.create(json!({"client_name": "a"}));
    // The signing key (index 0; a fresh index 1 takes over), then a pending next key (index
    // 2): the highest index so far, which no rotation comes to replace for over a day.
    let first = jwks_kids(&h).remove(0);
    assert_eq!(revoke(&h, &first).0, 200);
    let (_, v) = rotate(&h);
    let next = v["keys"][2]["kid"].as_str().unwrap().to_string();
    assert_eq!(revoke(&h, &next).0, 200);
    let revoked = [first, next];
    let mut seen = vec![];
    // Four days of the Cron Trigger (pruning, retirements, periodic rotations) and, from the
    // third day on, manual rotations too.
    for step in 1..=(4 * 86_400 / 600) {
        h.clock.advance(600);
        h.run_scheduled().unwrap();
        if step > 2 * 144 && step % 50 == 0 {
            rotate(&h);
        }
        let kids = jwks_kids(&h);
        assert!(
            !kids.iter().any(|k| revoked.contains(k)),
            "step {step}: {kids:?}"
        );
        assert!(!revoked.contains(&token_kid(&h, &id, &secret).0));
        seen.extend(kids);
    }
    seen.sort();
    seen.dedup();
    assert!(seen.len() >= 4, "rotations happened: {seen:?}");
    let (_, v) = h.admin(Method::Get, "/admin/keys", None);
    let indexes: Vec<u64> = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["index"].as_u64().unwrap())
        .collect();
    assert!(indexes.iter().all(|&i| i > 2), "{indexes:?}");
    for kid in revoked {
        let (status, v) = revoke(&h, &kid);
        assert_eq!((status, v["error"].as_str()), (404, Some("not_found")));
    }
}

/// A client with a token of the first key, and a rotation started: (id, secret, the first
/// kid, its token, the next kid).
fn token_then_rotation(h: &Harness) -> (String, String, String, String, String) {
    let (id, secret) = h.create(json!({"client_name": "a"}));
    let (kid, token) = token_kid(h, &id, &secret);
    let (status, v) = rotate(h);
    assert_eq!(status, 200, "{v}");
    let next_kid = v["keys"][1]["kid"].as_str().unwrap().to_string();
    (id, secret, kid, token, next_kid)
}

#[test]
fn revoking_the_signing_key_during_a_rotation_hands_signing_to_the_next_key() {
    let h = Harness::new();
    let (id, secret, old_kid, _, next_kid) = token_then_rotation(&h);
    h.clock.advance(10);
    let (status, v) = revoke(&h, &old_kid);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        states(&v),
        [
            (old_kid, "revoked".into()),
            (next_kid.clone(), "current".into())
        ]
    );
    assert_eq!(v["keys"][1]["signs_from"], T0 + 10);
    assert_eq!(jwks_kids(&h), std::slice::from_ref(&next_kid));
    assert_eq!(token_kid(&h, &id, &secret).0, next_kid);
    assert_eq!(rotate(&h).0, 200, "no rotation pending any more");
}

#[test]
fn revoking_the_next_key_keeps_the_current_one_signing_and_frees_the_rotation() {
    let h = Harness::new();
    let (id, secret, kid, _, next_kid) = token_then_rotation(&h);
    let (status, v) = revoke(&h, &next_kid);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        states(&v),
        [
            (kid.clone(), "current".into()),
            (next_kid.clone(), "revoked".into())
        ]
    );
    h.clock.advance(LEAD);
    assert_eq!(jwks_kids(&h), std::slice::from_ref(&kid));
    assert_eq!(token_kid(&h, &id, &secret).0, kid, "past its switch time");
    let (status, v) = rotate(&h);
    assert_eq!(status, 200);
    assert_eq!(v["keys"][2]["index"], 2, "a new index, not the revoked one");
    assert_ne!(v["keys"][2]["kid"], json!(next_kid));
}

#[test]
fn revoking_a_previous_key_drops_its_tokens_and_leaves_signing_alone() {
    let h = Harness::new();
    let (id, secret, old_kid, old_token, new_kid) = token_then_rotation(&h);
    let client = (id.as_str(), secret.as_str());
    h.clock.advance(LEAD);
    assert!(active_for_client(&h, &h.isolate, client, &old_token));
    let (status, v) = revoke(&h, &old_kid);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        states(&v),
        [
            (old_kid, "revoked".into()),
            (new_kid.clone(), "current".into())
        ]
    );
    assert_eq!(jwks_kids(&h), std::slice::from_ref(&new_kid));
    assert_eq!(token_kid(&h, &id, &secret).0, new_kid);
    assert!(!active_for_client(&h, &h.isolate, client, &old_token));
}

#[test]
fn another_isolate_refuses_a_revoked_kid_within_the_cache_time() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a"}));
    let client = (id.as_str(), secret.as_str());
    let (kid, token) = token_kid(&h, &id, &secret);
    let other = IsolateState::default();
    assert!(active_for_client(&h, &other, client, &token));
    assert_eq!(revoke(&h, &kid).0, 200);
    assert!(
        active_for_client(&h, &other, client, &token),
        "still cached"
    );
    h.clock.advance_ms(CACHE_TTL_MS);
    assert!(!active_for_client(&h, &other, client, &token));
}

#[test]
fn revoking_an_unknown_or_configured_kid_is_refused_and_changes_nothing() {
    let old_seed = URL_SAFE_NO_PAD.encode([4u8; 32]);
    let legacy = Harness::with(&[("SIGNING_KEY_SEED", &old_seed)]);
    let legacy_kid = jwks_kids(&legacy).remove(0);
    let h = Harness::with(&[("PREVIOUS_SIGNING_KEY_SEED", &old_seed)]);
    let before = h.admin(Method::Get, "/admin/keys", None);
    let send = |kid: &str| {
        h.send(
            Request::new(Method::Post, &format!("{ORIGIN}/admin/keys/{kid}/revoke"))
                .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}")),
        )
    };
    let unknown = URL_SAFE_NO_PAD.encode([7u8; 32]);
    // Like other admin path ids: anything that is not a key of the schedule, well-formed or not.
    for kid in [
        unknown.as_str(),
        "k%20id",
        "kid.x",
        &"a".repeat(5000),
        "",
        "k+d",
    ] {
        assert_error(&send(kid), 404, "not_found", "no such signing key");
    }
    assert_error(
        &send(&legacy_kid),
        409,
        "conflict",
        "this key comes from PREVIOUS_SIGNING_KEY_SEED: unset that setting instead",
    );
    let r = h.send(Request::new(
        Method::Post,
        &format!("{ORIGIN}/admin/keys/{legacy_kid}/revoke"),
    ));
    assert_eq!(r.status, 401);
    assert_eq!(
        h.admin(
            Method::Get,
            &format!("/admin/keys/{legacy_kid}/revoke"),
            None
        )
        .0,
        405
    );
    assert_eq!(h.admin(Method::Get, "/admin/keys", None), before);
    assert!(key_events(&h).is_empty());
}
