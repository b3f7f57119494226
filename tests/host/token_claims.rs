//! Per-client token claims: written through the admin API under every rule, carried by every
//! access token of the client (signed once, with its other claims) and returned by
//! introspection as the token has them.

use edgeauth::{Method, Request, Response};
use serde_json::{json, Value};

use crate::*;

const GRANT: &str = "grant_type=client_credentials";

fn claims() -> Value {
    json!({"tenant": "acme", "tier": 3, "beta": true, "ratio": 0.25, "regions": ["eu", "us"]})
}

fn token(h: &Harness, id: &str, secret: &str) -> String {
    let r = h.token_basic(id, secret, &format!("{GRANT}&scope=read"));
    assert_eq!(r.status, 200, "{}", body_json(&r));
    body_json(&r)["access_token"].as_str().unwrap().to_string()
}

fn introspect(h: &Harness, id: &str, secret: &str, token: &str) -> Response {
    h.send(
        Request::new(Method::Post, &format!("{ORIGIN}/oauth/introspect"))
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_header("authorization", &basic(id, secret).unwrap())
            .with_body(format!("token={token}")),
    )
}

fn invalid(description: &str) -> (u16, Value) {
    (
        422,
        json!({"error": "invalid_client_metadata", "error_description": description}),
    )
}

#[test]
fn claims_are_set_on_create_read_back_replaced_and_removed() {
    let h = Harness::new();
    let (id, _) = h.create(json!({"client_name": "a", "token_claims": claims()}));
    let path = format!("/admin/clients/{id}");
    assert_eq!(
        h.admin(Method::Get, &path, None).1["token_claims"],
        claims()
    );
    let (status, v) = h.admin(
        Method::Patch,
        &path,
        Some(json!({"token_claims": {"tenant": "globex"}})),
    );
    assert_eq!(
        (status, &v["token_claims"]),
        (200, &json!({"tenant": "globex"}))
    );
    let (_, v) = h.admin(Method::Patch, &path, Some(json!({"client_name": "b"})));
    assert_eq!(
        v["token_claims"],
        json!({"tenant": "globex"}),
        "absent leaves them"
    );
    for none in [json!(null), json!({})] {
        h.admin(
            Method::Patch,
            &path,
            Some(json!({"token_claims": {"x": "y"}})),
        );
        let (status, v) = h.admin(Method::Patch, &path, Some(json!({"token_claims": none})));
        assert_eq!(status, 200);
        assert!(v.get("token_claims").is_none(), "{none} removes them: {v}");
    }
    let (_, audit) = h.admin(Method::Get, &format!("{path}/audit"), None);
    assert_eq!(audit["events"][0]["detail"], "changed token_claims");
}

#[test]
fn a_client_without_claims_shows_none() {
    let h = Harness::new();
    let (id, _) = h.create(json!({"client_name": "a"}));
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert!(v.get("token_claims").is_none(), "{v}");
}

#[test]
fn every_rule_is_a_422_naming_what_is_wrong() {
    let h = Harness::new();
    let (id, _) = h.create(json!({"client_name": "a", "token_claims": {"keep": "me"}}));
    let path = format!("/admin/clients/{id}");
    let many: serde_json::Map<String, Value> =
        (0..21).map(|i| (format!("m{i}"), json!(i))).collect();
    let cases = [
        (json!("acme"), r#"token_claims must be null or an object such as {"tenant": "acme"}"#.to_string()),
        (Value::Object(many), "token_claims may hold at most 20 members".into()),
        (json!({"sub": "someone-else"}), "token_claims must not set 'sub': edgeauth owns iss, sub, aud, exp, iat, nbf, jti, scope, client_id, act, cnf, typ, active, token_type".into()),
        (json!({"tenant": "a", "active": false}), "token_claims must not set 'active': edgeauth owns iss, sub, aud, exp, iat, nbf, jti, scope, client_id, act, cnf, typ, active, token_type".into()),
        (json!({"nested": {"a": 1}}), "token_claims member 'nested' must be a string, a number, a boolean or an array of strings".into()),
        (json!({"ids": [1, 2]}), "token_claims member 'ids' must be a string, a number, a boolean or an array of strings".into()),
        (json!({"gone": null}), "token_claims member 'gone' must be a string, a number, a boolean or an array of strings".into()),
        (json!({"": "x"}), "token_claims member names must be 1 to 128 characters without control characters".into()),
        (json!({"big": "x".repeat(1100)}), "token_claims takes 1110 bytes serialized, more than 1024".into()),
    ];
    for (bad, description) in cases {
        let create = json!({"client_name": "b", "token_claims": bad});
        assert_eq!(
            h.admin(Method::Post, "/admin/clients", Some(create)),
            invalid(&description),
            "{bad}"
        );
        let patch = json!({"token_claims": bad});
        assert_eq!(
            h.admin(Method::Patch, &path, Some(patch)),
            invalid(&description),
            "{bad}"
        );
    }
    let (_, v) = h.admin(Method::Get, &path, None);
    assert_eq!(v["token_claims"], json!({"keep": "me"}), "nothing changed");
}

#[test]
fn every_token_of_the_client_carries_its_claims_after_its_own() {
    let h = Harness::new();
    let body = json!({"client_name": "a", "scope": "read", "token_claims": claims()});
    let (id, secret) = h.create(body);
    let t = token(&h, &id, &secret);
    let (header, got) = verify(&h, &t);
    assert_eq!(header["typ"], "at+jwt");
    let mut expected = json!({
        "iss": ORIGIN, "sub": id, "client_id": id, "aud": ORIGIN, "iat": T0,
        "exp": T0 + 3600, "jti": got["jti"], "scope": "read"
    });
    expected
        .as_object_mut()
        .unwrap()
        .extend(claims().as_object().unwrap().clone());
    assert_eq!(got, expected);
    // Edgeauth's own claims come first; the members follow, written as stored.
    let payload = t.split('.').nth(1).unwrap();
    let text = String::from_utf8(edgeauth::support::b64::b64url_decode(payload).unwrap()).unwrap();
    assert!(
        text.ends_with(r#""scope":"read","beta":true,"ratio":0.25,"regions":["eu","us"],"tenant":"acme","tier":3}"#),
        "{text}"
    );
    // A client without claims gets exactly the eight.
    let (other, other_secret) = h.create(json!({"client_name": "b", "scope": "read"}));
    let (_, plain) = verify(&h, &token(&h, &other, &other_secret));
    assert_eq!(plain.as_object().unwrap().len(), 8, "{plain}");
}

#[test]
fn introspection_returns_the_claims_the_token_carries() {
    let h = Harness::new();
    let body = json!({"client_name": "a", "scope": "read", "token_claims": claims()});
    let (id, secret) = h.create(body);
    let old = token(&h, &id, &secret);
    let (_, c) = verify(&h, &old);
    let r = introspect(&h, &id, &secret, &old);
    let mut expected = json!({
        "active": true, "client_id": id, "sub": id, "scope": "read", "aud": ORIGIN,
        "iss": ORIGIN, "exp": T0 + 3600, "iat": T0, "jti": c["jti"], "token_type": "Bearer"
    });
    expected
        .as_object_mut()
        .unwrap()
        .extend(claims().as_object().unwrap().clone());
    assert_eq!((r.status, body_json(&r)), (200, expected.clone()));
    assert_eq!(
        body_json(&h.send(admin_introspect(&old))),
        expected,
        "the admin too"
    );
    // New claims are for tokens issued afterwards; the old token keeps what it carries.
    let path = format!("/admin/clients/{id}");
    h.admin(
        Method::Patch,
        &path,
        Some(json!({"token_claims": {"tenant": "globex"}})),
    );
    h.clock.advance(6); // past the isolate's client cache
    assert_eq!(body_json(&introspect(&h, &id, &secret, &old)), expected);
    let new = token(&h, &id, &secret);
    let v = body_json(&introspect(&h, &id, &secret, &new));
    assert_eq!(
        (v["tenant"].clone(), v.get("tier")),
        (json!("globex"), None)
    );
}
