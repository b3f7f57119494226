//! The admin API: authentication, clients and secrets.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use edgeauth::Method;
use serde_json::{json, Value};

use crate::*;

#[test]
fn admin_calls_need_the_admin_bearer_token() {
    let h = Harness::new();
    for auth in [
        None,
        Some("Bearer wrong-token"),
        Some(&*format!("Basic {ADMIN_TOKEN}")),
    ] {
        let mut req = Request::new(Method::Get, &format!("{ORIGIN}/admin/clients"));
        if let Some(a) = auth {
            req = req.with_header("authorization", a);
        }
        let r = h.send(req);
        assert_error(
            &r,
            401,
            "unauthorized",
            "a valid admin bearer token is required",
        );
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"edgeauth-admin\"")
        );
    }
}

#[test]
fn creation_answers_the_client_and_its_secret_once() {
    let h = Harness::new();
    let (status, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(
            json!({"client_name": "Billing", "description": "nightly", "scope": "a b",
                    "secret": {"description": "first", "expires_at": 0}}),
        ),
    );
    assert_eq!(status, 201);
    let id = v["client"]["client_id"].as_str().unwrap();
    let secret = &v["secret"];
    assert_eq!(secret["client_secret"].as_str().unwrap().len(), 43);
    assert_eq!(
        v["client"],
        json!({
            "client_id": id, "client_name": "Billing", "description": "nightly", "enabled": true,
            "token_endpoint_auth_method": "client_secret_basic", "scope": "a b", "resources": [],
            "access_token_lifetime": 3600, "lockout_enabled": true, "introspection_allowed": false,
            "dpop_bound_access_tokens": false, "client_id_issued_at": T0, "updated_at": T0, "grants": [], "version": 1,
            "locked_until": null, "failed_attempts": 0, "tokens_valid_after": null,
            "secrets": [{"secret_id": secret["secret_id"], "description": "first", "created_at": T0,
                         "expires_at": null, "scope": null, "last_used_at": null}],
            "federated_credentials": []
        })
    );
    // Never again: not in reads, not in storage.
    let plaintext = secret["client_secret"].as_str().unwrap();
    let (_, got) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(got, v["client"]);
    let (_, secrets) = h.admin(Method::Get, &format!("/admin/clients/{id}/secrets"), None);
    assert!(!secrets.to_string().contains(plaintext));
    assert!(!got.to_string().contains("digest"));
    let stored = h.store.get_raw(&format!("client:{id}")).unwrap();
    assert!(!stored.contains(plaintext));
}

#[test]
fn the_default_secret_expires_in_one_year() {
    let h = Harness::new();
    let (_, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "x"})),
    );
    assert_eq!(v["secret"]["expires_at"], T0 + 365 * 86_400);
}

#[test]
fn listing_is_paginated_with_a_cursor() {
    let h = Harness::new();
    let mut ids: Vec<String> = (0..3)
        .map(|i| h.create(json!({"client_name": format!("c{i}")})).0)
        .collect();
    ids.sort();
    let (status, page1) = h.admin(Method::Get, "/admin/clients?limit=2", None);
    assert_eq!(status, 200);
    let got: Vec<&str> = page1["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[0].as_str(), ids[1].as_str()]);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = h.admin(
        Method::Get,
        &format!("/admin/clients?limit=2&cursor={cursor}"),
        None,
    );
    assert_eq!(page2["clients"].as_array().unwrap().len(), 1);
    assert_eq!(page2["clients"][0]["client_id"], ids[2].as_str());
    assert_eq!(page2["next_cursor"], Value::Null);
    // A cursor is the server's own, sealed: a tampered one is refused before the store sees it.
    let (data, tag) = cursor.split_once('.').unwrap();
    let forged_data = URL_SAFE_NO_PAD.encode("client:00000000");
    for tampered in [
        format!("{forged_data}.{tag}"),
        format!("{data}.AAAAAAAAAAAAAAAAAAAAAA"),
        data.to_string(),
        "AAAAAtampered-cursor".to_string(),
    ] {
        let (status, v) = h.admin(
            Method::Get,
            &format!("/admin/clients?limit=2&cursor={tampered}"),
            None,
        );
        assert_eq!(
            (status, v),
            (
                400,
                json!({"error": "invalid_request", "error_description": "invalid cursor"})
            ),
            "{tampered}"
        );
    }
    for bad in ["limit=0", "limit=101", "limit=x"] {
        let (status, v) = h.admin(Method::Get, &format!("/admin/clients?{bad}"), None);
        assert_eq!(
            (status, v),
            (
                400,
                json!({"error": "invalid_request", "error_description": "limit must be 1 to 100"})
            )
        );
    }
}

#[test]
fn unknown_clients_are_404() {
    let h = Harness::new();
    for id in ["0f8fad5b-d9cb-469f-a165-70867728950e", "nope"] {
        let (status, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
        assert_eq!(
            (status, v),
            (
                404,
                json!({"error": "not_found", "error_description": "no such client"})
            )
        );
    }
}

#[test]
fn patch_changes_only_the_given_fields() {
    let h = Harness::new();
    let (id, _) = h.create(json!({"client_name": "a", "scope": "x"}));
    h.clock.advance(10);
    let (status, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"client_name": "b", "access_token_lifetime": 120, "resources": ["https://r.test"]})),
    );
    assert_eq!(status, 200);
    assert_eq!(v["client_name"], "b");
    assert_eq!(v["scope"], "x");
    assert_eq!(v["access_token_lifetime"], 120);
    assert_eq!(v["resources"], json!(["https://r.test"]));
    assert_eq!(v["updated_at"], T0 + 10);
    assert_eq!(v["client_id_issued_at"], T0);
}

#[test]
fn invalid_patches_change_nothing() {
    let h = Harness::new();
    let (id, _) = h.create(json!({"client_name": "a"}));
    let (_, before) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    let cases = [
        (
            json!({"client_name": "b", "access_token_lifetime": 10}),
            422,
            "invalid_client_metadata",
            "access_token_lifetime must be between 60 and 86400 seconds",
        ),
        (
            json!({"client_name": ""}),
            422,
            "invalid_client_metadata",
            "client_name must not be empty",
        ),
        (
            json!({"secret": {}}),
            400,
            "invalid_request",
            "secrets are added with POST /admin/clients/{client_id}/secrets",
        ),
    ];
    for (body, status, code, description) in cases {
        let (s, v) = h.admin(Method::Patch, &format!("/admin/clients/{id}"), Some(body));
        assert_eq!(
            (s, v),
            (
                status,
                json!({"error": code, "error_description": description})
            )
        );
    }
    let (s, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"client_id": "x"})),
    );
    assert_eq!(s, 400);
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .starts_with("invalid JSON body: unknown field `client_id`"));
    let (_, after) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(before, after);
}

#[test]
fn deleting_a_client_removes_it_and_its_secrets() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a"}));
    let (status, body) = h.admin(Method::Delete, &format!("/admin/clients/{id}"), None);
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(
        h.admin(Method::Get, &format!("/admin/clients/{id}"), None)
            .0,
        404
    );
    assert!(h.store.get_raw(&format!("client:{id}")).is_none());
    let r = h.token_basic(&id, &secret, "grant_type=client_credentials");
    assert_error(&r, 401, "invalid_client", "client authentication failed");
}

#[test]
fn a_client_holds_at_most_twenty_secrets() {
    let h = Harness::new();
    let (id, _) = h.create(json!({"client_name": "a"}));
    for _ in 1..20 {
        assert_eq!(
            h.admin(
                Method::Post,
                &format!("/admin/clients/{id}/secrets"),
                Some(json!({}))
            )
            .0,
            201
        );
    }
    let (status, v) = h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/secrets"),
        Some(json!({})),
    );
    assert_eq!(
        (status, v),
        (
            409,
            json!({"error": "conflict", "error_description": "a client may hold at most 20 secrets; delete one first"})
        )
    );
}

#[test]
fn deleting_an_unknown_secret_is_404() {
    let h = Harness::new();
    let (id, _) = h.create(json!({"client_name": "a"}));
    let (status, v) = h.admin(
        Method::Delete,
        &format!("/admin/clients/{id}/secrets/nope"),
        None,
    );
    assert_eq!(
        (status, v),
        (
            404,
            json!({"error": "not_found", "error_description": "no such secret"})
        )
    );
}

#[test]
fn malformed_admin_bodies_are_400() {
    let h = Harness::new();
    let send = |ct: &str, body: String| {
        h.send(
            Request::new(Method::Post, &format!("{ORIGIN}/admin/clients"))
                .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"))
                .with_header("content-type", ct)
                .with_body(body),
        )
    };
    assert_error(
        &send("text/plain", "{}".into()),
        400,
        "invalid_request",
        "the content type must be application/json",
    );
    let r = send("application/json", "{not json".into());
    assert_eq!(r.status, 400);
    assert!(body_json(&r)["error_description"]
        .as_str()
        .unwrap()
        .starts_with("invalid JSON body: "));
    // An array would fill the input's fields by position: only objects are admin bodies.
    assert_error(
        &send("application/json", r#"["by position"]"#.into()),
        400,
        "invalid_request",
        "invalid JSON body: expected a JSON object",
    );
    let r = send(
        "application/json",
        format!(r#"{{"client_name":"{}"}}"#, "a".repeat(70_000)),
    );
    assert_error(
        &r,
        400,
        "invalid_request",
        "the request body is larger than 65536 bytes",
    );
    let r = send(
        "application/json; charset=utf-8",
        r#"{"client_name":"ok"}"#.into(),
    );
    assert_eq!(r.status, 201);
}

#[test]
fn wrong_methods_are_405_with_allow() {
    let h = Harness::new();
    let r = h.send(
        Request::new(Method::Put, &format!("{ORIGIN}/admin/clients"))
            .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}")),
    );
    assert_error(
        &r,
        405,
        "method_not_allowed",
        "method not allowed on this path",
    );
    assert_eq!(r.header("allow"), Some("GET, POST"));
}

#[test]
fn storage_outages_and_corrupt_records_answer_without_internals() {
    let h = Harness::new();
    h.store.faults.set_failing(true);
    let (status, v) = h.admin(Method::Get, "/admin/clients", None);
    assert_eq!(status, 503);
    assert_eq!(v["error"], "temporarily_unavailable");
    h.store.faults.set_failing(false);
    let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    h.store.put_raw(&format!("client:{id}"), "{garbage");
    let (status, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(
        (status, v),
        (
            500,
            json!({"error": "server_error", "error_description": "internal server error"})
        )
    );
}

#[test]
fn the_secret_policy_is_a_server_setting() {
    let h = Harness::with(&[
        ("SECRETS_PER_CLIENT", "2"),
        ("SECRET_MAX_LIFETIME_DAYS", "30"),
    ]);
    let (status, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "a"})),
    );
    assert_eq!(status, 201);
    assert_eq!(
        v["secret"]["expires_at"],
        T0 + 30 * 86_400,
        "the default shrinks to the cap"
    );
    let id = v["client"]["client_id"].as_str().unwrap();
    let path = format!("/admin/clients/{id}/secrets");
    let refused = |body: Value, description: &str| {
        let (status, v) = h.admin(Method::Post, &path, Some(body));
        assert_eq!(
            (status, v),
            (
                422,
                json!({"error": "invalid_client_metadata", "error_description": description})
            )
        );
    };
    refused(
        json!({"expires_at": 0}),
        "this server does not allow secrets that never expire",
    );
    refused(
        json!({"expires_in": 31 * 86_400}),
        "a secret may live at most 30 days on this server",
    );
    assert_eq!(
        h.admin(Method::Post, &path, Some(json!({"expires_in": 86_400})))
            .0,
        201
    );
    let (status, v) = h.admin(Method::Post, &path, Some(json!({})));
    assert_eq!(
        (status, v),
        (
            409,
            json!({"error": "conflict", "error_description": "a client may hold at most 2 secrets; delete one first"})
        )
    );
}

#[test]
fn limits_come_from_the_server_rules_and_settings() {
    let h = Harness::with(&[
        ("SECRETS_PER_CLIENT", "3"),
        ("SECRET_MAX_LIFETIME_DAYS", "30"),
    ]);
    let (status, v) = h.admin(Method::Get, "/admin/limits", None);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["secret"]["per_client"], 3);
    assert_eq!(v["secret"]["max_lifetime_days"], 30);
    assert_eq!(v["secret"]["default_lifetime_days"], 30);
    assert_eq!(v["secret"]["allow_never"], false);
    assert_eq!(v["client"]["name_max"], 200);
    assert_eq!(v["scope"]["tokens_max"], 64);
    assert_eq!(
        v["access_token_lifetime"],
        json!({"min": 60, "max": 86400, "default": 3600})
    );
    // The pattern the page compiles accepts and refuses what the server does.
    assert_eq!(v["scope"]["token_pattern"], r"^[\x21\x23-\x5B\x5D-\x7E]+$");
    let d = Harness::new().admin(Method::Get, "/admin/limits", None).1;
    assert_eq!(
        (
            d["secret"]["per_client"].clone(),
            d["secret"]["allow_never"].clone()
        ),
        (json!(20), json!(true))
    );
    assert_eq!(d["secret"]["max_lifetime_days"], Value::Null);
    let unauth = h.send(Request::new(Method::Get, &format!("{ORIGIN}/admin/limits")));
    assert_eq!(unauth.status, 401);
}

#[test]
fn admin_text_refuses_controls_bidi_overrides_and_invisible_names() {
    let h = Harness::new();
    let create = |body: Value| h.admin(Method::Post, "/admin/clients", Some(body));
    let refused = |(status, v): (u16, Value), description: &str| {
        assert_eq!(
            (status, v),
            (
                422,
                json!({"error": "invalid_client_metadata", "error_description": description})
            )
        );
    };
    refused(
        create(json!({"client_name": "invoice\u{202E}fdp.exe"})),
        "client_name contains control or bidirectional formatting characters",
    );
    refused(
        create(json!({"client_name": "two\nlines"})),
        "client_name contains control or bidirectional formatting characters",
    );
    refused(
        create(json!({"client_name": "\u{200B}\u{FEFF} "})),
        "client_name must not be empty",
    );
    refused(
        create(json!({"client_name": "a", "description": "x\u{2066}y"})),
        "description contains control or bidirectional formatting characters",
    );
    refused(
        create(json!({"client_name": "a", "secret": {"description": "\u{202D}ci"}})),
        "secret description must be at most 200 characters, without control characters",
    );
    let (status, v) = create(json!({"client_name": "a", "description": "two\nlines"}));
    assert_eq!(status, 201, "{v}");
    let resource = |name: &str| {
        h.admin(
            Method::Post,
            "/admin/resources",
            Some(json!({"identifier": "urn:bidi", "name": name})),
        )
    };
    refused(
        resource("api\u{202E}"),
        "name must be 1 to 200 characters, without control characters",
    );
    refused(
        resource("\u{200D}"),
        "name must be 1 to 200 characters, without control characters",
    );
}
