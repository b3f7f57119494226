//! Resources (APIs) with permission groups, client grants, and tokens for granted resources.

use edgeauth::support::cache::CACHE_TTL_MS;
use edgeauth::Method;
use serde_json::{json, Value};

use crate::*;

const BILLING: &str = "https://billing.test";

/// Registers a resource; answers its id.
fn resource(h: &Harness, identifier: &str, scopes: &[&str], lifetime: Option<u32>) -> String {
    let scopes: Vec<Value> = scopes
        .iter()
        .map(|s| json!({"value": s, "description": format!("{s} things")}))
        .collect();
    let mut body = json!({"identifier": identifier, "name": "API", "scopes": scopes});
    if let Some(l) = lifetime {
        body["access_token_lifetime"] = json!(l);
    }
    let (status, v) = h.admin(Method::Post, "/admin/resources", Some(body));
    assert_eq!(status, 201, "{v}");
    v["resource_id"].as_str().unwrap().to_string()
}

fn token(h: &Harness, id: &str, secret: &str, form: &str) -> (u16, Value, Value) {
    let r = h.token_basic(id, secret, &format!("grant_type=client_credentials{form}"));
    let body = body_json(&r);
    let claims = match body["access_token"].as_str() {
        Some(t) => verify(h, t).1,
        None => Value::Null,
    };
    (r.status, body, claims)
}

#[test]
fn a_resource_is_registered_read_listed_and_changed() {
    let h = Harness::new();
    let (status, v) = h.admin(
        Method::Post,
        "/admin/resources",
        Some(json!({"identifier": "urn:api:billing", "name": "Billing",
                    "scopes": [{"value": "invoices:read", "description": "Read invoices"}],
                    "access_token_lifetime": 900})),
    );
    assert_eq!(status, 201);
    let id = v["resource_id"].as_str().unwrap();
    assert_eq!(&id[14..15], "4", "a UUID v4");
    let expected = json!({
        "resource_id": id, "identifier": "urn:api:billing", "name": "Billing",
        "scopes": [{"value": "invoices:read", "description": "Read invoices"}],
        "access_token_lifetime": 900, "provider_client_id": null,
        "created_at": T0, "updated_at": T0
    });
    assert_eq!(v, expected);
    assert_eq!(
        h.admin(Method::Get, &format!("/admin/resources/{id}"), None),
        (200, expected.clone())
    );
    h.clock.advance(5);
    let (status, v) = h.admin(
        Method::Patch,
        &format!("/admin/resources/{id}"),
        Some(json!({"name": "Billing v2", "access_token_lifetime": null})),
    );
    assert_eq!(status, 200);
    assert_eq!(v["name"], "Billing v2");
    assert_eq!(v["access_token_lifetime"], Value::Null);
    assert_eq!(v["updated_at"], T0 + 5);
    let (_, list) = h.admin(Method::Get, "/admin/resources", None);
    assert_eq!(list["resources"].as_array().unwrap().len(), 1);
    assert_eq!(list["next_cursor"], Value::Null);
}

#[test]
fn resources_are_listed_with_a_cursor() {
    let h = Harness::new();
    let mut ids: Vec<String> = (0..3)
        .map(|i| resource(&h, &format!("urn:api:{i}"), &[], None))
        .collect();
    ids.sort();
    let (_, page1) = h.admin(Method::Get, "/admin/resources?limit=2", None);
    assert_eq!(page1["resources"][0]["resource_id"], ids[0].as_str());
    assert_eq!(page1["resources"][1]["resource_id"], ids[1].as_str());
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = h.admin(
        Method::Get,
        &format!("/admin/resources?limit=2&cursor={cursor}"),
        None,
    );
    assert_eq!(page2["resources"].as_array().unwrap().len(), 1);
    assert_eq!(page2["resources"][0]["resource_id"], ids[2].as_str());
    assert_eq!(page2["next_cursor"], Value::Null);
}

#[test]
fn resource_identifiers_are_unique_and_valid() {
    let h = Harness::new();
    let id = resource(&h, BILLING, &["read"], None);
    let (status, v) = h.admin(
        Method::Post,
        "/admin/resources",
        Some(json!({"identifier": BILLING, "name": "again"})),
    );
    assert_eq!(
        (status, v),
        (
            409,
            json!({"error": "conflict", "error_description": "a resource with this identifier already exists"})
        )
    );
    let cases = [
        (
            json!({"identifier": "billing", "name": "x"}),
            "identifier must be an absolute URI or URN without a fragment, at most 512 characters",
        ),
        (json!({"identifier": "urn:x"}), "name is required"),
        (
            json!({"identifier": "urn:x", "name": "x", "access_token_lifetime": 86401}),
            "access_token_lifetime must be between 60 and 86400 seconds",
        ),
        (
            json!({"identifier": "urn:x", "name": "x", "scopes": [{"value": "a"}, {"value": "a"}]}),
            "scope 'a' is listed twice",
        ),
    ];
    for (body, description) in cases {
        let (status, v) = h.admin(Method::Post, "/admin/resources", Some(body));
        assert_eq!(
            (status, v),
            (
                422,
                json!({"error": "invalid_client_metadata", "error_description": description})
            )
        );
    }
    let (status, v) = h.admin(
        Method::Patch,
        &format!("/admin/resources/{id}"),
        Some(json!({"identifier": "https://other.test"})),
    );
    assert_eq!(status, 422);
    assert_eq!(
        v["error_description"],
        "identifier cannot be changed; register a new resource"
    );
    let (status, _) = h.admin(Method::Get, "/admin/resources/nope", None);
    assert_eq!(status, 404);
}

#[test]
fn grants_must_name_registered_resources_and_their_scopes() {
    let h = Harness::new();
    resource(&h, BILLING, &["read", "write"], None);
    let cases = [
        (
            json!([{"resource": "urn:nope", "scope": "read"}]),
            "no registered resource has the identifier 'urn:nope'",
        ),
        (
            json!([{"resource": BILLING, "scope": "read admin"}]),
            "scope 'admin' is not among the scopes of resource 'https://billing.test'",
        ),
        (
            json!([{"resource": BILLING, "scope": "read"}, {"resource": BILLING}]),
            "grants name resource 'https://billing.test' twice",
        ),
    ];
    for (grants, description) in cases {
        let (status, v) = h.admin(
            Method::Post,
            "/admin/clients",
            Some(json!({"client_name": "c", "grants": grants})),
        );
        assert_eq!(
            (status, v),
            (
                422,
                json!({"error": "invalid_client_metadata", "error_description": description})
            )
        );
    }
    let (id, _) = h.create(json!({"client_name": "c"}));
    let (status, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"grants": [{"resource": BILLING, "scope": "write"}]})),
    );
    assert_eq!(status, 200);
    assert_eq!(v["grants"][0]["resource"], BILLING);
    assert_eq!(v["grants"][0]["scope"], "write");
    // A grant read back can be sent back as it is.
    let grants = v["grants"].clone();
    let (status, _) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({ "grants": grants })),
    );
    assert_eq!(status, 200);
}

#[test]
fn a_token_for_a_granted_resource_has_it_as_audience_and_the_granted_scopes() {
    let h = Harness::new();
    resource(&h, BILLING, &["read", "write", "admin"], Some(300));
    let (id, secret) = h.create(json!({
        "client_name": "c", "access_token_lifetime": 600,
        "grants": [{"resource": BILLING, "scope": "read write"}]
    }));
    let (status, body, claims) = token(&h, &id, &secret, "&resource=https%3A%2F%2Fbilling.test");
    assert_eq!(status, 200);
    assert_eq!(body["scope"], "read write");
    assert_eq!(body["expires_in"], 300, "the resource's cap is shorter");
    assert_eq!(claims["aud"], BILLING);
    assert_eq!(claims["exp"], T0 + 300);
    // Without `resource`, the first grant is the default.
    let (_, body, claims) = token(&h, &id, &secret, "&scope=read");
    assert_eq!(
        (body["scope"].clone(), claims["aud"].clone()),
        (json!("read"), json!(BILLING))
    );
}

#[test]
fn the_client_lifetime_applies_when_shorter_than_the_resources() {
    let h = Harness::new();
    resource(&h, BILLING, &["read"], Some(3600));
    let (id, secret) = h.create(json!({
        "client_name": "c", "access_token_lifetime": 120,
        "grants": [{"resource": BILLING, "scope": "read"}]
    }));
    let (_, body, _) = token(&h, &id, &secret, "");
    assert_eq!(body["expires_in"], 120);
}

#[test]
fn scopes_are_granted_scopes_within_the_secrets_limit_and_the_request() {
    let h = Harness::new();
    resource(&h, BILLING, &["read", "write", "admin"], None);
    let (id, _) = h.create(json!({
        "client_name": "c", "scope": "flat",
        "grants": [{"resource": BILLING, "scope": "read write"}]
    }));
    let (status, s) = h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/secrets"),
        Some(json!({"scope": "read flat"})),
    );
    assert_eq!(status, 201, "a secret may be limited to granted scopes");
    let limited = s["client_secret"].as_str().unwrap();
    let (_, body, _) = token(&h, &id, limited, "");
    assert_eq!(body["scope"], "read");
    let r = h.token_basic(&id, limited, "grant_type=client_credentials&scope=write");
    assert_error(
        &r,
        400,
        "invalid_scope",
        "scope 'write' is not allowed for this client",
    );
    let r = h.token_basic(&id, limited, "grant_type=client_credentials&scope=admin");
    assert_error(
        &r,
        400,
        "invalid_scope",
        "scope 'admin' is not allowed for this client",
    );
    let (status, v) = h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/secrets"),
        Some(json!({"scope": "admin"})),
    );
    assert_eq!(
        (status, v["error_description"].clone()),
        (
            422,
            json!("secret scope 'admin' is not among the client's scopes")
        )
    );
}

#[test]
fn an_ungranted_resource_is_invalid_target_even_if_registered() {
    let h = Harness::new();
    resource(&h, BILLING, &["read"], None);
    resource(&h, "urn:api:other", &["read"], None);
    let (id, secret) = h.create(json!({
        "client_name": "c", "grants": [{"resource": BILLING, "scope": "read"}]
    }));
    let r = h.token_basic(
        &id,
        &secret,
        "grant_type=client_credentials&resource=urn%3Aapi%3Aother",
    );
    assert_error(
        &r,
        400,
        "invalid_target",
        "resource 'urn:api:other' is not allowed for this client",
    );
}

#[test]
fn flat_resources_keep_the_flat_scope_beside_grants() {
    let h = Harness::new();
    resource(&h, BILLING, &["read"], None);
    let (id, secret) = h.create(json!({
        "client_name": "c", "scope": "legacy", "resources": ["https://old.test"],
        "grants": [{"resource": BILLING, "scope": "read"}]
    }));
    let (_, body, claims) = token(&h, &id, &secret, "&resource=https%3A%2F%2Fold.test");
    assert_eq!(body["scope"], "legacy");
    assert_eq!(claims["aud"], "https://old.test");
    let (_, body, claims) = token(&h, &id, &secret, "");
    assert_eq!(body["scope"], "read");
    assert_eq!(claims["aud"], BILLING, "the first grant is the default");
}

#[test]
fn a_scope_dropped_from_the_resource_is_no_longer_granted() {
    let h = Harness::new();
    let rid = resource(&h, BILLING, &["read", "write"], None);
    let (id, secret) = h.create(json!({
        "client_name": "c", "grants": [{"resource": BILLING, "scope": "read write"}]
    }));
    let (status, _) = h.admin(
        Method::Patch,
        &format!("/admin/resources/{rid}"),
        Some(json!({"scopes": [{"value": "read"}]})),
    );
    assert_eq!(status, 200);
    let (_, body, _) = token(&h, &id, &secret, "");
    assert_eq!(body["scope"], "read");
}

#[test]
fn a_granted_resource_cannot_be_deleted_until_its_grants_are_removed() {
    let h = Harness::new();
    let rid = resource(&h, BILLING, &["read"], None);
    let grant = json!({"grants": [{"resource": BILLING, "scope": "read"}]});
    let (a, _) = h.create(json!({"client_name": "a", "grants": grant["grants"]}));
    h.create(json!({"client_name": "b", "grants": grant["grants"]}));
    h.create(json!({"client_name": "c"}));
    let (status, v) = h.admin(Method::Delete, &format!("/admin/resources/{rid}"), None);
    assert_eq!(
        (status, v),
        (
            409,
            json!({"error": "conflict", "error_description": "the resource is granted to 2 clients; remove those grants first"})
        )
    );
    h.admin(
        Method::Patch,
        &format!("/admin/clients/{a}"),
        Some(json!({"grants": []})),
    );
    let (_, v) = h.admin(Method::Delete, &format!("/admin/resources/{rid}"), None);
    assert_eq!(
        v["error_description"],
        "the resource is granted to 1 client; remove those grants first"
    );
    let (_, list) = h.admin(Method::Get, "/admin/clients", None);
    for c in list["clients"].as_array().unwrap() {
        let id = c["client_id"].as_str().unwrap();
        h.admin(
            Method::Patch,
            &format!("/admin/clients/{id}"),
            Some(json!({"grants": []})),
        );
    }
    let (status, _) = h.admin(Method::Delete, &format!("/admin/resources/{rid}"), None);
    assert_eq!(status, 204);
    assert!(h.store.get_raw(&format!("resource:{rid}")).is_none());
    let (status, _) = h.admin(
        Method::Post,
        "/admin/resources",
        Some(json!({"identifier": BILLING, "name": "again"})),
    );
    assert_eq!(status, 201, "the identifier is free again");
}

#[test]
fn records_written_before_grants_and_versions_still_get_tokens() {
    let h = Harness::new();
    // Made by the current code, then stripped to the previous version's stored shape.
    let (id, secret) = h.create(json!({
        "client_name": "old", "scope": "read write", "resources": ["https://api.test"],
        "access_token_lifetime": 600
    }));
    let stored: Value =
        serde_json::from_str(&h.store.get_raw(&format!("client:{id}")).unwrap()).unwrap();
    let digest = stored["secrets"][0]["digest"].as_str().unwrap();
    let secret_id = stored["secrets"][0]["meta"]["secret_id"].as_str().unwrap();
    let old = format!(
        r#"{{"client":{{"client_id":"{id}","client_name":"old","description":"","enabled":true,
        "token_endpoint_auth_method":"client_secret_basic","scope":"read write",
        "resources":["https://api.test"],"access_token_lifetime":600,"lockout_enabled":true,
        "client_id_issued_at":{T0},"updated_at":{T0}}},
        "secrets":[{{"meta":{{"secret_id":"{secret_id}","description":"","created_at":{T0},
        "expires_at":null,"scope":null,"last_used_at":null}},"digest":"{digest}"}}]}}"#
    );
    h.store.put_raw(&format!("client:{id}"), &old);
    h.clock.advance_ms(CACHE_TTL_MS);
    let (status, body, claims) = token(&h, &id, &secret, "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "read write");
    assert_eq!(claims["aud"], "https://api.test");
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(
        (v["grants"].clone(), v["version"].clone()),
        (json!([]), json!(0))
    );
    // The first write upgrades it.
    let (_, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"version": 0, "description": "upgraded"})),
    );
    assert_eq!(v["version"], 1);
}

#[test]
fn the_warm_path_reads_no_resource_from_storage() {
    let h = Harness::new();
    resource(&h, BILLING, &["read"], None);
    let (id, secret) = h.create(json!({
        "client_name": "c", "grants": [{"resource": BILLING, "scope": "read"}]
    }));
    h.clock.advance_ms(CACHE_TTL_MS);
    token(&h, &id, &secret, "");
    let reads = h.store.reads();
    for _ in 0..5 {
        assert_eq!(token(&h, &id, &secret, "").0, 200);
    }
    assert_eq!(h.store.reads(), reads);
    h.clock.advance_ms(CACHE_TTL_MS);
    token(&h, &id, &secret, "");
    assert_eq!(
        h.store.reads(),
        reads + 2,
        "the client and the resource, once"
    );
}
