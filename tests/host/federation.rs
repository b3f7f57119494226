//! Federated authentication at the token endpoint (issue 23 items 3 and 4): an external
//! token, as a client assertion or as the RFC 7523 jwt-bearer grant, gives the client an
//! ordinary token when one of its federated credentials trusts it, and every mismatch is the
//! generic 401 that never counts toward the lockout.

use edgeauth::oauth::assertions::ASSERTION_TYPE;
use edgeauth::ports::{Clients, Guards};
use edgeauth::registry::clients::{AuthMethod, ClientId};
use edgeauth::registry::federation::{guard_name, CredentialId};
use edgeauth::registry::guard::GuardOp;
use edgeauth::{IsolateState, Method};
use serde_json::{json, Value};

use crate::verifier::{jws, rsa_key, TestKey};
use crate::*;

const ISS: &str = "https://issuer.test";
const JWKS: &str = "https://issuer.test/keys";
const DISCOVERY: &str = "https://issuer.test/.well-known/openid-configuration";
const AUD: &str = "https://edgeauth.test";
const SUB: &str = "repo:acme/api:ref:refs/heads/main";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const FAILED: &str = "client authentication failed";

/// A `private_key_jwt` client without keys, lockout on, with one credential trusting `ISS`;
/// answers the client id and the credential id.
fn client(h: &Harness, credential: Value) -> (String, String) {
    let body = json!({"client_name": "ci", "token_endpoint_auth_method": "private_key_jwt",
                      "scope": "deploy read", "lockout_enabled": true});
    let (status, v) = h.admin(Method::Post, "/admin/clients", Some(body));
    assert_eq!(status, 201, "{v}");
    let id = v["client"]["client_id"].as_str().unwrap().to_string();
    let path = format!("/admin/clients/{id}/federated-credentials");
    let (status, v) = h.admin(Method::Post, &path, Some(credential));
    assert_eq!(status, 201, "{v}");
    (id, v["credential_id"].as_str().unwrap().to_string())
}

fn credential() -> Value {
    json!({"name": "deploy", "issuer": ISS, "jwks_uri": JWKS, "audiences": ["other", AUD],
           "subject": SUB, "claims": {"repository_owner": "acme",
           "job_workflow_ref": "acme/api/.github/workflows/*.yml@refs/heads/main"}})
}

fn serve_keys(h: &Harness, keys: Value) {
    h.fetcher
        .serve(JWKS, &json!({ "keys": keys }).to_string(), None);
}

/// A GitHub Actions token's claims, issued now by `ISS`.
fn github(h: &Harness) -> Value {
    let now = h.clock.now();
    json!({"iss": ISS, "sub": SUB, "aud": AUD, "iat": now, "nbf": now, "exp": now + 300,
           "jti": "not-checked", "repository": "acme/api", "repository_owner": "acme",
           "repository_id": "42", "ref": "refs/heads/main", "ref_type": "branch",
           "event_name": "push", "sha": "0123", "run_id": "7", "actor": "octocat",
           "job_workflow_ref": "acme/api/.github/workflows/deploy.yml@refs/heads/main",
           "workflow_ref": "acme/api/.github/workflows/deploy.yml@refs/heads/main"})
}

fn signed(key: &TestKey, claims: Value) -> String {
    jws(
        key,
        json!({"alg": "EdDSA", "kid": "k1", "typ": "JWT"}),
        claims,
    )
}

/// The token as a client assertion beside `client_id`.
fn as_assertion(h: &Harness, id: &str, token: &str, extra: &str) -> Response {
    h.send(token_request(&format!(
        "grant_type=client_credentials&client_id={id}&client_assertion_type={}&client_assertion={token}{extra}",
        urlencode(ASSERTION_TYPE)
    )))
}

/// The token as the RFC 7523 section 2.1 grant.
fn as_grant(h: &Harness, id: &str, token: &str, extra: &str) -> Response {
    h.send(token_request(&format!(
        "grant_type={}&client_id={id}&assertion={token}{extra}",
        urlencode(JWT_BEARER)
    )))
}

/// The generic refusal, with the reason in the log only.
fn refused(r: &Response, reason: &str) {
    assert_error(r, 401, "invalid_client", FAILED);
    assert_eq!(
        r.log.as_deref(),
        Some(format!("client authentication refused: {reason}").as_str()),
    );
}

fn failures(h: &Harness, id: &str) -> u32 {
    let id = ClientId::parse(id).unwrap();
    let state = block_on(h.guards.apply(&id, GuardOp::Read, h.clock.now())).unwrap();
    state.failures
}

#[test]
fn both_presentations_give_the_client_an_ordinary_token_with_each_algorithm() {
    let h = Harness::new();
    let (ed, ec, rsa) = (TestKey::ed(1), TestKey::ec(), TestKey::Rsa(rsa_key()));
    serve_keys(&h, json!([ed.jwk("k1"), ec.jwk("ec"), rsa.jwk("rsa")]));
    let (id, cid) = client(&h, credential());
    for (key, alg, kid) in [
        (&ed, "EdDSA", "k1"),
        (&ed, "Ed25519", "k1"),
        (&ec, "ES256", "ec"),
        (&rsa, "RS256", "rsa"),
        (&rsa, "PS256", "rsa"),
    ] {
        let token = jws(key, json!({"alg": alg, "kid": kid}), github(&h));
        for r in [
            as_assertion(&h, &id, &token, "&scope=deploy"),
            as_grant(&h, &id, &token, "&scope=deploy"),
        ] {
            assert_eq!(r.status, 200, "{alg}: {:?}", body_json(&r));
            let body = body_json(&r);
            assert_eq!(
                (&body["token_type"], &body["scope"]),
                (&json!("Bearer"), &json!("deploy"))
            );
            let (_, c) = verify(&h, body["access_token"].as_str().unwrap());
            assert_eq!(
                (&c["sub"], &c["client_id"], &c["scope"]),
                (&json!(id), &json!(id), &json!("deploy"))
            );
        }
    }
    // The credential's last use is recorded where a secret's would be.
    let (_, v) = h.admin(
        Method::Get,
        &format!("/admin/clients/{id}/federated-credentials"),
        None,
    );
    assert_eq!(v["federated_credentials"][0]["credential_id"], cid);
    assert_eq!(v["federated_credentials"][0]["last_used_at"], T0);
}

#[test]
fn the_token_is_not_single_use_and_scope_rules_are_unchanged() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    serve_keys(&h, json!([key.jwk("k1")]));
    let (id, _) = client(&h, credential());
    let token = signed(&key, github(&h));
    for _ in 0..3 {
        assert_eq!(as_grant(&h, &id, &token, "").status, 200);
    }
    let body = body_json(&as_assertion(&h, &id, &token, ""));
    assert_eq!(body["scope"], "deploy read");
    assert_error(
        &as_grant(&h, &id, &token, "&scope=admin"),
        400,
        "invalid_scope",
        "scope 'admin' is not allowed for this client",
    );
    assert_error(
        &as_grant(&h, &id, &token, "&resource=https%3A%2F%2Fapi.example"),
        400,
        "invalid_target",
        "resource 'https://api.example' is not allowed for this client",
    );
}

#[test]
fn every_mismatch_is_the_generic_401_and_never_counts_toward_the_lockout() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    serve_keys(&h, json!([key.jwk("k1"), TestKey::ec().jwk("ec")]));
    let (id, cid) = client(&h, credential());
    let now = h.clock.now();
    let with = |changes: Value| {
        let mut c = github(&h);
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let on = |why: &str| format!("credential {cid}: {why}");
    let claim = |name: &str| {
        on(&format!(
            "claim '{name}' is missing, not a string or does not match"
        ))
    };
    let cases: Vec<(Value, String)> = vec![
        (
            json!({"iss": "https://other.test"}),
            "no federated credential of the client trusts issuer 'https://other.test'".into(),
        ),
        (
            json!({"iss": "https://issuer.test/"}),
            "no federated credential of the client trusts issuer 'https://issuer.test/'".into(),
        ),
        (
            json!({"aud": "https://evil.test"}),
            on("aud holds none of the credential's audiences"),
        ),
        (
            json!({"aud": ["a", "b"]}),
            on("aud holds none of the credential's audiences"),
        ),
        (
            json!({"aud": null}),
            on("aud holds none of the credential's audiences"),
        ),
        (
            json!({"sub": "repo:acme/api:pull_request"}),
            on("sub 'repo:acme/api:pull_request' does not match"),
        ),
        (
            json!({"sub": "repo:evil/api:ref:refs/heads/main"}),
            on("sub 'repo:evil/api:ref:refs/heads/main' does not match"),
        ),
        (json!({"sub": null}), on("sub '' does not match")),
        (
            json!({"repository_owner": "evil"}),
            claim("repository_owner"),
        ),
        (json!({"repository_owner": null}), claim("repository_owner")),
        (
            json!({"repository_owner": ["acme"]}),
            claim("repository_owner"),
        ),
        (
            json!({"job_workflow_ref": "acme/api/.github/workflows/deploy.yml@refs/heads/dev"}),
            claim("job_workflow_ref"),
        ),
        (json!({"exp": null}), "the external token has no exp".into()),
        (
            json!({"exp": now - 60}),
            format!(
                "the external token expired at {} (server time {now})",
                now - 60
            ),
        ),
        (
            json!({"exp": "soon"}),
            "invalid client assertion: the payload is not a JSON object of registered claims"
                .into(),
        ),
        (
            json!({"nbf": now + 61}),
            "the external token is not valid yet (nbf)".into(),
        ),
        (
            json!({"iat": now + 61}),
            "the external token was issued in the future (iat)".into(),
        ),
        (
            json!({"iat": now - 10, "exp": now - 10 + 86_401}),
            "the external token lives longer than 86400 s".into(),
        ),
    ];
    for (changes, reason) in cases {
        let token = signed(&key, with(changes.clone()));
        let r = as_grant(&h, &id, &token, "");
        if reason.starts_with("invalid client assertion") {
            assert_error(&r, 401, "invalid_client", &reason);
        } else {
            refused(&r, &reason);
        }
        refused_alike(&as_assertion(&h, &id, &token, ""), &r);
    }
    // Within the skews: exp 59 s past, nbf and iat 60 s ahead, a lifetime of exactly a day.
    for changes in [
        json!({"exp": now - 59}),
        json!({"nbf": now + 60, "iat": now + 60}),
        json!({"iat": now, "exp": now + 86_400}),
        json!({"aud": ["x", AUD]}),
    ] {
        let r = as_grant(&h, &id, &signed(&key, with(changes.clone())), "");
        assert_eq!(r.status, 200, "{changes}: {:?}", body_json(&r));
    }
    // Signatures and algorithms.
    let claims = github(&h);
    let forged = jws(
        &TestKey::ed(2),
        json!({"alg": "EdDSA", "kid": "k1"}),
        claims.clone(),
    );
    refused(
        &as_grant(&h, &id, &forged, ""),
        "the external token's signature is invalid",
    );
    let header = |h: Value| URL_SAFE_NO_PAD.encode(h.to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let unsigned = format!("{}.{body}.AAAA", header(json!({"alg": "none"})));
    refused(
        &as_grant(&h, &id, &unsigned, ""),
        "external token alg 'none' is not allowed",
    );
    let hmac = jws(
        &TestKey::Hmac("k".into()),
        json!({"alg": "HS256", "kid": "k1"}),
        claims.clone(),
    );
    refused(
        &as_grant(&h, &id, &hmac, ""),
        "external token alg 'HS256' is not allowed",
    );
    // The alg is bound to the key type: an Ed25519 key never checks an ES256 signature.
    let confused = jws(&key, json!({"alg": "ES256", "kid": "k1"}), claims.clone());
    refused(
        &as_grant(&h, &id, &confused, ""),
        &format!("no key at {JWKS} fits kid 'k1' and alg ES256"),
    );
    let unknown = jws(&key, json!({"alg": "EdDSA", "kid": "k9"}), claims.clone());
    refused(
        &as_grant(&h, &id, &unknown, ""),
        &format!("no key at {JWKS} fits kid 'k9' and alg EdDSA"),
    );
    // Without a kid, each key of the family is tried.
    let no_kid = jws(&key, json!({"alg": "EdDSA"}), claims.clone());
    assert_eq!(as_grant(&h, &id, &no_kid, "").status, 200);
    // Another client, or none, gets nothing from the same token.
    let (other, _) = client(
        &h,
        json!({"name": "x", "issuer": ISS, "jwks_uri": JWKS, "audiences": [AUD],
               "subject": "repo:acme/other:ref:refs/heads/main"}),
    );
    let good = signed(&key, claims);
    refused(
        &as_grant(&h, &other, &good, ""),
        &format!(
            "credential {}: sub '{SUB}' does not match",
            first_credential(&h, &other)
        ),
    );
    assert_error(
        &as_grant(&h, "0f8fad5b-d9cb-469f-a165-70867728950e", &good, ""),
        401,
        "invalid_client",
        FAILED,
    );
    assert_eq!(failures(&h, &id), 0, "nothing was counted");
    assert_eq!(failures(&h, &other), 0);
    assert_eq!(as_grant(&h, &id, &good, "").status, 200, "and not locked");
}

fn refused_alike(a: &Response, b: &Response) {
    assert_eq!(
        (a.status, body_json(a), &a.log),
        (b.status, body_json(b), &b.log)
    );
}

fn first_credential(h: &Harness, id: &str) -> String {
    let (_, v) = h.admin(
        Method::Get,
        &format!("/admin/clients/{id}/federated-credentials"),
        None,
    );
    v["federated_credentials"][0]["credential_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn only_an_enabled_unlocked_private_key_jwt_client_is_admitted() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    serve_keys(&h, json!([key.jwk("k1")]));
    let (id, _) = client(&h, credential());
    let token = signed(&key, github(&h));
    let patch = |body: Value| {
        let (status, v) = h.admin(Method::Patch, &format!("/admin/clients/{id}"), Some(body));
        assert_eq!(status, 200, "{v}");
    };
    patch(json!({"enabled": false}));
    assert_error(
        &as_grant(&h, &id, &token, ""),
        401,
        "invalid_client",
        "the client is disabled",
    );
    patch(json!({"enabled": true}));
    assert_eq!(as_grant(&h, &id, &token, "").status, 200);
    // A record that says another method (held over from before, say) trusts no token.
    let cid = ClientId::parse(&id).unwrap();
    let mut record = block_on(h.store.get(&cid)).unwrap().unwrap();
    record.client.token_endpoint_auth_method = AuthMethod::ClientSecretBasic;
    block_on(h.store.put(&record)).unwrap();
    let fresh = IsolateState::default();
    let r = h.send_in(&fresh, grant_request(&id, &token));
    refused(
        &r,
        "this client is registered for client_secret_basic, which holds no federated credentials",
    );
}

fn grant_request(id: &str, token: &str) -> Request {
    token_request(&format!(
        "grant_type={}&client_id={id}&assertion={token}",
        urlencode(JWT_BEARER)
    ))
}

#[test]
fn a_locked_client_is_refused_even_with_a_good_token() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    serve_keys(&h, json!([key.jwk("k1")]));
    let (id, _) = client(&h, credential());
    let cid = ClientId::parse(&id).unwrap();
    for _ in 0..5 {
        block_on(
            h.guards
                .apply(&cid, GuardOp::Failure { lock: true }, h.clock.now()),
        )
        .unwrap();
    }
    let r = h.send_in(
        &IsolateState::default(),
        grant_request(&id, &signed(&key, github(&h))),
    );
    assert_eq!(r.status, 401);
    let description = body_json(&r)["error_description"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        description.starts_with("the client is locked after too many failed authentications"),
        "{description}"
    );
}

#[test]
fn a_deleted_credential_is_refused_through_the_guard_before_kv_has_it() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    serve_keys(&h, json!([key.jwk("k1")]));
    let (id, cred) = client(&h, credential());
    let token = signed(&key, github(&h));
    assert_eq!(as_grant(&h, &id, &token, "").status, 200);
    // Another location deleted it: the guard knows, this location's KV copy does not.
    let cid = ClientId::parse(&id).unwrap();
    let name = guard_name(&CredentialId::parse(&cred).unwrap());
    let op = GuardOp::Keys {
        removed: vec![name],
        current: vec![],
    };
    block_on(h.guards.apply(&cid, op, h.clock.now())).unwrap();
    let r = h.send_in(&IsolateState::default(), grant_request(&id, &token));
    refused(&r, &format!("credential {cred}: deleted"));
    // Deleted through the admin API: gone from the record too.
    let path = format!("/admin/clients/{id}/federated-credentials/{cred}");
    assert_eq!(h.admin(Method::Delete, &path, None).0, 204);
    refused(
        &as_grant(&h, &id, &token, ""),
        "no federated credential of the client trusts issuer 'https://issuer.test'",
    );
    assert_eq!(failures(&h, &id), 0);
}

#[test]
fn an_unreachable_issuer_is_a_503_with_retry_after_and_locks_nothing() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    let (id, _) = client(&h, credential());
    h.fetcher.fail(JWKS, "timed out after 5 s");
    let token = signed(&key, github(&h));
    for _ in 0..6 {
        let r = as_grant(&h, &id, &token, "");
        assert_eq!(r.status, 503);
        assert_eq!(body_json(&r)["error"], "temporarily_unavailable");
        assert_eq!(
            body_json(&r)["error_description"],
            "the key set that checks this credential could not be fetched (the client's \
             jwks_uri or its federated issuer's keys), retry shortly"
        );
        assert_eq!(r.header("retry-after"), Some("30"));
        h.clock.advance(31);
    }
    assert_eq!(failures(&h, &id), 0);
    // Back: the next request after the refetch bound succeeds.
    serve_keys(&h, json!([key.jwk("k1")]));
    let r = as_grant(&h, &id, &signed(&key, github(&h)), "");
    assert_eq!(r.status, 200, "{:?}", body_json(&r));
}

#[test]
fn keys_are_discovered_from_the_issuers_openid_configuration() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    let mut c = credential();
    c.as_object_mut().unwrap().remove("jwks_uri");
    let (id, _) = client(&h, c);
    serve_keys(&h, json!([key.jwk("k1")]));
    let token = signed(&key, github(&h));
    // The issuer is down: an outage.
    h.fetcher.fail(DISCOVERY, "HTTP 502");
    assert_eq!(as_grant(&h, &id, &token, "").status, 503);
    h.clock.advance(30);
    let doc = |issuer: &str, jwks: &str| json!({"issuer": issuer, "jwks_uri": jwks}).to_string();
    // A document that names another issuer, or an http jwks_uri, verifies nothing.
    h.fetcher
        .serve(DISCOVERY, &doc("https://evil.test", JWKS), None);
    refused(
        &as_grant(&h, &id, &token, ""),
        "the discovery document of https://issuer.test names another issuer",
    );
    h.clock.advance(30);
    h.fetcher
        .serve(DISCOVERY, &doc(ISS, "http://issuer.test/keys"), None);
    refused(
        &as_grant(&h, &id, &token, ""),
        "the discovery document of https://issuer.test has no https jwks_uri",
    );
    h.clock.advance(30);
    h.fetcher.serve(DISCOVERY, &doc(ISS, JWKS), None);
    let before = h.fetcher.fetches();
    let token = signed(&key, github(&h));
    assert_eq!(as_grant(&h, &id, &token, "").status, 200);
    assert_eq!(
        h.fetcher.fetches(),
        before + 2,
        "the document, then the keys"
    );
    assert_eq!(as_assertion(&h, &id, &token, "").status, 200);
    assert_eq!(h.fetcher.fetches(), before + 2, "both cached");
}

#[test]
fn an_unknown_kid_refetches_the_issuers_keys_at_most_once_per_30_s() {
    let h = Harness::new();
    let (old, new) = (TestKey::ed(1), TestKey::ed(2));
    serve_keys(&h, json!([old.jwk("k1")]));
    let (id, _) = client(&h, credential());
    assert_eq!(as_grant(&h, &id, &signed(&old, github(&h)), "").status, 200);
    assert_eq!(h.fetcher.fetches(), 1);
    // The issuer rotates.
    serve_keys(&h, json!([old.jwk("k1"), new.jwk("k2")]));
    h.clock.advance(10);
    let rotated = |h: &Harness| jws(&new, json!({"alg": "EdDSA", "kid": "k2"}), github(h));
    refused(
        &as_grant(&h, &id, &rotated(&h), ""),
        &format!("no key at {JWKS} fits kid 'k2' and alg EdDSA"),
    );
    h.clock.advance(19);
    assert_eq!(as_grant(&h, &id, &rotated(&h), "").status, 401);
    assert_eq!(h.fetcher.fetches(), 1, "throttled for 30 s");
    h.clock.advance(1);
    assert_eq!(as_grant(&h, &id, &rotated(&h), "").status, 200);
    assert_eq!(h.fetcher.fetches(), 2);
}

#[test]
fn the_grant_takes_no_other_client_authentication() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    serve_keys(&h, json!([key.jwk("k1")]));
    let (id, _) = client(&h, credential());
    let token = signed(&key, github(&h));
    let mixed = "the jwt-bearer grant authenticates by its assertion alone: send no Authorization header, client_secret or client_assertion";
    for extra in [
        "&client_secret=x".to_string(),
        format!("&client_assertion={token}"),
        format!("&client_assertion_type={}", urlencode(ASSERTION_TYPE)),
    ] {
        assert_error(
            &as_grant(&h, &id, &token, &extra),
            400,
            "invalid_request",
            mixed,
        );
    }
    let basic = grant_request(&id, &token).with_header("authorization", "Basic eDp5");
    assert_error(&h.send(basic), 400, "invalid_request", mixed);
    let no_id = token_request(&format!(
        "grant_type={}&assertion={token}",
        urlencode(JWT_BEARER)
    ));
    assert_error(
        &h.send(no_id),
        400,
        "invalid_request",
        "client_id is required with the jwt-bearer grant",
    );
    let no_token = token_request(&format!(
        "grant_type={}&client_id={id}",
        urlencode(JWT_BEARER)
    ));
    assert_error(
        &h.send(no_token),
        400,
        "invalid_request",
        "assertion is required with the jwt-bearer grant",
    );
    // Longer than an assertion may be.
    let long = format!("{token}{}", "A".repeat(8 * 1024));
    assert_error(
        &as_grant(&h, &id, &long, ""),
        401,
        "invalid_client",
        "invalid client assertion: the assertion is longer than 8192 bytes",
    );
}

#[test]
fn a_self_signed_assertion_is_told_apart_by_its_iss() {
    let h = Harness::new();
    let key = TestKey::ed(1);
    serve_keys(&h, json!([key.jwk("k1")]));
    let (id, _) = client(&h, credential());
    // The client's own key, registered beside its federated credential.
    let own = TestKey::ed(3);
    let patch = json!({"jwks": {"keys": [own.jwk("own")]}});
    let (status, v) = h.admin(Method::Patch, &format!("/admin/clients/{id}"), Some(patch));
    assert_eq!(status, 200, "{v}");
    let now = h.clock.now();
    let own_claims = json!({"iss": id, "sub": id, "aud": format!("{ORIGIN}/oauth/token"),
                            "iat": now, "exp": now + 60, "jti": "j1"});
    let own_token = jws(&own, json!({"alg": "EdDSA", "kid": "own"}), own_claims);
    assert_eq!(as_assertion(&h, &id, &own_token, "").status, 200);
    // Self-signed, so single-use: its jti is spent.
    assert_error(
        &as_assertion(&h, &id, &own_token, ""),
        401,
        "invalid_client",
        "the assertion has already been used (jti replayed)",
    );
    // An external token is not.
    let external = signed(&key, github(&h));
    assert_eq!(as_assertion(&h, &id, &external, "").status, 200);
    assert_eq!(as_assertion(&h, &id, &external, "").status, 200);
}
