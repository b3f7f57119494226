//! Metadata, JWKS, the trivial route and unknown paths.

use edgeauth::Method;
use serde_json::json;

use crate::*;

fn get(h: &Harness, path: &str) -> edgeauth::Response {
    h.send(Request::new(Method::Get, &format!("{ORIGIN}{path}")))
}

#[test]
fn metadata_is_served_at_both_well_known_paths() {
    let h = Harness::new();
    let a = get(&h, "/.well-known/oauth-authorization-server");
    let b = get(&h, "/.well-known/openid-configuration");
    assert_eq!(a.body, b.body);
    assert_eq!(
        body_json(&a),
        json!({
            "issuer": ORIGIN,
            "token_endpoint": format!("{ORIGIN}/oauth/token"),
            "jwks_uri": format!("{ORIGIN}/.well-known/jwks.json"),
            "introspection_endpoint": format!("{ORIGIN}/oauth/introspect"),
            "introspection_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "tls_client_auth", "self_signed_tls_client_auth"],
            "revocation_endpoint": format!("{ORIGIN}/oauth/revoke"),
            "revocation_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "tls_client_auth", "self_signed_tls_client_auth"],
            "grant_types_supported": ["client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange"],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "tls_client_auth", "self_signed_tls_client_auth"],
            "token_endpoint_auth_signing_alg_values_supported": ["EdDSA", "Ed25519", "ES256", "RS256", "PS256", "HS256"],
            "access_token_signing_alg_values_supported": ["EdDSA"],
            "dpop_signing_alg_values_supported": ["ES256", "EdDSA", "RS256", "PS256"],
            "tls_client_certificate_bound_access_tokens": true
        })
    );
}

#[test]
fn a_configured_issuer_wins_over_the_request_origin() {
    let h = Harness::with(&[("ISSUER", "https://id.example.com/")]);
    let v = body_json(&get(&h, "/.well-known/oauth-authorization-server"));
    assert_eq!(v["issuer"], "https://id.example.com");
    assert_eq!(v["token_endpoint"], "https://id.example.com/oauth/token");
}

#[test]
fn jwks_publishes_the_current_and_previous_keys() {
    let prev = URL_SAFE_NO_PAD.encode([5u8; 32]);
    let h = Harness::with(&[("PREVIOUS_SIGNING_KEY_SEED", &prev)]);
    let r = get(&h, "/.well-known/jwks.json");
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    let v = body_json(&r);
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for k in keys {
        assert_eq!(
            (&k["kty"], &k["crv"], &k["alg"], &k["use"]),
            (
                &json!("OKP"),
                &json!("Ed25519"),
                &json!("EdDSA"),
                &json!("sig")
            )
        );
        assert!(k.get("d").is_none());
        assert_eq!(k["kid"].as_str().unwrap().len(), 43);
    }
    assert_ne!(keys[0]["kid"], keys[1]["kid"]);
    // Tokens are signed by the current (first) key.
    let (id, secret) = h.create(json!({"client_name": "x"}));
    let token = body_json(&h.token_basic(&id, &secret, "grant_type=client_credentials"));
    let (header, _) = verify(&h, token["access_token"].as_str().unwrap());
    assert_eq!(header["kid"], keys[0]["kid"]);
}

#[test]
fn the_trivial_route_and_unknown_paths() {
    let h = Harness::new();
    let r = get(&h, "/healthz");
    assert_eq!((r.status, body_json(&r)), (200, json!({"status": "ok"})));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_error(&get(&h, "/nope"), 404, "not_found", "no such endpoint");
    let r = h.send(Request::new(Method::Post, &format!("{ORIGIN}/healthz")));
    assert_error(
        &r,
        405,
        "method_not_allowed",
        "method not allowed on this path",
    );
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
}
