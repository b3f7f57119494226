//! Scopes (RFC 6749 section 3.3): a set of scope tokens, written space-separated.

use serde::{Deserialize, Serialize};

/// Most tokens in one scope.
pub const MAX_TOKENS: usize = 64;
/// Longest scope token.
pub const MAX_TOKEN_LEN: usize = 128;
/// The RFC 6749 3.3 `scope-token` rule as a JavaScript pattern, for the admin page.
pub const TOKEN_PATTERN: &str = r"^[\x21\x23-\x5B\x5D-\x7E]+$";

/// A duplicate-free list of scope tokens, in the order first given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(Vec<String>);

impl Scope {
    /// Parses a space-separated scope string; each token must be RFC 6749 `scope-token` chars.
    pub fn parse(text: &str) -> Result<Scope, String> {
        let mut tokens: Vec<String> = Vec::new();
        for t in text.split(' ').filter(|t| !t.is_empty()) {
            let valid = t.len() <= MAX_TOKEN_LEN
                && t.bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
            if !valid {
                return Err(format!(
                    "scope '{}' is not a valid scope token",
                    crate::support::text::printable(t)
                ));
            }
            if !tokens.iter().any(|x| x == t) {
                tokens.push(t.to_string());
            }
        }
        if tokens.len() > MAX_TOKENS {
            return Err(format!("at most {MAX_TOKENS} scopes"));
        }
        Ok(Scope(tokens))
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `token` is in this scope.
    pub fn contains(&self, token: &str) -> bool {
        self.0.iter().any(|t| t == token)
    }

    /// The tokens of `self` that are also in `other`, in `self`'s order.
    pub fn intersect(&self, other: &Scope) -> Scope {
        Scope(
            self.0
                .iter()
                .filter(|t| other.contains(t))
                .cloned()
                .collect(),
        )
    }

    /// The first token of `self` not in `other`, if any.
    pub fn first_outside<'a>(&'a self, other: &Scope) -> Option<&'a str> {
        self.0
            .iter()
            .find(|t| !other.contains(t))
            .map(String::as_str)
    }

    /// The tokens.
    pub fn tokens(&self) -> &[String] {
        &self.0
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

impl TryFrom<String> for Scope {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Scope::parse(&s)
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dedupes_and_keeps_order() {
        let s = Scope::parse("  b a  b ").unwrap();
        assert_eq!(s.tokens(), ["b", "a"]);
        assert_eq!(s.to_string(), "b a");
    }

    #[test]
    fn rejects_quote_backslash_and_controls() {
        for bad in ["a\"b", "a\\b", "a\tb", "é"] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn intersection_and_outsiders() {
        let a = Scope::parse("read write admin").unwrap();
        let b = Scope::parse("write read").unwrap();
        assert_eq!(a.intersect(&b).to_string(), "read write");
        assert_eq!(a.first_outside(&b), Some("admin"));
        assert_eq!(b.first_outside(&a), None);
    }
}
