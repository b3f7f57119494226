//! Property tests of the parsers of outside input: whatever arrives, an error and never a
//! panic; and no change to a valid token's bytes still verifies.
//! `PROPTEST_CASES=50000 cargo test -p edgeauth-verify --test fuzz` is the long run.

mod support;

use edgeauth_verify::{bearer_token, JwkSet};
use proptest::prelude::*;
use support::*;

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
}
