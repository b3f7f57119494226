//! Sender-constrained tokens at the gateway: DPoP-bound (`cnf.jkt`, RFC 9449 section 7) and
//! certificate-bound (`cnf.x5t#S256`, RFC 8705 section 3), and routes' `sender_constraint`.

mod support;

use std::future::Future;
use std::pin::Pin;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use edgeauth_gateway::{Gateway, ProofSignatures, Settings};
use edgeauth_verify::dpop::{access_token_hash, ProofKey};
use edgeauth_verify::ProofAlg;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::*;

const ROUTES: &str = r#"[
  {"prefix": "/api/", "audience": "https://api.example.com", "upstream": {"url": "http://up.internal"}},
  {"prefix": "/dpop/", "audience": "https://api.example.com", "sender_constraint": "dpop",
   "upstream": {"url": "http://up.internal"}},
  {"prefix": "/mtls/", "audience": "https://api.example.com", "sender_constraint": "mtls",
   "upstream": {"url": "http://up.internal"}},
  {"prefix": "/any/", "audience": "https://api.example.com", "sender_constraint": "any",
   "upstream": {"url": "http://up.internal"}}
]"#;
const ALGS: &str = r#"algs="ES256 EdDSA RS256 PS256""#;
/// The SHA-256 fingerprint of a client certificate, as Cloudflare gives it (hex).
const FINGERPRINT: &str = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";

fn gateway(keys: &Keys) -> Gateway<&Keys> {
    let settings = Settings::from_lookup(|name| match name {
        "ISSUER" => Some(ISS.into()),
        "ROUTES" => Some(ROUTES.into()),
        "REALM" => Some("api".into()),
        _ => None,
    })
    .unwrap();
    Gateway::new(settings, keys)
}

fn dpop_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn jwk(key: &SigningKey) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(key.verifying_key().as_bytes())})
}

fn jkt(key: &SigningKey) -> String {
    let x = B64.encode(key.verifying_key().as_bytes());
    B64.encode(Sha256::digest(format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#
    )))
}

fn x5t() -> String {
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&FINGERPRINT[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    B64.encode(bytes)
}

/// A proof by `key` for `method` and `url` and the access token `token`, edited by `edit`.
fn proof(
    key: &SigningKey,
    method: &str,
    url: &str,
    token: &str,
    jti: &str,
    edit: impl Fn(&mut Value),
) -> String {
    let mut claims = json!({"htm": method, "htu": url, "iat": NOW, "jti": jti,
                            "ath": access_token_hash(token)});
    edit(&mut claims);
    let header = json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": jwk(key)});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    format!(
        "{input}.{}",
        B64.encode(key.sign(input.as_bytes()).to_bytes())
    )
}

fn bound(key: &SigningKey) -> String {
    token(json!({"cnf": {"jkt": jkt(key)}}))
}

fn challenge(r: &edgeauth_gateway::Reply) -> String {
    header(&r.headers, "www-authenticate").unwrap().to_string()
}

fn with_certificate<T>(fingerprint: Option<&str>, f: impl FnOnce() -> T) -> T {
    CERTIFICATE.with(|c| *c.borrow_mut() = fingerprint.map(String::from));
    let out = f();
    CERTIFICATE.with(|c| *c.borrow_mut() = None);
    out
}

#[test]
fn a_dpop_bound_token_passes_with_a_valid_proof_of_its_key() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let key = dpop_key(7);
    let t = bound(&key);
    let url = format!("{BASE}/api/items?page=2");
    // htu is compared without the query.
    let p = proof(&key, "GET", &format!("{BASE}/api/items"), &t, "a", |_| {});
    let f = forwarded(run(
        &g,
        "GET",
        &url,
        &[("authorization", &format!("DPoP {t}")), ("dpop", &p)],
    ));
    assert_eq!(header(&f.headers, "x-client-id"), Some("c1"));
    // The same proof again: replayed in this isolate.
    let r = replied(run(
        &g,
        "GET",
        &url,
        &[("authorization", &format!("DPoP {t}")), ("dpop", &p)],
    ));
    assert_eq!(r.status, 401);
    assert_eq!(
        challenge(&r),
        format!(
            r#"DPoP realm="api", error="invalid_dpop_proof", error_description="the DPoP proof was already used", {ALGS}"#
        )
    );
    assert_eq!(body(&r)["error"], "invalid_dpop_proof");
}

#[test]
fn each_proof_rule_is_enforced() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let key = dpop_key(7);
    let t = bound(&key);
    let url = format!("{BASE}/api/items");
    let refused = |p: &str| {
        let r = replied(run(
            &g,
            "POST",
            &url,
            &[("authorization", &format!("DPoP {t}")), ("dpop", p)],
        ));
        assert_eq!(r.status, 401);
        assert!(
            challenge(&r).starts_with("DPoP realm=\"api\", error=\"invalid_dpop_proof\""),
            "{}",
            challenge(&r)
        );
        body(&r)["error_description"].as_str().unwrap().to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        (
            proof(&key, "GET", &url, &t, "1", |_| {}),
            "the DPoP proof's htm is not this request's method",
        ),
        (
            proof(&key, "POST", &format!("{BASE}/api/other"), &t, "2", |_| {}),
            "the DPoP proof's htu is not this request's URL",
        ),
        (
            proof(
                &key,
                "POST",
                "https://elsewhere.example/api/items",
                &t,
                "3",
                |_| {},
            ),
            "the DPoP proof's htu is not this request's URL",
        ),
        (
            proof(&key, "POST", &url, &t, "4", |c| c["iat"] = json!(NOW - 61)),
            "the DPoP proof's iat is missing or outside the accepted window",
        ),
        (
            proof(&key, "POST", &url, &t, "5", |c| {
                c["ath"] = json!(access_token_hash("other"))
            }),
            "the DPoP proof's ath is not the hash of the access token",
        ),
        (
            proof(&key, "POST", &url, &t, "6", |c| {
                c.as_object_mut().unwrap().remove("ath");
            }),
            "the DPoP proof's ath is not the hash of the access token",
        ),
        (
            proof(&key, "POST", &url, &t, "", |_| {}),
            "the DPoP proof's jti is missing or malformed",
        ),
        // Another key's valid proof: not the key the token is bound to.
        (
            proof(&dpop_key(8), "POST", &url, &t, "7", |_| {}),
            "the DPoP proof's key is not the key the token is bound to",
        ),
        ("a.b.c".into(), "the DPoP proof is not a well-formed JWT"),
    ];
    for (p, why) in &cases {
        assert_eq!(refused(p), *why);
    }
    // A forged signature: the bound key's header and claims, another key's signature.
    let good = proof(&key, "POST", &url, &t, "8", |_| {});
    let other = proof(&dpop_key(8), "POST", &url, &t, "8", |_| {});
    let forged = format!(
        "{}.{}",
        good.rsplit_once('.').unwrap().0,
        other.rsplit_once('.').unwrap().1
    );
    assert_eq!(refused(&forged), "the DPoP proof's signature is invalid");
    // Two DPoP headers arrive joined.
    assert_eq!(
        refused(&format!("{good}, {good}")),
        "more than one DPoP proof was sent"
    );
    // No proof at all.
    let r = replied(run(
        &g,
        "POST",
        &url,
        &[("authorization", &format!("DPoP {t}"))],
    ));
    assert_eq!(body(&r)["error_description"], "a DPoP proof is required");
    // A failed proof did not burn its jti: the valid one passes.
    forwarded(run(
        &g,
        "POST",
        &url,
        &[("authorization", &format!("DPoP {t}")), ("dpop", &good)],
    ));
}

#[test]
fn a_bound_token_as_bearer_is_invalid_token_on_every_route() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let t = bound(&dpop_key(7));
    for path in ["/api/x", "/dpop/x", "/any/x"] {
        let r = replied(run(
            &g,
            "GET",
            &format!("{BASE}{path}"),
            &[("authorization", &format!("Bearer {t}"))],
        ));
        assert_eq!(
            (r.status, body(&r)["error"].clone()),
            (401, json!("invalid_token")),
            "{path}"
        );
        assert_eq!(
            challenge(&r),
            format!(
                r#"DPoP realm="api", error="invalid_token", error_description="the token is bound to a DPoP key: send it as 'DPoP' with a proof", {ALGS}"#
            )
        );
    }
    // A plain bearer token presented with the DPoP scheme is refused as well.
    let plain = token(json!({}));
    let r = replied(run(
        &g,
        "GET",
        &format!("{BASE}/api/x"),
        &[("authorization", &format!("DPoP {plain}"))],
    ));
    assert_eq!(
        body(&r)["error_description"],
        "the token is not bound to a DPoP key"
    );
}

#[test]
fn a_certificate_bound_token_needs_its_certificate() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let t = token(json!({"cnf": {"x5t#S256": x5t()}}));
    let auth = format!("Bearer {t}");
    let get = |path: &str| {
        run(
            &g,
            "GET",
            &format!("{BASE}{path}"),
            &[("authorization", &auth)],
        )
    };
    for fp in [FINGERPRINT.to_string(), FINGERPRINT.to_lowercase()] {
        with_certificate(Some(&fp), || forwarded(get("/api/x")));
        with_certificate(Some(&fp), || forwarded(get("/mtls/x")));
        with_certificate(Some(&fp), || forwarded(get("/any/x")));
    }
    let other = FINGERPRINT.replace("9F", "00");
    let malformed = format!("{}:{}", &FINGERPRINT[..2], &FINGERPRINT[2..]);
    for fp in [
        None,
        Some(other.as_str()),
        Some(malformed.as_str()),
        Some(&FINGERPRINT[..62]),
    ] {
        let r = with_certificate(fp, || replied(get("/api/x")));
        assert_eq!(
            (r.status, body(&r)["error_description"].clone()),
            (
                401,
                json!("the token is bound to a client certificate this request was not made with")
            ),
            "{fp:?}"
        );
        assert!(challenge(&r).starts_with("Bearer realm=\"api\", error=\"invalid_token\""));
    }
    // The DPoP-only route wants cnf.jkt, which this token lacks.
    let r = with_certificate(Some(FINGERPRINT), || replied(get("/dpop/x")));
    assert_eq!(
        body(&r)["error_description"],
        "this resource accepts only sender-constrained (DPoP or certificate-bound) tokens"
    );
}

#[test]
fn a_token_bound_to_both_needs_both() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let key = dpop_key(7);
    let t = token(json!({"cnf": {"jkt": jkt(&key), "x5t#S256": x5t()}}));
    let url = format!("{BASE}/mtls/x");
    let send = |jti: &str| {
        let p = proof(&key, "GET", &url, &t, jti, |_| {});
        run(
            &g,
            "GET",
            &url,
            &[("authorization", &format!("DPoP {t}")), ("dpop", &p)],
        )
    };
    with_certificate(Some(FINGERPRINT), || forwarded(send("1")));
    let r = replied(send("2"));
    assert_eq!(
        body(&r)["error_description"],
        "the token is bound to a client certificate this request was not made with"
    );
    let r = with_certificate(Some(FINGERPRINT), || {
        replied(run(
            &g,
            "GET",
            &url,
            &[("authorization", &format!("DPoP {t}"))],
        ))
    });
    assert_eq!(body(&r)["error_description"], "a DPoP proof is required");
}

#[test]
fn sender_constraint_routes_refuse_plain_bearer_tokens() {
    let keys = Keys::default();
    let g = gateway(&keys);
    let auth = format!("Bearer {}", token(json!({})));
    forwarded(run(
        &g,
        "GET",
        &format!("{BASE}/api/x"),
        &[("authorization", &auth)],
    ));
    for path in ["/dpop/x", "/mtls/x", "/any/x"] {
        let r = replied(run(
            &g,
            "GET",
            &format!("{BASE}{path}"),
            &[("authorization", &auth)],
        ));
        assert_eq!(
            (r.status, body(&r)["error"].clone(), body(&r)["error_description"].clone()),
            (401, json!("invalid_token"), json!("this resource accepts only sender-constrained (DPoP or certificate-bound) tokens")),
            "{path}"
        );
        // A DPoP-only route challenges with the DPoP scheme.
        assert_eq!(
            challenge(&r).starts_with("DPoP "),
            path == "/dpop/x",
            "{path}"
        );
    }
    // A DPoP-bound token passes the "any" route with its proof.
    let key = dpop_key(9);
    let t = bound(&key);
    let url = format!("{BASE}/any/x");
    let p = proof(&key, "GET", &url, &t, "any", |_| {});
    forwarded(run(
        &g,
        "GET",
        &url,
        &[("authorization", &format!("DPoP {t}")), ("dpop", &p)],
    ));
    // No credentials on a DPoP-only route: the bare DPoP challenge.
    let r = replied(run(&g, "GET", &format!("{BASE}/dpop/x"), &[]));
    assert_eq!(challenge(&r), format!(r#"DPoP realm="api", {ALGS}"#));
}

#[test]
fn sender_constraint_is_validated() {
    for (routes, why) in [
        (
            r#"[{"prefix": "/", "audience": "a", "sender_constraint": "tls"}]"#,
            "ROUTES[0].sender_constraint must be \"dpop\", \"mtls\" or \"any\"",
        ),
        (
            r#"[{"prefix": "/", "public": true, "sender_constraint": "dpop"}]"#,
            "ROUTES[0].sender_constraint needs a token: public routes cannot check it",
        ),
    ] {
        assert_eq!(
            edgeauth_gateway::RouteTable::parse(routes).unwrap_err(),
            why
        );
    }
}

/// The platform's verifier, as the shell plugs WebCrypto in: here it records each call.
#[derive(Debug, Default)]
struct Recording(std::cell::RefCell<Vec<(ProofAlg, String)>>);

impl ProofSignatures for &'static Recording {
    fn verify<'a>(
        &'a self,
        alg: ProofAlg,
        key: &'a ProofKey,
        input: &'a [u8],
        signature: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = bool> + 'a>> {
        self.0.borrow_mut().push((alg, key.canonical.clone()));
        let ok = edgeauth_verify::dpop::ed25519(key, input, signature);
        Box::pin(std::future::ready(ok))
    }
}

#[test]
fn the_platform_verifies_the_signature_with_the_canonical_jwk() {
    let keys = Keys::default();
    let recording: &'static Recording = Box::leak(Box::default());
    let g = gateway(&keys).with_proof_signatures(recording);
    let key = dpop_key(7);
    let t = bound(&key);
    let url = format!("{BASE}/api/x");
    let p = proof(&key, "GET", &url, &t, "p", |_| {});
    forwarded(run(
        &g,
        "GET",
        &url,
        &[("authorization", &format!("DPoP {t}")), ("dpop", &p)],
    ));
    let x = B64.encode(key.verifying_key().as_bytes());
    assert_eq!(
        recording.0.borrow().as_slice(),
        [(
            ProofAlg::EdDSA,
            format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#)
        )]
    );
}
