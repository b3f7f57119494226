//! Per-client token claims: members an operator adds to every access token of a client (a
//! tenant id, a cost centre, a tier).
//!
//! The members are validated once, on the way in, and kept only pre-serialized (made
//! when the record is read, so once per isolate cache fill): minting a token appends that text
//! to the payload it writes anyway, with no serialization of its own.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::support::b64::b64url_decode;
use crate::support::json::from_slice;
use crate::support::text::{is_clean, printable};

/// Most members a client's token claims may hold.
pub const MAX_MEMBERS: usize = 20;
/// Most bytes the members may take serialized, as a JSON object.
pub const MAX_BYTES: usize = 1024;
/// Longest member name.
pub const MAX_NAME: usize = 128;
/// Names no client may set: the registered JWT claims and those edgeauth writes into tokens
/// (`act`, `cnf` and `typ` included, for what tokens may carry) or into introspection answers
/// (`active`, `token_type`), where the members are returned beside them.
pub const RESERVED: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "scope",
    "client_id",
    "act",
    "cnf",
    "typ",
    "active",
    "token_type",
];

/// A client's validated token claims, kept only as the members serialized without the braces
/// (`"tenant":"acme","tier":3`), empty when there are none: a client record is cloned on
/// some paths, and a string clones with far less wasm than a JSON map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenClaims {
    serialized: Box<str>,
}

impl Serialize for TokenClaims {
    /// As the JSON object, read back from the text (admin answers and storage writes only).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = format!("{{{}}}", self.serialized);
        let members: Value = from_slice(text.as_bytes()).map_err(serde::ser::Error::custom)?;
        members.serialize(s)
    }
}

impl TokenClaims {
    /// Claims as stored (validated when written, so taken as they are); anything but an
    /// object with members is none.
    pub fn stored(members: Option<Value>) -> TokenClaims {
        match members {
            Some(Value::Object(m)) if !m.is_empty() => {
                let text = serde_json::to_string(&Value::Object(m)).unwrap_or_default();
                // `{...}` to `...`.
                let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
                TokenClaims {
                    serialized: inner.into(),
                }
            }
            _ => TokenClaims::default(),
        }
    }

    /// Admin input, checked against every rule; the error names the member at fault.
    pub fn parse(value: Value) -> Result<TokenClaims, Error> {
        let Value::Object(members) = &value else {
            return Err(Error::invalid_metadata(
                r#"token_claims must be null or an object such as {"tenant": "acme"}"#,
            ));
        };
        if members.len() > MAX_MEMBERS {
            return Err(Error::invalid_metadata(format!(
                "token_claims may hold at most {MAX_MEMBERS} members"
            )));
        }
        for (name, value) in members {
            if name.is_empty() || name.chars().count() > MAX_NAME || !is_clean(name, false) {
                return Err(Error::invalid_metadata(format!(
                    "token_claims member names must be 1 to {MAX_NAME} characters without control characters"
                )));
            }
            if RESERVED.contains(&name.as_str()) {
                return Err(Error::invalid_metadata(format!(
                    "token_claims must not set '{name}': edgeauth owns {}",
                    RESERVED.join(", ")
                )));
            }
            let allowed = match value {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
                Value::Array(items) => items.iter().all(Value::is_string),
                _ => false,
            };
            if !allowed {
                return Err(Error::invalid_metadata(format!(
                    "token_claims member '{}' must be a string, a number, a boolean or an array of strings",
                    printable(name)
                )));
            }
        }
        let claims = TokenClaims::stored(Some(value));
        let size = claims.serialized.len() + 2;
        if size > MAX_BYTES {
            return Err(Error::invalid_metadata(format!(
                "token_claims takes {size} bytes serialized, more than {MAX_BYTES}"
            )));
        }
        Ok(claims)
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.serialized.is_empty()
    }

    /// Appends the members to `payload`, a serialized JSON object ending in `}`.
    pub fn append_to(&self, payload: &mut Vec<u8>) {
        if self.serialized.is_empty() || payload.last() != Some(&b'}') {
            return;
        }
        payload.pop();
        if payload.last() != Some(&b'{') {
            payload.push(b',');
        }
        payload.extend_from_slice(self.serialized.as_bytes());
        payload.push(b'}');
    }
}

/// Adds to `into` the members of a token's claims that are not [`RESERVED`], for
/// introspection: the claims its client had when it was issued, whatever they are now. Call
/// only on a verified token.
pub fn copy_from_token(token: &str, into: &mut Map<String, Value>) {
    let payload = token.split('.').nth(1).and_then(b64url_decode);
    let parsed = payload.and_then(|p| from_slice::<Value>(&p).ok());
    let Some(Value::Object(claims)) = parsed else {
        return;
    };
    for (name, value) in claims {
        if !RESERVED.contains(&name.as_str()) {
            into.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(value: Value) -> String {
        let e = TokenClaims::parse(value).unwrap_err();
        assert_eq!(e.code(), "invalid_client_metadata");
        e.description().to_string()
    }

    #[test]
    fn values_are_strings_numbers_booleans_or_arrays_of_strings() {
        let ok = json!({"tenant": "acme", "tier": 3, "ratio": 0.5, "beta": true,
                        "regions": ["eu", "us"], "none": []});
        let claims = TokenClaims::parse(ok.clone()).unwrap();
        assert_eq!(serde_json::to_value(&claims).unwrap(), ok);
        for (bad, name) in [
            (json!({"x": null}), "x"),
            (json!({"x": {"a": 1}}), "x"),
            (json!({"x": [1]}), "x"),
            (json!({"x": ["a", null]}), "x"),
        ] {
            assert_eq!(
                refused(bad),
                format!("token_claims member '{name}' must be a string, a number, a boolean or an array of strings")
            );
        }
    }

    #[test]
    fn reserved_claims_are_refused_by_name() {
        for name in RESERVED {
            assert_eq!(
                refused(json!({ "tenant": "a", name: "x" })),
                format!("token_claims must not set '{name}': edgeauth owns iss, sub, aud, exp, iat, nbf, jti, scope, client_id, act, cnf, typ, active, token_type")
            );
        }
    }

    #[test]
    fn at_most_twenty_members_and_one_kib() {
        let twenty: Map<String, Value> = (0..20).map(|i| (format!("m{i}"), json!(i))).collect();
        assert!(TokenClaims::parse(Value::Object(twenty.clone())).is_ok());
        let mut more = twenty;
        more.insert("m20".into(), json!(20));
        assert_eq!(
            refused(Value::Object(more)),
            "token_claims may hold at most 20 members"
        );
        // {"a":"..."} is 8 bytes plus the value: 1016 characters make exactly 1024.
        assert!(TokenClaims::parse(json!({"a": "x".repeat(1016)})).is_ok());
        assert_eq!(
            refused(json!({"a": "x".repeat(1017)})),
            "token_claims takes 1025 bytes serialized, more than 1024"
        );
    }

    #[test]
    fn names_and_shape_are_checked() {
        assert_eq!(
            refused(json!(["tenant"])),
            r#"token_claims must be null or an object such as {"tenant": "acme"}"#
        );
        for bad in [String::new(), "a\nb".into(), "n".repeat(129)] {
            assert_eq!(
                refused(json!({ bad: 1 })),
                "token_claims member names must be 1 to 128 characters without control characters"
            );
        }
    }

    #[test]
    fn members_are_appended_to_a_payload() {
        let claims = TokenClaims::parse(json!({"tenant": "acme", "tier": 3})).unwrap();
        let mut payload = br#"{"iss":"i","sub":"s"}"#.to_vec();
        claims.append_to(&mut payload);
        assert_eq!(
            String::from_utf8(payload).unwrap(),
            r#"{"iss":"i","sub":"s","tenant":"acme","tier":3}"#
        );
        let mut empty = b"{}".to_vec();
        claims.append_to(&mut empty);
        assert_eq!(empty, br#"{"tenant":"acme","tier":3}"#);
        let mut untouched = br#"{"iss":"i"}"#.to_vec();
        TokenClaims::default().append_to(&mut untouched);
        assert_eq!(untouched, br#"{"iss":"i"}"#);
    }

    #[test]
    fn a_token_yields_its_unreserved_members() {
        let payload = crate::support::b64::b64url(
            r#"{"iss":"i","sub":"s","active":false,"tenant":"acme","regions":["eu"]}"#,
        );
        let token = format!("e30.{payload}.sig");
        let mut into = Map::new();
        into.insert("active".into(), json!(true));
        copy_from_token(&token, &mut into);
        assert_eq!(
            Value::Object(into.clone()),
            json!({"active": true, "tenant": "acme", "regions": ["eu"]})
        );
        copy_from_token("garbage", &mut into);
        assert_eq!(into.len(), 3);
    }
}
