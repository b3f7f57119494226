//! JSON from outside: only objects, and `null` told apart from absent.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// Parses `bytes` as one JSON value of type `T`, every struct in it from a JSON object only:
/// all JSON the issuer reads goes through here (see [`edgeauth_verify::json`], which the
/// token checks use too, so both share each type's reader).
pub use edgeauth_verify::json::from_slice;

/// Parses `bytes` as a JSON object of type `T`.
pub fn object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    is_object(bytes)?;
    from_slice(bytes).map_err(describe)
}

// The parts of `object` that do not depend on `T`, out of line: `object` is instantiated for
// every type read from outside.
fn is_object(bytes: &[u8]) -> Result<(), String> {
    let start = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if start != Some(&b'{') {
        return Err("expected a JSON object".into());
    }
    Ok(())
}

fn describe(e: serde_json::Error) -> String {
    e.to_string()
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`, with
/// `#[serde(default)]`).
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        a: Option<String>,
        b: Option<String>,
    }

    #[test]
    fn arrays_never_fill_struct_fields() {
        assert_eq!(
            object::<Pair>(br#"["x","y"]"#).unwrap_err(),
            "expected a JSON object"
        );
        assert_eq!(
            object::<Pair>(b" {\"a\":\"x\"}").unwrap(),
            Pair {
                a: Some("x".into()),
                b: None
            }
        );
        assert!(object::<Pair>(b"").is_err());
    }
}
