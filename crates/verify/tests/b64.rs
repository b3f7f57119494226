//! The strict base64 of `edgeauth_verify::b64` accepts and refuses exactly what the `base64`
//! crate's `URL_SAFE_NO_PAD` and `STANDARD` engines do (it replaced them, to save wasm), and
//! encodes as `URL_SAFE_NO_PAD` does.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use edgeauth_verify::b64;
use proptest::prelude::*;

/// Text made mostly of both alphabets and `=`, with a few other bytes (space, newline, NUL,
/// `.`, a non-ASCII byte) mixed in.
fn text() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        8 => proptest::sample::select(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".to_vec()
        ),
        2 => proptest::sample::select(b"-_+/=".to_vec()),
        1 => proptest::sample::select(b" \n\0.\xc3".to_vec()),
    ];
    proptest::collection::vec(byte, 0..14)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn decoding_matches_the_base64_crate(text in text()) {
        prop_assert_eq!(b64::url_decode(&text), URL_SAFE_NO_PAD.decode(&text).ok());
        prop_assert_eq!(b64::std_decode(&text), STANDARD.decode(&text).ok());
    }

    #[test]
    fn encoding_matches_and_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let encoded = b64::url_encode(&bytes);
        prop_assert_eq!(&encoded, &URL_SAFE_NO_PAD.encode(&bytes));
        prop_assert_eq!(b64::url_decode(&encoded), Some(bytes.clone()));
        prop_assert_eq!(b64::std_decode(STANDARD.encode(&bytes)), Some(bytes));
    }
}

#[test]
fn the_edge_cases_match_too() {
    for text in [
        "", "A", "AA", "AAA", "AAAA", "AQ", "AR", "AQ=", "AQ==", "AQ===", "AQI", "AQJ", "AQI=",
        "AQJ=", "=", "==", "====", "A===", "AA=A", "AAA=AAAA", "AAAA====", "-_8", "+/8", "-_8=",
        "+/8=", "YW Jj", "YWJj\n",
    ] {
        assert_eq!(
            b64::url_decode(text),
            URL_SAFE_NO_PAD.decode(text).ok(),
            "url {text:?}"
        );
        assert_eq!(
            b64::std_decode(text),
            STANDARD.decode(text).ok(),
            "std {text:?}"
        );
    }
}
