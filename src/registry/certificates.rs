//! Client certificates (RFC 8705): the certificates a `self_signed_tls_client_auth` client
//! registers, stored in its record by SHA-256 fingerprint with the subject and validity shown
//! to admins, and the rule for the `tls_client_auth_subject_dn` a `tls_client_auth` client
//! registers.

use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::jose::x509::{certificate_from_pem, push_hex};
use crate::support::b64::b64url;
use crate::support::text::is_clean;
use crate::support::time::rfc3339;

/// Most certificates one client registers.
pub const MAX_CERTIFICATES: usize = 10;
/// Longest PEM text accepted for one certificate; a client certificate is 1 to 2 KB.
pub const MAX_CERTIFICATE_PEM: usize = 8 * 1024;
/// Longest registered subject DN.
pub const MAX_SUBJECT_DN: usize = crate::http::client_cert::MAX_SUBJECT_DN;

/// A registered certificate: never the certificate itself, which nothing needs. Stored in
/// the client's record as one line of text, `"<fingerprint> <not_before> <not_after>
/// <created_at> <subject>"` (the subject, which may hold spaces, last): the record reads a list
/// of strings with a reader the wasm has anyway, where a struct's derived reader cost about
/// 1 KB more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCertificate {
    /// SHA-256 of the DER, 64 lower-case hex digits.
    pub fingerprint: String,
    /// Subject DN, RFC 2253 text (for admins; matching is by fingerprint).
    pub subject: String,
    /// Start of validity (epoch seconds).
    pub not_before: u64,
    /// End of validity (epoch seconds).
    pub not_after: u64,
    /// When it was registered (epoch seconds).
    pub created_at: u64,
}

impl StoredCertificate {
    /// Its stored line.
    pub fn line(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.fingerprint, self.not_before, self.not_after, self.created_at, self.subject
        )
    }

    /// Reads a stored line; `None` for a malformed one (which then matches nothing).
    pub fn parse(line: &str) -> Option<StoredCertificate> {
        let mut parts = line.splitn(5, ' ');
        let fingerprint = parts.next()?.to_string();
        let mut number = || parts.next()?.parse::<u64>().ok();
        let (not_before, not_after, created_at) = (number()?, number()?, number()?);
        Some(StoredCertificate {
            fingerprint,
            not_before,
            not_after,
            created_at,
            subject: parts.next()?.to_string(),
        })
    }

    /// How the guard names it once removed, so that a stale KV copy elsewhere stops accepting
    /// it within the cache TTL.
    pub fn guard_name(&self) -> String {
        guard_name(&self.fingerprint)
    }
}

/// The guard's name of a removed certificate, by its hex fingerprint.
pub fn guard_name(fingerprint_hex: &str) -> String {
    format!("cert:{fingerprint_hex}")
}

/// Lower-case hex of a fingerprint.
pub fn hex(fingerprint: &[u8; 32]) -> String {
    let mut out = String::with_capacity(64);
    push_hex(&mut out, fingerprint);
    out
}

/// The `x5t#S256` of a certificate given by its hex fingerprint (RFC 8705 section 3.1).
pub fn x5t_s256(fingerprint: &[u8; 32]) -> String {
    b64url(fingerprint)
}

/// The admin's upload, `{"certificate": "<PEM>"}`: the PEM text. Read from the JSON value by
/// hand, as federated credentials are, rather than through a derived reader.
pub fn input(body: serde_json::Value) -> Result<String, Error> {
    let pem = match &body {
        serde_json::Value::Object(members) if members.len() == 1 => members.get("certificate"),
        _ => None,
    };
    match pem {
        Some(serde_json::Value::String(pem)) => Ok(pem.clone()),
        _ => Err(Error::invalid_request(UPLOAD)),
    }
}

const UPLOAD: &str = "the body must be {\"certificate\": \"<PEM>\"} alone";

/// Adds the uploaded certificate to a client's `registered` ones (stored lines) at `now`: at
/// most [`MAX_CERTIFICATES`], no duplicate, and not expired. Answers the certificate. (Only
/// `self_signed_tls_client_auth` clients register any: the admin API checks that first.)
pub fn add(registered: &mut Vec<String>, pem: &str, now: u64) -> Result<StoredCertificate, Error> {
    if registered.len() >= MAX_CERTIFICATES {
        return Err(Error::Conflict(
            format!(
                "a client may register at most {MAX_CERTIFICATES} certificates; delete one first"
            )
            .into(),
        ));
    }
    if pem.len() > MAX_CERTIFICATE_PEM {
        return Err(Error::invalid_request(format!(
            "certificate is longer than {MAX_CERTIFICATE_PEM} bytes"
        )));
    }
    let cert = certificate_from_pem(pem).map_err(Error::invalid_request)?;
    if cert.not_after <= now {
        return Err(Error::InvalidRequest(
            format!("the certificate expired at {}", rfc3339(cert.not_after)).into(),
        ));
    }
    let fingerprint = hex(&cert.fingerprint);
    if position(registered, &fingerprint).is_some() {
        return Err(Error::Conflict(
            "the client already has this certificate".into(),
        ));
    }
    let stored = StoredCertificate {
        fingerprint,
        subject: cert.subject,
        not_before: cert.not_before,
        not_after: cert.not_after,
        created_at: now,
    };
    registered.push(stored.line());
    Ok(stored)
}

/// The registered certificate whose fingerprint is `presented`, compared in constant time with
/// every one of them.
pub fn find(registered: &[String], presented: &[u8; 32]) -> Option<StoredCertificate> {
    let presented = hex(presented);
    let mut found = None;
    for line in registered {
        let fingerprint = line.as_bytes().get(..64).unwrap_or_default();
        if bool::from(fingerprint.ct_eq(presented.as_bytes())) {
            found = Some(line);
        }
    }
    found.and_then(|line| StoredCertificate::parse(line))
}

/// The index of the registered certificate with this (lower-case hex) fingerprint.
pub fn position(registered: &[String], fingerprint: &str) -> Option<usize> {
    // Every line starts with the 64 digits of its fingerprint.
    registered
        .iter()
        .position(|line| line.starts_with(fingerprint))
}

/// A registered `tls_client_auth_subject_dn`: RFC 2253 text of at most [`MAX_SUBJECT_DN`]
/// bytes, on one line; kept trimmed, as the presented DN is, and compared as exact text.
pub fn subject_dn(dn: String) -> Result<String, Error> {
    let dn = dn.trim();
    if dn.is_empty() || dn.len() > MAX_SUBJECT_DN || !is_clean(dn, false) {
        return Err(Error::invalid_metadata(
            "tls_client_auth_subject_dn must be one line of at most 1024 bytes",
        ));
    }
    Ok(dn.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = include_str!("../../tests/seeds/cert/acme.pem");
    const FP: &str = "c7081976ba1ada099540ee7827c23a065286187dcef65a4487036a686c6dc38b";

    fn upload(pem: &str) -> &str {
        pem
    }

    #[test]
    fn stored_certificates_read_back_as_written() {
        let c = StoredCertificate {
            fingerprint: FP.into(),
            subject: "CN=a b,O=c".into(),
            not_before: 1,
            not_after: 2,
            created_at: 3,
        };
        let line = c.line();
        assert_eq!(line, format!("{FP} 1 2 3 CN=a b,O=c"));
        assert_eq!(StoredCertificate::parse(&line), Some(c));
        assert_eq!(StoredCertificate::parse("x 1 2"), None);
        assert_eq!(StoredCertificate::parse("x 1 y 3 s"), None);
        assert_eq!(position(&[line], FP), Some(0));
    }

    #[test]
    fn the_upload_is_one_member() {
        use serde_json::json;
        assert_eq!(input(json!({"certificate": "x"})).unwrap(), "x");
        for bad in [
            json!({}),
            json!({"certificate": 1}),
            json!({"certificate": "x", "name": "y"}),
            json!("x"),
        ] {
            assert_eq!(input(bad).unwrap_err().description(), UPLOAD);
        }
    }

    #[test]
    fn an_upload_is_stored_by_fingerprint_once() {
        let mut r = Vec::new();
        let c = add(&mut r, upload(CERT), 100).unwrap();
        assert_eq!(c.fingerprint, FP);
        assert_eq!(c.created_at, 100);
        assert!(c.subject.starts_with(
            "2.5.4.5=#13023432,1.2.840.113549.1.9.1=#160b6140622e6578616d706c65,CN=client.example"
        ));
        let again = add(&mut r, upload(CERT), 101).unwrap_err();
        assert_eq!(
            (again.status(), again.description().as_ref()),
            (409, "the client already has this certificate")
        );
        assert_eq!(c.guard_name(), format!("cert:{FP}"));
        assert_eq!(r, [c.line()]);
    }

    #[test]
    fn at_most_ten() {
        let mut r = Vec::new();
        for i in 0..MAX_CERTIFICATES {
            r.push(format!("{i:064} 0 1 0 "));
        }
        let e = add(&mut r, upload(CERT), 0).unwrap_err();
        assert_eq!(
            (e.status(), e.description().as_ref()),
            (
                409,
                "a client may register at most 10 certificates; delete one first"
            )
        );
    }

    #[test]
    fn bad_uploads_are_400_with_the_reason() {
        let mut r = Vec::new();
        let long = format!("{CERT}{}", " ".repeat(MAX_CERTIFICATE_PEM));
        for (pem, why) in [
            ("", "certificate is not one PEM CERTIFICATE"),
            (&long, "certificate is longer than 8192 bytes"),
        ] {
            let e = add(&mut r, upload(pem), 0).unwrap_err();
            assert_eq!((e.status(), e.description().as_ref()), (400, why));
        }
        let e = add(&mut r, upload(CERT), 2_112_011_864).unwrap_err();
        assert_eq!(
            e.description(),
            "the certificate expired at 2036-12-04T13:57:44Z"
        );
        assert!(r.is_empty());
    }

    #[test]
    fn fingerprints_are_found_whatever_the_case_given() {
        let mut r = Vec::new();
        add(&mut r, upload(CERT), 0).unwrap();
        let given = crate::http::client_cert::parse_fingerprint(&FP.to_uppercase()).unwrap();
        assert_eq!(
            find(&r, &given).map(|c| c.fingerprint),
            Some(FP.to_string())
        );
        assert_eq!(find(&r, &[0; 32]), None);
        assert_eq!(
            x5t_s256(&given),
            "xwgZdroa2gmVQO54J8I6BlKGGH3O9lpEhwNqaGxtw4s"
        );
    }

    #[test]
    fn subject_dns_are_trimmed_bounded_and_one_line() {
        assert_eq!(subject_dn(" CN=a,O=b ".into()).unwrap(), "CN=a,O=b");
        for bad in ["", "  ", "CN=a\nO=b", &"x".repeat(MAX_SUBJECT_DN + 1)] {
            assert_eq!(
                subject_dn(bad.to_string()).unwrap_err().status(),
                422,
                "{bad}"
            );
        }
    }
}
