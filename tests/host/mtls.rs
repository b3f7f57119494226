//! Client certificates (RFC 8705): `tls_client_auth` and `self_signed_tls_client_auth` at the
//! token endpoint, certificates registered through the admin API, certificate-bound tokens and
//! the metadata. The certificate reaches the core as the edge's `cf.tlsClientAuth` fields.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use edgeauth::registry::guard::MAX_FAILURES;
use edgeauth::support::cache::CACHE_TTL_MS;
use edgeauth::{Method, Request};
use serde_json::{json, Value};

use crate::*;

const CERT: &str = include_str!("../seeds/cert/acme.pem");
const FP: &str = "c7081976ba1ada099540ee7827c23a065286187dcef65a4487036a686c6dc38b";
const X5T: &str = "xwgZdroa2gmVQO54J8I6BlKGGH3O9lpEhwNqaGxtw4s";
const SUBJECT: &str = "2.5.4.5=#13023432,1.2.840.113549.1.9.1=#160b6140622e6578616d706c65,CN=client.example,OU=Ops+OU=Eng,O=Acme\\, Inc.,L=San Francisco,ST=CA,C=US";
const SECOND: &str = include_str!("../seeds/cert/second.pem");
const SECOND_FP: &str = "ffa7753bc8141490e2716cb717a04074a78e9cb92455600cc5b987d7ea1304d3";
const GRANT: &str = "grant_type=client_credentials";
const MISSING: &str = "client authentication is required (Basic, client_secret_post, an assertion, or client_id and a client certificate)";
const NOT_REGISTERED: &str = "the client certificate is not registered";
const DN: &str = "CN=client.example,O=Example";

/// Creates a client without a secret (a certificate client); answers its id.
fn certificate_client(h: &Harness, body: Value) -> String {
    let (status, v) = h.admin(Method::Post, "/admin/clients", Some(body));
    assert_eq!(status, 201, "{v}");
    assert_eq!(v.get("secret"), None);
    v["client"]["client_id"].as_str().unwrap().to_string()
}

fn upload(h: &Harness, id: &str, pem: &str) -> (u16, Value) {
    h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/certificates"),
        Some(json!({ "certificate": pem })),
    )
}

/// A token request naming `id` in the form, on a connection whose certificate the edge
/// describes with `cf.tlsClientAuth`'s fields.
fn with_cert(id: &str, fields: [&str; 4], form: &str) -> Request {
    token_request(&format!("{form}&client_id={id}"))
        .with_client_cert(fields[0], fields[1], fields[2], fields[3])
}

fn self_signed(fp: &str) -> [&str; 4] {
    [
        "1",
        "FAILED:self signed certificate",
        fp,
        "CN=client.example",
    ]
}

fn claims(r: &edgeauth::Response) -> Value {
    assert_eq!(r.status, 200, "{}", body_json(r));
    let token = body_json(r)["access_token"].as_str().unwrap().to_string();
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn failed_attempts(h: &Harness, id: &str) -> u64 {
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    v["failed_attempts"].as_u64().unwrap()
}

#[test]
fn self_signed_clients_authenticate_with_a_registered_certificate() {
    let h = Harness::new();
    let id = certificate_client(
        &h,
        json!({"client_name": "s", "token_endpoint_auth_method": "self_signed_tls_client_auth", "scope": "read"}),
    );
    let (status, v) = upload(&h, &id, CERT);
    assert_eq!(status, 201, "{v}");
    let not_before = 1_796_651_864u64;
    assert_eq!(
        v,
        json!({"certificates": [{"fingerprint": FP, "x5t#S256": X5T, "subject": SUBJECT,
               "not_before": not_before, "not_after": 2_112_011_864u64, "created_at": T0}]})
    );
    // The edge's hex in either case; verified or not, a registered certificate is enough.
    for fp in [FP.to_string(), FP.to_uppercase()] {
        let r = h.send(with_cert(&id, self_signed(&fp), GRANT));
        let c = claims(&r);
        assert_eq!((c["sub"].as_str(), c.get("cnf")), (Some(id.as_str()), None));
    }
    let verified = ["1", "SUCCESS", FP, "CN=x"];
    assert_eq!(h.send(with_cert(&id, verified, GRANT)).status, 200);
    let refusals = [
        (self_signed(SECOND_FP), NOT_REGISTERED),
        (
            self_signed(&FP[1..]),
            "the client certificate has no usable fingerprint",
        ),
        (
            self_signed(""),
            "the client certificate has no usable fingerprint",
        ),
    ];
    for (fields, why) in refusals {
        let r = h.send(with_cert(&id, fields, GRANT));
        assert_error(&r, 401, "invalid_client", why);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"edgeauth\"")
        );
    }
    // No certificate on the connection: nothing but a client_id, which is no credential.
    for r in [
        h.send(token_request(&format!("{GRANT}&client_id={id}"))),
        h.send(with_cert(&id, ["0", "NONE", "", ""], GRANT)),
    ] {
        assert_error(&r, 401, "invalid_client", MISSING);
    }
}

#[test]
fn certificate_failures_never_count_towards_the_lockout() {
    let h = Harness::new();
    let id = certificate_client(
        &h,
        json!({"client_name": "s", "token_endpoint_auth_method": "self_signed_tls_client_auth"}),
    );
    upload(&h, &id, CERT);
    for _ in 0..=MAX_FAILURES * 2 {
        let r = h.send(with_cert(&id, self_signed(SECOND_FP), GRANT));
        assert_error(&r, 401, "invalid_client", NOT_REGISTERED);
        // A secret guessed at a client that has none proves nothing either.
        let r = h.token_basic(&id, "guess", GRANT);
        assert_error(&r, 401, "invalid_client", "client authentication failed");
    }
    assert_eq!(failed_attempts(&h, &id), 0);
    assert_eq!(h.send(with_cert(&id, self_signed(FP), GRANT)).status, 200);

    let tls = certificate_client(
        &h,
        json!({"client_name": "t", "token_endpoint_auth_method": "tls_client_auth",
               "tls_client_auth_subject_dn": DN}),
    );
    for _ in 0..=MAX_FAILURES {
        let r = h.send(with_cert(&tls, ["1", "SUCCESS", FP, "CN=other"], GRANT));
        assert_eq!(r.status, 401);
    }
    assert_eq!(failed_attempts(&h, &tls), 0);
    assert_eq!(
        h.send(with_cert(&tls, ["1", "SUCCESS", FP, DN], GRANT))
            .status,
        200
    );
}

#[test]
fn tls_client_auth_needs_a_verified_certificate_with_the_registered_subject() {
    let h = Harness::new();
    let id = certificate_client(
        &h,
        json!({"client_name": "t", "token_endpoint_auth_method": "tls_client_auth",
               "tls_client_auth_subject_dn": format!(" {DN} ")}),
    );
    let (_, v) = h.admin(Method::Get, &format!("/admin/clients/{id}"), None);
    assert_eq!(v["tls_client_auth_subject_dn"], DN);
    assert_eq!(
        v.get("tls_client_certificate_bound_access_tokens"),
        None,
        "shown only when on"
    );
    // The edge's DN is trimmed too; any fingerprint: the CA vouches for the subject.
    for dn in [DN.to_string(), format!("{DN} ")] {
        let r = h.send(with_cert(&id, ["1", "SUCCESS", SECOND_FP, &dn], GRANT));
        assert_eq!(claims(&r)["client_id"], id.as_str());
    }
    let refusals = [
        (
            ["1", "FAILED:unable to get local issuer certificate", FP, DN],
            "the client certificate is not verified by a trusted CA",
        ),
        (
            ["1", "NONE", FP, DN],
            "the client certificate is not verified by a trusted CA",
        ),
        (
            ["1", "SUCCESS", FP, "CN=client.example,O=Other"],
            "the client certificate's subject DN does not match",
        ),
        (
            ["1", "SUCCESS", FP, "cn=client.example,o=example"],
            "the client certificate's subject DN does not match",
        ),
        (
            ["1", "SUCCESS", FP, ""],
            "the client certificate's subject DN does not match",
        ),
    ];
    for (fields, why) in refusals {
        assert_error(
            &h.send(with_cert(&id, fields, GRANT)),
            401,
            "invalid_client",
            why,
        );
    }
    // A secret client that sends a certificate and only its id has not authenticated.
    let (secret_client, _) = h.create(json!({"client_name": "b"}));
    let r = h.send(with_cert(&secret_client, ["1", "SUCCESS", FP, DN], GRANT));
    assert_error(&r, 401, "invalid_client", MISSING);
    // Unknown ids are refused before the guard is asked.
    let unknown = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let r = h.send(with_cert(unknown, ["1", "SUCCESS", FP, DN], GRANT));
    assert_error(&r, 401, "invalid_client", "client authentication failed");
}

#[test]
fn certificate_clients_introspect_and_revoke_with_their_certificate() {
    let h = Harness::new();
    let id = certificate_client(
        &h,
        json!({"client_name": "s", "token_endpoint_auth_method": "self_signed_tls_client_auth"}),
    );
    upload(&h, &id, CERT);
    let r = h.send(with_cert(&id, self_signed(FP), GRANT));
    let token = body_json(&r)["access_token"].as_str().unwrap().to_string();
    let post = |path: &str| {
        Request::new(Method::Post, &format!("{ORIGIN}{path}"))
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(format!("token={token}&client_id={id}"))
            .with_client_cert("1", "NONE", FP, "")
    };
    let v = body_json(&h.send(post("/oauth/introspect")));
    assert_eq!(
        (v["active"].as_bool(), v["client_id"].as_str()),
        (Some(true), Some(id.as_str()))
    );
    assert_eq!(h.send(post("/oauth/revoke")).status, 200);
    assert_eq!(
        body_json(&h.send(post("/oauth/introspect")))["active"],
        false
    );
}

#[test]
fn bound_clients_get_the_certificates_thumbprint_in_cnf() {
    let h = Harness::new();
    let (id, secret) = h.create(json!({
        "client_name": "b", "tls_client_certificate_bound_access_tokens": true
    }));
    // Bound to whatever certificate the connection presents, verified or not.
    for fields in [
        ["1", "FAILED:self signed certificate", FP, ""],
        ["1", "SUCCESS", &FP.to_uppercase(), "CN=a"],
    ] {
        let req = token_request(GRANT)
            .with_header("authorization", &basic(&id, &secret).unwrap())
            .with_client_cert(fields[0], fields[1], fields[2], fields[3]);
        let r = h.send(req);
        assert_eq!(body_json(&r)["token_type"], "Bearer");
        assert_eq!(claims(&r)["cnf"], json!({"x5t#S256": X5T}));
    }
    let no_cert = "this client's tokens are certificate-bound: send a client certificate";
    for fields in [
        None,
        Some(["0", "NONE", "", ""]),
        Some(["1", "SUCCESS", "zz", "CN=a"]),
    ] {
        let mut req =
            token_request(GRANT).with_header("authorization", &basic(&id, &secret).unwrap());
        if let Some(f) = fields {
            req = req.with_client_cert(f[0], f[1], f[2], f[3]);
        }
        assert_error(&h.send(req), 400, "invalid_request", no_cert);
    }
    // A client without the flag gets plain tokens, certificate or not.
    let (plain, plain_secret) = h.create(json!({"client_name": "p"}));
    let req = token_request(GRANT)
        .with_header("authorization", &basic(&plain, &plain_secret).unwrap())
        .with_client_cert("1", "SUCCESS", FP, "CN=a");
    assert_eq!(claims(&h.send(req)).get("cnf"), None);
    // A self-signed certificate client, bound to the certificate it authenticated with.
    let s = certificate_client(
        &h,
        json!({"client_name": "s", "token_endpoint_auth_method": "self_signed_tls_client_auth",
               "tls_client_certificate_bound_access_tokens": true}),
    );
    upload(&h, &s, CERT);
    let r = h.send(with_cert(&s, self_signed(FP), GRANT));
    assert_eq!(claims(&r)["cnf"], json!({"x5t#S256": X5T}));
}

#[test]
fn a_bound_client_exchanging_a_token_gets_a_bound_token() {
    let h = Harness::new();
    let (api, api_secret) = h.create(json!({"client_name": "api"}));
    let (status, v) = h.admin(
        Method::Post,
        "/admin/resources",
        Some(json!({"identifier": "https://api0.test", "name": "API 0",
                    "scopes": [{"value": "read"}], "provider_client_id": api})),
    );
    assert_eq!(status, 201, "{v}");
    let (status, v) = h.admin(
        Method::Post,
        "/admin/resources",
        Some(json!({"identifier": "https://api1.test", "name": "API 1",
                    "scopes": [{"value": "read"}]})),
    );
    assert_eq!(status, 201, "{v}");
    let (status, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{api}"),
        Some(
            json!({"grants": [{"resource": "https://api1.test", "scope": "read"}],
                    "tls_client_certificate_bound_access_tokens": true}),
        ),
    );
    assert_eq!(status, 200, "{v}");
    let (caller, caller_secret) = h.create(json!({
        "client_name": "caller", "grants": [{"resource": "https://api0.test", "scope": "read"}]
    }));
    let r = h.token_basic(
        &caller,
        &caller_secret,
        &format!("{GRANT}&resource=https://api0.test"),
    );
    let subject = body_json(&r)["access_token"].as_str().unwrap().to_string();
    let form = format!(
        "grant_type={}&subject_token={subject}&subject_token_type={}&resource=https://api1.test",
        urlencode("urn:ietf:params:oauth:grant-type:token-exchange"),
        urlencode("urn:ietf:params:oauth:token-type:access_token")
    );
    let exchange = |cert: bool| {
        let mut req =
            token_request(&form).with_header("authorization", &basic(&api, &api_secret).unwrap());
        if cert {
            req = req.with_client_cert("1", "SUCCESS", SECOND_FP, "CN=api");
        }
        h.send(req)
    };
    let c = claims(&exchange(true));
    let second_x5t = URL_SAFE_NO_PAD.encode(
        (0..32)
            .map(|i| u8::from_str_radix(&SECOND_FP[2 * i..2 * i + 2], 16).unwrap())
            .collect::<Vec<u8>>(),
    );
    assert_eq!(
        (c["act"]["sub"].as_str(), &c["cnf"]),
        (Some(api.as_str()), &json!({"x5t#S256": second_x5t}))
    );
    assert_eq!(exchange(false).status, 400);
}

#[test]
fn certificates_are_listed_removed_and_refused_at_once_despite_a_stale_copy() {
    let h = Harness::new();
    let id = certificate_client(
        &h,
        json!({"client_name": "s", "token_endpoint_auth_method": "self_signed_tls_client_auth"}),
    );
    assert_eq!(upload(&h, &id, CERT).0, 201);
    assert_eq!(upload(&h, &id, SECOND).0, 201);
    let (status, v) = h.admin(
        Method::Get,
        &format!("/admin/clients/{id}/certificates"),
        None,
    );
    assert_eq!(status, 200);
    let listed: Vec<&str> = v["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [FP, SECOND_FP]);
    assert_eq!(
        v["certificates"][1]["subject"],
        "O=Example,CN=second.example"
    );
    assert_eq!(h.send(with_cert(&id, self_signed(FP), GRANT)).status, 200);

    let key = format!("client:{id}");
    let stale = h.store.get_raw(&key).unwrap();
    let path = format!("/admin/clients/{id}/certificates/{}", FP.to_uppercase());
    assert_eq!(h.admin(Method::Delete, &path, None).0, 204);
    let fresh = h.store.get_raw(&key).unwrap();
    h.store.put_raw(&key, &stale);
    h.clock.advance_ms(CACHE_TTL_MS);
    let r = h.send(with_cert(&id, self_signed(FP), GRANT));
    assert_error(&r, 401, "invalid_client", NOT_REGISTERED);
    assert_eq!(
        h.send(with_cert(&id, self_signed(SECOND_FP), GRANT)).status,
        200
    );
    // Put back, it works again at once, even where the guard still remembered its removal.
    h.store.put_raw(&key, &fresh);
    assert_eq!(upload(&h, &id, CERT).0, 201);
    h.clock.advance_ms(CACHE_TTL_MS);
    assert_eq!(h.send(with_cert(&id, self_signed(FP), GRANT)).status, 200);

    let (status, v) = h.admin(
        Method::Delete,
        &path.replace(&FP.to_uppercase(), &"0".repeat(64)),
        None,
    );
    assert_eq!((status, v["error"].as_str()), (404, Some("not_found")));
    let (status, _) = h.admin(Method::Delete, &path.replace(&FP.to_uppercase(), "x"), None);
    assert_eq!(status, 404);
    let (_, events) = h.admin(Method::Get, &format!("/admin/clients/{id}/audit"), None);
    // Events of one instant list in any order.
    let mut actions: Vec<(&str, &str, &str)> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
                e["detail"].as_str().unwrap(),
            )
        })
        .filter(|(action, _, _)| action.starts_with("certificate."))
        .collect();
    actions.sort();
    let added = format!("certificate {FP} added");
    let removed = format!("certificate {FP} removed");
    let second = format!("certificate {SECOND_FP} added");
    assert_eq!(
        actions,
        [
            ("certificate.created", "admin", added.as_str()),
            ("certificate.created", "admin", added.as_str()),
            ("certificate.created", "admin", second.as_str()),
            ("certificate.deleted", "admin", removed.as_str()),
        ]
    );
}

#[test]
fn uploads_are_checked() {
    let h = Harness::new();
    let id = certificate_client(
        &h,
        json!({"client_name": "s", "token_endpoint_auth_method": "self_signed_tls_client_auth"}),
    );
    assert_eq!(upload(&h, &id, CERT).0, 201);
    let cases = [
        (CERT.to_string(), 409, "the client already has this certificate"),
        (
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n".into(),
            400,
            "certificate is not one PEM CERTIFICATE",
        ),
        (
            "hello".into(),
            400,
            "certificate is not one PEM CERTIFICATE",
        ),
        (
            CERT.replace("MII", "MIJ"),
            400,
            "certificate is not an X.509 certificate",
        ),
    ];
    for (pem, status, why) in cases {
        let (s, v) = upload(&h, &id, &pem);
        assert_eq!(
            (s, v["error_description"].as_str()),
            (status, Some(why)),
            "{pem}"
        );
    }
    let (s, v) = h.admin(
        Method::Post,
        &format!("/admin/clients/{id}/certificates"),
        Some(json!({"certificate": CERT, "name": "x"})),
    );
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_request")));
    // Only self-signed certificate clients register certificates.
    let (secret_client, _) = h.create(json!({"client_name": "b"}));
    let (s, v) = upload(&h, &secret_client, CERT);
    assert_eq!(
        (s, v["error_description"].as_str()),
        (
            409,
            Some("only self_signed_tls_client_auth clients hold certificates")
        )
    );
    // Registered certificates hold the method in place until they are gone.
    let (s, v) = h.admin(
        Method::Patch,
        &format!("/admin/clients/{id}"),
        Some(json!({"token_endpoint_auth_method": "client_secret_basic"})),
    );
    assert_eq!(
        (s, v["error_description"].as_str()),
        (
            409,
            Some("delete the client's certificates before changing token_endpoint_auth_method")
        )
    );
    // Expired certificates are refused at the token endpoint, however they got there.
    h.clock.advance(2_112_011_864 - T0);
    let r = h.send(with_cert(&id, self_signed(FP), GRANT));
    assert_error(
        &r,
        401,
        "invalid_client",
        "the client certificate has expired",
    );
}

#[test]
fn metadata_names_both_methods_and_bound_tokens() {
    let h = Harness::new();
    let r = h.send(Request::new(
        Method::Get,
        &format!("{ORIGIN}/.well-known/oauth-authorization-server"),
    ));
    let v = body_json(&r);
    let methods: Vec<&str> = v["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        methods.ends_with(&["tls_client_auth", "self_signed_tls_client_auth"]),
        "{methods:?}"
    );
    assert_eq!(v["tls_client_certificate_bound_access_tokens"], true);
}
