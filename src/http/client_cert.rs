//! The client certificate of the TLS connection (RFC 8705), as the edge saw it: on Cloudflare,
//! `request.cf.tlsClientAuth` of a hostname with mutual TLS. The shell hands over its four
//! fields as text; they are checked here once, and the core reads only the checked value.

/// Longest subject DN kept; a longer one is treated as absent (it matches no registration).
pub const MAX_SUBJECT_DN: usize = 1024;

/// The client certificate of a request, as checked from the edge's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCertificate {
    /// A certificate was presented (`certPresented` is `"1"`).
    pub presented: bool,
    /// It chains to a CA configured for the hostname (`certVerified` is `"SUCCESS"`).
    pub verified: bool,
    /// The SHA-256 of its DER (`certFingerprintSHA256`), when that is exactly 64 hex digits.
    pub fingerprint: Option<[u8; 32]>,
    /// Its subject DN as RFC 2253 text (`certSubjectDNRFC2253`), when present and at most
    /// [`MAX_SUBJECT_DN`] bytes.
    pub subject_dn: Option<String>,
}

impl ClientCertificate {
    /// Checks the edge's fields: `certPresented`, `certVerified`, `certFingerprintSHA256` and
    /// `certSubjectDNRFC2253`. Anything malformed reads as absent, never as an error: the
    /// request may not need a certificate at all.
    pub fn from_edge(presented: &str, verified: &str, fingerprint: &str, subject: &str) -> Self {
        let presented = presented == "1";
        let subject = subject.trim();
        ClientCertificate {
            presented,
            verified: presented && verified == "SUCCESS",
            fingerprint: parse_fingerprint(fingerprint).filter(|_| presented),
            subject_dn: (presented && !subject.is_empty() && subject.len() <= MAX_SUBJECT_DN)
                .then(|| subject.to_string()),
        }
    }
}

/// A SHA-256 fingerprint in hex: exactly 64 hex digits, either case, nothing else.
pub fn parse_fingerprint(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "5e9c0a8f1d2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5";

    #[test]
    fn fingerprints_are_64_hex_digits_in_either_case() {
        let lower = parse_fingerprint(FP).unwrap();
        assert_eq!(lower[0], 0x5e);
        assert_eq!(lower[31], 0xc5);
        assert_eq!(parse_fingerprint(&FP.to_uppercase()), Some(lower));
        for bad in [
            "",
            &FP[..62],
            &format!("{FP}00"),
            &FP.replacen('5', "g", 1),
            &format!(" {}", &FP[1..]),
            "5E:9C:0A:8F:1D:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B:3C:4D",
        ] {
            assert_eq!(parse_fingerprint(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_edge_fields_are_checked_once() {
        let c = ClientCertificate::from_edge("1", "SUCCESS", FP, " CN=a,O=b ");
        assert!(c.presented && c.verified);
        assert!(c.fingerprint.is_some());
        assert_eq!(c.subject_dn.as_deref(), Some("CN=a,O=b"));
        let failed =
            ClientCertificate::from_edge("1", "FAILED:self signed certificate", FP, "CN=a");
        assert!(failed.presented && !failed.verified && failed.fingerprint.is_some());
        let none = ClientCertificate::from_edge("0", "NONE", "", "");
        assert_eq!(none, ClientCertificate::default());
        // Nothing counts without a certificate presented, whatever else the fields say.
        assert_eq!(
            ClientCertificate::from_edge("0", "SUCCESS", FP, "CN=a"),
            ClientCertificate::default()
        );
        let long = "C".repeat(MAX_SUBJECT_DN + 1);
        assert_eq!(
            ClientCertificate::from_edge("1", "SUCCESS", "xyz", &long),
            ClientCertificate {
                presented: true,
                verified: true,
                fingerprint: None,
                subject_dn: None
            }
        );
    }
}
