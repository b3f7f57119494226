//! The little of an X.509 certificate (RFC 5280) that registering one for
//! `self_signed_tls_client_auth` needs: its SHA-256 fingerprint, subject DN and validity.
//! Nothing here checks a signature or a chain: a registered certificate is trusted because an
//! admin uploaded it, and matched by fingerprint alone.

use sha2::{Digest, Sha256};

use crate::jose::der::{self, Reader};
use crate::jose::pem::armoured;

/// What is kept of an uploaded certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// SHA-256 of the DER: what `certFingerprintSHA256` and `x5t#S256` are made of.
    pub fingerprint: [u8; 32],
    /// The subject DN as RFC 2253 text.
    pub subject: String,
    /// Start of validity (epoch seconds; 0 for earlier dates).
    pub not_before: u64,
    /// End of validity (epoch seconds).
    pub not_after: u64,
}

const NOT_X509: &str = "certificate is not an X.509 certificate";

/// Reads one PEM `CERTIFICATE`.
pub fn certificate_from_pem(pem: &str) -> Result<Certificate, &'static str> {
    // A private key, say, is refused as any other label is; the admin page warns first.
    match armoured(pem.trim().as_bytes()) {
        Some(("CERTIFICATE", der)) => certificate(&der).ok_or(NOT_X509),
        _ => Err("certificate is not one PEM CERTIFICATE"),
    }
}

/// Reads a DER certificate: `SEQUENCE { tbsCertificate, signatureAlgorithm, signature }`, and
/// of the TBS: the optional `[0]` version, serial, signature algorithm, issuer, validity and
/// subject; the rest (key, extensions) is left unread.
fn certificate(der: &[u8]) -> Option<Certificate> {
    let mut outer = Reader::new(der);
    let mut cert = Reader::new(outer.read(der::SEQUENCE)?);
    let mut tbs = Reader::new(cert.read(der::SEQUENCE)?);
    cert.read(der::SEQUENCE)?;
    der::bit_string(cert.read(der::BIT_STRING)?)?;
    if !(outer.is_empty() && cert.is_empty()) {
        return None;
    }
    if tbs.remaining().first() == Some(&0xA0) {
        tbs.any()?;
    }
    tbs.read(der::INTEGER)?;
    tbs.read(der::SEQUENCE)?;
    tbs.read(der::SEQUENCE)?;
    let mut validity = Reader::new(tbs.read(der::SEQUENCE)?);
    let not_before = time(validity.any()?)?;
    let not_after = time(validity.any()?)?;
    let subject = name(tbs.read(der::SEQUENCE)?)?;
    tbs.read(der::SEQUENCE)?;
    validity.is_empty().then_some(Certificate {
        fingerprint: Sha256::digest(der).into(),
        subject,
        not_before,
        not_after,
    })
}

/// A `Name` as RFC 2253 text: the last RDN first, as OpenSSL prints it (its attribute values
/// in reverse too, joined by `+`; an RDN is told by the bytes left after it); the attribute
/// types below by name, any other by dotted OID with its value as `#` and the hex of its DER
/// (lower case; RFC 2253 takes either).
fn name(content: &[u8]) -> Option<String> {
    let mut atvs: Vec<(usize, &[u8])> = Vec::new();
    let mut rdns = Reader::new(content);
    while !rdns.is_empty() {
        let mut set = Reader::new(rdns.read(0x31)?);
        while !set.is_empty() {
            atvs.push((rdns.remaining().len(), set.read(der::SEQUENCE)?));
        }
    }
    let mut out = String::new();
    let mut last = usize::MAX;
    for (set, atv) in atvs.into_iter().rev() {
        if !out.is_empty() {
            out.push(if last == set { '+' } else { ',' });
        }
        last = set;
        let mut atv = Reader::new(atv);
        let oid = atv.read(der::OID)?;
        let raw = atv.remaining();
        let (tag, value) = atv.any()?;
        if !atv.is_empty() {
            return None;
        }
        let short = short_name(oid);
        match short {
            Some(short) => out.push_str(short),
            None => out.push_str(&der::oid(oid)?),
        }
        out.push('=');
        match (short, string_value(tag, value)) {
            (Some(_), Some(s)) => escape(s, &mut out),
            _ => {
                out.push('#');
                push_hex(&mut out, raw);
            }
        }
    }
    Some(out)
}

/// Appends the lower-case hex of `bytes`.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// The names of the attribute types most subject DNs use (RFC 4519).
fn short_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x0A] => "O",
        [0x55, 0x04, 0x0B] => "OU",
        _ => return None,
    })
}

/// The text of a directory string: UTF8String, PrintableString, IA5String and TeletexString
/// (taken as UTF-8, as most writers mean it); any other (BMPString, UniversalString) is shown
/// as `#` and hex, as RFC 2253 allows for any value.
fn string_value(tag: u8, value: &[u8]) -> Option<&str> {
    match tag {
        0x0C | 0x13 | 0x14 | 0x16 => std::str::from_utf8(value).ok(),
        _ => None,
    }
}

/// Appends `value` escaped as RFC 2253 section 2.4 asks: a backslash before `,+"\<>;`, a
/// leading `#` or space and a trailing space; control characters as `\XX`.
fn escape(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => out.push('\\'),
            '#' if i == 0 => out.push('\\'),
            ' ' if i == 0 || i == last => out.push('\\'),
            c if c.is_ascii_control() => {
                out.push('\\');
                push_hex(out, &[c as u8]);
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
}

/// A `Time` (RFC 5280 section 4.1.2.5) as epoch seconds: UTCTime `YYMMDDHHMMSSZ` (years 50 to
/// 99 are 19xx) or GeneralizedTime `YYYYMMDDHHMMSSZ`; times before 1970 read as 0.
fn time((tag, content): (u8, &[u8])) -> Option<u64> {
    let digits = content.strip_suffix(b"Z")?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |i: usize| i64::from(digits[i] - b'0') * 10 + i64::from(digits[i + 1] - b'0');
    let (year, rest) = match (tag, digits.len()) {
        (0x17, 12) => (if n(0) >= 50 { 1900 } else { 2000 } + n(0), 2),
        (0x18, 14) => (n(0) * 100 + n(2), 4),
        _ => return None,
    };
    let (month, day) = (n(rest), n(rest + 2));
    let (hour, minute, second) = (n(rest + 4), n(rest + 6), n(rest + 8));
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `openssl req -x509 -newkey ed25519 -multivalue-rdn -subj "/C=US/ST=CA/L=San Francisco/O=Acme, Inc./OU=Eng+OU=Ops/CN=client.example/emailAddress=a@b.example/serialNumber=42"`
    const CERT: &str = include_str!("../../tests/seeds/cert/acme.pem");

    #[test]
    fn a_certificate_gives_fingerprint_subject_and_validity() {
        let c = certificate_from_pem(CERT).unwrap();
        assert_eq!(
            c.subject,
            "2.5.4.5=#13023432,1.2.840.113549.1.9.1=#160b6140622e6578616d706c65,CN=client.example,OU=Ops+OU=Eng,O=Acme\\, Inc.,L=San Francisco,ST=CA,C=US"
        );
        let hex: String = c.fingerprint.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(
            hex,
            "C7081976BA1ADA099540EE7827C23A065286187DCEF65A4487036A686C6DC38B"
        );
        // notBefore=Dec 7 13:57:44 2026 GMT, notAfter=Dec 4 13:57:44 2036 GMT
        assert_eq!(c.not_before, 1_796_651_864);
        assert_eq!(c.not_after, 2_112_011_864);
    }

    #[test]
    fn times_read_both_forms() {
        assert_eq!(time((0x17, b"700101000000Z")), Some(0));
        assert_eq!(time((0x17, b"491231235959Z")), Some(2_524_607_999));
        assert_eq!(time((0x17, b"500101000000Z")), Some(0), "1950 reads as 0");
        assert_eq!(time((0x18, b"20000229120000Z")), Some(951_825_600));
        for bad in [
            &b"700101000000"[..],
            b"7001010000Z",
            b"701301000000Z",
            b"70010100000aZ",
            b"19700101000000Z",
        ] {
            assert_eq!(time((0x17, bad)), None, "{bad:?}");
        }
        assert_eq!(time((0x04, b"700101000000Z")), None);
    }

    #[test]
    fn values_are_escaped_as_rfc_2253_asks() {
        let mut out = String::new();
        escape("#a,b+c\"d\\e<f>g;h ", &mut out);
        assert_eq!(out, "\\#a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\ ");
        out.clear();
        escape(" x\ny", &mut out);
        assert_eq!(out, "\\ x\\0ay");
    }

    #[test]
    fn other_documents_are_refused_with_a_reason() {
        assert_eq!(
            certificate_from_pem("nope").unwrap_err(),
            "certificate is not one PEM CERTIFICATE"
        );
        let key = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        assert_eq!(
            certificate_from_pem(key).unwrap_err(),
            "certificate is not one PEM CERTIFICATE"
        );
        let not_der = "-----BEGIN CERTIFICATE-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END CERTIFICATE-----\n";
        assert_eq!(certificate_from_pem(not_der).unwrap_err(), NOT_X509);
        let two = format!("{CERT}{CERT}");
        assert!(certificate_from_pem(&two).is_err());
    }
}
