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

fn admin() -> Option<String> {
    Some(format!("Bearer {ADMIN_TOKEN}"))
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
    let r = introspect(&h, admin(), &format!("token={t}"));
    assert_eq!(body_json(&r)["active"], true);
}

#[test]
fn malformed_forged_foreign_and_expired_tokens_are_inactive_never_an_error() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let t = token(&h, &id, &secret);
    for bad in not_our_tokens(&id, &t) {
        inactive(&introspect(
            &h,
            admin(),
            &format!("token={}", urlencode(&bad)),
        ));
    }
    h.clock.advance(3600 + 60);
    inactive(&introspect(&h, admin(), &format!("token={t}")));
}

#[test]
fn disabling_or_deleting_the_client_deactivates_its_tokens() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "a", "scope": "read"}));
    let t = token(&h, &id, &secret);
    let path = format!("/admin/clients/{id}");
    h.admin(Method::Patch, &path, Some(json!({"enabled": false})));
    inactive(&introspect(&h, admin(), &format!("token={t}")));
    h.admin(Method::Patch, &path, Some(json!({"enabled": true})));
    assert_eq!(
        body_json(&introspect(&h, admin(), &format!("token={t}")))["active"],
        true
    );
    h.admin(Method::Delete, &path, None);
    h.clock.advance_ms(CACHE_TTL_MS);
    inactive(&introspect(&h, admin(), &format!("token={t}")));
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
        "client authentication is required (HTTP Basic, client_secret_post or a client assertion)",
    );
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"edgeauth\"")
    );
    let r = introspect(&h, Some("Bearer wrong-admin-token".into()), "token=x");
    assert_eq!(r.status, 401);
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
    inactive(&introspect(&h, admin(), &format!("token={old}")));
    h.clock.advance(1);
    let fresh = token(&h, &id, &secret);
    assert_eq!(
        body_json(&introspect(&h, admin(), &format!("token={fresh}")))["active"],
        true
    );
    let (_, events) = h.admin(Method::Get, &format!("/admin/clients/{id}/audit"), None);
    assert_eq!(events["events"][0]["action"], "client.tokens_revoked");
    assert_eq!(
        events["events"][0]["detail"],
        "every token issued until now revoked"
    );
}
