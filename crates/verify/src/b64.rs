//! Strict base64 (RFC 4648), shared with the issuer: base64url without padding (RFC 7515
//! section 2) and the padded standard alphabet of HTTP Basic and PEM.
//!
//! By hand rather than the `base64` crate: its generic engine cost the issuer's wasm about
//! 3 KB gzipped for inputs of a few hundred bytes. It accepts and refuses exactly what
//! `base64`'s `URL_SAFE_NO_PAD` and `STANDARD` engines do (tests/b64.rs checks that against
//! the crate): no padding, or exactly the canonical padding; no other byte, no whitespace;
//! the unused bits of the last symbol zero.

const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Encodes bytes as base64url without padding.
pub fn url_encode(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    // Whole groups four symbols at a time into bytes: a char at a time cost a token request
    // about 3 µs in the wasm (UTF-8 encoding and a capacity check per symbol).
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    let symbol = |n: u32, shift: u32| URL[(n >> shift & 63) as usize];
    let groups = bytes.chunks_exact(3);
    let rest = groups.remainder();
    for g in groups {
        let n = u32::from(g[0]) << 16 | u32::from(g[1]) << 8 | u32::from(g[2]);
        out.extend_from_slice(&[symbol(n, 18), symbol(n, 12), symbol(n, 6), symbol(n, 0)]);
    }
    // One byte left gives two symbols, two give three.
    let n = rest
        .iter()
        .enumerate()
        .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
    for i in 0..rest.len() + usize::from(!rest.is_empty()) {
        out.push(symbol(n, 18 - 6 * i as u32));
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Decodes base64url without padding; `None` for anything else.
pub fn url_decode(text: impl AsRef<[u8]>) -> Option<Vec<u8>> {
    decode(text.as_ref(), true)
}

/// Decodes standard base64 with its canonical padding; `None` for anything else.
pub fn std_decode(text: impl AsRef<[u8]>) -> Option<Vec<u8>> {
    let text = text.as_ref();
    if text.len() % 4 != 0 {
        return None;
    }
    let pads = text.iter().rev().take_while(|&&c| c == b'=').count();
    let symbols = &text[..text.len() - pads];
    // Two symbols of the last group take two `=`, three take one.
    let canonical = match symbols.len() % 4 {
        0 => 0,
        2 => 2,
        3 => 1,
        _ => return None,
    };
    (pads == canonical).then(|| decode(symbols, false))?
}

fn decode(symbols: &[u8], url: bool) -> Option<Vec<u8>> {
    if symbols.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(symbols.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for &c in symbols {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' if url => 62,
            b'_' if url => 63,
            b'+' if !url => 62,
            b'/' if !url => 63,
            _ => return None,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // The last symbol's bits beyond the final byte must be zero (one encoding per value).
    (acc & ((1 << bits) - 1) == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_is_not_canonical() {
        assert_eq!(url_encode(b""), "");
        assert_eq!(url_encode(b"\xfb\xff"), "-_8");
        assert_eq!(url_encode(b"abcd"), "YWJjZA");
        assert_eq!(url_decode("YWJjZA"), Some(b"abcd".to_vec()));
        assert_eq!(url_decode("AQ"), Some(vec![1]));
        assert_eq!(url_decode("AQ=="), None, "padding");
        assert_eq!(url_decode("AR"), None, "non-canonical trailing bits");
        assert_eq!(url_decode("+/"), None, "standard alphabet");
        assert_eq!(url_decode("A"), None, "one symbol is no byte");
        assert_eq!(std_decode("AQ=="), Some(vec![1]));
        assert_eq!(std_decode("+/8="), Some(vec![0xfb, 0xff]));
        assert_eq!(std_decode("AQ"), None, "padding missing");
        assert_eq!(std_decode("AQI"), None, "padding missing");
        assert_eq!(std_decode("AQ="), None, "padding short");
        assert_eq!(std_decode("A==="), None);
        assert_eq!(std_decode("===="), None);
        assert_eq!(std_decode("-_8="), None, "url alphabet");
        assert_eq!(std_decode(""), Some(vec![]));
    }

    #[test]
    fn encodes_the_rfc_4648_vectors_and_round_trips_every_length() {
        let vectors = [
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(url_encode(plain), encoded, "{plain}");
        }
        let bytes: Vec<u8> = (0..=255u8).rev().chain(0..=255).collect();
        for len in 0..=bytes.len() {
            let encoded = url_encode(&bytes[..len]);
            assert_eq!(encoded.len(), (len * 4).div_ceil(3), "{len}");
            assert_eq!(
                url_decode(&encoded).as_deref(),
                Some(&bytes[..len]),
                "{len}"
            );
        }
    }
}
