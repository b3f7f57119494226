//! RFC 6750 answers: codes, statuses, challenges, bearer extraction and scope checks.

mod support;

use edgeauth_verify::{bearer_token, ErrorCode, Scopes, VerifyError};
use serde_json::json;
use support::*;

#[test]
fn each_error_knows_its_code_and_status() {
    let cases = [
        (VerifyError::NoCredentials, None, 401),
        (
            VerifyError::MalformedAuthorization,
            Some(ErrorCode::InvalidRequest),
            400,
        ),
        (VerifyError::Expired, Some(ErrorCode::InvalidToken), 401),
        (
            VerifyError::BadSignature,
            Some(ErrorCode::InvalidToken),
            401,
        ),
        (
            VerifyError::BadClaim("jti"),
            Some(ErrorCode::InvalidToken),
            401,
        ),
        (
            VerifyError::InsufficientScope("a".into()),
            Some(ErrorCode::InsufficientScope),
            403,
        ),
        (VerifyError::KeysUnavailable, None, 503),
    ];
    for (err, code, status) in cases {
        assert_eq!((err.code(), err.status()), (code, status), "{err:?}");
    }
}

#[test]
fn challenges_follow_rfc_6750() {
    assert_eq!(
        VerifyError::NoCredentials.www_authenticate("api"),
        r#"Bearer realm="api""#
    );
    assert_eq!(
        VerifyError::Expired.www_authenticate("api"),
        r#"Bearer realm="api", error="invalid_token", error_description="the token has expired""#
    );
    assert_eq!(
        VerifyError::MalformedAuthorization.www_authenticate("api"),
        "Bearer realm=\"api\", error=\"invalid_request\", error_description=\"the Authorization \
         header is not 'Bearer' followed by one space and a token\""
    );
    assert_eq!(
        VerifyError::InsufficientScope("read write".into()).www_authenticate("api"),
        r#"Bearer realm="api", error="insufficient_scope", error_description="the token lacks a required scope", scope="read write""#
    );
}

#[test]
fn challenge_values_cannot_break_out_of_their_quotes() {
    let realm = VerifyError::NoCredentials.www_authenticate("a\"b\\c\r\nX-Evil: 1é");
    assert_eq!(realm, r#"Bearer realm="a\"b\\cX-Evil: 1""#);
    let scope = VerifyError::InsufficientScope("read\", x=\"y\\\n".into()).www_authenticate("r");
    assert!(scope.ends_with(r#"scope="read, x=y""#), "{scope}");
    assert!(!scope.contains(['\n', '\\']));
    assert_eq!(
        scope.matches('"').count(),
        8,
        "four quoted values, nothing more: {scope}"
    );
}

#[test]
fn descriptions_never_echo_the_token() {
    let t = token(&header(), &with("aud", json!("https://\"evil\".example")));
    let err = verifier().verify(&t, NOW).unwrap_err();
    assert_eq!(err, VerifyError::WrongAudience);
    assert!(!err.www_authenticate("api").contains("evil"));
}

#[test]
fn bearer_tokens_are_extracted_per_rfc_6750_section_2_1() {
    assert_eq!(
        bearer_token(Some("Bearer abc.DEF-_~+/=")),
        Ok("abc.DEF-_~+/=")
    );
    assert_eq!(bearer_token(Some("bearer x")), Ok("x"));
    assert_eq!(bearer_token(None), Err(VerifyError::NoCredentials));
    assert_eq!(
        bearer_token(Some("Basic Zm9vOmJhcg==")),
        Err(VerifyError::NoCredentials)
    );
    for bad in [
        "Bearer",
        "Bearer  x",
        "Bearer x y",
        "Bearer x\"",
        "Bearer \u{e9}",
    ] {
        let err = bearer_token(Some(bad)).unwrap_err();
        assert_eq!(
            (err.clone(), err.status()),
            (VerifyError::MalformedAuthorization, 400),
            "{bad}"
        );
    }
}

#[test]
fn scope_checks_name_what_is_needed() {
    let c = verifier()
        .verify(&token(&header(), &claims()), NOW)
        .unwrap();
    assert_eq!(c.require_scopes(Scopes::AllOf(&["read", "write"])), Ok(()));
    assert_eq!(c.require_scopes(Scopes::AnyOf(&["admin", "write"])), Ok(()));
    assert_eq!(c.require_scopes(Scopes::AllOf(&[])), Ok(()));
    assert_eq!(
        c.require_scopes(Scopes::AllOf(&["read", "admin"])),
        Err(VerifyError::InsufficientScope("read admin".into()))
    );
    let any = c
        .require_scopes(Scopes::AnyOf(&["admin", "root"]))
        .unwrap_err();
    assert_eq!(
        (any.status(), any.to_string().as_str()),
        (403, "the token lacks a required scope (needs admin root)")
    );
    // A scope that is only a prefix of a granted one is not granted.
    assert!(c.require_scopes(Scopes::AllOf(&["rea"])).is_err());
}
