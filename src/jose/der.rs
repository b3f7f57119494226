//! The few DER shapes a public key file (SPKI, PKCS#1) and a certificate's subject and
//! validity need, read strictly.
//!
//! Each rule mirrors what the `der` 0.8 and `const-oid` 0.10 crates decided before this reader
//! replaced them, so that a key file accepted or refused before still is: the differential test
//! in tests/host/pem_differential.rs holds the two side by side.

use std::fmt::Write;

/// Universal tag of an INTEGER.
pub const INTEGER: u8 = 0x02;
/// Universal tag of a BIT STRING.
pub const BIT_STRING: u8 = 0x03;
/// Universal tag of an OBJECT IDENTIFIER.
pub const OID: u8 = 0x06;
/// Universal tag of a SEQUENCE (constructed).
pub const SEQUENCE: u8 = 0x30;

/// A cursor over DER values laid end to end.
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// Reads from the start of `der`.
    pub fn new(der: &'a [u8]) -> Self {
        Self(der)
    }

    /// The bytes not yet read.
    pub fn remaining(&self) -> &'a [u8] {
        self.0
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The content of the next value, which must carry the one-byte tag `tag`.
    pub fn read(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (&first, rest) = self.0.split_first()?;
        if first != tag {
            return None;
        }
        self.content(rest)
    }

    /// The next value of any tag `der` knows, as its first tag byte and its content: algorithm
    /// parameters are ANY, and `der` took any well-formed value there.
    pub fn any(&mut self) -> Option<(u8, &'a [u8])> {
        let (&first, mut rest) = self.0.split_first()?;
        match first {
            0x01..=0x06 | 0x09 | 0x0A | 0x0C | 0x0D | 0x12..=0x18 | 0x1A | 0x1B | 0x1E => {}
            0x30 | 0x31 => {}
            0x40..=0xFF if first & 0x1F != 0x1F => {}
            0x40..=0xFF => rest = skip_tag_number(rest)?,
            _ => return None,
        }
        Some((first, self.content(rest)?))
    }

    /// Reads a definite, minimally encoded length from `rest` and the content it covers.
    fn content(&mut self, rest: &'a [u8]) -> Option<&'a [u8]> {
        let (&first, mut rest) = rest.split_first()?;
        let len = match first {
            0..=0x7F => usize::from(first),
            0x81..=0x84 => {
                let n = usize::from(first - 0x80);
                let bytes = rest.get(..n)?;
                rest = &rest[n..];
                let len = bytes.iter().fold(0usize, |l, &b| (l << 8) | usize::from(b));
                // The long form is only for lengths the short form cannot hold, with no zero
                // leading byte.
                if len < 0x80 || bytes[0] == 0 {
                    return None;
                }
                len
            }
            _ => return None,
        };
        let content = rest.get(..len)?;
        self.0 = &rest[len..];
        Some(content)
    }
}

/// Skips the base-128 tag number that follows a first tag byte of 0x1F, with `der`'s rules:
/// at most five bytes, no zero leading group, a value of at least 31, and fitting in 32 bits.
fn skip_tag_number(bytes: &[u8]) -> Option<&[u8]> {
    let mut number = 0u32;
    for (i, &byte) in bytes.iter().enumerate().take(5) {
        number |= u32::from(byte & 0x7F);
        if byte & 0x80 == 0 {
            return (number >= 0x1F).then(|| &bytes[i + 1..]);
        }
        if (i == 0 && number == 0) || number.leading_zeros() < 7 {
            return None;
        }
        number <<= 7;
    }
    None
}

/// The dotted text of an OBJECT IDENTIFIER's content, with `const-oid`'s rules: 1 to 39 bytes,
/// a first byte naming arcs 0-2 and 0-39, and arcs that fit in 32 bits. Like `const-oid`, a
/// needless leading 0x80 in an arc is read rather than refused, so two encodings can read alike.
pub fn oid(content: &[u8]) -> Option<String> {
    let (&root, mut rest) = content.split_first()?;
    if content.len() > 39 || root >= 120 {
        return None;
    }
    let mut text = format!("{}.{}", root / 40, root % 40);
    while !rest.is_empty() {
        let mut arc = 0u32;
        loop {
            let (&byte, tail) = rest.split_first()?;
            rest = tail;
            arc = arc.checked_mul(0x80)?.checked_add(u32::from(byte & 0x7F))?;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let _ = write!(text, ".{arc}");
    }
    Some(text)
}

/// The magnitude of a non-negative, minimally encoded INTEGER, without the sign byte.
pub fn uint(content: &[u8]) -> Option<&[u8]> {
    match content {
        [] => None,
        [0] => Some(content),
        [0, next, ..] if *next < 0x80 => None,
        [0, rest @ ..] => Some(rest),
        [first, ..] if *first >= 0x80 => None,
        _ => Some(content),
    }
}

/// The bytes of a BIT STRING. As `der` did, unused bits (at most 7, and only with a byte to
/// hold them) are allowed and their bytes returned whole.
pub fn bit_string(content: &[u8]) -> Option<&[u8]> {
    let (&unused, bytes) = content.split_first()?;
    (unused <= 7 && (unused == 0 || !bytes.is_empty())).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_definite_and_minimal() {
        let long = [&[0x04, 0x81, 0x80][..], &[0; 0x80]].concat();
        assert_eq!(Reader::new(&long).read(0x04).map(<[u8]>::len), Some(0x80));
        for bad in [
            &[0x04, 0x81, 0x7F][..],
            &[0x04, 0x82, 0x00, 0x80],
            &[0x04, 0x80, 0x00, 0x00],
            &[0x04, 0x85, 0, 0, 0, 0, 1],
            &[0x04, 0x02, 0x00],
        ] {
            assert_eq!(Reader::new(bad).read(0x04), None, "{bad:02x?}");
        }
    }

    #[test]
    fn integers_are_positive_and_minimal() {
        assert_eq!(uint(&[0]), Some(&[0][..]));
        assert_eq!(uint(&[0, 0x80]), Some(&[0x80][..]));
        assert_eq!(uint(&[0x7F, 0]), Some(&[0x7F, 0][..]));
        assert_eq!(uint(&[0, 0x7F]), None);
        assert_eq!(uint(&[0x80]), None);
        assert_eq!(uint(&[]), None);
    }

    #[test]
    fn oids_read_as_const_oid_reads_them() {
        assert_eq!(oid(&[0x2B, 0x65, 0x70]).as_deref(), Some("1.3.101.112"));
        assert_eq!(
            oid(&[0x2B, 0x65, 0x80, 0x70]).as_deref(),
            Some("1.3.101.112")
        );
        assert_eq!(oid(&[0x2B]).as_deref(), Some("1.3"));
        assert_eq!(oid(&[0x78]), None, "first arc 3");
        assert_eq!(oid(&[0x2B, 0x85]), None, "unfinished arc");
        assert_eq!(
            oid(&[0x2B, 0x90, 0x80, 0x80, 0x80, 0x00]),
            None,
            "over 32 bits"
        );
        assert_eq!(oid(&[]), None);
        assert_eq!(oid(&[0x2B; 40]), None, "over 39 bytes");
    }

    #[test]
    fn any_takes_the_tags_der_knows() {
        assert_eq!(Reader::new(&[0x05, 0x00]).any(), Some((0x05, &[][..])));
        assert_eq!(
            Reader::new(&[0x9F, 0x1F, 0x00]).any(),
            Some((0x9F, &[][..]))
        );
        assert_eq!(
            Reader::new(&[0x9F, 0x1E, 0x00]).any(),
            None,
            "short form fits"
        );
        assert_eq!(
            Reader::new(&[0x9F, 0x80, 0x20, 0x00]).any(),
            None,
            "zero leading group"
        );
        assert_eq!(
            Reader::new(&[0x07, 0x00]).any(),
            None,
            "unknown universal tag"
        );
        assert_eq!(Reader::new(&[0x1F, 0x20, 0x00]).any(), None);
    }
}
