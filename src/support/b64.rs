//! Strict base64url (RFC 7515 section 2) and the standard base64 HTTP Basic uses.

use edgeauth_verify::b64;

/// Encodes bytes as base64url without padding (RFC 7515 section 2).
pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    b64::url_encode(bytes)
}

/// Decodes unpadded base64url, rejecting padding, other alphabets and non-canonical trailing bits.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    b64::url_decode(text)
}

/// Decodes standard base64 with padding, as HTTP Basic uses.
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    b64::std_decode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_strict() {
        assert_eq!(b64url_decode("AQ"), Some(vec![1]));
        assert_eq!(b64url_decode("AQ=="), None, "padding");
        assert_eq!(b64url_decode("AR"), None, "non-canonical trailing bits");
        assert_eq!(b64url_decode("+/"), None, "standard alphabet");
    }
}
