//! Fault injection (issue item 18): every endpoint that touches storage is run once per
//! storage step with that one step failing, on a fresh, identically prepared harness.
//!
//! The rules checked for every row and every failed step:
//! - the answer is the normal one, or 503 `temporarily_unavailable` with `Retry-After`; never
//!   a 500. A success is allowed only where the failed step is best-effort (the audit write
//!   after a change, a last-use cleanup, the background usage and last-use writes);
//! - a 503 leaves the registry in KV (client records with their secret digests, resources and
//!   their identifier index) exactly as it was: the KV write is the last step that can fail.
//!   A guard change that withdraws access (disable, delete, secret removal) is made before that
//!   write, so it may outlive a 503: it fails closed, in the direction the admin asked for;
//! - retrying the same request afterwards gets the normal answer, so no step is left that only
//!   a 503 ever reaches (a retried DELETE that found the record gone while the guard was never
//!   told, or a PATCH whose version was bumped by a write the 503 denied);
//! - everything stays readable through the admin API, and the row's own rule holds (below).

use edgeauth::registry::keyspace::{CLIENT_PREFIX, RESOURCE_PREFIX};
use edgeauth::support::cache::CACHE_TTL_MS;
use edgeauth::Method;
use serde_json::{json, Value};

use crate::verifier::{jws, TestKey};
use crate::*;

const BILLING: &str = "https://billing.test";
const SPARE: &str = "https://spare.test";
const GRANT: &str = "grant_type=client_credentials";
/// Where the revocation row keeps the token it made, outside the registry's prefixes.
const STASHED_TOKEN: &str = "test:token";

/// What every row starts from: two resources, a secret client with two secrets and a grant,
/// and a `private_key_jwt` client; every isolate cache has expired, so token requests are cold.
struct Fixture {
    client: String,
    secret: String,
    version: u64,
    second_secret_id: String,
    key_client: String,
    /// A federated credential of the key client.
    credential: String,
    spare: String,
}

fn fixture(h: &Harness) -> Fixture {
    let scopes =
        json!([{"value": "read", "description": "r"}, {"value": "write", "description": "w"}]);
    let [_, spare] = [BILLING, SPARE].map(|identifier| {
        let body = json!({"identifier": identifier, "name": "API", "scopes": scopes});
        let (status, v) = h.admin(Method::Post, "/admin/resources", Some(body));
        assert_eq!(status, 201, "{v}");
        v["resource_id"].as_str().unwrap().to_string()
    });
    let (client, secret) = h.create(json!({
        "client_name": "billing", "grants": [{"resource": BILLING, "scope": "read"}]
    }));
    let (status, second) = h.admin(
        Method::Post,
        &format!("/admin/clients/{client}/secrets"),
        Some(json!({"description": "second"})),
    );
    assert_eq!(status, 201, "{second}");
    let (_, read) = h.admin(Method::Get, &format!("/admin/clients/{client}"), None);
    let key_client = {
        let body = json!({"client_name": "signer", "token_endpoint_auth_method": "private_key_jwt",
                          "scope": "read", "jwks": {"keys": [TestKey::ed(7).jwk("k1")]}});
        let (status, v) = h.admin(Method::Post, "/admin/clients", Some(body));
        assert_eq!(status, 201, "{v}");
        v["client"]["client_id"].as_str().unwrap().to_string()
    };
    let credential = {
        let (status, v) = h.admin(
            Method::Post,
            &format!("/admin/clients/{key_client}/federated-credentials"),
            Some(federated("first")),
        );
        assert_eq!(status, 201, "{v}");
        v["credential_id"].as_str().unwrap().to_string()
    };
    h.clock.advance_ms(CACHE_TTL_MS);
    Fixture {
        client,
        secret,
        version: read["version"].as_u64().unwrap(),
        second_secret_id: second["secret_id"].as_str().unwrap().to_string(),
        key_client,
        credential,
        spare,
    }
}

fn federated(name: &str) -> Value {
    json!({"name": name, "issuer": "https://token.actions.githubusercontent.com",
           "audiences": ["https://edgeauth.test"], "subject": "repo:acme/deploy:ref:refs/heads/main"})
}

fn credential_ids(h: &Harness, f: &Fixture) -> Vec<String> {
    let path = format!("/admin/clients/{}/federated-credentials", f.key_client);
    let (status, v) = get(h, &path);
    assert_eq!(status, 200, "{v}");
    v["federated_credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["credential_id"].as_str().unwrap().to_string())
        .collect()
}

/// One endpoint under test.
struct Row {
    name: &'static str,
    /// Preparation beyond the fixture, made before counting starts.
    prepare: fn(&Harness, &Fixture),
    request: fn(&Harness, &Fixture) -> Response,
    /// The status when nothing fails.
    ok: u16,
    /// The row's own rule, checked on the first answer (a success or a 503).
    check: fn(&Harness, &Fixture, &Response),
}

fn nothing(_: &Harness, _: &Fixture) {}
fn no_check(_: &Harness, _: &Fixture, _: &Response) {}

fn admin_request(method: Method, path: &str, body: Option<Value>) -> Request {
    let mut req = Request::new(method, &format!("{ORIGIN}{path}"))
        .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"));
    if let Some(b) = body {
        req = req
            .with_header("content-type", "application/json")
            .with_body(b.to_string());
    }
    req
}

fn get(h: &Harness, path: &str) -> (u16, Value) {
    h.admin(Method::Get, path, None)
}

fn client_view(h: &Harness, f: &Fixture) -> Value {
    let (status, v) = get(h, &format!("/admin/clients/{}", f.client));
    assert_eq!(status, 200, "{v}");
    v
}

fn secret_ids(h: &Harness, f: &Fixture) -> Vec<String> {
    client_view(h, f)["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["secret_id"].as_str().unwrap().to_string())
        .collect()
}

/// A fresh `private_key_jwt` assertion: its `jti` is the instant, so a retry (one second
/// later) is a new assertion, as client libraries make them.
fn assertion_request(h: &Harness, f: &Fixture, extra: &str) -> Response {
    let now = h.clock.now();
    let id = &f.key_client;
    let claims = json!({"iss": id, "sub": id, "aud": format!("{ORIGIN}/oauth/token"),
                        "iat": now, "exp": now + 60, "jti": format!("jti-{now}")});
    let a = jws(
        &TestKey::ed(7),
        json!({"alg": "EdDSA", "kid": "k1"}),
        claims,
    );
    h.send(token_request(&format!(
        "{GRANT}&client_assertion_type={}&client_assertion={a}{extra}",
        urlencode(edgeauth::oauth::assertions::ASSERTION_TYPE)
    )))
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            // Half-written: a client stored without the secret the 201 showed, or stored at
            // all after a 503 (a secret digest nobody was ever told). The grant's resource
            // reads come first, then the one record write; the audit write is best-effort.
            name: "create client",
            prepare: nothing,
            request: |h, _| {
                h.send(admin_request(
                    Method::Post,
                    "/admin/clients",
                    Some(
                        json!({"client_name": "new", "secret": {"description": "first"},
                                "grants": [{"resource": BILLING, "scope": "read"}]}),
                    ),
                ))
            },
            ok: 201,
            check: |h, _, r| {
                if r.status == 201 {
                    let v = body_json(r);
                    let id = v["client"]["client_id"].as_str().unwrap();
                    let secret = v["secret"]["client_secret"].as_str().unwrap();
                    assert_eq!(h.token_basic(id, secret, GRANT).status, 200);
                    let (_, stored) = get(h, &format!("/admin/clients/{id}"));
                    assert_eq!(stored["secrets"][0]["secret_id"], v["secret"]["secret_id"]);
                }
            },
        },
        Row {
            // Half-written: the record saved while the answer is 503, so a retry with the same
            // version is a 409 conflict; or a disable in the record but not at the guard.
            // Guard, last uses and grants are read (or the disable applied) before the write.
            name: "patch client",
            prepare: nothing,
            request: |h, f| {
                h.send(admin_request(
                    Method::Patch,
                    &format!("/admin/clients/{}", f.client),
                    Some(json!({"client_name": "renamed", "enabled": false, "version": f.version})),
                ))
            },
            ok: 200,
            check: |h, f, r| {
                let v = client_view(h, f);
                if r.status == 200 {
                    assert_eq!(
                        (v["client_name"].clone(), v["enabled"].clone()),
                        (json!("renamed"), json!(false))
                    );
                    assert_eq!(body_json(r), v);
                    let t = h.token_basic(&f.client, &f.secret, GRANT);
                    assert_error(&t, 401, "invalid_client", "the client is disabled");
                } else {
                    assert_eq!(
                        (v["client_name"].clone(), v["version"].clone()),
                        (json!("billing"), json!(f.version))
                    );
                }
            },
        },
        Row {
            // Half-written: the record deleted but the guard never told, and a retry answering
            // 404, so stale KV copies elsewhere keep serving the client. The guard is told
            // first; the last-use cleanup and the audit write are best-effort.
            name: "delete client",
            prepare: nothing,
            request: |h, f| {
                h.send(admin_request(
                    Method::Delete,
                    &format!("/admin/clients/{}", f.client),
                    None,
                ))
            },
            ok: 204,
            check: |h, f, r| {
                let (status, _) = get(h, &format!("/admin/clients/{}", f.client));
                let t = h.token_basic(&f.client, &f.secret, GRANT);
                if r.status == 204 {
                    assert_eq!((status, t.status), (404, 401));
                } else {
                    // A 503 deleted nothing in KV; the guard may already refuse the client
                    // (fail closed), or it was the guard's step that failed.
                    assert_eq!(status, 200);
                    assert!(matches!(t.status, 200 | 401), "{:?}", body_json(&t));
                }
            },
        },
        Row {
            // Half-written: a secret digest stored that the 503 never revealed (a secret that
            // works for nobody but counts towards the limit), or a 201 secret not stored.
            name: "add secret",
            prepare: nothing,
            request: |h, f| {
                h.send(admin_request(
                    Method::Post,
                    &format!("/admin/clients/{}/secrets", f.client),
                    Some(json!({"description": "third"})),
                ))
            },
            ok: 201,
            check: |h, f, r| {
                let ids = secret_ids(h, f);
                if r.status == 201 {
                    let v = body_json(r);
                    assert_eq!(ids.len(), 3);
                    assert_eq!(ids[2], v["secret_id"].as_str().unwrap());
                    let secret = v["client_secret"].as_str().unwrap();
                    assert_eq!(h.token_basic(&f.client, secret, GRANT).status, 200);
                } else {
                    assert_eq!(ids.len(), 2, "no digest stored behind a 503");
                }
            },
        },
        Row {
            // Half-written: the secret gone from the record but not revoked at the guard, and
            // a retry answering 404. The guard revokes first; last-use cleanup and audit are
            // best-effort.
            name: "delete secret",
            prepare: nothing,
            request: |h, f| {
                h.send(admin_request(
                    Method::Delete,
                    &format!("/admin/clients/{}/secrets/{}", f.client, f.second_secret_id),
                    None,
                ))
            },
            ok: 204,
            check: |h, f, r| {
                let ids = secret_ids(h, f);
                assert_eq!(ids.contains(&f.second_secret_id), r.status != 204);
                // The other secret is untouched whatever happened.
                assert_eq!(h.token_basic(&f.client, &f.secret, GRANT).status, 200);
            },
        },
        Row {
            // Half-written: a credential stored behind a 503 (it would count towards the limit
            // and take its name), or a 201 credential not stored.
            name: "add federated credential",
            prepare: nothing,
            request: |h, f| {
                h.send(admin_request(
                    Method::Post,
                    &format!("/admin/clients/{}/federated-credentials", f.key_client),
                    Some(federated("second")),
                ))
            },
            ok: 201,
            check: |h, f, r| {
                let ids = credential_ids(h, f);
                if r.status == 201 {
                    let v = body_json(r);
                    assert_eq!(
                        ids,
                        [
                            f.credential.clone(),
                            v["credential_id"].as_str().unwrap().to_string()
                        ]
                    );
                } else {
                    assert_eq!(
                        ids,
                        std::slice::from_ref(&f.credential),
                        "nothing stored behind a 503"
                    );
                }
            },
        },
        Row {
            // Half-written: the credential gone from the record but not named at the guard,
            // and a retry answering 404. The guard hears it first; last-use cleanup and audit
            // are best-effort.
            name: "delete federated credential",
            prepare: nothing,
            request: |h, f| {
                h.send(admin_request(
                    Method::Delete,
                    &format!(
                        "/admin/clients/{}/federated-credentials/{}",
                        f.key_client, f.credential
                    ),
                    None,
                ))
            },
            ok: 204,
            check: |h, f, r| {
                let ids = credential_ids(h, f);
                assert_eq!(ids.contains(&f.credential), r.status != 204);
                if r.status == 204 {
                    use edgeauth::ports::Guards;
                    let client =
                        edgeauth::registry::clients::ClientId::parse(&f.key_client).unwrap();
                    let read = edgeauth::registry::guard::GuardOp::Read;
                    let state = block_on(h.guards.apply(&client, read, h.clock.now())).unwrap();
                    let id = edgeauth::registry::federation::CredentialId::parse(&f.credential);
                    let name = edgeauth::registry::federation::guard_name(&id.unwrap());
                    assert!(state.is_key_revoked(&name), "the guard names it");
                }
            },
        },
        Row {
            // Half-written: nothing to half-write (one guard change, then a best-effort audit),
            // but a 503 must leave the lock in place and a success must lift it.
            name: "unlock",
            prepare: |h, f| {
                for _ in 0..5 {
                    h.token_basic(&f.client, "wrong", GRANT);
                }
            },
            request: |h, f| {
                h.send(admin_request(
                    Method::Post,
                    &format!("/admin/clients/{}/unlock", f.client),
                    None,
                ))
            },
            ok: 200,
            check: |h, f, r| {
                let locked = client_view(h, f)["locked_until"].is_u64();
                assert_eq!(locked, r.status != 200);
                let expected = if r.status == 200 { 200 } else { 401 };
                assert_eq!(h.token_basic(&f.client, &f.secret, GRANT).status, expected);
            },
        },
        Row {
            // Half-written: an identifier index entry without its resource (a retry would be a
            // 409 "already exists" for a resource nobody can see), or the reverse.
            name: "create resource",
            prepare: nothing,
            request: |h, _| {
                h.send(admin_request(
                    Method::Post,
                    "/admin/resources",
                    Some(json!({"identifier": "https://new.test", "name": "New", "scopes": []})),
                ))
            },
            ok: 201,
            check: |h, _, r| {
                if r.status == 201 {
                    let id = body_json(r)["resource_id"].as_str().unwrap().to_string();
                    assert_eq!(get(h, &format!("/admin/resources/{id}")).0, 200);
                }
            },
        },
        Row {
            // One read, one write, a best-effort audit: the change is stored or not at all.
            name: "patch resource",
            prepare: nothing,
            request: |h, f| {
                h.send(admin_request(
                    Method::Patch,
                    &format!("/admin/resources/{}", f.spare),
                    Some(json!({"name": "Renamed"})),
                ))
            },
            ok: 200,
            check: |h, f, r| {
                let (_, v) = get(h, &format!("/admin/resources/{}", f.spare));
                let name = if r.status == 200 { "Renamed" } else { "API" };
                assert_eq!(v["name"], name);
            },
        },
        Row {
            // Half-written: the resource gone but its identifier still indexed, so the
            // identifier could never be registered again.
            name: "delete resource",
            prepare: nothing,
            request: |h, f| {
                h.send(admin_request(
                    Method::Delete,
                    &format!("/admin/resources/{}", f.spare),
                    None,
                ))
            },
            ok: 204,
            check: |h, f, r| {
                let (status, _) = get(h, &format!("/admin/resources/{}", f.spare));
                assert_eq!(status, if r.status == 204 { 404 } else { 200 });
            },
        },
        Row {
            // Reads only (the page, then one guard read per client): nothing to half-write.
            name: "list clients",
            prepare: nothing,
            request: |h, _| h.send(admin_request(Method::Get, "/admin/clients", None)),
            ok: 200,
            check: no_check,
        },
        Row {
            name: "list resources",
            prepare: nothing,
            request: |h, _| h.send(admin_request(Method::Get, "/admin/resources", None)),
            ok: 200,
            check: no_check,
        },
        Row {
            name: "list audit",
            prepare: nothing,
            request: |h, _| h.send(admin_request(Method::Get, "/admin/audit", None)),
            ok: 200,
            check: no_check,
        },
        Row {
            name: "list a client's audit",
            prepare: nothing,
            request: |h, f| {
                h.send(admin_request(
                    Method::Get,
                    &format!("/admin/clients/{}/audit", f.client),
                    None,
                ))
            },
            ok: 200,
            check: no_check,
        },
        Row {
            // Reads the schedule (cold): nothing to half-write.
            name: "jwks",
            prepare: |h, _| h.clock.advance_ms(CACHE_TTL_MS),
            request: |h, _| h.send(admin_request(Method::Get, "/.well-known/jwks.json", None)),
            ok: 200,
            check: no_check,
        },
        Row {
            // Read the schedule, write it, then the best-effort audit: a 503 rotated nothing,
            // so the retry rotates instead of finding a rotation under way.
            name: "rotate signing keys",
            prepare: nothing,
            request: |h, _| h.send(admin_request(Method::Post, "/admin/keys/rotate", None)),
            ok: 200,
            check: |h, _, r| {
                let (status, v) = get(h, "/admin/keys");
                assert_eq!(status, 200, "{v}");
                let keys = v["keys"].as_array().unwrap().len();
                assert_eq!(keys, if r.status == 200 { 2 } else { 1 });
            },
        },
        Row {
            // Reads only; a token first, so the background usage write is in the fixture.
            name: "usage",
            prepare: |h, f| {
                assert_eq!(h.token_basic(&f.client, &f.secret, GRANT).status, 200);
            },
            request: |h, f| {
                h.send(admin_request(
                    Method::Get,
                    &format!("/admin/clients/{}/usage", f.client),
                    None,
                ))
            },
            ok: 200,
            check: no_check,
        },
        Row {
            // Cold: client read and guard read, then the background usage and last-use writes,
            // which are best-effort (the next flush carries the running total).
            name: "token with Basic",
            prepare: nothing,
            request: |h, f| h.token_basic(&f.client, &f.secret, GRANT),
            ok: 200,
            check: |h, _, r| {
                if r.status == 200 {
                    verify(h, body_json(r)["access_token"].as_str().unwrap());
                }
            },
        },
        Row {
            // After a wrong secret, a proved secret starts the count over at the guard. A 200
            // must have reset it; a 503 before the proof leaves it at 1, one after it (the
            // default grant's resource read comes last) may find it reset: the secret was
            // proved, so the reset is right, and a failed step never counts a failure.
            name: "token with Basic after a failure",
            prepare: |h, f| {
                assert_eq!(h.token_basic(&f.client, "wrong", GRANT).status, 401);
                h.clock.advance_ms(CACHE_TTL_MS);
            },
            request: |h, f| h.token_basic(&f.client, &f.secret, GRANT),
            ok: 200,
            check: |h, f, r| {
                let failures = client_view(h, f)["failed_attempts"].as_u64().unwrap();
                assert!(failures <= u64::from(r.status != 200), "{failures}");
            },
        },
        Row {
            // A wrong secret is counted at the guard: a 503 counted nothing (a caller is not
            // punished for our outage), a 401 counted exactly one.
            name: "token with a wrong secret",
            prepare: nothing,
            request: |h, f| h.token_basic(&f.client, "wrong", GRANT),
            ok: 401,
            check: |h, f, r| {
                let failures = client_view(h, f)["failed_attempts"].clone();
                assert_eq!(failures, json!(if r.status == 401 { 1 } else { 0 }));
            },
        },
        Row {
            // Client read, guard read, then the jti claim, the last step: a 503 before it
            // claims nothing, so the assertion could be sent again.
            name: "token with a private_key_jwt assertion",
            prepare: nothing,
            request: |h, f| assertion_request(h, f, ""),
            ok: 200,
            check: |h, f, r| {
                if r.status == 503 {
                    assert_eq!(
                        assertion_request(h, f, "").status,
                        200,
                        "the jti was not burned"
                    );
                }
            },
        },
        Row {
            // Client, guard and the granted resource are read; the audience is the resource.
            name: "token with a resource grant",
            prepare: nothing,
            request: |h, f| {
                h.token_basic(
                    &f.client,
                    &f.secret,
                    &format!("{GRANT}&resource={}", urlencode(BILLING)),
                )
            },
            ok: 200,
            check: |h, _, r| {
                if r.status == 200 {
                    let (_, claims) = verify(h, body_json(r)["access_token"].as_str().unwrap());
                    assert_eq!(claims["aud"], BILLING);
                }
            },
        },
        Row {
            // Client and guard read, then the revocation at the guard, the last step that
            // can fail: a 503 revoked nothing, a 200 revoked the token; the audit write is
            // best-effort.
            name: "revoke a token",
            prepare: |h, f| {
                let r = h.token_basic(&f.client, &f.secret, GRANT);
                let token = body_json(&r)["access_token"].as_str().unwrap().to_string();
                h.store.put_raw(STASHED_TOKEN, &token);
                h.clock.advance_ms(CACHE_TTL_MS);
            },
            request: |h, f| {
                let token = h.store.get_raw(STASHED_TOKEN).unwrap();
                let req = Request::new(Method::Post, &format!("{ORIGIN}/oauth/revoke"))
                    .with_header("content-type", "application/x-www-form-urlencoded")
                    .with_header("authorization", &basic(&f.client, &f.secret).unwrap())
                    .with_body(format!("token={token}"));
                h.send(req)
            },
            ok: 200,
            check: |h, _, r| {
                let token = h.store.get_raw(STASHED_TOKEN).unwrap();
                let active = body_json(&h.send(admin_introspect(&token)))["active"].clone();
                assert_eq!(active, json!(r.status != 200));
            },
        },
        Row {
            // Client read, then the revocation at the guard; the audit write is best-effort.
            name: "revoke a token by jti",
            prepare: nothing,
            request: |h, f| {
                h.send(admin_request(
                    Method::Post,
                    &format!("/admin/clients/{}/revoked-tokens", f.client),
                    Some(json!({"jti": "j1"})),
                ))
            },
            ok: 200,
            check: |h, f, r| {
                let (_, v) = get(h, &format!("/admin/clients/{}/revoked-tokens", f.client));
                let held = v["revoked_tokens"].as_array().unwrap().len();
                assert_eq!(held, usize::from(r.status == 200));
            },
        },
    ]
}

/// The registry as stored: client records with their secrets, resources and their index.
fn registry(h: &Harness) -> Vec<(String, Option<String>)> {
    let mut keys = h.store.keys(CLIENT_PREFIX);
    keys.extend(h.store.keys(RESOURCE_PREFIX.trim_end_matches(':')));
    keys.into_iter()
        .map(|k| {
            let v = h.store.get_raw(&k);
            (k, v)
        })
        .collect()
}

/// Everything stored reads back through the admin API without a 500.
fn readable(h: &Harness) {
    let (status, clients) = get(h, "/admin/clients?limit=100");
    assert_eq!(status, 200, "{clients}");
    for c in clients["clients"].as_array().unwrap() {
        let id = c["client_id"].as_str().unwrap();
        for path in ["", "/secrets", "/federated-credentials", "/usage", "/audit"] {
            let (status, v) = get(h, &format!("/admin/clients/{id}{path}"));
            assert_eq!(status, 200, "{path}: {v}");
        }
    }
    let (status, resources) = get(h, "/admin/resources?limit=100");
    assert_eq!(status, 200, "{resources}");
    for r in resources["resources"].as_array().unwrap() {
        let id = r["resource_id"].as_str().unwrap();
        assert_eq!(get(h, &format!("/admin/resources/{id}")).0, 200);
    }
    assert_eq!(get(h, "/admin/audit").0, 200);
}

#[derive(Clone, Copy, Debug)]
enum Port {
    Store,
    Guards,
}

fn calls(h: &Harness, port: Port) -> u64 {
    match port {
        Port::Store => h.store.faults.calls(),
        Port::Guards => h.guards.faults.calls(),
    }
}

fn prepared(row: &Row) -> (Harness, Fixture) {
    let h = Harness::new();
    let f = fixture(&h);
    (row.prepare)(&h, &f);
    (h, f)
}

/// Runs `row` with the `n`th call on `port` failing; answers the status it got.
fn run_with_fault(row: &Row, port: Port, n: u64) -> u16 {
    let (h, f) = prepared(row);
    let before = registry(&h);
    let start = calls(&h, port);
    match port {
        Port::Store => h.store.faults.fail_nth_call(n),
        Port::Guards => h.guards.faults.fail_nth_call(n),
    }
    let r = (row.request)(&h, &f);
    let at = format!("{}, {port:?} call {n}", row.name);
    assert!(
        calls(&h, port) - start >= n,
        "{at}: the failing call was reached ({} calls, {:?})",
        calls(&h, port) - start,
        body_json(&r)
    );
    h.store.faults.fail_nth_call(0);
    h.guards.faults.fail_nth_call(0);
    if r.status == 503 {
        assert_error(
            &r,
            503,
            "temporarily_unavailable",
            "storage is temporarily unavailable, retry shortly",
        );
        assert_eq!(r.header("retry-after"), Some("2"), "{at}");
        assert!(registry(&h) == before, "{at}: a 503 changed the registry");
    } else {
        assert_eq!(r.status, row.ok, "{at}: {:?}", body_json(&r));
    }
    (row.check)(&h, &f, &r);
    readable(&h);
    if r.status == 503 {
        h.clock.advance(1);
        let retry = (row.request)(&h, &f);
        assert_eq!(
            retry.status,
            row.ok,
            "{at}: the retry: {:?}",
            body_json(&retry)
        );
        (row.check)(&h, &f, &retry);
        readable(&h);
    }
    r.status
}

#[test]
fn every_storage_step_of_every_endpoint_fails_into_a_503_or_a_best_effort_success() {
    let mut report = Vec::new();
    for row in rows() {
        // First, how many calls the request makes on each port when nothing fails.
        let (h, f) = prepared(&row);
        let (s0, g0) = (h.store.faults.calls(), h.guards.faults.calls());
        let r = (row.request)(&h, &f);
        let counts = [
            (Port::Store, h.store.faults.calls() - s0),
            (Port::Guards, h.guards.faults.calls() - g0),
        ];
        assert_eq!(r.status, row.ok, "{}: {:?}", row.name, body_json(&r));
        (row.check)(&h, &f, &r);
        let mut outcomes = Vec::new();
        for (port, count) in counts {
            for n in 1..=count {
                outcomes.push(format!("{port:?}#{n}:{}", run_with_fault(&row, port, n)));
            }
        }
        // Every row touches storage, and at least one of its steps is not best-effort.
        assert!(
            outcomes.iter().any(|o| o.ends_with(":503")),
            "{}: {outcomes:?}",
            row.name
        );
        report.push(format!("{}: {}", row.name, outcomes.join(" ")));
    }
    // `cargo test -- --nocapture` shows which steps are best-effort.
    println!("{}", report.join("\n"));
}
