//! DPoP at the token endpoint (RFC 9449 section 5): proofs checked before client
//! authentication, the jti claimed after it, `cnf.jkt` and `token_type: DPoP`, the client's
//! `dpop_bound_access_tokens`, metadata, introspection, token exchange, the admin API.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use edgeauth::{Method, Request};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::verifier::{jws, TestKey};
use crate::*;

const GRANT: &str = "grant_type=client_credentials&scope=read";
const TOKEN_URL: &str = "https://auth.test/oauth/token";

fn jwk(key: &TestKey) -> Value {
    let mut jwk = key.jwk("k");
    jwk.as_object_mut().unwrap().remove("kid");
    jwk
}

/// A proof for the token endpoint by `key` with `alg`, with `claims` overriding the defaults.
fn proof(key: &TestKey, alg: &str, jti: &str, now: u64, edit: impl Fn(&mut Value)) -> String {
    let mut claims = json!({"htm": "POST", "htu": TOKEN_URL, "iat": now, "jti": jti});
    edit(&mut claims);
    jws(
        key,
        json!({"typ": "dpop+jwt", "alg": alg, "jwk": jwk(key)}),
        claims,
    )
}

fn thumbprint(key: &TestKey) -> String {
    let j = jwk(key);
    let canonical = match j["kty"].as_str().unwrap() {
        "EC" => format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            j["x"].as_str().unwrap(),
            j["y"].as_str().unwrap()
        ),
        "OKP" => format!(
            r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
            j["x"].as_str().unwrap()
        ),
        _ => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            j["e"].as_str().unwrap(),
            j["n"].as_str().unwrap()
        ),
    };
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical))
}

fn with_proof(h: &Harness, id: &str, secret: &str, proof: &str) -> edgeauth::Response {
    h.send(
        token_request(GRANT)
            .with_header("authorization", &basic(id, secret).unwrap())
            .with_header("dpop", proof),
    )
}

fn client(h: &Harness, extra: Value) -> (String, String) {
    let mut body = json!({"client_name": "c", "scope": "read"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    h.create(body)
}

#[test]
fn a_valid_proof_binds_the_token_to_its_key_for_every_algorithm() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({}));
    for (i, (alg, key)) in [
        ("ES256", TestKey::ec()),
        ("EdDSA", TestKey::ed(9)),
        ("RS256", TestKey::Rsa(crate::verifier::rsa_key())),
        ("PS256", TestKey::Rsa(crate::verifier::rsa_key())),
    ]
    .into_iter()
    .enumerate()
    {
        let r = with_proof(
            &h,
            &id,
            &secret,
            &proof(&key, alg, &format!("j{i}"), T0, |_| {}),
        );
        let v = body_json(&r);
        assert_eq!(
            (r.status, v["token_type"].clone()),
            (200, json!("DPoP")),
            "{alg}: {v}"
        );
        let (_, claims) = verify(&h, v["access_token"].as_str().unwrap());
        assert_eq!(claims["cnf"], json!({"jkt": thumbprint(&key)}), "{alg}");
    }
    // Without a proof: a bearer token, no cnf.
    let r = h.token_basic(&id, &secret, GRANT);
    let v = body_json(&r);
    assert_eq!(v["token_type"], "Bearer");
    assert!(verify(&h, v["access_token"].as_str().unwrap())
        .1
        .get("cnf")
        .is_none());
}

#[test]
fn an_invalid_proof_is_invalid_dpop_proof_and_never_counts_toward_lockout() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({}));
    let key = TestKey::ec();
    let other = TestKey::ec();
    let forged = {
        let p = proof(&key, "ES256", "f", T0, |_| {});
        let q = proof(&other, "ES256", "f", T0, |_| {});
        format!(
            "{}.{}",
            p.rsplit_once('.').unwrap().0,
            q.rsplit_once('.').unwrap().1
        )
    };
    let cases = [
        (
            proof(&key, "ES256", "a", T0, |c| c["htm"] = json!("GET")),
            "the DPoP proof's htm is not this request's method",
        ),
        (
            proof(&key, "ES256", "b", T0, |c| {
                c["htu"] = json!("https://auth.test/oauth/introspect")
            }),
            "the DPoP proof's htu is not this request's URL",
        ),
        (
            proof(&key, "ES256", "c", T0 - 61, |_| {}),
            "the DPoP proof's iat is missing or outside the accepted window",
        ),
        (
            jws(
                &key,
                json!({"typ": "JWT", "alg": "ES256", "jwk": jwk(&key)}),
                json!({"htm": "POST", "htu": TOKEN_URL, "iat": T0, "jti": "d"}),
            ),
            "the DPoP proof's typ is not dpop+jwt",
        ),
        (
            jws(
                &TestKey::Hmac("s".into()),
                json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": jwk(&key)}),
                json!({"htm": "POST", "htu": TOKEN_URL, "iat": T0, "jti": "e"}),
            ),
            "the DPoP proof's alg is not one of ES256 EdDSA RS256 PS256",
        ),
        (
            "garbage".to_string(),
            "the DPoP proof is not a well-formed JWT",
        ),
    ];
    // With the wrong secret too: the form and claims are checked first, so nothing is counted.
    for (p, why) in &cases {
        for s in [secret.as_str(), "wrong"] {
            assert_error(&with_proof(&h, &id, s, p), 400, "invalid_dpop_proof", why);
        }
    }
    // A forged signature is checked once the client has authenticated (a stranger's proof
    // never makes the isolate import a key): refused, and not counted.
    assert_error(
        &with_proof(&h, &id, &secret, &forged),
        400,
        "invalid_dpop_proof",
        "the DPoP proof's signature is invalid",
    );
    let v = h
        .admin(Method::Get, &format!("/admin/clients/{id}"), None)
        .1;
    assert_eq!(v["failed_attempts"], json!(0), "{v}");
    // With a wrong secret the secret is what fails, and counts as any wrong secret does.
    assert_eq!(with_proof(&h, &id, "wrong", &forged).status, 401);
    // Two DPoP headers arrive joined by a comma.
    let p = proof(&key, "ES256", "two", T0, |_| {});
    assert_error(
        &with_proof(&h, &id, &secret, &format!("{p}, {p}")),
        400,
        "invalid_dpop_proof",
        "more than one DPoP proof was sent",
    );
    // A valid proof with a wrong secret: invalid_client, counted as any wrong secret is.
    let r = with_proof(&h, &id, "wrong", &proof(&key, "ES256", "g", T0, |_| {}));
    assert_eq!(r.status, 401);
}

#[test]
fn a_replayed_proof_is_refused_and_its_jti_is_claimed_only_after_authentication() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({}));
    let key = TestKey::ed(3);
    let p = proof(&key, "EdDSA", "once", T0, |_| {});
    // A stranger (wrong secret) sending the proof first claims nothing.
    assert_eq!(with_proof(&h, &id, "wrong", &p).status, 401);
    assert_eq!(with_proof(&h, &id, &secret, &p).status, 200);
    assert_error(
        &with_proof(&h, &id, &secret, &p),
        400,
        "invalid_dpop_proof",
        "the DPoP proof was already used",
    );
    // The same jti under another key is another proof.
    let q = proof(&TestKey::ed(4), "EdDSA", "once", T0, |_| {});
    assert_eq!(with_proof(&h, &id, &secret, &q).status, 200);
}

#[test]
fn a_client_with_dpop_bound_access_tokens_must_send_a_proof() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({"dpop_bound_access_tokens": true}));
    let v = h
        .admin(Method::Get, &format!("/admin/clients/{id}"), None)
        .1;
    assert_eq!(v["dpop_bound_access_tokens"], true);
    assert_error(
        &h.token_basic(&id, &secret, GRANT),
        400,
        "invalid_dpop_proof",
        "this client's tokens are DPoP-bound: send a DPoP proof",
    );
    let key = TestKey::ec();
    let r = with_proof(&h, &id, &secret, &proof(&key, "ES256", "j", T0, |_| {}));
    assert_eq!(body_json(&r)["token_type"], "DPoP");
    // Off again through PATCH; new clients default to off.
    let (status, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"dpop_bound_access_tokens": false})),
    );
    assert_eq!(
        (status, v["dpop_bound_access_tokens"].clone()),
        (200, json!(false))
    );
    assert_eq!(h.token_basic(&id, &secret, GRANT).status, 200);
    let (other, _) = client(&h, json!({}));
    let v = h
        .admin(Method::Get, &format!("/admin/clients/{other}"), None)
        .1;
    assert_eq!(v["dpop_bound_access_tokens"], false);
    let (status, _) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"dpop_bound_access_tokens": "yes"})),
    );
    assert_eq!(status, 400);
}

#[test]
fn metadata_lists_the_proof_algorithms() {
    let h = Harness::new();
    let v = body_json(&h.send(Request::new(
        Method::Get,
        &format!("{ORIGIN}/.well-known/oauth-authorization-server"),
    )));
    assert_eq!(
        v["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "RS256", "PS256"])
    );
}

#[test]
fn introspection_shows_the_binding_and_the_dpop_token_type() {
    let h = Harness::new();
    let (id, secret) = client(&h, json!({}));
    let key = TestKey::ec();
    let r = with_proof(&h, &id, &secret, &proof(&key, "ES256", "i", T0, |_| {}));
    let token = body_json(&r)["access_token"].as_str().unwrap().to_string();
    let v = body_json(&h.send(admin_introspect(&token)));
    assert_eq!(
        (
            v["active"].clone(),
            v["token_type"].clone(),
            v["cnf"].clone()
        ),
        (json!(true), json!("DPoP"), json!({"jkt": thumbprint(&key)}))
    );
    let plain = body_json(&h.token_basic(&id, &secret, GRANT))["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let v = body_json(&h.send(admin_introspect(&plain)));
    assert_eq!(
        (v["token_type"].clone(), v.get("cnf")),
        (json!("Bearer"), None)
    );
}

#[test]
fn dpop_bound_management_tokens_are_refused_by_the_admin_api() {
    let h = Harness::new();
    let admin = format!("{ORIGIN}/admin");
    let (id, secret) = h.create(json!({"client_name": "ops",
        "grants": [{"resource": admin, "scope": "admin:clients:read"}]}));
    let form = format!(
        "grant_type=client_credentials&scope=admin:clients:read&resource={}",
        urlencode(&admin)
    );
    let key = TestKey::ec();
    let r = h.send(
        token_request(&form)
            .with_header("authorization", &basic(&id, &secret).unwrap())
            .with_header("dpop", &proof(&key, "ES256", "m", T0, |_| {})),
    );
    let v = body_json(&r);
    assert_eq!(r.status, 200, "{v}");
    let token = v["access_token"].as_str().unwrap();
    let list = |auth: &str| {
        h.send(
            Request::new(Method::Get, &format!("{ORIGIN}/admin/clients"))
                .with_header("authorization", auth),
        )
    };
    assert_eq!(list(&format!("Bearer {token}")).status, 401);
    // The same client's bearer management token works.
    let r =
        h.send(token_request(&form).with_header("authorization", &basic(&id, &secret).unwrap()));
    let bearer = body_json(&r)["access_token"].as_str().unwrap().to_string();
    assert_eq!(list(&format!("Bearer {bearer}")).status, 200);
}

/// A client whose tokens are certificate-bound (RFC 8705) and that also sends a DPoP proof:
/// the token carries both members of `cnf`, and its type is DPoP.
#[test]
fn a_certificate_bound_client_with_a_proof_gets_both_bindings() {
    let h = Harness::new();
    let (id, secret) = client(
        &h,
        json!({"tls_client_certificate_bound_access_tokens": true}),
    );
    let key = TestKey::ed(3);
    let fp = "c7081976ba1ada099540ee7827c23a065286187dcef65a4487036a686c6dc38b";
    let r = h.send(
        token_request(GRANT)
            .with_header("authorization", &basic(&id, &secret).unwrap())
            .with_header("dpop", &proof(&key, "EdDSA", "both", T0, |_| {}))
            .with_client_cert("1", "NONE", fp, ""),
    );
    let v = body_json(&r);
    assert_eq!(
        (r.status, v["token_type"].clone()),
        (200, json!("DPoP")),
        "{v}"
    );
    let (_, claims) = verify(&h, v["access_token"].as_str().unwrap());
    assert_eq!(
        claims["cnf"],
        json!({"jkt": thumbprint(&key), "x5t#S256": "xwgZdroa2gmVQO54J8I6BlKGGH3O9lpEhwNqaGxtw4s"})
    );
}
