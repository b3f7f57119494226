//! Property tests of every parser that takes outside input (issue item 17): the form body, the
//! Basic header, compact JWS, JWK and JWK Set, PEM, the admin JSON bodies and the pagination
//! cursor. Each gets random bytes and mutations of the valid seeds in `tests/seeds/`, and must
//! answer without a panic: a parse error is a refusal with a non-empty description, the router
//! never answers 500, and what parses reads back the same.
//!
//! `cargo test` runs a few cases per target; `PROPTEST_CASES=200000 cargo test --test host
//! fuzz` is the long run. Failing inputs are kept under `proptest-regressions/` and replayed
//! first.

use std::cell::RefCell;
use std::path::Path;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use edgeauth::http::Form;
use edgeauth::jose::jwk::validate_jwks;
use edgeauth::jose::jws::parse_compact;
use edgeauth::jose::pem::jwk_from_pem;
use edgeauth::jose::x509::certificate_from_pem;
use edgeauth::jose::PublicJwk;
use edgeauth::{Error, Method};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{json, Value};

use crate::*;

/// Few cases by default, so `cargo test` stays quick; `PROPTEST_CASES` sets the long run.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// The valid examples of one parser, from `tests/seeds/<kind>/`.
fn seeds(kind: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/seeds")
        .join(kind);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(!texts.is_empty(), "no seeds in {}", dir.display());
    texts
}

fn seed(kind: &'static str) -> impl Strategy<Value = String> {
    proptest::sample::select(seeds(kind))
}

/// A seed with a few random byte-level edits: replace, insert or delete at random places.
fn mutated(kind: &'static str) -> impl Strategy<Value = String> {
    let edit = (any::<prop::sample::Index>(), 0u8..3, any::<u8>());
    (seed(kind), prop::collection::vec(edit, 1..4)).prop_map(|(text, edits)| {
        let mut bytes = text.trim_end().as_bytes().to_vec();
        for (at, kind, byte) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ => bytes.push(byte),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Text from the characters that matter to these parsers, plus anything.
fn tricky_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9%+&=:._~/-]{0,40}",
        "(%[0-9a-fA-FgG]{0,2}|[&=+:.\\-_ ]|[a-z]{1,3}){0,12}",
        any::<String>(),
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        tricky_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A seed JSON object with some members replaced by random values of random types, some
/// removed, and some added.
fn mutated_json(
    kind: &'static str,
    names: &'static [&'static str],
) -> impl Strategy<Value = Value> {
    let change = (
        proptest::sample::select(names),
        prop::option::of(json_value()),
    );
    (seed(kind), prop::collection::vec(change, 0..5)).prop_map(|(text, changes)| {
        let mut v: Value = serde_json::from_str(&text).unwrap();
        for (name, value) in changes {
            let obj = v.as_object_mut().unwrap();
            match value {
                Some(x) => obj.insert(name.to_string(), x),
                None => obj.remove(name),
            };
        }
        v
    })
}

/// A refused parse: a non-empty description, and for a form, the one code a form error has.
fn refused_form(e: &Error) {
    assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
    assert_eq!(e.status(), 400);
    assert!(!e.description().is_empty());
}

/// An answer of the router to untrusted input: never a 500, and every error names a code and
/// says why.
fn answered(r: &Response, allowed: &[u16]) {
    assert!(
        allowed.contains(&r.status),
        "{} {:?}",
        r.status,
        body_text(r)
    );
    if r.status >= 400 {
        let v = body_json(r);
        assert!(v["error"].as_str().is_some_and(|c| !c.is_empty()), "{v}");
        let description = v["error_description"].as_str().unwrap_or_default();
        assert!(!description.is_empty(), "{v}");
    }
}

fn body_text(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

const JWK_MEMBERS: &[&str] = &[
    "kty", "crv", "x", "y", "n", "e", "kid", "alg", "use", "key_ops", "d", "k",
];
const CLIENT_FIELDS: &[&str] = &[
    "client_name",
    "description",
    "enabled",
    "token_endpoint_auth_method",
    "scope",
    "resources",
    "access_token_lifetime",
    "lockout_enabled",
    "jwks",
    "jwks_uri",
    "public_key_pem",
    "secret",
    "grants",
    "version",
    "unknown_field",
];
const RESOURCE_FIELDS: &[&str] = &[
    "identifier",
    "name",
    "scopes",
    "access_token_lifetime",
    "unknown_field",
];
const SECRET_FIELDS: &[&str] = &["description", "expires_at", "expires_in", "scope", "x"];

/// A valid JWK (after `validate`) reads back as itself: stored form in, same key out.
fn reads_back(key: &PublicJwk) {
    assert!(!key.kid.is_empty());
    let stored = serde_json::to_value(key).unwrap();
    assert_eq!(PublicJwk::validate(&stored).as_ref(), Ok(key), "{stored}");
}

/// One harness for a test thread's cases, with a secret client, a resource and a cursor: the
/// router must hold up under a long run of junk without being rebuilt.
struct Fixture {
    h: Harness,
    client: String,
    secret: String,
    resource: String,
    cursor: String,
}

thread_local! {
    static FIXTURE: RefCell<Option<Fixture>> = const { RefCell::new(None) };
}

fn with_fixture<T>(f: impl FnOnce(&Fixture) -> T) -> T {
    FIXTURE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let fx = slot.get_or_insert_with(|| {
            let h = Harness::new();
            // Lockout would turn every later case into "locked": still 401, but less varied.
            let (client, secret) =
                h.create(json!({"client_name": "fuzzed", "lockout_enabled": false}));
            h.create(json!({"client_name": "second"}));
            let (status, v) = h.admin(
                Method::Post,
                "/admin/resources",
                Some(json!({"identifier": "https://billing.test", "name": "B", "scopes": []})),
            );
            assert_eq!(status, 201, "{v}");
            let resource = v["resource_id"].as_str().unwrap().to_string();
            let (_, page) = h.admin(Method::Get, "/admin/clients?limit=1", None);
            let cursor = page["next_cursor"].as_str().unwrap().to_string();
            Fixture {
                h,
                client,
                secret,
                resource,
                cursor,
            }
        });
        f(fx)
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn form_bodies_parse_or_are_invalid_request(
        body in prop_oneof![
            any::<Vec<u8>>(),
            seed("form").prop_map(String::into_bytes),
            tricky_text().prop_map(String::into_bytes),
            mutated("form").prop_map(String::into_bytes),
        ],
    ) {
        if let Err(e) = Form::parse(&body, &["resource"]) {
            refused_form(&e);
        }
    }

    #[test]
    fn encoded_forms_read_back_their_values(
        pairs in prop::collection::btree_map("[a-z_]{1,10}", any::<String>(), 0..10),
    ) {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect();
        let form = Form::parse(body.join("&").as_bytes(), &[]).unwrap();
        for (k, v) in &pairs {
            // An empty value counts as absent (RFC 6749 section 3.2).
            prop_assert_eq!(form.get(k), Some(v.as_str()).filter(|v| !v.is_empty()));
        }
    }

    #[test]
    fn compact_jws_parses_or_says_why(
        token in prop_oneof![
            any::<String>(),
            seed("jws"),
            mutated("jws"),
            "[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,60}",
            (json_value(), any::<Vec<u8>>(), any::<Vec<u8>>()).prop_map(|(h, p, s)| format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(h.to_string()),
                URL_SAFE_NO_PAD.encode(p),
                URL_SAFE_NO_PAD.encode(s)
            )),
        ],
    ) {
        match parse_compact(&token, 8 * 1024) {
            Ok(jws) => {
                // The signed part is exactly the first two parts, and the parts decode back.
                let parts: Vec<&str> = token.split('.').collect();
                prop_assert_eq!(jws.signing_input, format!("{}.{}", parts[0], parts[1]));
                prop_assert_eq!(URL_SAFE_NO_PAD.encode(&jws.payload), parts[1]);
                prop_assert_eq!(URL_SAFE_NO_PAD.encode(&jws.signature), parts[2]);
            }
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }

    #[test]
    fn jwks_validate_or_say_why_and_what_validates_reads_back(
        key in prop_oneof![json_value(), mutated_json("jwk", JWK_MEMBERS)],
        set in prop_oneof![
            json_value(),
            mutated_json("jwks", &["keys", "other"]),
            prop::collection::vec(mutated_json("jwk", JWK_MEMBERS), 0..12)
                .prop_map(|keys| json!({"keys": keys})),
        ],
    ) {
        match PublicJwk::validate(&key) {
            Ok(k) => reads_back(&k),
            Err(why) => prop_assert!(!why.is_empty()),
        }
        match validate_jwks(&set) {
            Ok(keys) => {
                prop_assert!((1..=10).contains(&keys.len()));
                for (i, k) in keys.iter().enumerate() {
                    reads_back(k);
                    prop_assert!(keys[..i].iter().all(|o| o.kid != k.kid), "kids are unique");
                }
            }
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }

    #[test]
    fn certificates_read_or_say_why(
        pem in prop_oneof![
            any::<String>(),
            seed("cert"),
            mutated("cert"),
            // Edits of the DER itself, armoured again: the X.509 reader sees them.
            (seed("cert"), prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4))
                .prop_map(|(pem, edits)| {
                    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
                    let mut der = STANDARD.decode(body).unwrap();
                    for (at, byte) in edits {
                        let i = at.index(der.len());
                        der[i] = byte;
                    }
                    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", STANDARD.encode(der))
                }),
        ],
    ) {
        match certificate_from_pem(&pem) {
            // Whatever the DER holds, the subject shown has no raw control character.
            Ok(c) => prop_assert!(!c.subject.chars().any(|ch| ch.is_ascii_control())),
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }

    #[test]
    fn client_certificate_fields_never_panic(tail in prop::collection::vec(tricky_text(), 0..6)) {
        let absent = vec!["\0"; edgeauth::http::REQUEST_HEADERS.len()].join("\n");
        let head = format!("POST\nhttps://i.test/oauth/token\n{absent}\n{}", tail.join("\n"));
        let r = Request::from_head(&head);
        if let Some(c) = r.client_cert {
            prop_assert!(c.presented || (c.fingerprint.is_none() && c.subject_dn.is_none() && !c.verified));
        }
    }

    #[test]
    fn pem_imports_or_says_why(
        pem in prop_oneof![
            any::<String>(),
            seed("pem"),
            mutated("pem"),
            (
                prop::sample::select(vec!["PUBLIC KEY", "RSA PUBLIC KEY", "PRIVATE KEY", "CERTIFICATE", "X"]),
                any::<Vec<u8>>(),
            )
                .prop_map(|(label, der)| format!(
                    "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
                    STANDARD.encode(der)
                )),
        ],
    ) {
        match jwk_from_pem(&pem) {
            Ok(k) => reads_back(&k),
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }

    #[test]
    fn basic_headers_never_get_a_500(
        header in prop_oneof![
            any::<String>(),
            mutated("basic"),
            any::<Vec<u8>>().prop_map(|b| format!("Basic {}", STANDARD.encode(b))),
            (tricky_text(), tricky_text())
                .prop_map(|(id, s)| format!("Basic {}", STANDARD.encode(format!("{id}:{s}")))),
        ],
        right_secret in any::<bool>(),
    ) {
        with_fixture(|fx| {
            // Half the cases use the real client id, so the secret check itself is reached.
            let header = if right_secret {
                let creds = format!("{}:{}", fx.client, fx.secret);
                let mut b = STANDARD.encode(creds).into_bytes();
                let i = header.len() % b.len();
                b[i] = header.bytes().next().unwrap_or(b'A');
                format!("Basic {}", String::from_utf8_lossy(&b))
            } else {
                header
            };
            // Header values are visible ASCII in HTTP; the shell never hands over others.
            let header: String = header.chars().filter(|c| (' '..='~').contains(c)).collect();
            let r = fx.h.send(
                token_request("grant_type=client_credentials").with_header("authorization", &header),
            );
            answered(&r, &[200, 400, 401]);
        });
    }

    #[test]
    fn admin_bodies_never_get_a_500(
        client in prop_oneof![
            json_value(),
            mutated_json("admin", CLIENT_FIELDS),
        ],
        resource in mutated_json("admin", RESOURCE_FIELDS),
        secret in prop_oneof![json_value(), mutated_json("admin", SECRET_FIELDS)],
        raw in prop_oneof![any::<Vec<u8>>(), mutated("admin").prop_map(String::into_bytes)],
    ) {
        with_fixture(|fx| {
            let h = &fx.h;
            let send = |method: Method, path: &str, body: Vec<u8>| {
                let path = format!("{ORIGIN}{path}");
                h.send(
                    Request::new(method, &path)
                        .with_header("authorization", &format!("Bearer {ADMIN_TOKEN}"))
                        .with_header("content-type", "application/json")
                        .with_body(body),
                )
            };
            let bytes = |v: &Value| v.to_string().into_bytes();
            let client_path = format!("/admin/clients/{}", fx.client);
            let resource_path = format!("/admin/resources/{}", fx.resource);
            let cases = [
                (Method::Post, "/admin/clients".to_string(), bytes(&client)),
                (Method::Patch, client_path.clone(), bytes(&client)),
                (Method::Post, format!("{client_path}/secrets"), bytes(&secret)),
                (Method::Post, "/admin/resources".to_string(), bytes(&resource)),
                (Method::Patch, resource_path, bytes(&resource)),
                (Method::Post, "/admin/clients".to_string(), raw.clone()),
                (Method::Patch, client_path.clone(), raw),
            ];
            for (method, path, body) in cases {
                let r = send(method, &path, body);
                answered(&r, &[200, 201, 400, 409, 422]);
                // What was created reads back, and goes again so a long run stays small.
                let v = body_json(&r);
                let created = match (r.status, path.as_str()) {
                    (201, "/admin/clients") => v["client"]["client_id"].as_str().map(|id| format!("/admin/clients/{id}")),
                    (201, "/admin/resources") => v["resource_id"].as_str().map(|id| format!("/admin/resources/{id}")),
                    _ => None,
                };
                if let Some(at) = created {
                    prop_assert_eq!(h.admin(Method::Get, &at, None).0, 200);
                    prop_assert_eq!(h.admin(Method::Delete, &at, None).0, 204);
                }
            }
            // Whatever was changed, the fuzzed client still reads back.
            prop_assert_eq!(h.admin(Method::Get, &client_path, None).0, 200);
            Ok(())
        })?;
    }

    #[test]
    fn cursors_are_the_servers_own_or_invalid(
        random in tricky_text(),
        sealed_like in "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,30}",
        edit in (any::<prop::sample::Index>(), any::<u8>()),
        limit in prop::option::of("[0-9x-]{0,4}"),
        listing in prop::sample::select(vec!["/admin/clients", "/admin/resources", "/admin/audit"]),
    ) {
        with_fixture(|fx| {
            // A real cursor with one byte changed: refused unless the change is no change.
            let mut tampered = fx.cursor.clone().into_bytes();
            let i = edit.0.index(tampered.len());
            tampered[i] = edit.1;
            let tampered = String::from_utf8_lossy(&tampered).into_owned();
            for cursor in [random, sealed_like, tampered] {
                let mut query = format!("cursor={}", urlencode(&cursor));
                if let Some(l) = &limit {
                    query.push_str(&format!("&limit={}", urlencode(l)));
                }
                let (status, v) = fx.h.admin(Method::Get, &format!("{listing}?{query}"), None);
                if status != 200 {
                    let why = v["error_description"].as_str().unwrap_or_default();
                    prop_assert_eq!(status, 400, "{}", v);
                    prop_assert_eq!(&v["error"], "invalid_request");
                    prop_assert!(why == "invalid cursor" || why == "limit must be 1 to 100", "{}", v);
                }
            }
            Ok(())
        })?;
    }
}
