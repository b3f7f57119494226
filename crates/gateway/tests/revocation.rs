//! Routes with `revocation`: the issuer's introspection is asked after offline verification,
//! answers are remembered for at most 5 s, and an issuer that cannot answer fails closed.

mod support;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use edgeauth_gateway::{Gateway, Outcome, Settings};
use serde_json::json;
use support::*;

const ROUTES: &str = r#"[
  {"prefix": "/live/", "audience": "https://api.example.com", "revocation": true,
   "upstream": {"url": "http://up.internal:9000"}},
  {"prefix": "/cached/", "audience": "https://api.example.com",
   "upstream": {"url": "http://up.internal:9000"}}
]"#;

fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
    Settings::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

/// The vars of a gateway with revocation routes and its introspection credential.
const VARS: [(&str, &str); 4] = [
    ("ISSUER", ISS),
    ("ROUTES", ROUTES),
    ("INTROSPECTION_CLIENT_ID", "gw"),
    ("INTROSPECTION_CLIENT_SECRET", "s3cret"),
];

fn gateway(keys: &Keys) -> Gateway<&Keys> {
    let s = settings(&VARS).unwrap();
    Gateway::new(s, keys)
}

fn get(g: &Gateway<&Keys>, now: u64, path: &str, token: &str) -> Outcome {
    let bearer = format!("Bearer {token}");
    run_at(
        g,
        now,
        "GET",
        &format!("https://gw.example.com{path}"),
        &[("authorization", &bearer)],
    )
}

#[test]
fn an_active_token_is_forwarded_after_asking_the_issuer_as_the_configured_client() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let t = token(json!({}));
    let f = forwarded(get(&g, NOW, "/live/items", &t));
    assert_eq!(header(&f.headers, "x-client-id"), Some("c1"));
    let calls = keys.introspected.borrow();
    assert_eq!(calls.len(), 1);
    let (url, authorization, body) = &calls[0];
    assert_eq!(url, &format!("{ISS}/oauth/introspect"));
    assert_eq!(
        authorization.as_deref(),
        Some(format!("Basic {}", STANDARD.encode("gw:s3cret")).as_str())
    );
    // A JWT is all unreserved characters and dots: form encoding leaves it as it is.
    assert_eq!(body, &format!("token={t}"));
}

#[test]
fn an_inactive_token_is_refused_with_the_exact_challenge() {
    let keys = Keys::default();
    keys.revoked.set(true);
    let g = gateway(&keys);
    let r = replied(get(&g, NOW, "/live/items", &token(json!({}))));
    assert_eq!(r.status, 401);
    assert_eq!(
        body(&r),
        json!({"error": "invalid_token", "error_description": "the token was revoked"})
    );
    assert_eq!(
        header(&r.headers, "www-authenticate"),
        Some(
            r#"Bearer realm="api", error="invalid_token", error_description="the token was revoked""#
        )
    );
    // A route without revocation still passes the same token offline, asking nothing.
    forwarded(get(&g, NOW, "/cached/items", &token(json!({}))));
    assert_eq!(keys.introspected.borrow().len(), 1);
}

#[test]
fn answers_are_remembered_for_at_most_five_seconds() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let t = token(json!({}));
    forwarded(get(&g, NOW, "/live/a", &t));
    keys.revoked.set(true);
    // Within 5 s the remembered answer stands, and the issuer is not asked.
    forwarded(get(&g, NOW + 4, "/live/b", &t));
    assert_eq!(keys.introspected.borrow().len(), 1);
    // Another token (another jti) is asked about on its own.
    let other = token(json!({"jti": "j2"}));
    replied(get(&g, NOW + 4, "/live/a", &other));
    assert_eq!(keys.introspected.borrow().len(), 2);
    // 5 s on, the issuer is asked again, and the revocation bites.
    let r = replied(get(&g, NOW + 5, "/live/a", &t));
    assert_eq!(r.status, 401);
    assert_eq!(keys.introspected.borrow().len(), 3);
    // A refusal is remembered too.
    keys.revoked.set(false);
    assert_eq!(replied(get(&g, NOW + 6, "/live/a", &t)).status, 401);
    assert_eq!(keys.introspected.borrow().len(), 3);
}

#[test]
fn tokens_refused_offline_cost_the_issuer_nothing() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let expired = token(json!({"exp": NOW - 61}));
    let r = replied(get(&g, NOW, "/live/a", &expired));
    assert_eq!(body(&r)["error_description"], "the token has expired");
    let forged = format!("{}AAAA", &token(json!({}))[..300]);
    assert_eq!(replied(get(&g, NOW, "/live/a", &forged)).status, 401);
    assert!(keys.introspected.borrow().is_empty());
}

#[test]
fn an_issuer_that_cannot_answer_is_a_503_with_retry_after_never_a_pass() {
    let failures: [(Answer, &str); 4] = [
        (Err("connection refused".into()), "connection refused"),
        (Ok((401, vec![])), "answered 401"),
        (Ok((500, vec![])), "answered 500"),
        (Ok((200, b"<html>".to_vec())), "no {\"active\": bool}"),
    ];
    for (answer, logged) in failures {
        let keys = Keys::default();
        *keys.introspection.borrow_mut() = Some(answer);
        let g = gateway(&keys);
        let t = token(json!({}));
        let r = replied(get(&g, NOW, "/live/a", &t));
        assert_eq!(r.status, 503, "{logged}");
        assert_eq!(body(&r)["error"], "temporarily_unavailable");
        assert_eq!(header(&r.headers, "retry-after"), Some("5"));
        assert_eq!(header(&r.headers, "www-authenticate"), None);
        let log = r.log.expect("a log line");
        assert!(log.contains(logged), "{log}");
        assert!(!log.contains("s3cret") && !log.contains(&t), "{log}");
        // A failure is not remembered: the next request asks again, and passes once it can.
        *keys.introspection.borrow_mut() = None;
        forwarded(get(&g, NOW, "/live/a", &t));
        assert_eq!(keys.introspected.borrow().len(), 2);
    }
}

#[test]
fn revocation_settings_are_validated() {
    let base = [("ISSUER", ISS), ("ROUTES", ROUTES)];
    let err = settings(&base).unwrap_err();
    assert_eq!(
        err,
        "ROUTES[0] checks revocation but INTROSPECTION_CLIENT_ID and \
         INTROSPECTION_KEY_SEED (or INTROSPECTION_CLIENT_SECRET) are not set"
    );
    let only_id = [base[0], base[1], ("INTROSPECTION_CLIENT_ID", "gw")];
    assert!(settings(&only_id)
        .unwrap_err()
        .starts_with("INTROSPECTION_KEY_SEED (or INTROSPECTION_CLIENT_SECRET) is not set"));
    let long = "x".repeat(513);
    let too_long = [
        base[0],
        base[1],
        ("INTROSPECTION_CLIENT_ID", "gw"),
        ("INTROSPECTION_CLIENT_SECRET", long.as_str()),
    ];
    let err = settings(&too_long).unwrap_err();
    assert!(
        err.starts_with("INTROSPECTION_CLIENT_SECRET must be"),
        "{err}"
    );
    assert!(!err.contains(&long));
    let public = r#"[{"prefix": "/", "public": true, "revocation": true}]"#;
    let err = settings(&[("ISSUER", ISS), ("ROUTES", public)]).unwrap_err();
    assert!(
        err.starts_with("ROUTES[0].revocation needs a token"),
        "{err}"
    );
    // Without revocation routes, no credential is needed; with one, Debug hides the secret.
    let none = r#"[{"prefix": "/", "audience": "https://api.example.com"}]"#;
    assert!(settings(&[("ISSUER", ISS), ("ROUTES", none)])
        .unwrap()
        .introspection
        .is_none());
    let s = settings(&VARS).unwrap();
    assert_eq!(s.introspection.as_ref().unwrap().client_id, "gw");
    assert!(!format!("{s:?}").contains("s3cret"));
}

/// RFC 8037 appendix A.1: the Ed25519 seed, its public key and their RFC 7638 thumbprint.
const RFC8037_SEED: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const RFC8037_KID: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

/// The vars of a gateway introspecting with `private_key_jwt`.
const KEY_VARS: [(&str, &str); 4] = [
    ("ISSUER", ISS),
    ("ROUTES", ROUTES),
    ("INTROSPECTION_CLIENT_ID", "gw"),
    ("INTROSPECTION_KEY_SEED", RFC8037_SEED),
];

fn b64url_json(part: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[test]
fn the_key_form_sends_a_fresh_private_key_jwt_assertion_per_call_and_no_basic() {
    let keys = Keys::default();
    let g = Gateway::new(settings(&KEY_VARS).unwrap(), &keys);
    let first = token(json!({}));
    let second = token(json!({"jti": "j2"}));
    forwarded(get(&g, NOW, "/live/a", &first));
    forwarded(get(&g, NOW + 1, "/live/a", &second));
    let calls = keys.introspected.borrow();
    assert_eq!(calls.len(), 2);
    let public = VerifyingKey::from_bytes(
        &URL_SAFE_NO_PAD
            .decode(RFC8037_X)
            .unwrap()
            .try_into()
            .unwrap(),
    )
    .unwrap();
    let mut jtis = Vec::new();
    for ((url, authorization, body), (t, now)) in
        calls.iter().zip([(&first, NOW), (&second, NOW + 1)])
    {
        assert_eq!(url, &format!("{ISS}/oauth/introspect"));
        assert_eq!(
            authorization, &None,
            "no Basic: nothing a stranger could guess"
        );
        let prefix = format!(
            "token={t}&client_assertion_type=\
             urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="
        );
        let assertion = body.strip_prefix(&prefix).expect(body);
        let parts: Vec<&str> = assertion.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            b64url_json(parts[0]),
            json!({"alg": "EdDSA", "kid": RFC8037_KID})
        );
        let claims = b64url_json(parts[1]);
        let jti = claims["jti"].as_str().unwrap().to_string();
        assert_eq!(
            claims,
            json!({"iss": "gw", "sub": "gw", "aud": ISS, "iat": now, "exp": now + 60, "jti": jti})
        );
        let signature: [u8; 64] = URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap()
            .try_into()
            .unwrap();
        public
            .verify_strict(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &Signature::from_bytes(&signature),
            )
            .expect("signed with the seed's key");
        // 16 random bytes, base64url.
        assert_eq!(URL_SAFE_NO_PAD.decode(&jti).unwrap().len(), 16);
        jtis.push(jti);
    }
    assert_ne!(jtis[0], jtis[1], "each call has its own jti");
    // The settings print neither the seed nor the key, but do name the kid.
    let shown = format!("{:?}", settings(&KEY_VARS).unwrap());
    assert!(
        !shown.contains(RFC8037_SEED) && shown.contains(RFC8037_KID),
        "{shown}"
    );
}

#[test]
fn the_public_jwk_to_register_is_the_seeds_ed25519_key_named_by_its_thumbprint() {
    let s = settings(&KEY_VARS).unwrap();
    let credential = s.introspection.unwrap();
    assert_eq!(
        credential.public_jwk(),
        Some(
            json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": RFC8037_KID,
                    "alg": "EdDSA", "use": "sig"})
        )
    );
    assert_eq!(
        settings(&VARS).unwrap().introspection.unwrap().public_jwk(),
        None
    );
}

#[test]
fn a_key_the_issuer_refuses_is_a_503_whose_log_names_the_kid_to_register() {
    let keys = Keys::default();
    *keys.introspection.borrow_mut() = Some(Ok((401, vec![])));
    let g = Gateway::new(settings(&KEY_VARS).unwrap(), &keys);
    let r = replied(get(&g, NOW, "/live/a", &token(json!({}))));
    assert_eq!(r.status, 503);
    assert_eq!(
        r.log.as_deref(),
        Some(
            "revocation check: introspection answered 401 (is the public key with kid \
             kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k registered on client gw, with \
             private_key_jwt and introspection_allowed?)"
        )
    );
}

#[test]
fn key_settings_are_validated_without_echoing_the_seed() {
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut vars = vec![("ISSUER", ISS), ("ROUTES", ROUTES)];
        vars.extend_from_slice(extra);
        settings(&vars).unwrap_err()
    };
    assert_eq!(
        with(&[
            ("INTROSPECTION_CLIENT_ID", "gw"),
            ("INTROSPECTION_KEY_SEED", RFC8037_SEED),
            ("INTROSPECTION_CLIENT_SECRET", "s3cret"),
        ]),
        "set INTROSPECTION_KEY_SEED or INTROSPECTION_CLIENT_SECRET, not both"
    );
    assert_eq!(
        with(&[("INTROSPECTION_KEY_SEED", RFC8037_SEED)]),
        "INTROSPECTION_CLIENT_ID is not set, though INTROSPECTION_KEY_SEED is"
    );
    for bad in [
        "short",
        "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2AAAA",
        "nWGxne+9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    ] {
        let err = with(&[
            ("INTROSPECTION_CLIENT_ID", "gw"),
            ("INTROSPECTION_KEY_SEED", bad),
        ]);
        assert_eq!(
            err,
            "INTROSPECTION_KEY_SEED must be base64url (no padding) of 32 bytes"
        );
    }
}
