//! Client authentication with JWT assertions (RFC 7523): private_key_jwt and client_secret_jwt.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use edgeauth::oauth::assertions::ASSERTION_TYPE;
use edgeauth::Method;
use serde_json::{json, Value};

use crate::verifier::{hs256, jws, rsa_key, TestKey};
use crate::*;

const AUD: &str = "https://auth.test/oauth/token";

fn key_client(h: &Harness, keys: Value) -> String {
    let (status, v) = h.admin(
        Method::Post,
        "/admin/clients",
        // These tests are about the checks; lockout has its own tests.
        Some(
            json!({"client_name": "signer", "token_endpoint_auth_method": "private_key_jwt",
                    "scope": "read write", "jwks": {"keys": keys}, "lockout_enabled": false}),
        ),
    );
    assert_eq!(status, 201, "{v}");
    assert!(v.get("secret").is_none(), "key clients get no secret");
    v["client"]["client_id"].as_str().unwrap().to_string()
}

fn claims(h: &Harness, id: &str, jti: &str) -> Value {
    let now = h.clock.now();
    json!({"iss": id, "sub": id, "aud": AUD, "iat": now, "exp": now + 60, "jti": jti})
}

fn with_assertion(h: &Harness, assertion: &str, extra: &str) -> Response {
    h.send(token_request(&format!(
        "grant_type=client_credentials&client_assertion_type={}&client_assertion={assertion}{extra}",
        urlencode(ASSERTION_TYPE)
    )))
}

/// A refusal before the signature is verified: the caller gets the one generic text, and the
/// precise reason goes to the operator's log only.
fn unproven(r: &Response, reason: &str) {
    refused(r, "client authentication failed");
    assert_eq!(
        r.log.as_deref(),
        Some(format!("client authentication refused: {reason}").as_str())
    );
}

fn refused(r: &Response, description: &str) {
    assert_error(r, 401, "invalid_client", description);
    // RFC 9110: every 401 carries a challenge, assertions included.
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"edgeauth\"")
    );
}

#[test]
fn each_public_key_algorithm_authenticates() {
    let h = Harness::new();
    let (ed, ec, rsa) = (TestKey::ed(1), TestKey::ec(), TestKey::Rsa(rsa_key()));
    let id = key_client(&h, json!([ed.jwk("ed"), ec.jwk("ec"), rsa.jwk("rsa")]));
    for (i, (key, alg, kid)) in [
        (&ed, "EdDSA", "ed"),
        (&ec, "ES256", "ec"),
        (&rsa, "RS256", "rsa"),
        (&rsa, "PS256", "rsa"),
    ]
    .into_iter()
    .enumerate()
    {
        let a = jws(
            key,
            json!({"alg": alg, "kid": kid, "typ": "JWT"}),
            claims(&h, &id, &format!("j{i}")),
        );
        let r = with_assertion(&h, &a, "&scope=read");
        assert_eq!(r.status, 200, "{alg}: {:?}", body_json(&r));
        let (_, c) = verify(&h, body_json(&r)["access_token"].as_str().unwrap());
        assert_eq!(
            (c["sub"].as_str(), c["scope"].as_str()),
            (Some(id.as_str()), Some("read"))
        );
    }
}

#[test]
fn without_kid_every_key_of_the_family_is_tried() {
    let h = Harness::new();
    let (a, b) = (TestKey::ed(1), TestKey::ed(2));
    let id = key_client(&h, json!([a.jwk("a"), b.jwk("b")]));
    let token = jws(&b, json!({"alg": "EdDSA"}), claims(&h, &id, "j"));
    assert_eq!(with_assertion(&h, &token, "").status, 200);
}

#[test]
fn a_pem_public_key_registers_as_a_jwk() {
    use p256::pkcs8::EncodePublicKey;
    let h = Harness::new();
    let TestKey::Ec(sk) = TestKey::ec() else {
        unreachable!()
    };
    let pem = sk
        .verifying_key()
        .to_public_key_pem(p256::pkcs8::LineEnding::LF)
        .unwrap();
    let (status, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "pem", "token_endpoint_auth_method": "private_key_jwt", "public_key_pem": pem})),
    );
    assert_eq!(status, 201, "{v}");
    let key = &v["client"]["jwks"]["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    let kid = key["kid"].as_str().unwrap();
    assert_eq!(kid.len(), 43, "RFC 7638 thumbprint");
    let id = v["client"]["client_id"].as_str().unwrap();
    let a = jws(
        &TestKey::Ec(sk),
        json!({"alg": "ES256", "kid": kid}),
        claims(&h, id, "j"),
    );
    assert_eq!(with_assertion(&h, &a, "").status, 200);
}

#[test]
fn bad_keys_are_refused_at_registration_with_422() {
    let h = Harness::new();
    let ed = TestKey::ed(1).jwk("k");
    let mut private = ed.clone();
    private["d"] = json!("AAAA");
    let cases = [
        (json!({"jwks": {"keys": [private]}}), "jwks key 0: the key contains private or symmetric key material ('d'); register the public key only"),
        (json!({"jwks": {"keys": [ed, ed]}}), "jwks key 1: duplicate kid 'k'"),
        (json!({"jwks": {"keys": [{"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}]}}), "jwks key 0: EC keys must be on curve P-256, not secp256k1"),
        (json!({"public_key_pem": "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----"}), "public_key_pem is not a PEM-encoded public key"),
        (json!({"jwks_uri": "http://example.com/jwks"}), "jwks_uri must be an https URL without user info or fragment (http only for localhost, 127.0.0.1 or [::1])"),
    ];
    for (mut body, description) in cases {
        body["client_name"] = json!("x");
        body["token_endpoint_auth_method"] = json!("private_key_jwt");
        let (status, v) = h.admin(Method::Post, "/admin/clients", Some(body));
        assert_eq!(
            (status, v),
            (
                422,
                json!({"error": "invalid_client_metadata", "error_description": description})
            )
        );
    }
}

#[test]
fn key_clients_take_no_secrets() {
    let h = Harness::new();
    let id = key_client(&h, json!([TestKey::ed(1).jwk("k")]));
    let (status, v) = h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/secrets"),
        Some(json!({})),
    );
    assert_eq!(
        (status, v),
        (
            409,
            json!({"error": "conflict", "error_description": "private_key_jwt clients authenticate with keys, not secrets"})
        )
    );
}

#[test]
fn algorithm_attacks_are_refused() {
    let h = Harness::new();
    let ed = TestKey::ed(1);
    let id = key_client(&h, json!([ed.jwk("k")]));
    let allowed = "(allowed: EdDSA, Ed25519, ES256, RS256, PS256)";
    // alg none, with and without a signature.
    let payload = URL_SAFE_NO_PAD.encode(claims(&h, &id, "n").to_string());
    let none = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#));
    refused(
        &with_assertion(&h, &none, ""),
        "invalid client assertion: the assertion signature is not valid unpadded base64url",
    );
    let none = format!(
        "{}.{payload}.AAAA",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#)
    );
    unproven(
        &with_assertion(&h, &none, ""),
        &format!("assertion alg 'none' is not allowed for private_key_jwt {allowed}"),
    );
    // HS256 keyed with the public key bytes (the classic confusion).
    let public_x = ed.jwk("k")["x"].as_str().unwrap().to_string();
    let input = format!(
        "{}.{payload}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"k"}"#)
    );
    let forged = format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(hs256(public_x.as_bytes(), input.as_bytes()))
    );
    unproven(
        &with_assertion(&h, &forged, ""),
        &format!("assertion alg 'HS256' is not allowed for private_key_jwt {allowed}"),
    );
    // A key of another family named by kid.
    let es = jws(
        &TestKey::ec(),
        json!({"alg": "ES256", "kid": "k"}),
        claims(&h, &id, "e"),
    );
    unproven(
        &with_assertion(&h, &es, ""),
        "key 'k' cannot verify alg ES256",
    );
    assert_eq!(h.guards.held(), 0, "nothing unauthenticated was recorded");
}

#[test]
fn tampering_and_foreign_keys_fail_the_signature() {
    let h = Harness::new();
    let id = key_client(&h, json!([TestKey::ed(1).jwk("k")]));
    let good = jws(
        &TestKey::ed(1),
        json!({"alg": "EdDSA", "kid": "k"}),
        claims(&h, &id, "t"),
    );
    let parts: Vec<&str> = good.split('.').collect();
    let mut c = claims(&h, &id, "t");
    c["scope"] = json!("admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(c.to_string()),
        parts[2]
    );
    unproven(
        &with_assertion(&h, &tampered, ""),
        "the assertion signature is invalid",
    );
    let foreign = jws(
        &TestKey::ed(9),
        json!({"alg": "EdDSA", "kid": "k"}),
        claims(&h, &id, "t"),
    );
    unproven(
        &with_assertion(&h, &foreign, ""),
        "the assertion signature is invalid",
    );
    let unknown = jws(
        &TestKey::ed(1),
        json!({"alg": "EdDSA", "kid": "other"}),
        claims(&h, &id, "t"),
    );
    unproven(
        &with_assertion(&h, &unknown, ""),
        "unknown kid 'other' for this client",
    );
    assert_eq!(h.guards.held(), 0);
}

#[test]
fn claims_are_checked_after_the_signature() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    let id = key_client(&h, json!([key.jwk("k")]));
    let now = h.clock.now();
    let base = claims(&h, &id, "c");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = base.clone();
        f(&mut c);
        jws(&key, json!({"alg": "EdDSA", "kid": "k"}), c)
    };
    let cases: Vec<(String, String)> = vec![
        (
            with(&|c| c["aud"] = json!("https://elsewhere.test/token")),
            format!(
                "the assertion's aud must contain the token endpoint URL ({AUD}) or the issuer"
            ),
        ),
        (
            with(&|c| c["exp"] = json!(now - 31)),
            format!("the assertion expired at {} (server time {now})", now - 31),
        ),
        (
            with(&|c| {
                c["exp"] = json!(now + 3 * 86_400);
                c.as_object_mut().unwrap().remove("iat");
            }),
            "the assertion lives too long: exp may be at most 3600 s after iat or now".into(),
        ),
        (
            with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            "the assertion has no exp".into(),
        ),
        (
            with(&|c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
            "the assertion has no jti".into(),
        ),
        (
            with(&|c| c["nbf"] = json!(now + 120)),
            "the assertion is not valid yet (nbf)".into(),
        ),
        (
            with(&|c| {
                c["iat"] = json!(now + 120);
                c["exp"] = json!(now + 180);
            }),
            "the assertion was issued in the future (iat)".into(),
        ),
        (
            with(&|c| c["sub"] = json!("someone-else")),
            "the assertion's iss and sub must both be the client_id".into(),
        ),
        (
            with(&|c| c["exp"] = json!("soon")),
            "invalid client assertion: the payload is not a JSON object of registered claims"
                .into(),
        ),
    ];
    for (assertion, description) in cases {
        refused(&with_assertion(&h, &assertion, ""), &description);
    }
    // An audience list containing the issuer is accepted, and so is 30 s of clock skew.
    let ok = with(&|c| {
        c["aud"] = json!(["x", ORIGIN]);
        c["exp"] = json!(now - 29);
        c["iat"] = json!(now - 60);
    });
    assert_eq!(with_assertion(&h, &ok, "").status, 200);
}

#[test]
fn aud_is_read_as_one_string_or_an_array_of_strings() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    let id = key_client(&h, json!([key.jwk("k")]));
    let sign = |aud: Value, jti: &str| {
        let mut c = claims(&h, &id, jti);
        c["aud"] = aud;
        jws(&key, json!({"alg": "EdDSA", "kid": "k"}), c)
    };
    let shape = "invalid client assertion: the payload is not a JSON object of registered claims";
    let elsewhere =
        format!("the assertion's aud must contain the token endpoint URL ({AUD}) or the issuer");
    // Anything but a string or an array of strings is a malformed payload; null is no aud.
    let cases = [
        (json!(5), shape.to_string()),
        (json!(true), shape.into()),
        (json!({"aud": AUD}), shape.into()),
        (json!([AUD, 5]), shape.into()),
        (json!([[AUD]]), shape.into()),
        (json!(null), elsewhere.clone()),
        (json!([]), elsewhere.clone()),
        (json!(["x"]), elsewhere),
    ];
    for (i, (aud, description)) in cases.into_iter().enumerate() {
        refused(
            &with_assertion(&h, &sign(aud, &format!("r{i}")), ""),
            &description,
        );
    }
    for (i, aud) in [json!(AUD), json!([AUD]), json!(["x", AUD, "y"])]
        .into_iter()
        .enumerate()
    {
        let r = with_assertion(&h, &sign(aud.clone(), &format!("a{i}")), "");
        assert_eq!(r.status, 200, "{aud}: {:?}", body_json(&r));
    }
}

#[test]
fn a_jti_is_accepted_once() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    let id = key_client(&h, json!([key.jwk("k")]));
    let a = jws(
        &key,
        json!({"alg": "EdDSA", "kid": "k"}),
        claims(&h, &id, "once"),
    );
    assert_eq!(with_assertion(&h, &a, "").status, 200);
    refused(
        &with_assertion(&h, &a, ""),
        "the assertion has already been used (jti replayed)",
    );
    // The same jti in a new assertion is a replay too.
    h.clock.advance(1);
    let again = jws(
        &key,
        json!({"alg": "EdDSA", "kid": "k"}),
        claims(&h, &id, "once"),
    );
    refused(
        &with_assertion(&h, &again, ""),
        "the assertion has already been used (jti replayed)",
    );
}

#[test]
fn malformed_assertions_are_invalid_client() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    let id = key_client(&h, json!([key.jwk("k")]));
    let good = jws(
        &key,
        json!({"alg": "EdDSA", "kid": "k"}),
        claims(&h, &id, "m"),
    );
    let padded = {
        let p: Vec<&str> = good.split('.').collect();
        format!("{}=.{}.{}", p[0], p[1], p[2])
    };
    let cases = [
        ("x".repeat(9000), "invalid client assertion: the assertion is longer than 8192 bytes"),
        ("a.b".to_string(), "invalid client assertion: the assertion is not a compact JWS (three dot-separated parts)"),
        (padded, "invalid client assertion: the assertion header is not valid unpadded base64url"),
        (format!("{good}.x"), "invalid client assertion: the assertion is not a compact JWS (three dot-separated parts)"),
        // Claims by position (iss, sub, ...) are not a claim set: only a JSON object is.
        (jws(&key, json!({"alg": "EdDSA", "kid": "k"}),
             json!([id, id, format!("{ORIGIN}/oauth/token"), T0 + 60, null, T0, "by-position"])),
         "invalid client assertion: the payload is not a JSON object of registered claims"),
        (jws(&key, json!({"alg": "EdDSA", "kid": "k", "crit": null}), claims(&h, &id, "n")),
         "invalid client assertion: the assertion has critical header parameters, which are not supported"),
    ];
    for (a, description) in cases {
        refused(&with_assertion(&h, &urlencode(&a), ""), description);
    }
}

#[test]
fn mixing_methods_and_mismatched_ids_are_invalid_request() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    let id = key_client(&h, json!([key.jwk("k")]));
    let a = jws(
        &key,
        json!({"alg": "EdDSA", "kid": "k"}),
        claims(&h, &id, "x"),
    );
    let r = with_assertion(&h, &a, "&client_secret=abc");
    assert_error(
        &r,
        400,
        "invalid_request",
        "use one client authentication method: an assertion, Basic or client_secret, not several",
    );
    // Another client_id makes the assertion an external token for that client's federated
    // credentials (tests/host/federation.rs): this one has none.
    let r = with_assertion(&h, &a, "&client_id=0f8fad5b-d9cb-469f-a165-70867728950e");
    refused(&r, "client authentication failed");
    let r = h.send(token_request(&format!(
        "grant_type=client_credentials&client_assertion_type=saml&client_assertion={a}"
    )));
    assert_error(
        &r,
        400,
        "invalid_request",
        &format!("client_assertion_type must be {ASSERTION_TYPE}"),
    );
    // client_id equal to iss is fine.
    assert_eq!(
        with_assertion(&h, &a, &format!("&client_id={id}")).status,
        200
    );
}

#[test]
fn secret_clients_cannot_use_assertions_and_disabled_clients_are_refused() {
    let h = Harness::new();
    let (secret_client, _) = h.create(json!({"client_name": "s"}));
    let a = jws(
        &TestKey::ed(1),
        json!({"alg": "EdDSA"}),
        claims(&h, &secret_client, "s"),
    );
    unproven(
        &with_assertion(&h, &a, ""),
        "this client is registered for client_secret_basic, not a JWT assertion",
    );
    let key = TestKey::ed(1);
    let id = key_client(&h, json!([key.jwk("k")]));
    h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"enabled": false})),
    );
    let a = jws(
        &key,
        json!({"alg": "EdDSA", "kid": "k"}),
        claims(&h, &id, "d"),
    );
    refused(&with_assertion(&h, &a, ""), "the client is disabled");
}

#[test]
fn client_secret_jwt_verifies_hs256_with_the_derived_secret() {
    let h = Harness::new();
    let (status, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "hmac", "token_endpoint_auth_method": "client_secret_jwt", "scope": "a b",
                    "secret": {"scope": "a"}})),
    );
    assert_eq!(status, 201);
    let id = v["client"]["client_id"].as_str().unwrap().to_string();
    let secret = TestKey::Hmac(v["secret"]["client_secret"].as_str().unwrap().to_string());
    let a = jws(&secret, json!({"alg": "HS256"}), claims(&h, &id, "h1"));
    let r = with_assertion(&h, &a, "");
    assert_eq!(
        (r.status, body_json(&r)["scope"].clone()),
        (200, json!("a")),
        "the secret's scope limit holds"
    );
    let wrong = jws(
        &TestKey::Hmac("guess".into()),
        json!({"alg": "HS256"}),
        claims(&h, &id, "h2"),
    );
    unproven(
        &with_assertion(&h, &wrong, ""),
        "the assertion's HS256 signature matches no secret",
    );
    let rs = jws(
        &TestKey::ed(1),
        json!({"alg": "EdDSA"}),
        claims(&h, &id, "h3"),
    );
    unproven(
        &with_assertion(&h, &rs, ""),
        "assertion alg 'EdDSA' is not allowed for client_secret_jwt (allowed: HS256)",
    );
    // The secret in Basic is refused: the registered method is the assertion.
    let r = h.token_basic(
        &id,
        v["secret"]["client_secret"].as_str().unwrap(),
        "grant_type=client_credentials",
    );
    assert_error(
        &r,
        401,
        "invalid_client",
        "this client is registered for client_secret_jwt",
    );
}

#[test]
fn jwks_uri_keys_are_fetched_cached_and_refetched_for_new_kids() {
    let h = Harness::new();
    let url = "https://client.test/jwks.json";
    let (k1, k2) = (TestKey::ed(1), TestKey::ed(2));
    h.fetcher.serve(
        url,
        &json!({"keys": [k1.jwk("one")]}).to_string(),
        Some("max-age=600"),
    );
    let (status, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "remote", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": url})),
    );
    assert_eq!(status, 201);
    let id = v["client"]["client_id"].as_str().unwrap().to_string();
    for j in ["a", "b"] {
        let a = jws(
            &k1,
            json!({"alg": "EdDSA", "kid": "one"}),
            claims(&h, &id, j),
        );
        assert_eq!(with_assertion(&h, &a, "").status, 200);
    }
    assert_eq!(h.fetcher.fetches(), 1, "cached");
    // The client rotates: a new kid triggers one refetch (after the minute's throttle).
    h.fetcher.serve(
        url,
        &json!({"keys": [k1.jwk("one"), k2.jwk("two")]}).to_string(),
        None,
    );
    h.clock.advance(61);
    let a = jws(
        &k2,
        json!({"alg": "EdDSA", "kid": "two"}),
        claims(&h, &id, "c"),
    );
    assert_eq!(with_assertion(&h, &a, "").status, 200);
    assert_eq!(h.fetcher.fetches(), 2);
    let a = jws(
        &k2,
        json!({"alg": "EdDSA", "kid": "three"}),
        claims(&h, &id, "d"),
    );
    unproven(
        &with_assertion(&h, &a, ""),
        "unknown kid 'three' for this client",
    );
    assert_eq!(h.fetcher.fetches(), 2, "refetch is throttled");
}

#[test]
fn an_unreachable_jwks_uri_is_a_retryable_outage_not_invalid_client() {
    let h = Harness::new();
    let url = "https://down.test/jwks";
    h.fetcher.fail(url, "timed out after 5 s");
    let (_, v) = h.admin(
        Method::Post,
        "/admin/clients",
        Some(json!({"client_name": "down", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": url})),
    );
    let id = v["client"]["client_id"].as_str().unwrap().to_string();
    let a = jws(
        &TestKey::ed(1),
        json!({"alg": "EdDSA", "kid": "x"}),
        claims(&h, &id, "u"),
    );
    let r = with_assertion(&h, &a, "");
    assert_error(
        &r,
        503,
        "temporarily_unavailable",
        "the key set that checks this credential could not be fetched (the client's jwks_uri or its federated issuer's keys), retry shortly",
    );
    assert_eq!(r.header("retry-after"), Some("30"));
    // The detail is for the operator's log only.
    assert!(r.log.as_deref().unwrap().contains("timed out after 5 s"));
}

#[test]
fn assertions_may_live_an_hour_as_authlib_signs_them_and_the_cap_is_a_setting() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    let id = key_client(&h, json!([key.jwk("k")]));
    let now = T0;
    let signed = |jti: &str, exp: u64| {
        let mut c = claims(&h, &id, jti);
        c["iat"] = json!(now);
        c["exp"] = json!(exp);
        jws(&key, json!({"alg": "EdDSA", "kid": "k"}), c)
    };
    // authlib's default: exp = iat + 3600; 30 s of skew on top.
    assert_eq!(
        with_assertion(&h, &signed("hour", now + 3600), "").status,
        200
    );
    assert_eq!(
        with_assertion(&h, &signed("skew", now + 3630), "").status,
        200
    );
    refused(
        &with_assertion(&h, &signed("long", now + 3631), ""),
        "the assertion lives too long: exp may be at most 3600 s after iat or now",
    );
    // A server that wants MSAL's ten minutes at most says so.
    let strict = Harness::with(&[("ASSERTION_MAX_LIFETIME", "600")]);
    let id = key_client(&strict, json!([key.jwk("k")]));
    let mut c = claims(&strict, &id, "j");
    c["exp"] = json!(now + 3600);
    refused(
        &with_assertion(
            &strict,
            &jws(&key, json!({"alg": "EdDSA", "kid": "k"}), c),
            "",
        ),
        "the assertion lives too long: exp may be at most 600 s after iat or now",
    );
}
