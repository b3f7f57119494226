//! Inputs for tests/host/pem_differential.rs: real keys of each kind, DER built in every
//! shape the PEM import tells apart, and PEM armour laid out at will.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::verifier::rsa_key;

/// A DER value with a minimal length.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    tlv_with(&[tag], LenForm::Minimal, content)
}

/// How a length is written: right, or in one of the ways `der` refuses or reads differently.
#[derive(Clone, Copy, Debug)]
pub enum LenForm {
    Minimal,
    /// The long form with this many bytes, needed or not.
    Long(u8),
    Indefinite,
    /// The minimal form of the length plus this (wrapping) delta.
    Off(i8),
}

pub fn tlv_with(tag: &[u8], form: LenForm, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut out = tag.to_vec();
    let minimal = |n: usize| -> Vec<u8> {
        if n < 0x80 {
            vec![n as u8]
        } else {
            let bytes: Vec<u8> = n
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            [vec![0x80 | bytes.len() as u8], bytes].concat()
        }
    };
    match form {
        LenForm::Minimal => out.extend(minimal(n)),
        LenForm::Long(k) => {
            out.push(0x80 | k);
            let be = (n as u64).to_be_bytes();
            out.extend(&be[8 - usize::from(k).min(8)..]);
        }
        LenForm::Indefinite => out.push(0x80),
        LenForm::Off(d) => out.extend(minimal(n.wrapping_add_signed(isize::from(d)))),
    }
    out.extend_from_slice(content);
    out
}

/// The 64-column PEM armour of `der`.
pub fn pem(label: &str, der: &[u8]) -> String {
    wrap(label, &STANDARD.encode(der), 64, "\n")
}

pub fn wrap(label: &str, text: &str, width: usize, eol: &str) -> String {
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(width.max(1))
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----{eol}{}{eol}-----END {label}-----{eol}",
        lines.join(eol)
    )
}

pub const RSA_OID: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
pub const ED_OID: &[u8] = &[0x2B, 0x65, 0x70];
pub const EC_OID: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
pub const P256_OID: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

pub fn spki_der(oid: &[u8], params: Option<&[u8]>, key: &[u8]) -> Vec<u8> {
    let algorithm = [tlv(0x06, oid), params.unwrap_or_default().to_vec()].concat();
    let bits = tlv(0x03, &[&[0][..], key].concat());
    tlv(0x30, &[tlv(0x30, &algorithm), bits].concat())
}

pub fn pkcs1_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    tlv(0x30, &[tlv(0x02, n), tlv(0x02, e)].concat())
}

/// A real key of each kind, as DER, with the label it goes under.
pub fn real_keys() -> Vec<(&'static str, Vec<u8>)> {
    use rsa::traits::PublicKeyParts;
    let rsa = rsa_key();
    let n = [&[0][..], &rsa.n().to_bytes_be()].concat();
    let e = rsa.e().to_bytes_be();
    let pkcs1 = pkcs1_der(&n, &e);
    let ed = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let ec = p256::ecdsa::SigningKey::from_slice(&[9; 32]).unwrap();
    let point = ec.verifying_key().to_encoded_point(false);
    vec![
        ("RSA PUBLIC KEY", pkcs1.clone()),
        ("PUBLIC KEY", spki_der(RSA_OID, Some(&[5, 0]), &pkcs1)),
        (
            "PUBLIC KEY",
            spki_der(ED_OID, None, ed.verifying_key().as_bytes()),
        ),
        (
            "PUBLIC KEY",
            spki_der(EC_OID, Some(&tlv(0x06, P256_OID)), point.as_bytes()),
        ),
    ]
}

/// PEMs made by the key libraries themselves and the fixed ones the fuzz tests start from.
pub fn real_pems() -> Vec<String> {
    use p256::pkcs8::{EncodePublicKey, LineEnding};
    use rsa::pkcs1::EncodeRsaPublicKey;
    let rsa = rsa_key().to_public_key();
    let ec = p256::ecdsa::SigningKey::from_slice(&[3; 32]).unwrap();
    let mut pems = vec![
        rsa.to_pkcs1_pem(LineEnding::LF).unwrap(),
        rsa.to_pkcs1_pem(LineEnding::CRLF).unwrap(),
        rsa::pkcs8::EncodePublicKey::to_public_key_pem(&rsa, LineEnding::LF).unwrap(),
        ec.verifying_key().to_public_key_pem(LineEnding::LF).unwrap(),
        ec.verifying_key().to_public_key_pem(LineEnding::CR).unwrap(),
        // RFC 8410 section 10.1.
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n".into(),
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n".into(),
    ];
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds/pem");
    for f in std::fs::read_dir(seeds).unwrap() {
        pems.push(std::fs::read_to_string(f.unwrap().path()).unwrap());
    }
    pems.extend(real_keys().iter().map(|(label, der)| pem(label, der)));
    pems
}

/// DER of every shape the reader tells apart: lengths, tags, OIDs, parameters, bit strings,
/// integers, trailing bytes, at each level.
pub fn shaped_ders() -> Vec<(&'static str, Vec<u8>)> {
    let keys = real_keys();
    let (pkcs1, ed_key) = (&keys[0].1, &keys[2].1[12..]);
    let point = keys[3].1[keys[3].1.len() - 65..].to_vec();
    let mut out: Vec<(&str, Vec<u8>)> = Vec::new();
    let oids: Vec<Vec<u8>> = vec![
        RSA_OID.into(),
        ED_OID.into(),
        EC_OID.into(),
        P256_OID.into(),
        vec![0x2B, 0x65, 0x80, 0x70],
        vec![0x2B, 0x65, 0x80, 0x80, 0x70],
        vec![0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x81],
        vec![0x2B, 0x65, 0x71],
        vec![0x2B],
        vec![0x2B, 0x65],
        vec![],
        vec![0x00],
        vec![0x77, 0x01],
        vec![0x78, 0x01],
        vec![0x80, 0x01],
        vec![0x2B, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F],
        vec![0x2B, 0x90, 0x80, 0x80, 0x80, 0x00],
        vec![0x2B, 0x65, 0xF0],
        [&[0x2B][..], &[0x01; 38]].concat(),
        [&[0x2B][..], &[0x01; 39]].concat(),
        [&[0x80; 2][..], &[0x01; 3]].concat(),
    ];
    let params: Vec<Option<Vec<u8>>> = vec![
        None,
        Some(vec![0x05, 0x00]),
        Some(vec![0x05, 0x01, 0x00]),
        Some(tlv(0x06, P256_OID)),
        Some(tlv(
            0x06,
            &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x80, 0x07],
        )),
        Some(tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x08])),
        Some(tlv(0x06, &[0x78])),
        Some(tlv(0x06, &[])),
        Some(tlv(0x26, P256_OID)),
        Some(tlv(0x30, &tlv(0x06, P256_OID))),
        Some(tlv(0x30, &[])),
        Some(tlv(0x31, &[])),
        Some(tlv(0x10, &[])),
        Some(tlv(0x07, &[])),
        Some(tlv(0x00, &[])),
        Some(tlv(0x1F, &[])),
        Some(tlv(0xA0, &[1, 2])),
        Some(vec![0x9F, 0x1F, 0x00]),
        Some(vec![0x9F, 0x1E, 0x00]),
        Some(vec![0xBF, 0x80, 0x20, 0x00]),
        Some(vec![0x5F, 0x81, 0x00, 0x00]),
        Some(vec![0xDF, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x00]),
        Some(vec![0xDF, 0x90, 0x80, 0x80, 0x80, 0x00, 0x00]),
        Some(vec![0xDF, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00]),
        Some(vec![0x9F]),
        Some(vec![0x05]),
        Some(vec![0x05, 0x00, 0x05, 0x00]),
        Some(vec![0x05, 0x81, 0x00]),
        Some(vec![0x0C, 0x02, 0xFF, 0xFF]),
        Some(vec![0x01, 0x01, 0x07]),
    ];
    let keys_in_bits: Vec<Vec<u8>> = vec![
        pkcs1.clone(),
        ed_key.to_vec(),
        point.clone(),
        point[..33].to_vec(),
        [&[2][..], &point[1..33]].concat(),
        vec![],
    ];
    for oid in &oids {
        for p in &params {
            for key in &keys_in_bits {
                for unused in [0u8, 1, 7, 8] {
                    let algorithm = [tlv(0x06, oid), p.clone().unwrap_or_default()].concat();
                    let bits = tlv(0x03, &[&[unused][..], key].concat());
                    let der = tlv(0x30, &[tlv(0x30, &algorithm), bits].concat());
                    out.push(("PUBLIC KEY", der));
                }
            }
        }
    }
    // Every first tag byte as parameters, for the tags `der` knows and those it refuses.
    for tag in 0..=255u8 {
        for p in [vec![tag, 0x00], vec![tag, 0x1F, 0x00], tlv(tag, P256_OID)] {
            out.push(("PUBLIC KEY", spki_der(ED_OID, Some(&p), ed_key)));
            out.push(("PUBLIC KEY", spki_der(EC_OID, Some(&p), &point)));
        }
    }
    let ints: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        vec![0, 0],
        vec![1],
        vec![0, 1],
        vec![0x7F],
        vec![0x80],
        vec![0, 0x80],
        vec![0, 0, 0x80],
        vec![0xFF, 0x01],
        vec![1, 0, 1],
        vec![0, 1, 0, 1],
        pkcs1[4..4 + 257].to_vec(),
        pkcs1[5..4 + 257].to_vec(),
        pkcs1[6..4 + 257].to_vec(),
    ];
    for n in &ints {
        for e in &ints {
            out.push(("RSA PUBLIC KEY", pkcs1_der(n, e)));
            out.push((
                "PUBLIC KEY",
                spki_der(RSA_OID, Some(&[5, 0]), &pkcs1_der(n, e)),
            ));
        }
    }
    // Lengths written every way, at each level of each real key.
    let forms = [
        LenForm::Minimal,
        LenForm::Long(1),
        LenForm::Long(2),
        LenForm::Long(3),
        LenForm::Long(4),
        LenForm::Long(5),
        LenForm::Indefinite,
        LenForm::Off(1),
        LenForm::Off(-1),
    ];
    let n = &pkcs1[4..4 + 257];
    let e = &pkcs1[pkcs1.len() - 3..];
    for a in forms {
        for b in forms {
            let inner = [tlv_with(&[2], a, n), tlv_with(&[2], b, e)].concat();
            for c in forms {
                out.push(("RSA PUBLIC KEY", tlv_with(&[0x30], c, &inner)));
            }
            let algorithm = tlv_with(&[0x30], a, &[tlv(0x06, ED_OID), vec![5, 0]].concat());
            let bits = tlv_with(&[3], b, &[&[0][..], ed_key].concat());
            for c in forms {
                out.push((
                    "PUBLIC KEY",
                    tlv_with(&[0x30], c, &[algorithm.clone(), bits.clone()].concat()),
                ));
            }
            let oid = tlv_with(&[6], a, EC_OID);
            let curve = tlv_with(&[6], b, P256_OID);
            let algorithm = tlv(0x30, &[oid, curve].concat());
            out.push((
                "PUBLIC KEY",
                tlv(
                    0x30,
                    &[algorithm, tlv(3, &[&[0][..], &point].concat())].concat(),
                ),
            ));
        }
    }
    // Trailing bytes at each level.
    for junk in [&[0u8][..], &[5, 0], &[0x30, 0]] {
        let pk = [tlv(2, n), tlv(2, e), junk.to_vec()].concat();
        out.push(("RSA PUBLIC KEY", tlv(0x30, &pk)));
        out.push(("RSA PUBLIC KEY", [pkcs1.clone(), junk.to_vec()].concat()));
        let alg = tlv(0x30, &[tlv(6, ED_OID), vec![5, 0], junk.to_vec()].concat());
        let bits = tlv(3, &[&[0][..], ed_key].concat());
        out.push((
            "PUBLIC KEY",
            tlv(0x30, &[alg, bits.clone(), junk.to_vec()].concat()),
        ));
    }
    out
}
