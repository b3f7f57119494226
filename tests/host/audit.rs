//! The audit trail: every admin change, newest first, per client, bounded in time; and the
//! version check that keeps two admins from overwriting each other.

use edgeauth::Method;
use serde_json::{json, Value};

use crate::*;

fn actions(v: &Value) -> Vec<String> {
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_admin_change_is_recorded_newest_first() {
    let h = Harness::with(&[("ADMIN_TOKEN_LABEL", "ops-team")]);
    let (status, r) = h.admin(
        Method::Post,
        "/admin/resources",
        Some(json!({"identifier": "urn:api:a", "name": "A"})),
    );
    assert_eq!(status, 201);
    let rid = r["resource_id"].as_str().unwrap();
    h.clock.advance(1);
    let (id, secret) = h.create(json!({"client_name": "c", "scope": "x"}));
    h.clock.advance(1);
    h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"scope": "x y", "enabled": false})),
    );
    h.clock.advance(1);
    let (_, s) = h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/secrets"),
        Some(json!({})),
    );
    let sid = s["secret_id"].as_str().unwrap();
    h.clock.advance(1);
    h.admin(
        Method::Delete,
        &format!("/admin/clients/{id}/secrets/{sid}"),
        None,
    );
    h.clock.advance(1);
    h.admin(
        Method::Patch,
        &format!("/admin/resources/{rid}"),
        Some(json!({"name": "B"})),
    );
    h.clock.advance(1);
    h.admin(Method::Delete, &format!("/admin/clients/{id}"), None);
    h.clock.advance(1);
    h.admin(Method::Delete, &format!("/admin/resources/{rid}"), None);

    let (status, v) = h.admin(Method::Get, "/admin/audit", None);
    assert_eq!(status, 200);
    assert_eq!(
        actions(&v),
        [
            "resource.deleted",
            "client.deleted",
            "resource.updated",
            "secret.deleted",
            "secret.created",
            "client.updated",
            "client.created",
            "resource.created"
        ]
    );
    let events = v["events"].as_array().unwrap();
    assert_eq!(
        events[5],
        json!({"event_id": events[5]["event_id"], "at": T0 + 2, "actor": "ops-team",
               "action": "client.updated", "client_id": id,
               "detail": "changed enabled, scope", "via": "admin_token"})
    );
    assert_eq!(
        events[7],
        json!({"event_id": events[7]["event_id"], "at": T0, "actor": "ops-team",
               "action": "resource.created", "resource_id": rid,
               "detail": "resource urn:api:a created with identifier, name", "via": "admin_token"})
    );
    assert_eq!(events[3]["detail"], format!("secret {sid} removed"));
    assert_eq!(events[1]["detail"], "client 'c' deleted");
    assert!(!v.to_string().contains(&secret), "never a secret value");
    assert!(!v.to_string().contains(s["client_secret"].as_str().unwrap()));
    assert_eq!(v["next_cursor"], Value::Null);
}

#[test]
fn the_audit_trail_pages_newest_first_without_repeats() {
    let h = Harness::new();
    for i in 0..5 {
        h.create(json!({"client_name": format!("c{i}")}));
        h.clock.advance_ms(1);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = cursor.map_or(String::new(), |c| format!("&cursor={c}"));
        let (status, v) = h.admin(Method::Get, &format!("/admin/audit?limit=2{q}"), None);
        assert_eq!(status, 200);
        for e in v["events"].as_array().unwrap() {
            seen.push(e["event_id"].as_str().unwrap().to_string());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let (_, all) = h.admin(Method::Get, "/admin/audit?limit=5", None);
    let one_page: Vec<&str> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(seen, one_page, "pages join up in the same order");
    let ids: Vec<&str> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["client_id"].as_str().unwrap())
        .collect();
    let (_, listed) = h.admin(Method::Get, "/admin/clients", None);
    let name_of = |id: &str| {
        listed["clients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["client_id"] == id)
            .unwrap()["client_name"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let names: Vec<String> = ids.iter().map(|id| name_of(id)).collect();
    assert_eq!(names, ["c4", "c3", "c2", "c1", "c0"]);
}

#[test]
fn a_clients_history_lists_only_its_events_and_outlives_it() {
    let h = Harness::new();
    let (a, _) = h.create(json!({"client_name": "a"}));
    let (b, _) = h.create(json!({"client_name": "b"}));
    h.clock.advance(1);
    h.admin(
        Method::Patch,
        &format!("/admin/clients/{a}"),
        Some(json!({"description": "d"})),
    );
    h.clock.advance(1);
    h.admin(Method::Delete, &format!("/admin/clients/{a}"), None);
    let (status, v) = h.admin(Method::Get, &format!("/admin/clients/{a}/audit"), None);
    assert_eq!(status, 200);
    assert_eq!(
        actions(&v),
        ["client.deleted", "client.updated", "client.created"]
    );
    let (_, v) = h.admin(
        Method::Get,
        &format!("/admin/clients/{b}/audit?limit=1"),
        None,
    );
    assert_eq!(actions(&v), ["client.created"]);
    assert_eq!(v["next_cursor"], Value::Null);
    let (status, _) = h.admin(Method::Get, "/admin/clients/nope/audit", None);
    assert_eq!(status, 404);
}

#[test]
fn audit_events_expire_after_the_retention_period() {
    for (settings, days) in [(vec![], 90), (vec![("AUDIT_RETENTION_DAYS", "7")], 7)] {
        let h = Harness::with(&settings);
        let (id, _) = h.create(json!({"client_name": "a"}));
        let keys = h.store.keys("audit");
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys
            .iter()
            .any(|k| k.starts_with(&format!("audit-client:{id}:"))));
        for k in keys {
            assert_eq!(h.store.ttl(&k), Some(days * 86_400));
        }
    }
}

#[test]
fn a_patch_based_on_an_old_version_is_a_conflict() {
    let h = Harness::new();
    let (id, _) = h.create(json!({"client_name": "a"}));
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(v["version"], 1);
    // Two admins read version 1; the first change wins, the second is told.
    let (status, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"version": 1, "client_name": "first"})),
    );
    assert_eq!((status, v["version"].clone()), (200, json!(2)));
    let (status, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"version": 1, "description": "second"})),
    );
    assert_eq!(
        (status, v),
        (
            409,
            json!({"error": "conflict", "error_description": "the client changed since you read it"})
        )
    );
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(
        (v["client_name"].clone(), v["description"].clone()),
        (json!("first"), json!(""))
    );
    // Secret changes are writes too.
    h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/secrets"),
        Some(json!({})),
    );
    let (status, _) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"version": 2, "description": "late"})),
    );
    assert_eq!(status, 409);
    let (status, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"version": 3, "description": "fresh"})),
    );
    assert_eq!((status, v["version"].clone()), (200, json!(4)));
    // Without a version, a change applies to the latest state (only its own fields).
    let (status, _) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"enabled": false})),
    );
    assert_eq!(status, 200);
    let (status, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "x", "version": 3})),
    );
    assert_eq!(
        (status, v["error_description"].clone()),
        (400, json!("version is only for updates"))
    );
}
