//! Strict `application/x-www-form-urlencoded` decoding: attacker input stops here.

use crate::error::Error;
use crate::support::text::printable;

/// Percent-decodes one `application/x-www-form-urlencoded` component (`+` is a space).
pub fn form_decode(raw: &str) -> Result<String, Error> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let value = hex
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        Error::invalid_request("malformed percent-encoding in form data")
                    })?;
                out.push(value);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| Error::invalid_request("form data is not valid UTF-8"))
}

/// A parsed form body: each name once, except names explicitly allowed to repeat.
#[derive(Debug, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

/// Most parameters a form may carry; more is not a real client.
const MAX_PARAMS: usize = 32;

impl Form {
    /// Parses a form body. RFC 6749 section 3.2 forbids repeated parameters except where an
    /// extension allows them (`repeatable`, for example RFC 8707 `resource`).
    pub fn parse(body: &[u8], repeatable: &[&str]) -> Result<Form, Error> {
        let text = std::str::from_utf8(body)
            .map_err(|_| Error::invalid_request("form data is not valid UTF-8"))?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in text.split('&').filter(|p| !p.is_empty()) {
            if pairs.len() == MAX_PARAMS {
                return Err(Error::invalid_request("too many form parameters"));
            }
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = form_decode(name)?;
            let value = form_decode(value)?;
            // A scan, not a set: at most MAX_PARAMS names, and no hash table in the wasm for it.
            if !repeatable.contains(&name.as_str()) && pairs.iter().any(|(n, _)| *n == name) {
                return Err(Error::InvalidRequest(
                    format!("parameter '{}' is repeated", printable(&name)).into(),
                ));
            }
            pairs.push((name, value));
        }
        Ok(Form { pairs })
    }

    /// The value of a parameter; an empty value counts as absent (RFC 6749 section 3.2).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Every non-empty value of a repeatable parameter.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decodes_plus_and_percent() {
        let f = Form::parse(b"a=b+c%2Bd&e=%C3%A9", &[]).unwrap();
        assert_eq!(f.get("a"), Some("b c+d"));
        assert_eq!(f.get("e"), Some("é"));
    }

    #[test]
    fn repeated_parameters_are_rejected_unless_allowed() {
        let e = Form::parse(b"grant_type=x&grant_type=y", &[]).unwrap_err();
        assert_eq!(
            e,
            Error::invalid_request("parameter 'grant_type' is repeated")
        );
        let f = Form::parse(b"resource=a&resource=b", &["resource"]).unwrap();
        assert_eq!(f.all("resource").collect::<Vec<_>>(), ["a", "b"]);
        // Names compare decoded; an empty value still names the parameter.
        for body in [
            &b"a=1&%61=2"[..],
            b"a=&a=1",
            b"a&r=1&r=2&a=x",
            b"r=1&a=1&r=2&a=2",
        ] {
            assert_eq!(
                Form::parse(body, &["r"]).unwrap_err(),
                Error::invalid_request("parameter 'a' is repeated"),
                "{body:?}"
            );
        }
        let f = Form::parse(b"r=1&a=1&r=2&b=2&r=3", &["r"]).unwrap();
        assert_eq!(f.all("r").collect::<Vec<_>>(), ["1", "2", "3"]);
        assert_eq!((f.get("a"), f.get("b")), (Some("1"), Some("2")));
    }

    #[test]
    fn bad_percent_and_bad_utf8_are_rejected() {
        assert_eq!(
            Form::parse(b"a=%zz", &[]).unwrap_err().code(),
            "invalid_request"
        );
        assert_eq!(
            Form::parse(b"a=%", &[]).unwrap_err().code(),
            "invalid_request"
        );
        assert_eq!(
            Form::parse(b"a=%ff", &[]).unwrap_err(),
            Error::invalid_request("form data is not valid UTF-8")
        );
        assert_eq!(
            Form::parse(&[b'a', b'=', 0xff], &[]).unwrap_err(),
            Error::invalid_request("form data is not valid UTF-8")
        );
    }

    #[test]
    fn too_many_parameters_are_rejected() {
        let body: Vec<String> = (0..40).map(|i| format!("p{i}=1")).collect();
        assert!(Form::parse(body.join("&").as_bytes(), &[]).is_err());
    }
}
