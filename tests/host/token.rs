//! The token endpoint: client credentials grant, client authentication, scope and resource.

use edgeauth::support::cache::{CACHE_TTL_MS, REFRESH_AHEAD_MS};
use edgeauth::{Method, Request};
use serde_json::json;

use crate::*;

fn basic_client(h: &Harness) -> (String, String) {
    h.create(json!({
        "client_name": "svc",
        "scope": "read write",
        "resources": ["https://api.test", "urn:api:two"],
        "access_token_lifetime": 600
    }))
}

#[test]
fn basic_authentication_gets_a_signed_rfc9068_token() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    let r = h.token_basic(&id, &secret, "grant_type=client_credentials");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let body = body_json(&r);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["scope"], "read write");
    assert_eq!(body.as_object().unwrap().len(), 4);
    let (header, claims) = verify(&h, body["access_token"].as_str().unwrap());
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "EdDSA");
    let jti = claims["jti"].as_str().unwrap().to_string();
    assert_eq!(jti.len(), 22);
    assert_eq!(
        claims,
        json!({
            "iss": ORIGIN, "sub": id, "client_id": id, "aud": "https://api.test",
            "iat": T0, "exp": T0 + 600, "jti": jti, "scope": "read write"
        })
    );
}

#[test]
fn each_token_has_a_fresh_jti() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    let jti = |h: &Harness| {
        let b = body_json(&h.token_basic(&id, &secret, "grant_type=client_credentials"));
        verify(h, b["access_token"].as_str().unwrap()).1["jti"].clone()
    };
    assert_ne!(jti(&h), jti(&h));
}

#[test]
fn basic_credentials_are_form_urlencoded_per_rfc6749_2_3_1() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    // Encode every character, '-' included: the server must decode before comparing.
    let enc = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let creds = STANDARD.encode(format!("{}:{}", enc(&id), enc(&secret)));
    let r = h.send(
        token_request("grant_type=client_credentials")
            .with_header("authorization", &format!("Basic {creds}")),
    );
    assert_eq!(r.status, 200, "{:?}", body_json(&r));
}

#[test]
fn client_secret_post_works_for_clients_registered_for_it() {
    let h = Harness::new();
    let (id, secret) =
        h.create(json!({"client_name": "p", "token_endpoint_auth_method": "client_secret_post"}));
    let r = h.send(token_request(&format!(
        "grant_type=client_credentials&client_id={id}&client_secret={secret}"
    )));
    assert_eq!(r.status, 200);
    let (_, claims) = verify(&h, body_json(&r)["access_token"].as_str().unwrap());
    assert_eq!(
        claims["aud"], ORIGIN,
        "no resources: the audience is the issuer"
    );
    assert!(claims.get("scope").is_none(), "no scopes: no scope claim");
}

#[test]
fn a_secret_client_may_present_its_secret_by_basic_or_in_the_body() {
    let h = Harness::new();
    // Created with defaults (client_secret_basic), as the seed document's curl does it.
    let (id, secret) = basic_client(&h);
    let r = h.send(token_request(&format!(
        "grant_type=client_credentials&client_id={id}&client_secret={}",
        urlencode(&secret)
    )));
    assert_eq!(r.status, 200, "{}", body_json(&r));
    let (post, post_secret) = h.create(json!({
        "client_name": "post", "token_endpoint_auth_method": "client_secret_post"
    }));
    assert_eq!(
        h.token_basic(&post, &post_secret, "grant_type=client_credentials")
            .status,
        200
    );
    // Still one method per request.
    let creds = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{id}:{secret}"),
    );
    let both = h.send(
        token_request(&format!(
            "grant_type=client_credentials&client_id={id}&client_secret={}",
            urlencode(&secret)
        ))
        .with_header("authorization", &format!("Basic {creds}")),
    );
    assert_error(
        &both,
        400,
        "invalid_request",
        "use one client authentication method: Basic or client_secret in the body, not both",
    );
}

#[test]
fn wrong_secret_is_invalid_client_with_basic_challenge() {
    let h = Harness::new();
    let (id, _) = basic_client(&h);
    let r = h.token_basic(&id, "not-the-secret", "grant_type=client_credentials");
    assert_error(&r, 401, "invalid_client", "client authentication failed");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"edgeauth\"")
    );
}

#[test]
fn unknown_and_malformed_client_ids_fail_like_a_wrong_secret() {
    let h = Harness::new();
    for id in ["0f8fad5b-d9cb-469f-a165-70867728950e", "not-a-uuid"] {
        let r = h.token_basic(id, "whatever", "grant_type=client_credentials");
        assert_error(&r, 401, "invalid_client", "client authentication failed");
    }
}

#[test]
fn missing_credentials_are_invalid_client() {
    let h = Harness::new();
    let r = h.send(token_request("grant_type=client_credentials&client_id=x"));
    assert_error(
        &r,
        401,
        "invalid_client",
        "client authentication is required (Basic, client_secret_post, an assertion, or client_id and a client certificate)",
    );
}

#[test]
fn two_authentication_methods_at_once_are_refused() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    let r = h.token_basic(
        &id,
        &secret,
        &format!("grant_type=client_credentials&client_secret={secret}"),
    );
    assert_error(
        &r,
        400,
        "invalid_request",
        "use one client authentication method: Basic or client_secret in the body, not both",
    );
    let r = h.token_basic(
        &id,
        &secret,
        "grant_type=client_credentials&client_id=someone-else",
    );
    assert_error(
        &r,
        400,
        "invalid_request",
        "client_id in the body does not match the Basic credentials",
    );
}

#[test]
fn requested_scope_must_be_within_the_allowed_scope() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    let r = h.token_basic(&id, &secret, "grant_type=client_credentials&scope=read");
    assert_eq!(body_json(&r)["scope"], "read");
    let r = h.token_basic(
        &id,
        &secret,
        "grant_type=client_credentials&scope=read+admin",
    );
    assert_error(
        &r,
        400,
        "invalid_scope",
        "scope 'admin' is not allowed for this client",
    );
    let r = h.token_basic(
        &id,
        &secret,
        "grant_type=client_credentials&scope=%22bad%22",
    );
    assert_error(
        &r,
        400,
        "invalid_scope",
        "scope '\"bad\"' is not a valid scope token",
    );
}

#[test]
fn a_secret_with_a_scope_limits_the_token() {
    let h = Harness::new();
    let (id, _) = basic_client(&h);
    let (_, s) = h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/secrets"),
        Some(json!({"scope": "read"})),
    );
    let limited = s["client_secret"].as_str().unwrap();
    let r = h.token_basic(&id, limited, "grant_type=client_credentials");
    assert_eq!(body_json(&r)["scope"], "read");
    let r = h.token_basic(&id, limited, "grant_type=client_credentials&scope=write");
    assert_error(
        &r,
        400,
        "invalid_scope",
        "scope 'write' is not allowed for this client",
    );
}

#[test]
fn resource_selects_the_audience_within_the_registered_ones() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    let r = h.token_basic(
        &id,
        &secret,
        "grant_type=client_credentials&resource=urn%3Aapi%3Atwo",
    );
    let (_, claims) = verify(&h, body_json(&r)["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "urn:api:two");
    let r = h.token_basic(
        &id,
        &secret,
        "grant_type=client_credentials&resource=https%3A%2F%2Fevil.test",
    );
    assert_error(
        &r,
        400,
        "invalid_target",
        "resource 'https://evil.test' is not allowed for this client",
    );
    let r = h.token_basic(
        &id,
        &secret,
        "grant_type=client_credentials&resource=relative",
    );
    assert_error(
        &r,
        400,
        "invalid_target",
        "resource must be an absolute URI without a fragment",
    );
    let r = h.token_basic(
        &id,
        &secret,
        "grant_type=client_credentials&resource=urn%3Aapi%3Atwo&resource=https%3A%2F%2Fapi.test",
    );
    assert_error(&r, 400, "invalid_target", "request one resource per token");
}

#[test]
fn disabled_clients_get_invalid_client_at_once_in_this_isolate() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    assert_eq!(
        h.token_basic(&id, &secret, "grant_type=client_credentials")
            .status,
        200
    );
    let (status, _) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"enabled": false})),
    );
    assert_eq!(status, 200);
    let r = h.token_basic(&id, &secret, "grant_type=client_credentials");
    assert_error(&r, 401, "invalid_client", "the client is disabled");
}

#[test]
fn secrets_expire_at_their_exact_expiry() {
    let h = Harness::new();
    let (id, _) = basic_client(&h);
    let (_, s) = h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/secrets"),
        Some(json!({"expires_in": 60})),
    );
    let secret = s["client_secret"].as_str().unwrap();
    h.clock.advance(59);
    assert_eq!(
        h.token_basic(&id, secret, "grant_type=client_credentials")
            .status,
        200
    );
    h.clock.advance(1);
    let r = h.token_basic(&id, secret, "grant_type=client_credentials");
    assert_error(&r, 401, "invalid_client", "the client secret has expired");
}

#[test]
fn a_deleted_secret_stops_working_and_the_others_keep_working() {
    let h = Harness::new();
    let (id, first) = basic_client(&h);
    let (_, s) = h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/secrets"),
        Some(json!({})),
    );
    let second = s["client_secret"].as_str().unwrap();
    let (_, list) = h.admin(Method::Get, &format!("/admin/clients/{id}/secrets"), None);
    let first_id = list["secrets"][0]["secret_id"].as_str().unwrap();
    let (status, _) = h.admin(
        Method::Delete,
        &format!("/admin/clients/{id}/secrets/{first_id}"),
        None,
    );
    assert_eq!(status, 204);
    assert_eq!(
        h.token_basic(&id, &first, "grant_type=client_credentials")
            .status,
        401
    );
    assert_eq!(
        h.token_basic(&id, second, "grant_type=client_credentials")
            .status,
        200
    );
}

#[test]
fn the_warm_path_reads_storage_once_per_cache_period() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    let reads = h.store.reads();
    for _ in 0..5 {
        assert_eq!(
            h.token_basic(&id, &secret, "grant_type=client_credentials")
                .status,
            200
        );
    }
    assert_eq!(h.store.reads(), reads, "creation primed the cache");
    h.clock.advance_ms(CACHE_TTL_MS);
    h.token_basic(&id, &secret, "grant_type=client_credentials");
    h.token_basic(&id, &secret, "grant_type=client_credentials");
    assert_eq!(h.store.reads(), reads + 1);
}

/// Under steady use no request finds the client or its guard state expired: in their last
/// second one request reads both again and the others keep using what is cached, so the
/// requests in flight when an entry would expire do not all read at once.
#[test]
fn one_request_refreshes_the_cache_ahead_of_its_expiry() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    let ok = |h: &Harness| {
        let r = h.token_basic(&id, &secret, "grant_type=client_credentials");
        assert_eq!(r.status, 200, "{:?}", r.body);
    };
    ok(&h);
    let (reads, guard_calls) = (h.store.reads(), h.guards.guard_calls());
    h.clock.advance_ms(CACHE_TTL_MS - REFRESH_AHEAD_MS - 1);
    ok(&h);
    assert_eq!(
        (h.store.reads(), h.guards.guard_calls()),
        (reads, guard_calls)
    );
    h.clock.advance_ms(1);
    for _ in 0..3 {
        ok(&h);
    }
    assert_eq!(
        (h.store.reads(), h.guards.guard_calls()),
        (reads + 1, guard_calls + 1),
        "the first request in the last second read both again, the next two did not"
    );
    // Past the first read's expiry, the refreshed copy serves.
    h.clock.advance_ms(REFRESH_AHEAD_MS + 1);
    ok(&h);
    assert_eq!(
        (h.store.reads(), h.guards.guard_calls()),
        (reads + 1, guard_calls + 1)
    );
}

/// A read ahead of expiry that fails costs nobody an answer: the copy still holds until its TTL,
/// and only then does the outage show.
#[test]
fn a_failed_refresh_keeps_the_copy_until_its_ttl() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    let status = |h: &Harness| {
        h.token_basic(&id, &secret, "grant_type=client_credentials")
            .status
    };
    assert_eq!(status(&h), 200);
    h.store.faults.set_failing(true);
    h.guards.faults.set_failing(true);
    h.clock.advance_ms(CACHE_TTL_MS - REFRESH_AHEAD_MS);
    assert_eq!(status(&h), 200, "the refresh failed; the copy answered");
    assert_eq!(status(&h), 200);
    h.clock.advance_ms(REFRESH_AHEAD_MS);
    assert_eq!(status(&h), 503, "past the TTL the outage shows");
    h.store.faults.set_failing(false);
    h.guards.faults.set_failing(false);
    assert_eq!(status(&h), 200);
}

#[test]
fn grant_type_is_required_and_must_be_a_supported_one() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    assert_error(
        &h.token_basic(&id, &secret, "scope=read"),
        400,
        "invalid_request",
        "grant_type is required",
    );
    assert_error(
        &h.token_basic(&id, &secret, "grant_type=password"),
        400,
        "unsupported_grant_type",
        "grant_type 'password' is not supported; use client_credentials or urn:ietf:params:oauth:grant-type:jwt-bearer or urn:ietf:params:oauth:grant-type:token-exchange",
    );
}

#[test]
fn malformed_requests_get_400_with_a_clear_description() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    let cases: Vec<(Request, &str)> = vec![
        (
            token_request("grant_type=client_credentials")
                .with_header("authorization", "Basic !!!"),
            "malformed Basic credentials: expected base64 of client_id:client_secret",
        ),
        (
            token_request("grant_type=client_credentials").with_header(
                "authorization",
                &format!("Basic {}", STANDARD.encode("no-colon")),
            ),
            "malformed Basic credentials: expected base64 of client_id:client_secret",
        ),
        (
            token_request("grant_type=client_credentials").with_header(
                "authorization",
                &format!("Basic {}", STANDARD.encode([0xff, b':', 0xfe])),
            ),
            "malformed Basic credentials: expected base64 of client_id:client_secret",
        ),
        (
            token_request("grant_type=client_credentials")
                .with_header("authorization", "Bearer abc"),
            "the Authorization header must use the Basic scheme at the token endpoint",
        ),
        (
            token_request("grant_type=client_credentials&grant_type=client_credentials"),
            "parameter 'grant_type' is repeated",
        ),
        (
            token_request("grant_type=%E0%A4"),
            "form data is not valid UTF-8",
        ),
        (
            token_request("grant_type=%4"),
            "malformed percent-encoding in form data",
        ),
        (
            Request::new(Method::Post, &format!("{ORIGIN}/oauth/token"))
                .with_header("content-type", "application/json")
                .with_body(r#"{"grant_type":"client_credentials"}"#),
            "the content type must be application/x-www-form-urlencoded",
        ),
        (
            Request::new(Method::Post, &format!("{ORIGIN}/oauth/token")),
            "the content type must be application/x-www-form-urlencoded",
        ),
        (
            token_request(&format!(
                "grant_type=client_credentials&x={}",
                "a".repeat(17 * 1024)
            )),
            "the request body is larger than 16384 bytes",
        ),
    ];
    for (req, description) in cases {
        assert_error(&h.send(req), 400, "invalid_request", description);
    }
    // The form rules hold for valid credentials too: nothing was issued along the way.
    assert_eq!(
        h.token_basic(&id, &secret, "grant_type=client_credentials")
            .status,
        200
    );
}

#[test]
fn the_token_endpoint_only_takes_post() {
    let h = Harness::new();
    let r = h.send(Request::new(Method::Get, &format!("{ORIGIN}/oauth/token")));
    assert_error(
        &r,
        405,
        "method_not_allowed",
        "method not allowed on this path",
    );
    assert_eq!(r.header("allow"), Some("POST"));
}

#[test]
fn a_storage_outage_is_503_with_retry_after() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    h.clock.advance_ms(CACHE_TTL_MS);
    h.store.faults.set_failing(true);
    let r = h.token_basic(&id, &secret, "grant_type=client_credentials");
    assert_error(
        &r,
        503,
        "temporarily_unavailable",
        "storage is temporarily unavailable, retry shortly",
    );
    assert_eq!(r.header("retry-after"), Some("2"));
    h.store.faults.set_failing(false);
    assert_eq!(
        h.token_basic(&id, &secret, "grant_type=client_credentials")
            .status,
        200
    );
}

#[test]
fn secrets_never_appear_in_error_texts_or_logs() {
    let h = Harness::new();
    let (id, secret) = basic_client(&h);
    let wrong = format!("{secret}x");
    for form in [
        "grant_type=client_credentials&scope=nope",
        "grant_type=client_credentials",
    ] {
        for s in [&secret, &wrong] {
            let r = h.token_basic(&id, s, form);
            let text = String::from_utf8(r.body.clone()).unwrap() + &format!("{:?}", r.log);
            assert!(!text.contains(secret.as_str()), "{text}");
        }
    }
}

#[test]
fn sprayed_unknown_client_ids_cost_the_known_clients_no_extra_read() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({"client_name": "known"}));
    assert_eq!(
        h.token_basic(&id, &secret, "grant_type=client_credentials")
            .status,
        200
    );
    // Ten times the cache's size in made-up, well-formed ids, all within one TTL.
    for i in 0..10_000u32 {
        let made_up = format!("{:08x}-0000-4000-8000-{:012x}", i, u64::from(i) * 7919);
        let r = h.token_basic(&made_up, "guess", "grant_type=client_credentials");
        assert_error(&r, 401, "invalid_client", "client authentication failed");
    }
    let reads = h.store.reads();
    assert_eq!(
        h.token_basic(&id, &secret, "grant_type=client_credentials")
            .status,
        200
    );
    assert_eq!(h.store.reads(), reads, "the known client is still cached");
    let (found, missing) = h.isolate.clients.len();
    assert_eq!(found, 1);
    assert!(missing <= edgeauth::support::cache::MISSING_MAX);
}
