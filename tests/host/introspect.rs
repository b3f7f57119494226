//! Token introspection (RFC 7662): who may ask, what each caller sees, and that anything
//! that is not one of our live tokens is `{"active": false}` and nothing more.

use edgeauth::support::cache::CACHE_TTL_MS;
use edgeauth::{Method, Request, Response};
use serde_json::{json, Value};

use crate::*;

const GRANT: &str = "grant_type=client_credentials";

fn introspect(h: &Harness, authorization: Option<String>, form: &str) -> Response {
    let mut req = Request::new(Method::Post, &format!("{ORIGIN}/oauth/introspect"))
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_body(form.to_string());
    if let Some(a) = authorization {
        req = req.with_header("authorization", &a);
    }
    h.send(req)
}

/// The admin's introspection: `POST /admin/tokens/introspect` with `{"token": ...}`.
fn as_admin(h: &Harness, token: &str) -> Response {
    h.send(admin_introspect(token))
}

fn token(h: &Harness, id: &str, secret: &str) -> String {
    let r = h.token_basic(id, secret, &format!("{GRANT}&scope=read"));
    assert_eq!(r.status, 200);
    body_json(&r)["access_token"].as_str().unwrap().to_string()
}

fn inactive(r: &Response) {
    assert_eq!((r.status, body_json(r)), (200, json!({"active": false})));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[test]
fn a_client_sees_its_own_token_with_every_member() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read write"}));
    let t = token(&h, &id, &secret);
    let r = introspect(&h, basic(&id, &secret), &format!("token={t}"));
    let (_, claims) = verify(&h, &t);
    assert_eq!(
        (r.status, body_json(&r)),
        (
            200,
            json!({
                "active": true, "client_id": id, "sub": id, "scope": "read", "aud": ORIGIN,
                "iss": ORIGIN, "exp": T0 + 3600, "iat": T0, "jti": claims["jti"],
                "token_type": "Bearer"
            })
        )
    );
    // The secret in the body works as at the token endpoint.
    let r = introspect(
        &h,
        None,
        &format!(
            "token={t}&client_id={id}&client_secret={}",
            urlencode(&secret)
        ),
    );
    assert_eq!(body_json(&r)["active"], true);
}

#[test]
fn another_clients_token_is_inactive_unless_the_caller_may_introspect_or_is_the_admin() {
    let h = Harness::new();
    let (a, a_secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let (b, b_secret) = h.create(json!({"client_name": "b", "scope": "read"}));
    let t = token(&h, &a, &a_secret);
    inactive(&introspect(&h, basic(&b, &b_secret), &format!("token={t}")));
    let (status, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{b}"),
        Some(json!({"introspection_allowed": true})),
    );
    assert_eq!(
        (status, v["introspection_allowed"].clone()),
        (200, json!(true))
    );
    let r = introspect(&h, basic(&b, &b_secret), &format!("token={t}"));
    assert_eq!(body_json(&r)["client_id"], a.as_str());
    let r = as_admin(&h, &t);
    assert_eq!(body_json(&r)["active"], true);
}

#[test]
fn malformed_forged_foreign_and_expired_tokens_are_inactive_never_an_error() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let t = token(&h, &id, &secret);
    for bad in not_our_tokens(&id, &t) {
        inactive(&as_admin(&h, &bad));
    }
    h.clock.advance(3600 + 60);
    inactive(&as_admin(&h, &t));
}

#[test]
fn disabling_or_deleting_the_client_deactivates_its_tokens() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let t = token(&h, &id, &secret);
    let path = format!("/admin/clients/{id}");
    h.admin(Method::Patch, &path, Some(json!({"enabled": false})));
    inactive(&as_admin(&h, &t));
    h.admin(Method::Patch, &path, Some(json!({"enabled": true})));
    assert_eq!(body_json(&as_admin(&h, &t))["active"], true);
    h.admin(Method::Delete, &path, None);
    h.clock.advance_ms(CACHE_TTL_MS);
    inactive(&as_admin(&h, &t));
}

#[test]
fn callers_must_authenticate_and_name_a_token() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let r = introspect(&h, None, "token=x");
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
    // The admin bearer is no OAuth credential: refused like any unknown caller, right or wrong.
    let t = token(&h, &id, &secret);
    for bearer in [ADMIN_TOKEN, "wrong-admin-token"] {
        let r = introspect(&h, Some(format!("Bearer {bearer}")), &format!("token={t}"));
        assert_error(&r, 401, "invalid_client", "client authentication failed");
    }
    assert_error(
        &introspect(&h, basic(&id, &secret), ""),
        400,
        "invalid_request",
        "token is required",
    );
    let get = h.send(Request::new(
        Method::Get,
        &format!("{ORIGIN}/oauth/introspect"),
    ));
    assert_eq!((get.status, get.header("allow")), (405, Some("POST")));
    let _: Value = body_json(&get);
}

#[test]
fn revoking_a_clients_tokens_deactivates_those_issued_until_then_everywhere() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let old = token(&h, &id, &secret);
    h.clock.advance(10);
    let (status, v) = h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/revoke-tokens"),
        None,
    );
    assert_eq!(
        (status, v["tokens_valid_after"].clone()),
        (200, json!(T0 + 10))
    );
    // Once the cached guard state has expired, it is read again from the guard.
    h.clock.advance_ms(CACHE_TTL_MS);
    inactive(&as_admin(&h, &old));
    h.clock.advance(1);
    let fresh = token(&h, &id, &secret);
    assert_eq!(body_json(&as_admin(&h, &fresh))["active"], true);
    let (_, events) = h.admin(Method::Get, &format!("/admin/clients/{id}/audit"), None);
    assert_eq!(events["events"][0]["action"], "client.tokens_revoked");
    assert_eq!(
        events["events"][0]["detail"],
        "every token issued until now revoked"
    );
}

#[test]
fn the_admin_introspects_at_the_admin_api_and_sees_what_an_allowed_client_sees() {
    let h = Harness::new();
    let (a, a_secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let (b, b_secret) = h.create(json!({"client_name": "b", "introspection_allowed": true}));
    let t = token(&h, &a, &a_secret);
    let by_client = introspect(&h, basic(&b, &b_secret), &format!("token={t}"));
    let by_admin = as_admin(&h, &t);
    assert_eq!(by_admin.status, 200);
    assert_eq!(body_json(&by_admin), body_json(&by_client));
    assert_eq!(body_json(&by_admin)["client_id"], a.as_str());
    assert_eq!(by_admin.header("cache-control"), Some("no-store"));
    inactive(&as_admin(&h, "not-a-token"));
    // Only the admin bearer opens it; the body is exactly {"token": ...}.
    let path = format!("{ORIGIN}/admin/tokens/introspect");
    let anon =
        h.send(Request::new(Method::Post, &path).with_body(json!({ "token": t }).to_string()));
    assert_eq!(anon.status, 401);
    let r = h.send(
        Request::new(Method::Post, &path)
            .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"))
            .with_header("content-type", "application/json")
            .with_body(r#"{"token": "x", "extra": 1}"#.to_string()),
    );
    assert_eq!(
        (r.status, body_json(&r)["error"].clone()),
        (400, json!("invalid_request"))
    );
    let get = h.send(
        Request::new(Method::Get, &path)
            .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}")),
    );
    assert_eq!((get.status, get.header("allow")), (405, Some("POST")));
}
