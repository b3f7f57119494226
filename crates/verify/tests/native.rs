//! `Verifier::verify_with`: the Ed25519 equation handed to the caller's platform, everything
//! else still checked by the crate, in the same order.

mod support;

use std::cell::RefCell;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use edgeauth_verify::VerifyError;
use futures_util::FutureExt;
use serde_json::json;
use support::*;

/// What the platform was asked, one entry per call.
type Calls = RefCell<Vec<([u8; 32], Vec<u8>, [u8; 64])>>;

fn with_answer(
    v: &edgeauth_verify::Verifier<edgeauth_verify::JwkSet>,
    token: &str,
    now: u64,
    answer: Option<bool>,
    calls: &Calls,
) -> Result<edgeauth_verify::Claims, VerifyError> {
    v.verify_with(token, now, |key, input, signature| {
        calls.borrow_mut().push((key, input.to_vec(), signature));
        async move { answer }
    })
    .now_or_never()
    .expect("ready")
}

#[test]
fn the_platform_gets_the_key_the_signed_input_and_the_signature_and_decides() {
    let v = verifier();
    let good = token(&header(), &claims());
    let (input, sig) = good.rsplit_once('.').unwrap();
    let calls = Calls::default();
    assert_eq!(
        with_answer(&v, &good, NOW, Some(true), &calls).unwrap().sub,
        "c1"
    );
    let asked = calls.borrow()[0].clone();
    assert_eq!(asked.0, *signer(1).verifying_key().as_bytes());
    assert_eq!(asked.1, input.as_bytes());
    assert_eq!(asked.2.to_vec(), B64.decode(sig).unwrap());
    // The platform's no is final, even for a signature the crate would accept.
    assert_eq!(
        with_answer(&v, &good, NOW, Some(false), &calls),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn without_a_platform_answer_the_crate_verifies() {
    let v = verifier();
    let good = token(&header(), &claims());
    let calls = Calls::default();
    assert!(with_answer(&v, &good, NOW, None, &calls).is_ok());
    let (input, sig) = good.rsplit_once('.').unwrap();
    let mut bytes = B64.decode(sig).unwrap();
    bytes[5] ^= 1;
    let forged = format!("{input}.{}", B64.encode(bytes));
    assert_eq!(
        with_answer(&v, &forged, NOW, None, &calls),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(calls.borrow().len(), 2);
}

#[test]
fn header_and_key_failures_never_reach_the_platform_and_claims_are_checked_after_it() {
    let v = verifier();
    let calls = Calls::default();
    let other_alg = token(&with_header("alg", json!("HS256")), &claims());
    assert_eq!(
        with_answer(&v, &other_alg, NOW, Some(true), &calls),
        Err(VerifyError::AlgorithmNotAllowed)
    );
    let unknown = token(&with_header("kid", json!("nope")), &claims());
    assert_eq!(
        with_answer(&v, &unknown, NOW, Some(true), &calls),
        Err(VerifyError::UnknownKey)
    );
    assert!(calls.borrow().is_empty());
    let good = token(&header(), &claims());
    assert_eq!(
        with_answer(&v, &good, NOW + 600 + 60, Some(true), &calls),
        Err(VerifyError::Expired)
    );
    assert_eq!(calls.borrow().len(), 1);
}

#[test]
fn a_signature_the_platform_accepted_is_remembered_and_a_refused_one_is_not() {
    let v = verifier().with_seen_signatures(8);
    let good = token(&header(), &claims());
    let calls = Calls::default();
    assert_eq!(
        with_answer(&v, &good, NOW, Some(false), &calls),
        Err(VerifyError::BadSignature)
    );
    assert!(with_answer(&v, &good, NOW, Some(true), &calls).is_ok());
    assert!(
        with_answer(&v, &good, NOW, Some(false), &calls).is_ok(),
        "from memory"
    );
    assert_eq!(calls.borrow().len(), 2);
    // The sync path shares the memory.
    assert!(v.verify(&good, NOW).is_ok());
}

#[test]
fn a_platform_that_answers_a_bool_decides_alone() {
    let v = verifier();
    let good = token(&header(), &claims());
    for (answer, verified) in [(true, true), (false, false)] {
        let outcome = v
            .verify_with(&good, NOW, |_, _, _| async move { answer })
            .now_or_never()
            .expect("ready");
        assert_eq!(outcome.is_ok(), verified);
    }
}
