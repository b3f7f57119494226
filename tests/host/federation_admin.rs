//! The federated credentials admin API (issue 23 item 2): add, list and remove the external
//! issuers' tokens a `private_key_jwt` client accepts, every input rule, the limits, the
//! guard name a removal bites through, the audit trail and the last uses.

use edgeauth::ports::Guards;
use edgeauth::registry::clients::ClientId;
use edgeauth::registry::federation::{guard_name, CredentialId};
use edgeauth::registry::guard::GuardOp;
use edgeauth::Method;
use serde_json::{json, Value};

use crate::verifier::{jws, TestKey};
use crate::*;

const GITHUB: &str = "https://token.actions.githubusercontent.com";

fn path(id: &str) -> String {
    format!("/admin/clients/{id}/federated-credentials")
}

/// A `private_key_jwt` client without keys: it authenticates only through federation.
fn keyless(h: &Harness) -> String {
    let body = json!({"client_name": "ci", "token_endpoint_auth_method": "private_key_jwt",
                      "scope": "deploy"});
    let (status, v) = h.admin(Method::Post, "/admin/clients", Some(body));
    assert_eq!(status, 201, "{v}");
    v["client"]["client_id"].as_str().unwrap().to_string()
}

fn github(name: &str) -> Value {
    json!({"name": name, "issuer": GITHUB, "audiences": ["https://edgeauth.example"],
           "subject": "repo:acme/deploy:ref:refs/heads/main"})
}

fn add(h: &Harness, id: &str, body: Value) -> (u16, Value) {
    h.admin(Method::Post, &path(id), Some(body))
}

fn added(h: &Harness, id: &str, body: Value) -> String {
    let (status, v) = add(h, id, body);
    assert_eq!(status, 201, "{v}");
    v["credential_id"].as_str().unwrap().to_string()
}

fn error(description: &str) -> Value {
    json!({"error": "invalid_client_metadata", "error_description": description})
}

fn conflict(description: &str) -> Value {
    json!({"error": "conflict", "error_description": description})
}

fn guard_revokes(h: &Harness, client: &str, credential: &str) -> bool {
    let client = ClientId::parse(client).unwrap();
    let state = block_on(h.guards.apply(&client, GuardOp::Read, h.clock.now())).unwrap();
    state.is_key_revoked(&guard_name(&CredentialId::parse(credential).unwrap()))
}

fn events(h: &Harness, id: &str) -> Vec<(String, String)> {
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}/audit"), None);
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let action = e["action"].as_str().unwrap().to_string();
            (action, e["detail"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn a_credential_is_added_listed_shown_with_its_client_and_deleted() {
    let h = Harness::new();
    let id = keyless(&h);
    h.clock.advance(5);
    let body = json!({"name": "release", "description": "the release workflow",
        "issuer": GITHUB, "audiences": ["https://edgeauth.example", "edgeauth"],
        "subject_pattern": "repo:acme/deploy:*",
        "claims": {"job_workflow_ref": "acme/deploy/.github/workflows/release.yml@refs/heads/main",
                   "repository_owner": "acme"},
        "jwks_uri": "https://token.actions.githubusercontent.com/.well-known/jwks"});
    let (status, v) = add(&h, &id, body);
    assert_eq!(status, 201, "{v}");
    let cid = v["credential_id"].as_str().unwrap().to_string();
    assert!(CredentialId::parse(&cid).is_some(), "{cid}");
    let expected = json!({"credential_id": cid, "name": "release",
        "description": "the release workflow", "issuer": GITHUB,
        "jwks_uri": "https://token.actions.githubusercontent.com/.well-known/jwks",
        "audiences": ["https://edgeauth.example", "edgeauth"], "subject": null,
        "subject_pattern": "repo:acme/deploy:*",
        "claims": {"job_workflow_ref": "acme/deploy/.github/workflows/release.yml@refs/heads/main",
                   "repository_owner": "acme"},
        "created_at": T0 + 5, "last_used_at": null});
    assert_eq!(v, expected);

    // The minimal form: no description, jwks_uri or claims.
    let (status, min) = add(&h, &id, github("main"));
    assert_eq!(status, 201, "{min}");
    let min_id = min["credential_id"].as_str().unwrap().to_string();
    assert_eq!(
        min,
        json!({"credential_id": min_id, "name": "main", "description": "", "issuer": GITHUB,
               "jwks_uri": null, "audiences": ["https://edgeauth.example"],
               "subject": "repo:acme/deploy:ref:refs/heads/main", "subject_pattern": null,
               "claims": {}, "created_at": T0 + 5, "last_used_at": null})
    );

    let (status, list) = h.admin(Method::Get, &path(&id), None);
    assert_eq!(status, 200);
    assert_eq!(list, json!({"federated_credentials": [expected, min]}));
    let (_, client) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(
        client["federated_credentials"],
        list["federated_credentials"]
    );
    assert_eq!(client["version"], 3, "each add is a write of the client");
    let (_, clients) = h.admin(Method::Get, "/admin/clients", None);
    assert_eq!(
        clients["clients"][0]["federated_credentials"],
        list["federated_credentials"]
    );

    h.clock.advance(1);
    let (status, v) = h.admin(Method::Delete, &format!("{}/{cid}", path(&id)), None);
    assert_eq!((status, v), (204, Value::Null));
    let (_, list) = h.admin(Method::Get, &path(&id), None);
    assert_eq!(list["federated_credentials"].as_array().unwrap().len(), 1);
    assert_eq!(list["federated_credentials"][0]["credential_id"], min_id);
    assert_eq!(
        events(&h, &id),
        [
            (
                "federated_credential.deleted".to_string(),
                format!("federated credential {cid} 'release' removed")
            ),
            (
                "federated_credential.created".to_string(),
                format!("federated credential {min_id} 'main' added")
            ),
            (
                "federated_credential.created".to_string(),
                format!("federated credential {cid} 'release' added")
            ),
            (
                "client.created".to_string(),
                "created with client_name, token_endpoint_auth_method, scope".to_string()
            ),
        ]
    );
    // A secret client and a key client show an empty list.
    let (secret_client, _) = h.create(json!({"client_name": "s"}));
    let (_, v) = h.admin(
        Method::Get,
        &format!("/admin/clients/{secret_client}"),
        None,
    );
    assert_eq!(v["federated_credentials"], json!([]));
}

#[test]
fn every_input_rule_is_a_422_naming_its_field() {
    let h = Harness::new();
    let id = keyless(&h);
    let long = |n: usize| "x".repeat(n);
    let issuer_rule = "issuer must be an https URL without user info, query or fragment (http only for localhost, 127.0.0.1 or [::1]), at most 512 characters";
    let jwks_uri_rule = "jwks_uri must be an https URL without user info or fragment (http only for localhost, 127.0.0.1 or [::1])";
    let value_rule =
        |what: &str| format!("{what} must be 1 to 512 characters without control characters");
    let reserved = "claims must not name iss, sub, aud, exp, nbf or iat: issuer, audiences and subject govern them, and the token checks the times";
    let cases: Vec<(&str, Value, String)> = vec![
        ("name", Value::Null, "name is required".into()),
        ("name", json!(""), "name must not be empty".into()),
        ("name", json!(" \u{200B} "), "name must not be empty".into()),
        (
            "name",
            json!(long(201)),
            "name is longer than 200 characters".into(),
        ),
        (
            "name",
            json!("a\u{202E}b"),
            "name contains control or bidirectional formatting characters".into(),
        ),
        (
            "name",
            json!("a\nb"),
            "name contains control or bidirectional formatting characters".into(),
        ),
        (
            "description",
            json!(long(1001)),
            "description is longer than 1000 characters".into(),
        ),
        (
            "description",
            json!("a\u{7}"),
            "description contains control or bidirectional formatting characters".into(),
        ),
        ("issuer", Value::Null, "issuer is required".into()),
        ("issuer", json!("http://issuer.example"), issuer_rule.into()),
        (
            "issuer",
            json!("https://issuer.example/?a=1"),
            issuer_rule.into(),
        ),
        (
            "issuer",
            json!("https://issuer.example/#x"),
            issuer_rule.into(),
        ),
        (
            "issuer",
            json!("https://me@issuer.example"),
            issuer_rule.into(),
        ),
        (
            "issuer",
            json!("http://localhost.evil.example"),
            issuer_rule.into(),
        ),
        (
            "issuer",
            json!(format!("https://i.example/{}", long(500))),
            issuer_rule.into(),
        ),
        (
            "issuer",
            json!("token.actions.githubusercontent.com"),
            issuer_rule.into(),
        ),
        (
            "jwks_uri",
            json!("http://keys.example/jwks"),
            jwks_uri_rule.into(),
        ),
        (
            "jwks_uri",
            json!("https://keys.example/jwks#k"),
            jwks_uri_rule.into(),
        ),
        ("audiences", Value::Null, "audiences is required".into()),
        (
            "audiences",
            json!([]),
            "audiences must list 1 to 10 values".into(),
        ),
        (
            "audiences",
            json!((0..11).map(|i| format!("a{i}")).collect::<Vec<_>>()),
            "audiences must list 1 to 10 values".into(),
        ),
        ("audiences", json!([""]), value_rule("each audience")),
        ("audiences", json!([long(513)]), value_rule("each audience")),
        ("audiences", json!(["a\tb"]), value_rule("each audience")),
        (
            "audiences",
            json!(["a", "a"]),
            "audiences contains a duplicate".into(),
        ),
        (
            "subject",
            Value::Null,
            "subject or subject_pattern is required".into(),
        ),
        ("subject", json!(""), value_rule("subject")),
        ("subject", json!(long(513)), value_rule("subject")),
        (
            "subject_pattern",
            json!("repo:*"),
            "give subject or subject_pattern, not both".into(),
        ),
        (
            "claims",
            json!({"a": "b", "c": "d", "e": "f", "g": "h", "i": "j", "k": "l",
                          "m": "n", "o": "p", "q": "r", "s": "t", "u": "v"}),
            "claims may hold at most 10 entries".into(),
        ),
        (
            "claims",
            json!({"": "x"}),
            "each claim name must be 1 to 128 characters without control characters".into(),
        ),
        (
            "claims",
            json!({long(129): "x"}),
            "each claim name must be 1 to 128 characters without control characters".into(),
        ),
        (
            "claims",
            json!({"ref": ""}),
            value_rule("each claim pattern"),
        ),
        (
            "claims",
            json!({"ref": long(513)}),
            value_rule("each claim pattern"),
        ),
    ];
    let mut all = cases;
    for claim in ["iss", "sub", "aud", "exp", "nbf", "iat"] {
        all.push(("claims", json!({ claim: "x" }), reserved.into()));
    }
    for (field, given, description) in all {
        let mut body = github("c");
        match given {
            Value::Null => {
                body.as_object_mut().unwrap().remove(field);
            }
            v => body[field] = v,
        }
        let (status, v) = add(&h, &id, body.clone());
        assert_eq!((status, v), (422, error(&description)), "{body}");
    }
    // Only-star patterns match every subject; a star among literals is fine, and so is a
    // claim pattern of only stars (the claim must be present, as a string).
    for only in ["*", "***"] {
        let mut body = github("c");
        body.as_object_mut().unwrap().remove("subject");
        body["subject_pattern"] = json!(only);
        assert_eq!(
            add(&h, &id, body),
            (
                422,
                error("subject_pattern must not be only '*': it would match every subject")
            )
        );
    }
    let mut body = github("ok");
    body.as_object_mut().unwrap().remove("subject");
    body["subject_pattern"] = json!("repo:acme/*:environment:prod");
    body["claims"] = json!({"environment": "*"});
    body["jwks_uri"] = json!("http://127.0.0.1:9/jwks");
    body["issuer"] = json!("http://localhost:8788");
    assert_eq!(add(&h, &id, body).0, 201);
    // Nothing refused was stored.
    let (_, list) = h.admin(Method::Get, &path(&id), None);
    assert_eq!(list["federated_credentials"].as_array().unwrap().len(), 1);
}

#[test]
fn malformed_bodies_and_unknown_fields_are_400() {
    let h = Harness::new();
    let id = keyless(&h);
    for bad in [
        json!({"name": "a", "issuer": GITHUB, "audiences": ["x"], "subject": "s", "sub": "s"}),
        json!({"name": "a", "issuer": GITHUB, "audiences": ["x"], "subject": "s",
               "claims": {"ref": 1}}),
        json!({"name": "a", "issuer": GITHUB, "audiences": "x", "subject": "s"}),
        json!(["a"]),
    ] {
        let (status, v) = add(&h, &id, bad.clone());
        assert_eq!(
            (status, v["error"].clone()),
            (400, json!("invalid_request")),
            "{bad}"
        );
    }
}

#[test]
fn only_private_key_jwt_clients_hold_them_and_at_most_twenty_with_unique_names() {
    let h = Harness::new();
    for method in [
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
    ] {
        let (sid, _) = h.create(json!({"client_name": "s", "token_endpoint_auth_method": method}));
        assert_eq!(
            add(&h, &sid, github("a")),
            (409, conflict("only private_key_jwt clients hold federated credentials; this client authenticates with secrets")),
            "{method}"
        );
    }
    let id = keyless(&h);
    for i in 0..20 {
        added(&h, &id, github(&format!("c{i}")));
    }
    assert_eq!(
        add(&h, &id, github("c20")),
        (
            409,
            conflict("a client may hold at most 20 federated credentials; delete one first")
        )
    );
    let other = keyless(&h);
    added(&h, &other, github("c0"));
    assert_eq!(
        add(&h, &other, github("c0")),
        (
            409,
            conflict("the client already has a federated credential named 'c0'")
        )
    );
    // Unknown or malformed clients are 404 before anything else.
    for missing in ["0f8fad5b-d9cb-469f-a165-70867728950e", "nope"] {
        let (status, v) = add(&h, missing, github("a"));
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
fn a_deletion_bites_through_the_guard_and_forgets_the_last_use() {
    let h = Harness::new();
    let id = keyless(&h);
    let cid = added(&h, &id, github("a"));
    let keep = added(&h, &id, github("b"));
    let client = ClientId::parse(&id).unwrap();
    h.isolate
        .activity
        .record_token(&client, Some(&cid), (T0 + 10) * 1000);
    h.isolate
        .activity
        .record_token(&client, Some(&keep), (T0 + 20) * 1000);
    // The background writes go out after the next answer, as the shell's wait_until does.
    h.clock.advance(30);
    h.admin(Method::Get, "/admin/limits", None);
    let (_, list) = h.admin(Method::Get, &path(&id), None);
    let used: Vec<&Value> = list["federated_credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["last_used_at"])
        .collect();
    assert_eq!(used, [&json!(T0 + 10), &json!(T0 + 20)]);
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(v["federated_credentials"][0]["last_used_at"], T0 + 10);

    assert!(!guard_revokes(&h, &id, &cid));
    let (status, _) = h.admin(Method::Delete, &format!("{}/{cid}", path(&id)), None);
    assert_eq!(status, 204);
    assert!(
        guard_revokes(&h, &id, &cid),
        "the token side refuses it at once"
    );
    assert!(!guard_revokes(&h, &id, &keep));
    let used = block_on(edgeauth::ports::ActivityStore::last_used(&h.store, &client)).unwrap();
    assert_eq!(used, [(keep.clone(), T0 + 20)]);
    // A key change of the client never brings it back.
    let patch = json!({"jwks": {"keys": [TestKey::ed(7).jwk("k1")]}});
    let (status, v) = h.admin(Method::Patch, &format!("/admin/clients/{id}"), Some(patch));
    assert_eq!(status, 200, "{v}");
    assert!(guard_revokes(&h, &id, &cid));

    let not_found =
        json!({"error": "not_found", "error_description": "no such federated credential"});
    for gone in [cid.as_str(), "0f8fad5b-d9cb-469f-a165-70867728950e", "x"] {
        let (status, v) = h.admin(Method::Delete, &format!("{}/{gone}", path(&id)), None);
        assert_eq!((status, v), (404, not_found.clone()), "{gone}");
    }
}

#[test]
fn a_private_key_jwt_client_without_keys_is_created_and_refuses_self_signed_assertions() {
    let h = Harness::new();
    let id = keyless(&h);
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!((v.get("jwks"), v.get("jwks_uri")), (None, None));
    let assertion = |kid: &str| {
        let now = h.clock.now();
        let claims = json!({"iss": id, "sub": id, "aud": format!("{ORIGIN}/oauth/token"),
                            "iat": now, "exp": now + 60, "jti": format!("j-{now}-{kid}")});
        let a = jws(&TestKey::ed(7), json!({"alg": "EdDSA", "kid": kid}), claims);
        h.send(token_request(&format!(
            "grant_type=client_credentials&client_assertion_type={}&client_assertion={a}",
            urlencode(edgeauth::oauth::assertions::ASSERTION_TYPE)
        )))
    };
    for _ in 0..6 {
        let r = assertion("k1");
        assert_error(&r, 401, "invalid_client", "client authentication failed");
    }
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(
        (v["failed_attempts"].clone(), v["locked_until"].clone()),
        (json!(0), Value::Null),
        "never counted towards the lockout"
    );
    // Keys added, then removed again by PATCH: keys are optional both ways.
    let patch = json!({"jwks": {"keys": [TestKey::ed(7).jwk("k1")]}});
    assert_eq!(
        h.admin(Method::Patch, &format!("/admin/clients/{id}"), Some(patch))
            .0,
        200
    );
    h.clock.advance(1);
    assert_eq!(assertion("k1").status, 200);
    let (status, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"jwks": null})),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v.get("jwks"), None);
    h.clock.advance(1);
    assert_error(
        &assertion("k1"),
        401,
        "invalid_client",
        "client authentication failed",
    );
    // Both sources at once is still refused.
    let both =
        json!({"jwks": {"keys": [TestKey::ed(7).jwk("k1")]}, "jwks_uri": "https://k.example/j"});
    assert_eq!(
        h.admin(Method::Patch, &format!("/admin/clients/{id}"), Some(both)),
        (
            422,
            error("give jwks (or public_key_pem) or jwks_uri, not both")
        )
    );
}

#[test]
fn the_auth_method_stays_private_key_jwt_while_credentials_are_held() {
    let h = Harness::new();
    let id = keyless(&h);
    let cid = added(&h, &id, github("a"));
    let (_, before) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    let change = json!({"token_endpoint_auth_method": "client_secret_basic"});
    let url = format!("/admin/clients/{id}");
    assert_eq!(
        h.admin(Method::Patch, &url, Some(change.clone())),
        (409, conflict("federated credentials are only for private_key_jwt clients; delete them before changing token_endpoint_auth_method"))
    );
    let (_, after) = h.admin(Method::Get, &url, None);
    assert_eq!(after, before, "nothing changed");
    h.admin(Method::Delete, &format!("{}/{cid}", path(&id)), None);
    let (status, v) = h.admin(Method::Patch, &url, Some(change));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_endpoint_auth_method"], "client_secret_basic");
}

#[test]
fn a_deleted_client_takes_its_credentials_along() {
    let h = Harness::new();
    let id = keyless(&h);
    let cid = added(&h, &id, github("a"));
    let client = ClientId::parse(&id).unwrap();
    h.isolate
        .activity
        .record_token(&client, Some(&cid), T0 * 1000);
    h.admin(Method::Get, "/admin/limits", None);
    assert_eq!(
        h.admin(Method::Delete, &format!("/admin/clients/{id}"), None)
            .0,
        204
    );
    let (status, v) = h.admin(Method::Get, &path(&id), None);
    assert_eq!(
        (status, v),
        (
            404,
            json!({"error": "not_found", "error_description": "no such client"})
        )
    );
    let used = block_on(edgeauth::ports::ActivityStore::last_used(&h.store, &client)).unwrap();
    assert!(used.is_empty(), "{used:?}");
}

#[test]
fn wrong_methods_are_405_and_limits_state_the_rules() {
    let h = Harness::new();
    let id = keyless(&h);
    let item = format!("{}/0f8fad5b-d9cb-469f-a165-70867728950e", path(&id));
    for (method, p, allow) in [
        (Method::Put, path(&id), "GET, POST"),
        (Method::Delete, path(&id), "GET, POST"),
        (Method::Get, item.clone(), "DELETE"),
        (Method::Post, item, "DELETE"),
    ] {
        let req = Request::new(method, &format!("{ORIGIN}{p}"))
            .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"));
        let r = h.send(req);
        assert_eq!((r.status, r.header("allow")), (405, Some(allow)), "{p}");
    }
    let (_, limits) = h.admin(Method::Get, "/admin/limits", None);
    assert_eq!(
        limits["federated_credential"],
        json!({"per_client": 20, "name_max": 200, "description_max": 1000, "value_max": 512,
               "audiences_max": 10, "claims_max": 10, "claim_name_max": 128,
               "reserved_claims": ["iss", "sub", "aud", "exp", "nbf", "iat"]})
    );
}
