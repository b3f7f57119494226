//! Property tests of the parsers of outside input: whatever arrives, an error and never a
//! panic; and no change to a valid token's bytes still verifies.
//! `PROPTEST_CASES=50000 cargo test -p edgeauth-verify --test fuzz` is the long run.

mod support;

use edgeauth_verify::{bearer_token, JwkSet, VerifyError};
use proptest::prelude::*;
use serde_json::Value;
use support::*;

/// JSON trees whose objects use the member names `act` readers look at.
fn json_tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-c ]{0,2}".prop_map(Value::from),
    ];
    leaf.prop_recursive(8, 64, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("(sub|act|iss)", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The chain RFC 8693 section 4.1 reads from `act`, walked plainly: `None` when malformed.
fn oracle(act: &Value) -> Option<Vec<String>> {
    let mut chain = Vec::new();
    let mut level = act;
    loop {
        let sub = level.as_object()?.get("sub")?.as_str()?;
        if sub.is_empty() {
            return None;
        }
        chain.push(sub.to_string());
        match level.get("act") {
            None => break,
            Some(next) => level = next,
        }
    }
    (chain.len() <= 5).then_some(chain)
}

proptest! {
    #[test]
    fn arbitrary_text_is_refused_without_panic(s in "\\PC{0,300}") {
        prop_assert!(verifier().verify(&s, NOW).is_err());
        let _ = bearer_token(Some(&s));
        let _ = JwkSet::from_json(s.as_bytes());
    }

    #[test]
    fn dotted_base64url_parts_are_refused(s in "[A-Za-z0-9_-]{0,80}(\\.[A-Za-z0-9_=-]{0,80}){0,4}") {
        prop_assert!(verifier().verify(&s, NOW).is_err());
    }

    #[test]
    fn any_one_changed_byte_of_a_valid_token_is_refused(at in any::<prop::sample::Index>(), c in b'+'..=b'z') {
        let good = token(&header(), &claims());
        let i = at.index(good.len());
        prop_assume!(good.as_bytes()[i] != c);
        let mut bytes = good.into_bytes();
        bytes[i] = c;
        let bad = String::from_utf8(bytes).unwrap();
        prop_assert!(verifier().verify(&bad, NOW).is_err(), "{}", bad);
    }

    #[test]
    fn arbitrary_jwk_sets_never_panic(keys in prop::collection::vec(
        ("(OKP|EC|RSA|oct|)", "(Ed25519|X25519|P-256|)", "[A-Za-z0-9_-]{0,50}", "(sig|enc|)"), 0..5)) {
        let doc = serde_json::json!({"keys": keys.iter().map(|(kty, crv, x, u)| serde_json::json!(
            {"kty": kty, "crv": crv, "x": x, "use": u})).collect::<Vec<_>>()});
        let _ = JwkSet::from_json(doc.to_string().as_bytes());
    }

    #[test]
    fn any_act_is_read_as_the_chain_or_refused(act in json_tree()) {
        prop_assume!(!act.is_null()); // with() removes a null claim
        let got = verifier().verify(&token(&header(), &with("act", act.clone())), NOW);
        match oracle(&act) {
            Some(chain) => prop_assert_eq!(got.map(|c| c.actors), Ok(chain)),
            None => prop_assert_eq!(got, Err(VerifyError::BadClaim("act"))),
        }
    }
}
