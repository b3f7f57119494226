//! Every rule of the verifier, one refusal at a time, in the order the checks run.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use edgeauth_verify::{JwkSet, Verifier, VerifyError, MAX_ACTORS};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use support::*;

fn check(token: &str) -> Result<edgeauth_verify::Claims, VerifyError> {
    verifier().verify(token, NOW)
}

#[test]
fn a_valid_token_yields_its_claims() {
    let c = check(&token(&header(), &claims())).unwrap();
    assert_eq!(
        (c.iss.as_str(), c.sub.as_str(), c.client_id.as_str()),
        (ISS, "c1", "c1")
    );
    assert_eq!(c.audiences, [API]);
    assert_eq!(c.scopes, ["read", "write"]);
    assert_eq!(
        (c.iat, c.exp, c.nbf, c.jti.as_str()),
        (NOW, NOW + 600, None, "j1")
    );
    assert!(c.actors.is_empty(), "not exchanged");
}

#[test]
fn act_is_read_as_the_chain_of_actor_subjects_outermost_first() {
    let one = with("act", json!({"sub": "b"}));
    assert_eq!(check(&token(&header(), &one)).unwrap().actors, ["b"]);
    // RFC 8693 section 4.1: members besides sub and act identify the actor, and are not read.
    let nested = with(
        "act",
        json!({"sub": "c", "iss": ISS, "act": {"sub": "b", "act": {"sub": "a"}}}),
    );
    assert_eq!(
        check(&token(&header(), &nested)).unwrap().actors,
        ["c", "b", "a"]
    );
    // Five levels pass; a sixth is one too many.
    let chain = |depth: usize| {
        (0..depth).fold(Value::Null, |inner, i| {
            let mut level = json!({ "sub": format!("s{i}") });
            if !inner.is_null() {
                level["act"] = inner;
            }
            level
        })
    };
    assert_eq!(MAX_ACTORS, 5);
    let five = check(&token(&header(), &with("act", chain(5)))).unwrap();
    assert_eq!(five.actors, ["s4", "s3", "s2", "s1", "s0"]);
    assert_eq!(
        check(&token(&header(), &with("act", chain(6)))),
        Err(VerifyError::BadClaim("act"))
    );
}

#[test]
fn a_malformed_act_makes_the_token_invalid() {
    for act in [
        json!("b"),
        json!(["b"]),
        json!(1),
        json!({}),
        json!({"sub": 1}),
        json!({"sub": ""}),
        json!({"sub": ["b"]}),
        json!({"sub": "b", "act": "a"}),
        json!({"sub": "b", "act": null}),
        json!({"sub": "b", "act": {"iss": ISS}}),
        json!({"sub": "b", "act": {"sub": "a", "act": []}}),
    ] {
        let t = token(&header(), &with("act", act.clone()));
        let e = check(&t).unwrap_err();
        assert_eq!(e, VerifyError::BadClaim("act"), "{act}");
        assert_eq!(
            (e.status(), e.code().map(|c| c.as_str())),
            (401, Some("invalid_token"))
        );
    }
    // A null act is there, and is not an object: not read as absent.
    let mut raw = claims();
    raw["act"] = Value::Null;
    let t = sign_raw(1, &header().to_string(), &raw.to_string());
    assert_eq!(check(&t), Err(VerifyError::BadClaim("act")));
    // Two act members are two claims, as for any other.
    let dup = claims()
        .to_string()
        .replacen('{', r#"{"act":{"sub":"b"},"act":{"sub":"admin"},"#, 1);
    let t = sign_raw(1, &header().to_string(), &dup);
    assert_eq!(check(&t), Err(VerifyError::PayloadNotObject));
}

#[test]
fn size_cap_comes_first() {
    let t = token(&header(), &claims());
    let tight = verifier().with_max_token_len(t.len() - 1);
    assert_eq!(tight.verify(&t, NOW), Err(VerifyError::TooLong));
    assert!(verifier()
        .with_max_token_len(t.len())
        .verify(&t, NOW)
        .is_ok());
    // Over the default 8 KiB, even garbage is refused for its size alone.
    assert_eq!(check(&"!".repeat(8 * 1024 + 1)), Err(VerifyError::TooLong));
}

#[test]
fn exactly_three_strict_base64url_parts() {
    let t = token(&header(), &claims());
    let (hp, s) = t.rsplit_once('.').unwrap();
    for bad in [
        hp.to_string(),
        format!("{t}.AA"),
        format!("{hp}.{s}="),
        format!("{hp}.{}", s.replace('-', "+").replace('_', "/") + "+"),
        format!("{hp}.{s}!"),
        format!(".{t}"),
    ] {
        assert_eq!(check(&bad), Err(VerifyError::Malformed), "{bad}");
    }
}

#[test]
fn the_header_must_be_an_object_with_a_string_alg() {
    let c = claims().to_string();
    for h in [
        r#"["EdDSA"]"#.to_string(),
        r#""EdDSA""#.to_string(),
        json!({"typ": "at+jwt", "kid": kid(1)}).to_string(),
        json!({"alg": 1, "typ": "at+jwt", "kid": kid(1)}).to_string(),
        format!(
            r#"{{"alg":"EdDSA","alg":"none","typ":"at+jwt","kid":"{}"}}"#,
            kid(1)
        ),
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": 7}).to_string(),
        "not json".to_string(),
    ] {
        assert_eq!(
            check(&sign_raw(1, &h, &c)),
            Err(VerifyError::Malformed),
            "{h}"
        );
    }
}

#[test]
fn only_allowed_algorithms_none_and_hmac_with_the_public_key_are_refused() {
    let c = claims().to_string();
    let none = input(&with_header("alg", json!("none")).to_string(), &c) + ".";
    assert_eq!(check(&none), Err(VerifyError::AlgorithmNotAllowed));
    // The classic confusion: HS256 keyed with the public key's bytes, which anyone has.
    let hs = input(&with_header("alg", json!("HS256")).to_string(), &c);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key(1).kid().as_bytes()).unwrap();
    mac.update(hs.as_bytes());
    let public = signer(1).verifying_key().to_bytes();
    let mut mac2 = Hmac::<sha2::Sha256>::new_from_slice(&public).unwrap();
    mac2.update(hs.as_bytes());
    for sig in [mac.finalize().into_bytes(), mac2.finalize().into_bytes()] {
        let forged = format!("{hs}.{}", B64.encode(sig));
        assert_eq!(check(&forged), Err(VerifyError::AlgorithmNotAllowed));
    }
    for alg in ["ES256", "RS256", "PS256", "eddsa", "Ed25519", ""] {
        let t = token(&with_header("alg", json!(alg)), &claims());
        assert_eq!(check(&t), Err(VerifyError::AlgorithmNotAllowed), "{alg}");
    }
    let nothing = verifier().with_algorithms(&[]);
    assert_eq!(
        nothing.verify(&token(&header(), &claims()), NOW),
        Err(VerifyError::AlgorithmNotAllowed)
    );
}

#[test]
fn a_key_published_for_another_alg_is_not_used_for_eddsa() {
    let mut doc: Value = serde_json::from_str(&jwks_json(&[1])).unwrap();
    doc["keys"][0]["alg"] = json!("ES256");
    let set = JwkSet::from_json(doc.to_string().as_bytes()).unwrap();
    let v = Verifier::new(ISS, [API], set);
    assert_eq!(
        v.verify(&token(&header(), &claims()), NOW),
        Err(VerifyError::UnknownKey)
    );
}

#[test]
fn crit_is_refused_even_when_null() {
    for crit in [json!(["exp"]), json!([]), json!(null)] {
        let mut h = header();
        h["crit"] = crit.clone();
        assert_eq!(
            check(&token(&h, &claims())),
            Err(VerifyError::CriticalHeader),
            "{crit}"
        );
    }
}

#[test]
fn typ_must_be_at_jwt_unless_switched_off() {
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/AT+jwt",
    ] {
        assert!(
            check(&token(&with_header("typ", json!(typ)), &claims())).is_ok(),
            "{typ}"
        );
    }
    let cases = [
        json!("JWT"),
        json!("jwt"),
        json!("application/jwt"),
        json!(1),
        json!(null),
    ];
    for typ in &cases {
        let t = token(&with_header("typ", typ.clone()), &claims());
        assert_eq!(check(&t), Err(VerifyError::WrongType), "{typ}");
        assert!(
            verifier().require_typ(false).verify(&t, NOW).is_ok(),
            "{typ}"
        );
    }
}

#[test]
fn the_key_is_found_by_kid() {
    let missing = token(&with_header("kid", Value::Null), &claims());
    assert_eq!(check(&missing), Err(VerifyError::UnknownKey));
    let unknown = token(&with_header("kid", json!(kid(2))), &claims());
    assert_eq!(check(&unknown), Err(VerifyError::UnknownKey));
    let two = Verifier::new(
        ISS,
        [API],
        JwkSet::from_json(jwks_json(&[2, 1]).as_bytes()).unwrap(),
    );
    assert!(two.verify(&token(&header(), &claims()), NOW).is_ok());
}

#[test]
fn the_signature_must_verify_with_that_key() {
    let good = token(&header(), &claims());
    // Signed by key 2 but naming key 1.
    let other = sign_raw(2, &header().to_string(), &claims().to_string());
    assert_eq!(check(&other), Err(VerifyError::BadSignature));
    let (hp, s) = good.rsplit_once('.').unwrap();
    let mut sig = B64.decode(s).unwrap();
    sig[0] ^= 1;
    assert_eq!(
        check(&format!("{hp}.{}", B64.encode(&sig))),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        check(&format!("{hp}.{}", B64.encode(&sig[..63]))),
        Err(VerifyError::BadSignature)
    );
    // Claims swapped after signing.
    let (h, _) = hp.split_once('.').unwrap();
    let admin = B64.encode(with("scope", json!("admin")).to_string());
    assert_eq!(
        check(&format!("{h}.{admin}.{s}")),
        Err(VerifyError::BadSignature)
    );
    // The signature is checked before the claims: an expired forgery is a forgery.
    let expired = sign_raw(2, &header().to_string(), &with("exp", json!(1)).to_string());
    assert_eq!(check(&expired), Err(VerifyError::BadSignature));
}

#[test]
fn the_payload_must_be_an_object_without_duplicates() {
    let h = header().to_string();
    let dup = format!(r#"{{"iss":"{ISS}","iss":"https://evil.example"}}"#);
    for p in ["[1,2]", "null", "\"x\"", "{", dup.as_str()] {
        assert_eq!(
            check(&sign_raw(1, &h, p)),
            Err(VerifyError::PayloadNotObject),
            "{p}"
        );
    }
}

#[test]
fn iss_must_equal_the_issuer() {
    for iss in [
        json!("https://auth.example.com/"),
        json!("https://evil.example"),
        json!(1),
        json!(null),
    ] {
        let t = token(&header(), &with("iss", iss.clone()));
        assert_eq!(check(&t), Err(VerifyError::WrongIssuer), "{iss}");
    }
}

#[test]
fn aud_is_a_string_or_an_array_that_names_an_accepted_audience() {
    let ok = [json!(API), json!(["https://x.example", API]), json!([API])];
    for aud in ok {
        let c = check(&token(&header(), &with("aud", aud.clone()))).unwrap();
        assert!(c.audiences.contains(&API.to_string()), "{aud}");
    }
    let wrong = [
        json!("https://other.example"),
        json!(["https://other.example"]),
    ];
    for aud in wrong {
        assert_eq!(
            check(&token(&header(), &with("aud", aud))),
            Err(VerifyError::WrongAudience)
        );
    }
    for aud in [
        json!([]),
        json!([API, 1]),
        json!(1),
        json!({"a": API}),
        json!(null),
    ] {
        let t = token(&header(), &with("aud", aud.clone()));
        assert_eq!(check(&t), Err(VerifyError::BadClaim("aud")), "{aud}");
    }
    let several = Verifier::new(ISS, ["https://x.example", API], JwkSet::new(vec![key(1)]));
    assert!(several.verify(&token(&header(), &claims()), NOW).is_ok());
    let anywhere = Verifier::new(ISS, ["https://x.example"], JwkSet::new(vec![key(1)]));
    assert_eq!(
        anywhere.verify(&token(&header(), &claims()), NOW),
        Err(VerifyError::WrongAudience)
    );
    let any = anywhere.accept_any_audience();
    assert!(any.verify(&token(&header(), &claims()), NOW).is_ok());
}

#[test]
fn exp_holds_until_the_skew_has_passed() {
    let t = token(&header(), &claims());
    let exp = NOW + 600;
    assert!(verifier().verify(&t, exp + 59).is_ok());
    assert_eq!(verifier().verify(&t, exp + 60), Err(VerifyError::Expired));
    let strict = verifier().with_skew(0);
    assert!(strict.verify(&t, exp - 1).is_ok());
    assert_eq!(strict.verify(&t, exp), Err(VerifyError::Expired));
}

#[test]
fn nbf_and_iat_may_be_ahead_by_the_skew_only() {
    let nbf = token(&header(), &with("nbf", json!(NOW + 60)));
    assert_eq!(check(&nbf).unwrap().nbf, Some(NOW + 60));
    let late = token(&header(), &with("nbf", json!(NOW + 61)));
    assert_eq!(check(&late), Err(VerifyError::NotYetValid));
    let mut c = with("iat", json!(NOW + 60));
    assert!(check(&token(&header(), &c)).is_ok());
    c["iat"] = json!(NOW + 61);
    assert_eq!(
        check(&token(&header(), &c)),
        Err(VerifyError::IssuedInFuture)
    );
    assert_eq!(
        verifier().with_skew(0).verify(&nbf, NOW),
        Err(VerifyError::NotYetValid)
    );
}

#[test]
fn required_claims_must_be_present_with_their_types() {
    let cases = [
        ("exp", Value::Null),
        ("exp", json!("1700000600")),
        ("exp", json!(1_700_000_600.5)),
        ("exp", json!(-1)),
        ("iat", Value::Null),
        ("iat", json!(true)),
        ("nbf", json!("0")),
        ("sub", Value::Null),
        ("sub", json!(1)),
        ("client_id", Value::Null),
        ("client_id", json!(["c1"])),
        ("jti", Value::Null),
        ("jti", json!(1)),
        ("scope", json!(["read"])),
    ];
    for (name, value) in cases {
        let t = token(&header(), &with(name, value.clone()));
        assert_eq!(
            check(&t),
            Err(VerifyError::BadClaim(name)),
            "{name}: {value}"
        );
    }
    let no_scope = check(&token(&header(), &with("scope", Value::Null))).unwrap();
    assert!(no_scope.scopes.is_empty());
}

#[test]
fn remembered_signatures_skip_only_the_signature_check() {
    let v = verifier().with_seen_signatures(8);
    let good = token(&header(), &claims());
    assert!(v.verify(&good, NOW).is_ok());
    assert!(v.verify(&good, NOW).is_ok(), "again, from memory");
    // The claims are still checked on every call: past exp + skew it is refused.
    assert_eq!(v.verify(&good, NOW + 600 + 60), Err(VerifyError::Expired));
    // Another signature over the same input was never verified, so it is checked, and fails.
    let (input, sig) = good.rsplit_once('.').unwrap();
    let mut bytes = B64.decode(sig).unwrap();
    bytes[0] ^= 1;
    let forged = format!("{input}.{}", B64.encode(bytes));
    assert_eq!(v.verify(&forged, NOW), Err(VerifyError::BadSignature));
    assert_eq!(v.verify(&forged, NOW), Err(VerifyError::BadSignature));
}

#[test]
fn cnf_is_read_with_both_members_each_optional() {
    let v = verifier();
    let read = |cnf: Value| v.verify(&token(&header(), &with("cnf", cnf)), NOW);
    let c = read(json!({"jkt": "k", "x5t#S256": "x"})).unwrap().cnf;
    assert_eq!(
        (c.jkt.as_deref(), c.x5t_s256.as_deref()),
        (Some("k"), Some("x"))
    );
    let c = read(json!({"x5t#S256": "x", "other": 1})).unwrap().cnf;
    assert_eq!((c.jkt, c.x5t_s256.as_deref()), (None, Some("x")));
    assert!(!v
        .verify(&token(&header(), &claims()), NOW)
        .unwrap()
        .cnf
        .is_bound());
    for bad in [json!("k"), json!({"jkt": 1}), json!({"jkt": ""}), json!([])] {
        assert_eq!(
            read(bad.clone()),
            Err(VerifyError::BadClaim("cnf")),
            "{bad}"
        );
    }
}
