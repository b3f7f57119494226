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

/// An `http` or `https` URL taken apart far enough to judge where it leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl<'a> {
    /// Whether the scheme is `https`.
    pub https: bool,
    /// The host, lower-cased by the caller's comparison; IPv6 literals keep their brackets.
    pub host: &'a str,
}

impl<'a> HttpUrl<'a> {
    /// Parses an absolute `http(s)` URL, refusing what could make it lead somewhere other than
    /// it seems: user info (`https://trusted@evil`), a fragment, backslashes (which browsers
    /// and the Fetch standard read as `/`), white space, controls, and anything but a plain
    /// host name, IPv4 address or bracketed IPv6 address with an optional numeric port.
    pub fn parse(text: &'a str) -> Option<HttpUrl<'a>> {
        if text.contains(['#', '\\', '@'])
            || text.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return None;
        }
        let (scheme, rest) = text.split_once("://")?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (inside, after) = v6.split_once(']')?;
                let hex = |c: char| c.is_ascii_hexdigit() || c == ':' || c == '.';
                if inside.is_empty() || !inside.chars().all(hex) {
                    return None;
                }
                let port = match after {
                    "" => None,
                    _ => Some(after.strip_prefix(':')?),
                };
                (&authority[..inside.len() + 2], port)
            }
            None => match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            },
        };
        let plain = |h: &str| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        };
        if !(host.starts_with('[') || plain(host)) {
            return None;
        }
        if let Some(p) = port {
            if p.is_empty()
                || p.len() > 5
                || !p.bytes().all(|b| b.is_ascii_digit())
                || p.parse::<u16>().is_err()
            {
                return None;
            }
        }
        Some(HttpUrl { https, host })
    }

    /// Whether the host is this machine by name or loopback literal.
    pub fn is_loopback(&self) -> bool {
        ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .any(|h| self.host.eq_ignore_ascii_case(h))
    }
}

/// An RFC 8707 resource (audience): an absolute URI without a fragment, within `max` bytes.
pub fn is_resource_uri(text: &str, max: usize) -> bool {
    text.len() <= max && is_absolute_uri(text) && !text.contains('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_that_hide_where_they_lead_do_not_parse() {
        for bad in [
            "http://localhost:@attacker.example/jwks",
            "https://user:pass@keys.example.com/jwks",
            "https://keys.example.com\\@evil.example/",
            "https://keys.example.com/jwks#x",
            "https://keys example.com/",
            "ftp://keys.example.com/",
            "https:///jwks",
            "https://[::1/jwks",
            "https://keys.example.com:99999/",
            "https://keys.example.com:/",
            "https://k%65ys.example.com/",
        ] {
            assert_eq!(HttpUrl::parse(bad), None, "{bad}");
        }
        let u = HttpUrl::parse("HTTPS://Keys.Example.com:8443/a?b").unwrap();
        assert_eq!((u.https, u.host), (true, "Keys.Example.com"));
        assert!(HttpUrl::parse("http://[::1]:8787/jwks")
            .unwrap()
            .is_loopback());
        assert!(HttpUrl::parse("http://LOCALHOST/jwks")
            .unwrap()
            .is_loopback());
        assert!(!HttpUrl::parse("http://localhost.evil.test/")
            .unwrap()
            .is_loopback());
    }
}
