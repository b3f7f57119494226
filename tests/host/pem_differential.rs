//! The PEM import against the one it replaced (`spki` and `pkcs1` over `der` and
//! `pem-rfc7468`), kept here as the oracle: on every input both must give the same JWK or the
//! same refusal. Inputs are real keys, hand-made DER of every shape the reader distinguishes,
//! exhaustive one-byte edits of those, re-wrapped armour, and random compositions of all of it.
//!
//! `PROPTEST_CASES=1000000 cargo test --test host pem_differential -- --nocapture` is the long
//! run; each test prints how many inputs it compared.

use std::sync::atomic::{AtomicUsize, Ordering};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use edgeauth::jose::pem::jwk_from_pem;
use edgeauth::jose::{JoseError, PublicJwk};
use edgeauth::support::b64::b64url;
use edgeauth::support::text::printable;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use serde_json::Value;

use crate::pem_inputs::{pem, real_keys, real_pems, shaped_ders, wrap};

/// The import as it was before src/jose/der.rs, word for word.
fn old_jwk_from_pem(pem: &str) -> Result<PublicJwk, JoseError> {
    use pkcs1::der::Decode;
    const BAD: &str = "public_key_pem is not a PEM-encoded public key";
    let (label, der) =
        pkcs1::der::pem::decode_vec(pem.trim().as_bytes()).map_err(|_| BAD.to_string())?;
    let rsa = |bytes: &[u8]| -> Result<Value, JoseError> {
        let k = pkcs1::RsaPublicKeyRef::from_der(bytes).map_err(|_| BAD.to_string())?;
        Ok(serde_json::json!({
            "kty": "RSA",
            "n": b64url(k.modulus.as_bytes()),
            "e": b64url(k.public_exponent.as_bytes()),
        }))
    };
    let jwk = match label {
        "RSA PUBLIC KEY" => rsa(&der)?,
        "PUBLIC KEY" => {
            let spki =
                spki::SubjectPublicKeyInfoRef::from_der(&der).map_err(|_| BAD.to_string())?;
            let raw = spki.subject_public_key.raw_bytes();
            match spki.algorithm.oid.to_string().as_str() {
                "1.2.840.113549.1.1.1" => rsa(raw)?,
                "1.3.101.112" => {
                    serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)})
                }
                "1.2.840.10045.2.1" => {
                    let curve = spki
                        .algorithm
                        .parameters_oid()
                        .map(|o| o.to_string())
                        .unwrap_or_default();
                    if curve != "1.2.840.10045.3.1.7" {
                        return Err("EC public keys must be on curve P-256".into());
                    }
                    if raw.len() != 65 || raw[0] != 4 {
                        return Err("the P-256 public key must be an uncompressed point".into());
                    }
                    serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64url(&raw[1..33]), "y": b64url(&raw[33..])})
                }
                other => return Err(format!("public key algorithm {other} is not supported")),
            }
        }
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            return Err("public_key_pem holds a private key; register the public key only".into())
        }
        other => {
            return Err(format!(
                "PEM label '{}' is not a public key",
                printable(other)
            ))
        }
    };
    PublicJwk::validate(&jwk)
}

/// Counts, per outcome, what the comparisons saw, so a run can show it reached every branch.
#[derive(Default)]
struct Tally {
    total: AtomicUsize,
    accepted: AtomicUsize,
}

impl Tally {
    fn report(&self, name: &str) {
        eprintln!(
            "{name}: {} inputs compared, {} accepted by both",
            self.total.load(Ordering::Relaxed),
            self.accepted.load(Ordering::Relaxed)
        );
    }
}

fn same(tally: &Tally, pem: &str) {
    let (old, new) = (old_jwk_from_pem(pem), jwk_from_pem(pem));
    assert_eq!(old, new, "input: {pem:?}");
    tally.total.fetch_add(1, Ordering::Relaxed);
    if new.is_ok() {
        tally.accepted.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn real_and_shaped_keys_import_alike() {
    let tally = Tally::default();
    for text in real_pems() {
        same(&tally, &text);
    }
    for (label, der) in real_keys().into_iter().chain(shaped_ders()) {
        same(&tally, &pem(label, &der));
    }
    tally.report("real and shaped keys");
}

/// Every one-byte change of each real key's DER: each byte replaced by a handful of values,
/// removed, or preceded by another; and every truncation and a few extensions.
#[test]
fn every_der_byte_edit_imports_alike() {
    let tally = Tally::default();
    for (label, der) in real_keys() {
        for i in 0..der.len() {
            let b = der[i];
            for v in [
                b ^ 1,
                b ^ 0x80,
                b.wrapping_add(1),
                b.wrapping_sub(1),
                0,
                0xFF,
                0x7F,
                0x81,
            ] {
                let mut d = der.clone();
                d[i] = v;
                same(&tally, &pem(label, &d));
            }
            let mut d = der.clone();
            d.remove(i);
            same(&tally, &pem(label, &d));
            for v in [0u8, 0x80] {
                let mut d = der.clone();
                d.insert(i, v);
                same(&tally, &pem(label, &d));
            }
            same(&tally, &pem(label, &der[..i]));
        }
        for tail in [&[0u8][..], &[0, 0], &[5, 0], &[0x30, 0x00]] {
            same(&tally, &pem(label, &[der.clone(), tail.to_vec()].concat()));
        }
    }
    tally.report("DER byte edits");
}

/// Every one-character change of each real PEM's text, with the characters the armour rules
/// turn on.
#[test]
fn every_text_edit_imports_alike() {
    let tally = Tally::default();
    let chars = [
        "\n", "\r", "\r\n", " ", "\t", "=", "-", "A", "/", "+", "\0", ":", "é", "_", "a",
    ];
    let pems = real_pems();
    // One RSA PEM is enough for the long keys: every position of it is already visited.
    for text in pems.iter().filter(|p| p.len() < 500).take(6) {
        for (i, _) in text.char_indices() {
            let (head, tail) = text.split_at(i);
            let rest = &tail[tail.chars().next().unwrap().len_utf8()..];
            same(&tally, &format!("{head}{rest}"));
            for c in chars {
                same(&tally, &format!("{head}{c}{rest}"));
                same(&tally, &format!("{head}{c}{tail}"));
            }
            same(&tally, head);
        }
    }
    tally.report("text edits");
}

/// Each real key's base64 laid out every way: line widths, line endings, blank lines, padding,
/// preambles, labels and dashes.
#[test]
fn armour_variants_import_alike() {
    let tally = Tally::default();
    let labels = [
        "PUBLIC KEY",
        "RSA PUBLIC KEY",
        "PUBLIC KEY ",
        "PUBLIC\tKEY",
        "PUBLIC  KEY",
        " PUBLIC KEY",
        "PUBLIC-KEY",
        "",
        "PRIVATE KEY",
        "CERTIFICATE",
        "public key",
        "PUBLIC KEY\u{7f}",
    ];
    for (real_label, der) in real_keys() {
        let b64 = STANDARD.encode(&der);
        let bodies = [
            String::new(),
            b64.clone(),
            b64.trim_end_matches('=').to_string(),
            format!("{b64}="),
            format!("{}==", b64.trim_end_matches('=')),
        ];
        for body in &bodies {
            for width in (1..=80).chain([96, 128, 1000]) {
                for eol in ["\n", "\r\n", "\r"] {
                    same(&tally, &wrap(real_label, body, width, eol));
                }
            }
            for label in labels {
                same(&tally, &wrap(label, body, 64, "\n"));
            }
            for blanks in 0..4 {
                for eol in ["\n", "\r\n", "\r"] {
                    let full = wrap(real_label, body, 64, eol);
                    let at = full.find("-----END").unwrap();
                    let text = format!("{}{}{}", &full[..at], eol.repeat(blanks), &full[at..]);
                    same(&tally, &text);
                    let text = format!("{}{}{}", eol.repeat(blanks), &full, eol.repeat(blanks));
                    same(&tally, &text);
                    let (b, rest) = full.split_once(eol).unwrap();
                    same(&tally, &format!("{b}{eol}{}{rest}", eol.repeat(blanks)));
                }
            }
        }
        let full = pem(real_label, &der);
        for preamble in [
            "x\n", "x\r\n", "x\r", "x", "\0\n", "a\0b\n", "\n\n", " \n", "é\n",
        ] {
            same(&tally, &format!("{preamble}{full}"));
            same(&tally, &format!("{full}{preamble}"));
        }
        for (from, to) in [
            ("-----BEGIN", "----BEGIN"),
            ("-----BEGIN", "------BEGIN"),
            ("KEY-----\n", "KEY----\n"),
            ("KEY-----\n", "KEY------\n"),
            ("-----END", "----END"),
            ("-----END", "------END"),
            ("-----END ", "-----END"),
            ("BEGIN ", "BEGIN  "),
            ("END ", "END  "),
            ("BEGIN", "begin"),
            ("\n", ":\n"),
            ("\n", "\nProc-Type: 4,ENCRYPTED\n\n"),
        ] {
            same(&tally, &full.replacen(from, to, 1));
            same(&tally, &full.replace(from, to));
        }
        let end_label = full.replacen("END PUBLIC KEY", "END RSA PUBLIC KEY", 1);
        same(&tally, &end_label);
        same(&tally, &format!("{full}{full}"));
    }
    tally.report("armour variants");
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2000);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A DER input: a real or shaped one, with up to three random byte edits.
fn der_input() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    let edit = (any::<prop::sample::Index>(), 0u8..4, any::<u8>());
    (
        prop_oneof![
            prop::sample::select(real_keys()),
            prop::sample::select(shaped_ders()),
        ],
        prop_oneof![Just(vec![]), prop::collection::vec(edit, 1..4),],
    )
        .prop_map(|((label, mut der), edits)| {
            for (at, kind, byte) in edits {
                let i = at.index(der.len() + 1);
                match kind {
                    0 if i < der.len() => der[i] = byte,
                    1 => der.insert(i, byte),
                    2 => der.truncate(i),
                    _ if i < der.len() => {
                        der.remove(i);
                    }
                    _ => der.push(byte),
                }
            }
            (label, der)
        })
}

/// Armour around a DER input, laid out at random, then a few random character edits.
fn pem_input() -> impl Strategy<Value = String> {
    let layout = (
        prop::sample::select(vec![64usize, 64, 64, 64, 64, 1, 3, 4, 8, 63, 65, 76, 128]),
        prop::sample::select(vec!["\n", "\r\n", "\r"]),
        0usize..3,
        prop::sample::select(vec![0u8, 0, 0, 1, 2]),
        prop::sample::select(vec!["", "", "", "x\n", "\0\n", " "]),
    );
    let text_edit = (
        any::<prop::sample::Index>(),
        0u8..3,
        prop::sample::select(vec!['\n', '\r', ' ', '\t', '=', '-', 'A', ':', '\0', 'é']),
    );
    (
        der_input(),
        prop::sample::select(vec!["PUBLIC KEY", "RSA PUBLIC KEY", "PRIVATE KEY", "X "]),
        prop::bool::weighted(0.8),
        layout,
        prop_oneof![Just(vec![]), prop::collection::vec(text_edit, 1..3),],
    )
        .prop_map(|((label, der), other_label, keep_label, layout, edits)| {
            let (width, eol, blanks, padding, preamble) = layout;
            let label = if keep_label { label } else { other_label };
            let mut b64 = STANDARD.encode(&der);
            match padding {
                1 => b64 = b64.trim_end_matches('=').to_string(),
                2 => b64.push('='),
                _ => {}
            }
            let full = wrap(label, &b64, width, eol);
            let at = full.find("-----END").unwrap();
            let mut text: Vec<char> = format!(
                "{preamble}{}{}{}",
                &full[..at],
                eol.repeat(blanks),
                &full[at..]
            )
            .chars()
            .collect();
            for (at, kind, c) in edits {
                let i = at.index(text.len() + 1);
                match kind {
                    0 if i < text.len() => text[i] = c,
                    1 => text.insert(i, c),
                    _ if i < text.len() => {
                        text.remove(i);
                    }
                    _ => text.push(c),
                }
            }
            text.into_iter().collect()
        })
}

#[test]
fn random_inputs_import_alike() {
    let tally = Tally::default();
    let inputs = prop_oneof![
        4 => pem_input(),
        1 => any::<String>(),
        1 => (prop::sample::select(vec!["PUBLIC KEY", "RSA PUBLIC KEY", "X"]), any::<Vec<u8>>())
            .prop_map(|(label, der)| pem(label, &der)),
    ];
    // A runner of our own rather than `proptest!`, so the tally can be reported at the end.
    TestRunner::new(config())
        .run(&inputs, |text| {
            same(&tally, &text);
            Ok(())
        })
        .unwrap();
    tally.report("random inputs");
}
