//! DPoP proofs (RFC 9449 sections 4.2 and 4.3), rule by rule, with real ES256, EdDSA, RS256
//! and PS256 signatures; the RFC 7638 thumbprint; the replay cache; the challenges.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::Signer as _;
use edgeauth_verify::dpop::{
    access_token_hash, certificate_thumbprint, ed25519, same_url, DEFAULT_PROOF_WINDOW,
    MAX_JTI_LEN, MAX_PROOF_LEN,
};
use edgeauth_verify::{
    access_token, Proof, ProofAlg, ProofError, ProofReplay, ProofRules, Scheme, VerifyError,
};
use futures_util::FutureExt;
use p256::ecdsa::signature::{RandomizedSigner, Verifier as _};
use rand_core::OsRng;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

const NOW: u64 = 1_700_000_000;
const URL: &str = "https://api.example.com/v1/things";
const TOKEN: &str = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJjMSJ9.c2ln";

/// A key that signs proofs, and its public JWK.
enum TestKey {
    Ec(p256::ecdsa::SigningKey),
    Ed(ed25519_dalek::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

fn rsa_key() -> &'static rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap())
}

impl TestKey {
    fn ec() -> TestKey {
        TestKey::Ec(p256::ecdsa::SigningKey::random(&mut OsRng))
    }
    fn ed(seed: u8) -> TestKey {
        TestKey::Ed(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }
    fn rsa() -> TestKey {
        TestKey::Rsa(Box::new(rsa_key().clone()))
    }

    fn jwk(&self) -> Value {
        match self {
            TestKey::Ec(k) => {
                let point = k.verifying_key().to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-256",
                    "x": B64.encode(point.x().unwrap()), "y": B64.encode(point.y().unwrap())})
            }
            TestKey::Ed(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(k.verifying_key().as_bytes())})
            }
            TestKey::Rsa(k) => json!({"kty": "RSA",
                "n": B64.encode(k.n().to_bytes_be()), "e": B64.encode(k.e().to_bytes_be())}),
        }
    }

    fn sign(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        match (self, alg) {
            (TestKey::Ec(k), _) => {
                let sig: p256::ecdsa::Signature = k.sign(input);
                sig.to_bytes().to_vec()
            }
            (TestKey::Ed(k), _) => k.sign(input).to_bytes().to_vec(),
            (TestKey::Rsa(k), "PS256") => {
                let signer = rsa::pss::SigningKey::<sha2::Sha256>::new((**k).clone());
                let sig: rsa::pss::Signature = signer.sign_with_rng(&mut OsRng, input);
                Box::<[u8]>::from(sig).to_vec()
            }
            (TestKey::Rsa(k), _) => {
                let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new((**k).clone());
                let sig: rsa::pkcs1v15::Signature = signer.sign(input);
                Box::<[u8]>::from(sig).to_vec()
            }
        }
    }
}

/// The host's stand-in for WebCrypto: verifies with the canonical JWK the crate hands over.
fn platform(
    alg: ProofAlg,
    key: &edgeauth_verify::dpop::ProofKey,
    input: &[u8],
    sig: &[u8],
) -> bool {
    let jwk: Value = serde_json::from_str(&key.canonical).unwrap();
    let b = |m: &str| B64.decode(jwk[m].as_str().unwrap()).unwrap();
    match alg {
        ProofAlg::EdDSA => ed25519(key, input, sig),
        ProofAlg::ES256 => {
            let mut sec1 = vec![4];
            sec1.extend(b("x"));
            sec1.extend(b("y"));
            let Ok(vk) = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1) else {
                return false;
            };
            p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| vk.verify(input, &s).is_ok())
        }
        ProofAlg::RS256 | ProofAlg::PS256 => {
            let public = rsa::RsaPublicKey::new(
                rsa::BigUint::from_bytes_be(&b("n")),
                rsa::BigUint::from_bytes_be(&b("e")),
            )
            .unwrap();
            if alg == ProofAlg::PS256 {
                let vk = rsa::pss::VerifyingKey::<sha2::Sha256>::new(public);
                rsa::pss::Signature::try_from(sig).is_ok_and(|s| vk.verify(input, &s).is_ok())
            } else {
                let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public);
                rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| vk.verify(input, &s).is_ok())
            }
        }
    }
}

fn header(alg: &str, key: &TestKey) -> Value {
    json!({"typ": "dpop+jwt", "alg": alg, "jwk": key.jwk()})
}

fn claims() -> Value {
    json!({"htm": "GET", "htu": URL, "iat": NOW, "jti": "j-1", "ath": access_token_hash(TOKEN)})
}

fn proof_with(header: &Value, claims: &Value, key: &TestKey) -> String {
    let alg = header["alg"].as_str().unwrap_or("ES256").to_string();
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig = key.sign(&alg, input.as_bytes());
    format!("{input}.{}", B64.encode(sig))
}

fn rules() -> ProofRules<'static> {
    ProofRules {
        method: "GET",
        url: URL,
        window: DEFAULT_PROOF_WINDOW,
        access_token: Some(TOKEN),
    }
}

/// Parse and verify, as a resource does.
fn check(proof: &str, rules: &ProofRules<'_>, now: u64) -> Result<String, ProofError> {
    let parsed = Proof::parse(proof, rules, now)?;
    parsed
        .verify(|alg, key, input, sig| std::future::ready(platform(alg, key, input, sig)))
        .now_or_never()
        .expect("ready")?;
    Ok(parsed.key.jkt)
}

#[test]
fn every_accepted_algorithm_verifies_with_a_real_signature() {
    for (alg, key) in [
        ("ES256", TestKey::ec()),
        ("EdDSA", TestKey::ed(1)),
        ("RS256", TestKey::rsa()),
        ("PS256", TestKey::rsa()),
    ] {
        let proof = proof_with(&header(alg, &key), &claims(), &key);
        let jkt = check(&proof, &rules(), NOW).unwrap_or_else(|e| panic!("{alg}: {e:?}"));
        assert_eq!(jkt.len(), 43, "{alg}");
        // A signature by another key of the same type does not verify.
        let other = match alg {
            "ES256" => TestKey::ec(),
            "EdDSA" => TestKey::ed(2),
            _ => TestKey::Rsa(Box::new(rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap())),
        };
        let forged = proof_with(&header(alg, &key), &claims(), &other);
        assert_eq!(
            check(&forged, &rules(), NOW),
            Err(ProofError::BadSignature),
            "{alg}"
        );
    }
}

#[test]
fn the_thumbprint_is_rfc_7638s() {
    // RFC 7638 section 3.1's example key and thumbprint.
    let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    let key = TestKey::ed(1);
    let mut h = header("RS256", &key);
    h["jwk"] = json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"});
    let proof = proof_with(&h, &claims(), &key);
    let parsed = Proof::parse(&proof, &rules(), NOW).unwrap();
    assert_eq!(
        parsed.key.jkt,
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    assert_eq!(
        parsed.key.canonical,
        format!(r#"{{"e":"AQAB","kty":"RSA","n":"{n}"}}"#)
    );
    // Only the required members count: the same key with other members, the same jkt.
    let ed = TestKey::ed(1);
    let mut plain = header("EdDSA", &ed);
    let pa = proof_with(&plain, &claims(), &ed);
    let a = Proof::parse(&pa, &rules(), NOW).unwrap();
    plain["jwk"]["use"] = json!("sig");
    plain["jwk"]["kid"] = json!("k1");
    let pb = proof_with(&plain, &claims(), &ed);
    let b = Proof::parse(&pb, &rules(), NOW).unwrap();
    assert_eq!(a.key.jkt, b.key.jkt);
    let x = B64.encode(
        ed25519_dalek::SigningKey::from_bytes(&[1; 32])
            .verifying_key()
            .as_bytes(),
    );
    let want = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    assert_eq!(a.key.canonical, want);
    use sha2::Digest;
    assert_eq!(a.key.jkt, B64.encode(sha2::Sha256::digest(want)));
}

#[test]
fn the_header_rules() {
    let key = TestKey::ed(1);
    let good = header("EdDSA", &key);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut h = good.clone();
        f(&mut h);
        check(&proof_with(&h, &claims(), &key), &rules(), NOW)
    };
    assert!(with(&|_| {}).is_ok());
    assert!(with(&|h| h["typ"] = json!("application/dpop+jwt")).is_ok());
    assert_eq!(
        with(&|h| h["typ"] = json!("JWT")),
        Err(ProofError::WrongType)
    );
    assert_eq!(
        with(&|h| h["typ"] = json!("at+jwt")),
        Err(ProofError::WrongType)
    );
    assert_eq!(
        with(&|h| {
            h.as_object_mut().unwrap().remove("typ");
        }),
        Err(ProofError::WrongType)
    );
    for alg in ["none", "HS256", "ES384", "RS512", "Ed25519", "eddsa"] {
        assert_eq!(
            with(&|h| h["alg"] = json!(alg)),
            Err(ProofError::AlgorithmNotAllowed),
            "{alg}"
        );
    }
    assert_eq!(with(&|h| h["alg"] = json!(1)), Err(ProofError::Malformed));
    assert_eq!(
        with(&|h| h["crit"] = json!(["exp"])),
        Err(ProofError::CriticalHeader)
    );
    // The key: present, an object, public only, of the algorithm's type and curve.
    assert_eq!(
        with(&|h| {
            h.as_object_mut().unwrap().remove("jwk");
        }),
        Err(ProofError::BadKey)
    );
    assert_eq!(with(&|h| h["jwk"] = json!("k")), Err(ProofError::BadKey));
    for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        assert_eq!(
            with(&|h| h["jwk"][private] = json!("AAAA")),
            Err(ProofError::BadKey),
            "{private}"
        );
    }
    assert_eq!(
        with(&|h| h["alg"] = json!("ES256")),
        Err(ProofError::BadKey)
    );
    assert_eq!(
        with(&|h| h["alg"] = json!("RS256")),
        Err(ProofError::BadKey)
    );
    assert_eq!(
        with(&|h| h["jwk"]["crv"] = json!("X25519")),
        Err(ProofError::BadKey)
    );
    assert_eq!(
        with(&|h| h["jwk"]["x"] = json!("AAAA")),
        Err(ProofError::BadKey)
    );
    assert_eq!(with(&|h| h["jwk"]["x"] = json!(7)), Err(ProofError::BadKey));
    let ec = TestKey::ec();
    let mut h = header("ES256", &ec);
    h["jwk"]["crv"] = json!("P-384");
    assert_eq!(
        check(&proof_with(&h, &claims(), &ec), &rules(), NOW),
        Err(ProofError::BadKey)
    );
    let mut h = header("ES256", &ec);
    h["jwk"].as_object_mut().unwrap().remove("y");
    assert_eq!(
        check(&proof_with(&h, &claims(), &ec), &rules(), NOW),
        Err(ProofError::BadKey)
    );
    // An RSA modulus under 2048 bits is refused.
    let rsa = TestKey::rsa();
    let mut h = header("RS256", &rsa);
    h["jwk"]["n"] = json!(B64.encode([0xff; 128]));
    assert_eq!(
        check(&proof_with(&h, &claims(), &rsa), &rules(), NOW),
        Err(ProofError::BadKey)
    );
}

#[test]
fn the_claim_rules() {
    let key = TestKey::ed(1);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims();
        f(&mut c);
        check(&proof_with(&header("EdDSA", &key), &c, &key), &rules(), NOW)
    };
    assert_eq!(
        with(&|c| c["htm"] = json!("POST")),
        Err(ProofError::WrongMethod)
    );
    assert_eq!(
        with(&|c| c["htm"] = json!("get")),
        Err(ProofError::WrongMethod)
    );
    assert_eq!(
        with(&|c| {
            c.as_object_mut().unwrap().remove("htm");
        }),
        Err(ProofError::WrongMethod)
    );
    assert_eq!(
        with(&|c| c["htu"] = json!("https://api.example.com/v1/other")),
        Err(ProofError::WrongUrl)
    );
    assert_eq!(
        with(&|c| c["htu"] = json!("https://evil.example.com/v1/things")),
        Err(ProofError::WrongUrl)
    );
    assert_eq!(
        with(&|c| c["htu"] = json!("http://api.example.com/v1/things")),
        Err(ProofError::WrongUrl)
    );
    assert!(with(&|c| c["htu"] = json!("HTTPS://API.example.COM:443/v1/things?a=1#f")).is_ok());
    // iat within the window, either way, inclusive.
    assert!(with(&|c| c["iat"] = json!(NOW - 60)).is_ok());
    assert!(with(&|c| c["iat"] = json!(NOW + 60)).is_ok());
    assert_eq!(
        with(&|c| c["iat"] = json!(NOW - 61)),
        Err(ProofError::BadTime)
    );
    assert_eq!(
        with(&|c| c["iat"] = json!(NOW + 61)),
        Err(ProofError::BadTime)
    );
    assert_eq!(
        with(&|c| c["iat"] = json!("1700000000")),
        Err(ProofError::BadTime)
    );
    assert_eq!(with(&|c| c["iat"] = json!(1.7e9)), Err(ProofError::BadTime));
    assert_eq!(
        with(&|c| {
            c.as_object_mut().unwrap().remove("iat");
        }),
        Err(ProofError::BadTime)
    );
    // A narrower window, configured.
    let narrow = ProofRules {
        window: 5,
        ..rules()
    };
    let mut c = claims();
    c["iat"] = json!(NOW - 6);
    assert_eq!(
        check(&proof_with(&header("EdDSA", &key), &c, &key), &narrow, NOW),
        Err(ProofError::BadTime)
    );
    // jti: a non-empty string, bounded.
    assert_eq!(with(&|c| c["jti"] = json!("")), Err(ProofError::BadJti));
    assert_eq!(with(&|c| c["jti"] = json!(7)), Err(ProofError::BadJti));
    assert_eq!(
        with(&|c| c["jti"] = json!("j".repeat(MAX_JTI_LEN + 1))),
        Err(ProofError::BadJti)
    );
    assert!(with(&|c| c["jti"] = json!("j".repeat(MAX_JTI_LEN))).is_ok());
    assert_eq!(
        with(&|c| {
            c.as_object_mut().unwrap().remove("jti");
        }),
        Err(ProofError::BadJti)
    );
    // ath: the hash of the token sent with it, at a resource.
    assert_eq!(
        with(&|c| c["ath"] = json!(access_token_hash("another"))),
        Err(ProofError::WrongAccessTokenHash)
    );
    assert_eq!(
        with(&|c| {
            c.as_object_mut().unwrap().remove("ath");
        }),
        Err(ProofError::WrongAccessTokenHash)
    );
    // At the token endpoint (no access token), ath is not read.
    let mut c = claims();
    c.as_object_mut().unwrap().remove("ath");
    let at_token_endpoint = ProofRules {
        access_token: None,
        ..rules()
    };
    assert!(check(
        &proof_with(&header("EdDSA", &key), &c, &key),
        &at_token_endpoint,
        NOW
    )
    .is_ok());
}

#[test]
fn form_and_size() {
    let key = TestKey::ed(1);
    let good = proof_with(&header("EdDSA", &key), &claims(), &key);
    for bad in ["", "a.b", "a.b.c.d", "!!.b.c", &good[..good.len() - 1]] {
        assert!(
            matches!(
                check(bad, &rules(), NOW),
                Err(ProofError::Malformed | ProofError::BadSignature)
            ),
            "{bad}"
        );
    }
    // Two DPoP headers arrive joined by a comma.
    assert_eq!(
        check(&format!("{good}, {good}"), &rules(), NOW),
        Err(ProofError::Multiple)
    );
    // Header or claims that are not objects.
    let arr = format!("{}.{}.AA", B64.encode("[1]"), B64.encode("{}"));
    assert_eq!(check(&arr, &rules(), NOW), Err(ProofError::Malformed));
    let mut big = claims();
    big["pad"] = json!("x".repeat(MAX_PROOF_LEN));
    assert_eq!(
        check(
            &proof_with(&header("EdDSA", &key), &big, &key),
            &rules(),
            NOW
        ),
        Err(ProofError::TooLong)
    );
}

#[test]
fn urls_compare_without_query_fragment_default_port_or_case_of_scheme_and_host() {
    assert!(same_url("https://a.example/p", "https://a.example/p?x=1"));
    assert!(same_url("https://A.Example:443/p#f", "https://a.example/p"));
    assert!(same_url("http://a.example:80", "http://a.example/"));
    assert!(same_url("HTTPS://a.example/p", "https://a.example/p"));
    assert!(!same_url("https://a.example/P", "https://a.example/p"));
    assert!(!same_url("https://a.example:8443/p", "https://a.example/p"));
    assert!(!same_url("http://a.example/p", "https://a.example/p"));
    assert!(!same_url("https://a.example/p/", "https://a.example/p"));
    assert!(!same_url("/p", "https://a.example/p"));
    assert!(!same_url("ftp://a.example/p", "ftp://a.example/p"));
    assert!(!same_url("https:///p", "https:///p"));
}

#[test]
fn replays_are_caught_within_the_window_and_the_cache_is_bounded() {
    let replay = ProofReplay::new(3);
    assert!(replay.first_use("k1", "j1", NOW + 60, NOW));
    assert!(!replay.first_use("k1", "j1", NOW + 60, NOW + 1));
    // The same jti under another key is another proof.
    assert!(replay.first_use("k2", "j1", NOW + 60, NOW));
    // Once its window has passed, it is forgotten (the iat check refuses it by then anyway).
    assert!(replay.first_use("k1", "j1", NOW + 200, NOW + 61));
    assert!(replay.first_use("k3", "j", NOW + 200, NOW + 61));
    assert!(replay.first_use("k4", "j", NOW + 200, NOW + 61));
    assert!(replay.len() <= 3);
    // Full: the oldest is forgotten first.
    assert!(replay.first_use("k5", "j", NOW + 200, NOW + 61));
    assert!(replay.len() <= 3);
    assert!(!replay.first_use("k5", "j", NOW + 200, NOW + 62));
}

#[test]
fn certificate_thumbprints_come_from_64_hex_digits_only() {
    let hex = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
    let want = B64.encode(
        (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect::<Vec<_>>(),
    );
    assert_eq!(certificate_thumbprint(hex).as_deref(), Some(want.as_str()));
    assert_eq!(
        certificate_thumbprint(&hex.to_lowercase()).as_deref(),
        Some(want.as_str())
    );
    for bad in [
        "",
        &hex[..62],
        &format!("{hex}00"),
        &hex.replace('F', "G"),
        &format!("{}:{}", &hex[..2], &hex[3..]),
        &format!("+{}", &hex[1..]),
    ] {
        assert_eq!(certificate_thumbprint(bad), None, "{bad}");
    }
}

#[test]
fn the_scheme_and_the_challenges() {
    assert_eq!(
        access_token(Some("DPoP a.b.c")),
        Ok((Scheme::DPoP, "a.b.c"))
    );
    let e = VerifyError::Proof(ProofError::Replayed);
    assert_eq!(e.status(), 401);
    assert_eq!(
        e.www_authenticate_dpop("api"),
        r#"DPoP realm="api", error="invalid_dpop_proof", error_description="the DPoP proof was already used", algs="ES256 EdDSA RS256 PS256""#
    );
    assert_eq!(
        VerifyError::BoundToken.www_authenticate_dpop("api"),
        r#"DPoP realm="api", error="invalid_token", error_description="the token is bound to a DPoP key: send it as 'DPoP' with a proof", algs="ES256 EdDSA RS256 PS256""#
    );
    assert_eq!(
        VerifyError::NoCredentials.www_authenticate_dpop("api"),
        r#"DPoP realm="api", algs="ES256 EdDSA RS256 PS256""#
    );
    for e in [
        VerifyError::BoundToken,
        VerifyError::NotBound,
        VerifyError::WrongCertificate,
        VerifyError::BindingRequired,
    ] {
        assert_eq!(
            (e.status(), e.code().unwrap().as_str()),
            (401, "invalid_token")
        );
    }
}
