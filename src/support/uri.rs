//! Syntax rules for identifiers and URIs that several parts of the registry share.

/// Whether `text` is a canonical lower-case hyphenated UUID.
pub fn is_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

/// An RFC 3986 absolute URI as far as the scheme goes, with no spaces or controls.
pub fn is_absolute_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An RFC 8707 resource (audience): an absolute URI without a fragment, within `max` bytes.
pub fn is_resource_uri(text: &str, max: usize) -> bool {
    text.len() <= max && is_absolute_uri(text) && !text.contains('#')
}
