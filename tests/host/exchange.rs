//! Token exchange (RFC 8693): an API that received a caller's token trades it for a token to
//! the next API on the caller's behalf. Every rule of the grant, with a chain of providers.

use edgeauth::Method;
use serde_json::{json, Value};

use crate::*;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A client that serves an API: the resource `https://api{i}.test` names it as its provider.
struct Api {
    id: String,
    secret: String,
    identifier: String,
}

/// A caller and `n` APIs: the caller may get `read write` tokens for API 0, and API i may get
/// `grant` tokens for API i+1 (the last for none). Every API defines `read write admin`.
fn chain(h: &Harness, n: usize, grant: &str) -> ((String, String), Vec<Api>) {
    let apis: Vec<Api> = (0..n)
        .map(|i| {
            let (id, secret) = h.create(json!({"client_name": format!("api{i}")}));
            let identifier = format!("https://api{i}.test");
            let (status, v) = h.admin(
                Method::Post,
                "/admin/resources",
                Some(json!({
                    "identifier": identifier, "name": format!("API {i}"),
                    "scopes": [{"value": "read"}, {"value": "write"}, {"value": "admin"}],
                    "provider_client_id": id
                })),
            );
            assert_eq!(status, 201, "{v}");
            Api {
                id,
                secret,
                identifier,
            }
        })
        .collect();
    for pair in apis.windows(2) {
        let body = json!({"grants": [{"resource": pair[1].identifier, "scope": grant}]});
        let (status, v) = h.admin(
            Method::Patch,
            &format!("/admin/clients/{}", pair[0].id),
            Some(body),
        );
        assert_eq!(status, 200, "{v}");
    }
    let caller = h.create(json!({
        "client_name": "caller", "access_token_lifetime": 600,
        "grants": [{"resource": apis[0].identifier, "scope": "read write"}]
    }));
    (caller, apis)
}

/// The caller's token for API 0.
fn caller_token(h: &Harness, caller: &(String, String), extra: &str) -> String {
    let r = h.token_basic(
        &caller.0,
        &caller.1,
        &format!("grant_type=client_credentials&resource=https://api0.test{extra}"),
    );
    assert_eq!(r.status, 200, "{}", body_json(&r));
    body_json(&r)["access_token"].as_str().unwrap().to_string()
}

/// `api` exchanges `subject` (with `extra` form parameters).
fn exchange(h: &Harness, api: &Api, subject: &str, extra: &str) -> edgeauth::Response {
    h.token_basic(
        &api.id,
        &api.secret,
        &format!(
            "grant_type={}&subject_token={}&subject_token_type={}{extra}",
            urlencode(EXCHANGE),
            urlencode(subject),
            urlencode(ACCESS_TOKEN)
        ),
    )
}

fn issued(r: &edgeauth::Response) -> (Value, Value) {
    assert_eq!(r.status, 200, "{}", body_json(r));
    let body = body_json(r);
    let claims = {
        let h_claims = body["access_token"].as_str().unwrap().split('.').nth(1);
        let bytes = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            h_claims.unwrap(),
        )
        .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    (body, claims)
}

fn invalid_request(r: &edgeauth::Response, description: &str) {
    assert_error(r, 400, "invalid_request", description);
}

#[test]
fn a_provider_exchanges_its_callers_token_for_a_token_to_the_next_api() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 2, "read write");
    let subject = caller_token(&h, &caller, "");
    let r = exchange(
        &h,
        &apis[0],
        &subject,
        "&resource=https://api1.test&scope=read",
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let (body, _) = issued(&r);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        body,
        json!({"access_token": token, "issued_token_type": ACCESS_TOKEN,
               "token_type": "Bearer", "expires_in": 600, "scope": "read"})
    );
    let (header, claims) = verify(&h, token);
    assert_eq!(header["typ"], "at+jwt");
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(
        claims,
        json!({"iss": ORIGIN, "sub": caller.0, "client_id": apis[0].id,
               "aud": "https://api1.test", "iat": T0, "exp": T0 + 600, "jti": jti,
               "scope": "read", "act": {"sub": apis[0].id}})
    );
    // Introspection reports the actor; a token without one has no `act` member.
    let r = h.send(admin_introspect(token));
    assert_eq!(
        body_json(&r),
        json!({"active": true, "client_id": apis[0].id, "sub": caller.0, "scope": "read",
               "aud": "https://api1.test", "iss": ORIGIN, "exp": T0 + 600, "iat": T0,
               "jti": jti, "token_type": "Bearer", "act": {"sub": apis[0].id}})
    );
    assert!(body_json(&h.send(admin_introspect(&subject)))
        .get("act")
        .is_none());
    // Counted as the exchanging client's token, like any other.
    assert_eq!(
        h.store.keys(&format!("usage:{}:", apis[0].id)).len(),
        1,
        "the exchange is counted for the exchanging client"
    );
}

#[test]
fn audience_names_the_target_as_resource_does_and_both_must_agree() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 2, "read");
    let subject = caller_token(&h, &caller, "");
    let (_, claims) = issued(&exchange(
        &h,
        &apis[0],
        &subject,
        "&audience=https://api1.test",
    ));
    assert_eq!(claims["aud"], "https://api1.test");
    let r = exchange(
        &h,
        &apis[0],
        &subject,
        "&audience=https://api1.test&resource=https://api1.test",
    );
    assert_eq!(r.status, 200);
    invalid_request(
        &exchange(
            &h,
            &apis[0],
            &subject,
            "&audience=https://api1.test&resource=https://api0.test",
        ),
        "resource and audience name different targets: send one, or the same value in both",
    );
    // No target: the exchanging client's default grant, as for its own tokens.
    let (_, claims) = issued(&exchange(&h, &apis[0], &subject, ""));
    assert_eq!(claims["aud"], "https://api1.test");
}

#[test]
fn the_target_must_be_one_the_exchanging_client_may_get_tokens_for() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 3, "read");
    let subject = caller_token(&h, &caller, "");
    for extra in ["&resource=https://api2.test", "&audience=https://api2.test"] {
        assert_error(
            &exchange(&h, &apis[0], &subject, extra),
            400,
            "invalid_target",
            "resource 'https://api2.test' is not allowed for this client",
        );
    }
}

#[test]
fn the_scope_lies_within_the_subject_tokens_and_the_clients_grant() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 2, "read admin");
    // The caller holds read write; API 0 may get read admin: the intersection is read.
    let subject = caller_token(&h, &caller, "");
    let (body, claims) = issued(&exchange(&h, &apis[0], &subject, ""));
    assert_eq!(
        (&body["scope"], &claims["scope"]),
        (&json!("read"), &json!("read"))
    );
    for scope in ["write", "admin", "read admin"] {
        let which = scope.split(' ').next_back().unwrap();
        assert_error(
            &exchange(&h, &apis[0], &subject, &format!("&scope={}", urlencode(scope))),
            400,
            "invalid_scope",
            &format!("scope '{which}' is not within the subject token's scope and this client's grant for the target"),
        );
    }
    // A subject token with write only leaves nothing in common: no scope at all.
    let narrow = caller_token(&h, &caller, "&scope=write");
    let (body, claims) = issued(&exchange(&h, &apis[0], &narrow, ""));
    assert!(body.get("scope").is_none() && claims.get("scope").is_none());
}

#[test]
fn the_exchanged_token_never_outlives_the_subject_token() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 2, "read");
    let subject = caller_token(&h, &caller, "");
    h.clock.advance(500);
    let (body, claims) = issued(&exchange(&h, &apis[0], &subject, ""));
    assert_eq!(body["expires_in"], 100);
    assert_eq!(claims["exp"], T0 + 600);
    // Within the skew introspection still calls it active, but nothing of it is left.
    h.clock.advance(100);
    invalid_request(
        &exchange(&h, &apis[0], &subject, ""),
        "subject_token has expired",
    );
    h.clock.advance(60);
    invalid_request(
        &exchange(&h, &apis[0], &subject, ""),
        "subject_token is not a valid access token of this issuer (signature, type, issuer or time)",
    );
}

#[test]
fn a_subject_token_that_is_not_ours_is_refused_without_being_echoed() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 2, "read");
    let real = caller_token(&h, &caller, "");
    for bad in not_our_tokens(&caller.0, &real) {
        let r = exchange(&h, &apis[0], &bad, "");
        invalid_request(
            &r,
            "subject_token is not a valid access token of this issuer (signature, type, issuer or time)",
        );
    }
}

#[test]
fn a_revoked_subject_token_or_one_of_a_disabled_client_is_refused() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 2, "read");
    let revoked = caller_token(&h, &caller, "");
    let live = caller_token(&h, &caller, "");
    let (status, _) = h.admin(
        Method::Post,
        "/admin/tokens/revoke",
        Some(json!({"token": revoked})),
    );
    assert_eq!(status, 200);
    invalid_request(
        &exchange(&h, &apis[0], &revoked, ""),
        "subject_token has been revoked",
    );
    assert_eq!(exchange(&h, &apis[0], &live, "").status, 200);
    let (status, _) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{}", caller.0),
        Some(json!({"enabled": false})),
    );
    assert_eq!(status, 200);
    invalid_request(
        &exchange(&h, &apis[0], &live, ""),
        "subject_token was issued to a client that no longer exists or is disabled",
    );
}

#[test]
fn only_the_provider_of_the_subject_tokens_audience_may_exchange_it() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 3, "read");
    let subject = caller_token(&h, &caller, "");
    let refused =
        "subject_token is for an audience this client does not provide (the resource's provider_client_id)";
    // API 1 may get tokens for API 2, but the caller's token is for API 0.
    invalid_request(&exchange(&h, &apis[1], &subject, ""), refused);
    // A token for the issuer itself (no resource) is no API's to exchange.
    let (id, secret) = h.create(json!({"client_name": "plain", "scope": "read"}));
    let r = h.token_basic(&id, &secret, "grant_type=client_credentials");
    let plain = body_json(&r)["access_token"].as_str().unwrap().to_string();
    invalid_request(&exchange(&h, &apis[0], &plain, ""), refused);
    // Nor may the caller exchange its own token for API 0 (it does not provide API 0).
    let api = Api {
        id: caller.0.clone(),
        secret: caller.1.clone(),
        identifier: String::new(),
    };
    invalid_request(&exchange(&h, &api, &subject, ""), refused);
}

#[test]
fn actors_nest_at_most_five_deep() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 7, "read");
    let mut token = caller_token(&h, &caller, "");
    let mut act = Value::Null;
    for api in &apis[..5] {
        let (body, claims) = issued(&exchange(&h, api, &token, ""));
        act = match act {
            Value::Null => json!({"sub": api.id}),
            inner => json!({"sub": api.id, "act": inner}),
        };
        assert_eq!(claims["act"], act);
        assert_eq!(
            claims["sub"],
            caller.0.as_str(),
            "the caller stays the subject"
        );
        token = body["access_token"].as_str().unwrap().to_string();
    }
    let r = h.send(admin_introspect(&token));
    assert_eq!(body_json(&r)["act"], act);
    invalid_request(
        &exchange(&h, &apis[5], &token, ""),
        "subject_token already names 5 actors, the most a token may name",
    );
}

#[test]
fn malformed_exchanges_are_refused_before_the_client_authenticates() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 2, "read");
    let subject = caller_token(&h, &caller, "");
    let grant = format!("grant_type={}", urlencode(EXCHANGE));
    let cases = [
        (
            format!("&subject_token_type={}", urlencode(ACCESS_TOKEN)),
            "subject_token is required",
        ),
        (
            format!("&subject_token={subject}"),
            "subject_token_type is required",
        ),
        (
            format!("&subject_token={subject}&subject_token_type=urn:ietf:params:oauth:token-type:jwt"),
            "subject_token_type is not supported: only urn:ietf:params:oauth:token-type:access_token is accepted",
        ),
        (
            format!("&subject_token={subject}&subject_token_type={}&actor_token={subject}&actor_token_type={}", urlencode(ACCESS_TOKEN), urlencode(ACCESS_TOKEN)),
            "actor_token is not supported: the authenticated client is the actor",
        ),
        (
            format!("&subject_token={subject}&subject_token_type={}&requested_token_type=urn:ietf:params:oauth:token-type:id_token", urlencode(ACCESS_TOKEN)),
            "requested_token_type is not supported: only urn:ietf:params:oauth:token-type:access_token is issued",
        ),
    ];
    for (form, description) in cases {
        // A wrong secret: the parameters are refused first.
        let r = h.token_basic(&apis[0].id, "wrong-secret", &format!("{grant}{form}"));
        invalid_request(&r, description);
        assert!(!body_json(&r).to_string().contains(&subject));
    }
    // The access-token type may be requested explicitly.
    let extra = format!("&requested_token_type={}", urlencode(ACCESS_TOKEN));
    assert_eq!(exchange(&h, &apis[0], &subject, &extra).status, 200);
}

#[test]
fn the_exchanging_client_must_authenticate() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 2, "read");
    let subject = caller_token(&h, &caller, "");
    let wrong = Api {
        id: apis[0].id.clone(),
        secret: "wrong-secret".into(),
        identifier: String::new(),
    };
    assert_error(
        &exchange(&h, &wrong, &subject, ""),
        401,
        "invalid_client",
        "client authentication failed",
    );
    // No credentials at all: the subject token is no client authentication.
    let r = h.send(token_request(&format!(
        "grant_type={}&subject_token={subject}&subject_token_type={}",
        urlencode(EXCHANGE),
        urlencode(ACCESS_TOKEN)
    )));
    assert_eq!(r.status, 401);
}

#[test]
fn an_exchanged_token_carries_the_exchanging_clients_token_claims() {
    let h = Harness::new();
    let (caller, apis) = chain(&h, 2, "read");
    for (id, tier) in [(&caller.0, "caller"), (&apis[0].id, "api")] {
        let body = json!({"token_claims": {"tier": tier}});
        let (status, v) = h.admin(Method::Patch, &format!("/admin/clients/{id}"), Some(body));
        assert_eq!(status, 200, "{v}");
    }
    let subject = caller_token(&h, &caller, "");
    let (body, claims) = issued(&exchange(&h, &apis[0], &subject, ""));
    assert_eq!(claims["tier"], "api");
    let r = h.send(admin_introspect(body["access_token"].as_str().unwrap()));
    assert_eq!(
        (&body_json(&r)["tier"], &body_json(&r)["act"]),
        (&json!("api"), &json!({"sub": apis[0].id}))
    );
}

#[test]
fn a_dpop_proof_on_an_exchange_binds_the_new_token() {
    use crate::verifier::{jws, TestKey};
    let h = Harness::new();
    let (caller, apis) = chain(&h, 2, "read");
    let subject = caller_token(&h, &caller, "&scope=read");
    let key = TestKey::ec();
    let mut jwk = key.jwk("k");
    jwk.as_object_mut().unwrap().remove("kid");
    let proof = jws(
        &key,
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}),
        json!({"htm": "POST", "htu": format!("{ORIGIN}/oauth/token"), "iat": T0, "jti": "x1"}),
    );
    let creds = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", apis[0].id, apis[0].secret),
    );
    let form = format!(
        "grant_type={}&subject_token={}&subject_token_type={}&resource={}",
        urlencode(EXCHANGE),
        urlencode(&subject),
        urlencode(ACCESS_TOKEN),
        urlencode(&apis[1].identifier)
    );
    let r = h.send(
        token_request(&form)
            .with_header("authorization", &format!("Basic {creds}"))
            .with_header("dpop", &proof),
    );
    let (body, claims) = issued(&r);
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
    assert!(claims["cnf"]["jkt"].is_string(), "{claims}");
    assert_eq!(claims["act"], json!({"sub": apis[0].id}));
}
