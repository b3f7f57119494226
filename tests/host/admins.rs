//! Admins are people (issue 26): Cloudflare Access sign-in with roles, management tokens that
//! edgeauth issues for its own `{ISSUER}/admin` resource, the break-glass token, `/admin/me`,
//! the audit trail's actor and `via`, and the same-origin rule for changes through Access.

use edgeauth::registry::admins::ADMIN_RESOURCE_ID;
use edgeauth::Method;
use serde_json::{json, Value};

use crate::verifier::{jws, rsa_key, TestKey};
use crate::*;

const TEAM: &str = "https://acme.cloudflareaccess.com";
const CERTS: &str = "https://acme.cloudflareaccess.com/cdn-cgi/access/certs";
const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
const ROLES: &str = r#"{"alice@acme.com":"admin","*@acme.com":"viewer","olga@acme.com":"operator","group:sre":"operator"}"#;

fn harness(extra: &[(&str, &str)]) -> Harness {
    let mut settings = vec![
        ("ACCESS_TEAM_DOMAIN", TEAM),
        (
            "ACCESS_AUD",
            "other-app, 4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2",
        ),
        ("ADMIN_ROLES", ROLES),
    ];
    settings.extend_from_slice(extra);
    let h = Harness::with(&settings);
    let certs = json!({"keys": [TestKey::Rsa(rsa_key()).jwk("k1")],
                       "public_cert": {"kid": "k1", "cert": "-----BEGIN CERTIFICATE-----"}});
    h.fetcher
        .serve(CERTS, &certs.to_string(), Some("max-age=300"));
    h
}

/// Access's claims for `email`, issued now.
fn claims(h: &Harness, email: &str) -> Value {
    let now = h.clock.now();
    json!({"aud": [AUD], "email": email, "exp": now + 3600, "iat": now, "nbf": now,
           "iss": TEAM, "type": "app", "identity_nonce": "n", "sub": "7335d417", "country": "NL"})
}

fn access_token(claims: Value) -> String {
    jws(
        &TestKey::Rsa(rsa_key()),
        json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}),
        claims,
    )
}

/// A request as Access forwards it, from the admin page (same origin).
fn as_person(method: Method, path: &str, token: &str, body: Option<Value>) -> Request {
    let mut req = Request::new(method, &format!("{ORIGIN}{path}"))
        .with_header("cf-access-jwt-assertion", token)
        .with_header("origin", ORIGIN);
    if let Some(b) = body {
        req = req
            .with_header("content-type", "application/json")
            .with_body(b.to_string());
    }
    req
}

fn person(h: &Harness, email: &str, method: Method, path: &str, body: Option<Value>) -> Response {
    h.send(as_person(
        method,
        path,
        &access_token(claims(h, email)),
        body,
    ))
}

fn bearer(h: &Harness, token: &str, method: Method, path: &str, body: Option<Value>) -> Response {
    let mut req = Request::new(method, &format!("{ORIGIN}{path}"))
        .with_header("authorization", &format!("Bearer {token}"));
    if let Some(b) = body {
        req = req
            .with_header("content-type", "application/json")
            .with_body(b.to_string());
    }
    h.send(req)
}

#[test]
fn each_role_may_do_what_the_table_says_and_no_more() {
    let h = harness(&[]);
    let r = person(&h, "bob@acme.com", Method::Get, "/admin/clients", None);
    assert_eq!(r.status, 200, "a viewer lists clients");
    let r = person(
        &h,
        "bob@acme.com",
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "x"})),
    );
    assert_error(
        &r,
        403,
        "forbidden",
        "bob@acme.com (role viewer) may not POST /admin/clients: it needs clients:write",
    );
    let r = person(
        &h,
        "olga@acme.com",
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "x"})),
    );
    assert_eq!(r.status, 201, "an operator creates clients");
    let r = person(
        &h,
        "olga@acme.com",
        Method::Post,
        "/admin/keys/rotate",
        None,
    );
    assert_error(
        &r,
        403,
        "forbidden",
        "olga@acme.com (role operator) may not POST /admin/keys/rotate: it needs keys:write",
    );
    let r = person(
        &h,
        "alice@acme.com",
        Method::Post,
        "/admin/keys/rotate",
        None,
    );
    assert_eq!(r.status, 200, "an admin rotates keys");
    // A group the application passes raises a viewer to operator.
    let mut c = claims(&h, "carol@acme.com");
    c["groups"] = json!(["sre"]);
    let req = as_person(
        Method::Post,
        "/admin/clients",
        &access_token(c),
        Some(json!({"client_name": "y"})),
    );
    assert_eq!(h.send(req).status, 201);
    let r = person(&h, "mallory@evil.test", Method::Get, "/admin/clients", None);
    assert_error(
        &r,
        403,
        "forbidden",
        "mallory@evil.test has no admin role: ADMIN_ROLES names neither them nor a group of theirs",
    );
}

/// Every documented operation declares its permission, and a viewer is refused exactly those
/// that need more than `clients:read`: the route table and the document agree.
#[test]
fn every_route_needs_the_permission_the_document_declares() {
    let h = harness(&[]);
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string("www/admin/openapi.json").unwrap()).unwrap();
    let id = "00000000-0000-4000-8000-000000000001";
    let mut checked = 0;
    for (template, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if !["get", "post", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let permission = &op["x-permission"];
            let path = template
                .split('/')
                .map(|s| if s.starts_with('{') { id } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let m = Method::parse(&method.to_uppercase());
            let body = (m != Method::Get && m != Method::Delete).then(|| json!({}));
            let r = person(&h, "bob@acme.com", m, &path, body);
            let refused = r.status == 403;
            match permission.as_str() {
                None => assert!(template == "/admin/me" && !refused, "{method} {template}"),
                Some("clients:read") => assert!(!refused, "{method} {template}: {r:?}"),
                Some(p) => {
                    let expected = format!(
                        "bob@acme.com (role viewer) may not {} {path}: it needs {p}",
                        method.to_uppercase()
                    );
                    assert_error(&r, 403, "forbidden", &expected);
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked}");
}

#[test]
fn an_access_token_must_be_ours_in_every_part() {
    let h = harness(&[]);
    let now = h.clock.now();
    let ok = claims(&h, "bob@acme.com");
    let with = |name: &str, v: Value| {
        let mut c = ok.clone();
        c[name] = v;
        c
    };
    let mut no_exp = ok.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let other = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let cases = [
        ("expired", access_token(with("exp", json!(now - 61)))),
        ("no exp", access_token(no_exp)),
        ("not yet valid", access_token(with("nbf", json!(now + 61)))),
        (
            "wrong audience",
            access_token(with("aud", json!(["other"]))),
        ),
        (
            "wrong audience string",
            access_token(with("aud", json!("nope"))),
        ),
        (
            "wrong issuer",
            access_token(with("iss", json!("https://evil.cloudflareaccess.com"))),
        ),
        ("no identity", access_token(with("email", json!(null)))),
        (
            "another key",
            jws(
                &TestKey::Rsa(other),
                json!({"alg": "RS256", "kid": "k1"}),
                ok.clone(),
            ),
        ),
        (
            "not RS256",
            jws(
                &TestKey::ed(3),
                json!({"alg": "EdDSA", "kid": "k1"}),
                ok.clone(),
            ),
        ),
        ("garbage", "a.b.c".to_string()),
    ];
    for (what, token) in cases {
        let r = h.send(as_person(Method::Get, "/admin/clients", &token, None));
        assert_error(
            &r,
            401,
            "unauthorized",
            "a valid admin bearer token is required",
        );
        assert!(
            r.log
                .as_deref()
                .unwrap_or_default()
                .starts_with("admin authentication refused"),
            "{what}"
        );
    }
    // Within the skew, and a service token named by its common_name.
    let r = h.send(as_person(
        Method::Get,
        "/admin/clients",
        &access_token(with("exp", json!(now - 59))),
        None,
    ));
    assert_eq!(r.status, 200);
    let mut service = with("email", json!(null));
    service.as_object_mut().unwrap().remove("email");
    service["common_name"] = json!("ci.access");
    let h = harness(&[("ADMIN_ROLES", r#"{"ci.access":"viewer"}"#)]);
    let r = h.send(as_person(
        Method::Get,
        "/admin/me",
        &access_token(service),
        None,
    ));
    assert_eq!(
        body_json(&r),
        json!({"actor": "ci.access", "via": "access", "role": "viewer", "permissions": ["clients:read"]})
    );
    assert_eq!(
        h.fetcher.fetches(),
        1,
        "the team's keys are fetched once and kept"
    );
}

#[test]
fn the_access_header_is_ignored_without_access_settings() {
    let h = Harness::new();
    let token = access_token(claims(&h, "alice@acme.com"));
    let r = h.send(as_person(Method::Get, "/admin/clients", &token, None));
    assert_error(
        &r,
        401,
        "unauthorized",
        "a valid admin bearer token is required",
    );
}

#[test]
fn a_change_through_access_must_come_from_the_issuers_origin() {
    let h = harness(&[]);
    let token = access_token(claims(&h, "alice@acme.com"));
    let refused = "a change signed in through Cloudflare Access must come from the admin page: Origin must be https://auth.test";
    // A cross-site form post to rotate the keys: the browser sends the Access cookie, and
    // Access adds its header, but the Origin is the attacker's.
    let cross = Request::new(Method::Post, &format!("{ORIGIN}/admin/keys/rotate"))
        .with_header("cf-access-jwt-assertion", &token)
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_header("origin", "https://evil.test")
        .with_header("sec-fetch-site", "cross-site");
    assert_error(&h.send(cross), 403, "forbidden", refused);
    let bare = Request::new(Method::Post, &format!("{ORIGIN}/admin/keys/rotate"))
        .with_header("cf-access-jwt-assertion", &token);
    assert_error(&h.send(bare), 403, "forbidden", refused);
    let fetch = Request::new(Method::Post, &format!("{ORIGIN}/admin/keys/rotate"))
        .with_header("cf-access-jwt-assertion", &token)
        .with_header("sec-fetch-site", "same-origin");
    assert_eq!(h.send(fetch).status, 200);
    // Reads need no origin, and bearer credentials are not sent by browsers on their own.
    let read = Request::new(Method::Get, &format!("{ORIGIN}/admin/keys"))
        .with_header("cf-access-jwt-assertion", &token);
    assert_eq!(h.send(read).status, 200);
    let r = bearer(&h, ADMIN_TOKEN, Method::Post, "/admin/keys/rotate", None);
    assert_eq!(
        r.status, 409,
        "the break-glass token is not held to the origin rule"
    );
}

/// A client with the built-in admin resource granted with `scope`; answers its id and secret.
fn management_client(h: &Harness, scope: &str) -> (String, String) {
    h.create(json!({"client_name": "terraform",
                    "grants": [{"resource": format!("{ORIGIN}/admin"), "scope": scope}]}))
}

fn management_token(h: &Harness, id: &str, secret: &str) -> String {
    let form = format!(
        "grant_type=client_credentials&resource={}",
        urlencode(&format!("{ORIGIN}/admin"))
    );
    let r = h.token_basic(id, secret, &form);
    assert_eq!(r.status, 200, "{:?}", body_json(&r));
    let v = body_json(&r);
    assert_eq!(v["scope"], "admin:clients:read");
    v["access_token"].as_str().unwrap().to_string()
}

#[test]
fn a_management_token_has_its_scopes_as_permissions() {
    let h = Harness::new();
    let (id, secret) = management_client(&h, "admin:clients:read");
    let token = management_token(&h, &id, &secret);
    let r = bearer(&h, &token, Method::Get, "/admin/clients", None);
    assert_eq!(r.status, 200);
    let r = bearer(
        &h,
        &token,
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "x"})),
    );
    assert_error(
        &r,
        403,
        "forbidden",
        &format!("client:{id} (scopes admin:clients:read) may not POST /admin/clients: it needs clients:write"),
    );
    let r = bearer(&h, &token, Method::Get, "/admin/me", None);
    assert_eq!(
        body_json(&r),
        json!({"actor": format!("client:{id}"), "via": "management_token", "role": null,
               "permissions": ["clients:read"]})
    );
    // A token for another audience of the same client is no management token.
    let plain = h.token_basic(
        &id,
        &secret,
        "grant_type=client_credentials&resource=https%3A%2F%2Fapi.test",
    );
    assert_eq!(plain.status, 400, "not granted");
}

#[test]
fn a_management_token_is_checked_as_introspection_checks_it() {
    let h = Harness::new();
    let (id, secret) = management_client(&h, "admin:clients:read");
    let token = management_token(&h, &id, &secret);
    assert_eq!(
        bearer(&h, &token, Method::Get, "/admin/clients", None).status,
        200
    );
    // Revoked: refused at once here, and within the guard's cache time elsewhere.
    let r = h.admin(
        Method::Post,
        "/admin/tokens/revoke",
        Some(json!({"token": token})),
    );
    assert_eq!(r.0, 200, "{}", r.1);
    let r = bearer(&h, &token, Method::Get, "/admin/clients", None);
    assert_error(
        &r,
        401,
        "unauthorized",
        "a valid admin bearer token is required",
    );
    // A client disabled, and a token past its expiry.
    let token = management_token(&h, &id, &secret);
    let path = format!("/admin/clients/{id}");
    assert_eq!(
        h.admin(Method::Patch, &path, Some(json!({"enabled": false})))
            .0,
        200
    );
    assert_eq!(
        bearer(&h, &token, Method::Get, "/admin/clients", None).status,
        401
    );
    assert_eq!(
        h.admin(Method::Patch, &path, Some(json!({"enabled": true})))
            .0,
        200
    );
    let token = management_token(&h, &id, &secret);
    h.clock.advance(3600 + 61);
    assert_eq!(
        bearer(&h, &token, Method::Get, "/admin/clients", None).status,
        401
    );
}

#[test]
fn a_token_for_another_resource_is_not_a_management_token() {
    let h = Harness::new();
    let (status, _) = h.admin(
        Method::Post,
        "/admin/resources",
        Some(json!({"identifier": "https://api.test", "name": "api",
                    "scopes": [{"value": "admin:clients:read"}]})),
    );
    assert_eq!(status, 201);
    let (id, secret) = h.create(json!({"client_name": "c",
        "grants": [{"resource": "https://api.test", "scope": "admin:clients:read"}]}));
    let r = h.token_basic(
        &id,
        &secret,
        "grant_type=client_credentials&resource=https%3A%2F%2Fapi.test",
    );
    let token = body_json(&r)["access_token"].as_str().unwrap().to_string();
    let r = bearer(&h, &token, Method::Get, "/admin/clients", None);
    assert_error(
        &r,
        401,
        "unauthorized",
        "a valid admin bearer token is required",
    );
    assert!(r.log.unwrap().contains("is not https://auth.test/admin"));
}

/// `email` creates a client granted the admin resource with `scope`.
fn granted(h: &Harness, email: &str, scope: &str) -> Response {
    let body = json!({"client_name": "tf",
                      "grants": [{"resource": format!("{ORIGIN}/admin"), "scope": scope}]});
    person(h, email, Method::Post, "/admin/clients", Some(body))
}

fn client_id(r: &Response) -> String {
    body_json(r)["client"]["client_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn granting_admin_scopes_needs_resources_write() {
    let h = harness(&[]);
    let r = granted(&h, "olga@acme.com", "admin:clients:read");
    assert_error(
        &r,
        403,
        "forbidden",
        "olga@acme.com (role operator) may not grant admin:* scopes: it needs resources:write",
    );
    let r = granted(&h, "alice@acme.com", "admin:clients:read");
    assert_eq!(r.status, 201);
    let id = client_id(&r);
    // An operator may change the client otherwise, sending its grants back unchanged, or
    // narrow them; widening them is refused.
    let path = format!("/admin/clients/{id}");
    let same = json!({"description": "d", "grants": [{"resource": format!("{ORIGIN}/admin"), "scope": "admin:clients:read"}]});
    assert_eq!(
        person(&h, "olga@acme.com", Method::Patch, &path, Some(same)).status,
        200
    );
    let wider = json!({"grants": [{"resource": format!("{ORIGIN}/admin"), "scope": "admin:clients:read admin:keys:write"}]});
    assert_eq!(
        person(&h, "olga@acme.com", Method::Patch, &path, Some(wider)).status,
        403
    );
    let none = json!({"grants": []});
    assert_eq!(
        person(&h, "olga@acme.com", Method::Patch, &path, Some(none)).status,
        200
    );
}

#[test]
fn a_client_holding_admin_scopes_is_changed_only_by_who_holds_them_too() {
    let h = harness(&[]);
    let id = client_id(&granted(&h, "alice@acme.com", "admin:keys:write"));
    // An operator adding a secret would hold a credential for keys:write.
    let path = format!("/admin/clients/{id}/secrets");
    let r = person(&h, "olga@acme.com", Method::Post, &path, Some(json!({})));
    assert_error(
        &r,
        403,
        "forbidden",
        "olga@acme.com (role operator) may not change a client that holds admin:* scopes: it needs keys:write",
    );
    let r = person(
        &h,
        "olga@acme.com",
        Method::Delete,
        &format!("/admin/clients/{id}"),
        None,
    );
    assert_eq!(r.status, 403);
    // Revoking its tokens stays open, and reading it.
    let r = person(
        &h,
        "olga@acme.com",
        Method::Post,
        &format!("/admin/clients/{id}/revoke-tokens"),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        person(&h, "bob@acme.com", Method::Get, &path, None).status,
        200
    );
    assert_eq!(
        person(&h, "alice@acme.com", Method::Post, &path, Some(json!({}))).status,
        201
    );
    // Whoever may not change clients at all hears only that, so a 403 never tells which
    // clients hold admin:* scopes.
    let plain = client_id(&person(
        &h,
        "alice@acme.com",
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "plain"})),
    ));
    for target in [&id, &plain] {
        let path = format!("/admin/clients/{target}/secrets");
        let r = person(&h, "bob@acme.com", Method::Post, &path, Some(json!({})));
        assert_error(
            &r,
            403,
            "forbidden",
            &format!("bob@acme.com (role viewer) may not POST {path}: it needs clients:write"),
        );
    }
}

#[test]
fn the_admin_resource_is_built_in_never_stored_changed_or_deleted() {
    let h = Harness::new();
    let path = format!("/admin/resources/{ADMIN_RESOURCE_ID}");
    let (status, v) = h.admin(Method::Get, &path, None);
    assert_eq!(status, 200);
    assert_eq!(v["identifier"], "https://auth.test/admin");
    assert_eq!(
        v["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["value"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "admin:clients:read",
            "admin:clients:write",
            "admin:tokens:revoke",
            "admin:resources:write",
            "admin:keys:write"
        ]
    );
    let refused = json!({"error": "conflict", "error_description": "the built-in admin resource cannot be changed or deleted"});
    assert_eq!(h.admin(Method::Delete, &path, None), (409, refused.clone()));
    assert_eq!(
        h.admin(Method::Patch, &path, Some(json!({"name": "x"}))),
        (409, refused)
    );
    let (status, _) = h.admin(
        Method::Post,
        "/admin/resources",
        Some(json!({"identifier": "https://auth.test/admin", "name": "x"})),
    );
    assert_eq!(status, 409);
    assert!(h.store.keys("resource").is_empty(), "nothing stored");
}

#[test]
fn the_break_glass_token_keeps_full_rights_until_turned_off() {
    let h = harness(&[("ADMIN_TOKEN_LABEL", "break-glass")]);
    let r = bearer(&h, ADMIN_TOKEN, Method::Get, "/admin/me", None);
    assert_eq!(
        body_json(&r),
        json!({"actor": "break-glass", "via": "admin_token", "role": null,
               "permissions": ["clients:read", "clients:write", "tokens:revoke", "resources:write", "keys:write"]})
    );
    let h = harness(&[("ADMIN_TOKEN_ENABLED", "false")]);
    let r = bearer(&h, ADMIN_TOKEN, Method::Get, "/admin/me", None);
    assert_error(
        &r,
        401,
        "unauthorized",
        "a valid admin bearer token is required",
    );
    let r = person(&h, "alice@acme.com", Method::Get, "/admin/me", None);
    assert_eq!(body_json(&r)["role"], "admin");
}

#[test]
fn the_audit_trail_names_the_person_or_the_client_and_how_they_signed_in() {
    let h = harness(&[]);
    let r = person(
        &h,
        "olga@acme.com",
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "p"})),
    );
    assert_eq!(r.status, 201);
    let (id, secret) = {
        let r = person(
            &h,
            "alice@acme.com",
            Method::Post,
            "/admin/clients",
            Some(json!({"client_name": "tf",
            "grants": [{"resource": format!("{ORIGIN}/admin"), "scope": "admin:clients:read admin:clients:write"}]})),
        );
        let v = body_json(&r);
        (
            v["client"]["client_id"].as_str().unwrap().to_string(),
            v["secret"]["client_secret"].as_str().unwrap().to_string(),
        )
    };
    let form = format!(
        "grant_type=client_credentials&resource={}",
        urlencode(&format!("{ORIGIN}/admin"))
    );
    let token = body_json(&h.token_basic(&id, &secret, &form))["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        bearer(
            &h,
            &token,
            Method::Post,
            "/admin/clients",
            Some(json!({"client_name": "q"}))
        )
        .status,
        201
    );
    let (status, v) = h.admin(Method::Get, "/admin/audit", None);
    assert_eq!(status, 200);
    let mut who: Vec<(&str, &str)> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["via"].as_str().unwrap()))
        .collect();
    who.sort();
    let client = format!("client:{id}");
    assert_eq!(
        who,
        [
            ("alice@acme.com", "access"),
            (client.as_str(), "management_token"),
            ("olga@acme.com", "access")
        ]
    );
}
