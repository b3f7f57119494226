//! What admins send to add a federated credential to a client, and every rule it must meet.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::Error;
use crate::registry::client_input::{bounded_text, validate_jwks_uri};
use crate::registry::federation::{CredentialId, FederatedCredential, MAX_AUDIENCES, MAX_CLAIMS};
use crate::support::text::{is_clean, is_visible, printable};
use crate::support::uri::HttpUrl;

/// Longest credential name.
pub const MAX_NAME: usize = 200;
/// Longest credential description.
pub const MAX_DESCRIPTION: usize = 1_000;
/// Longest issuer, audience, subject, subject pattern or claim pattern.
pub const MAX_VALUE: usize = 512;
/// Longest claim name.
pub const MAX_CLAIM_NAME: usize = 128;
/// Claims the token checks govern already, so a `claims` entry may not name them.
pub const RESERVED_CLAIMS: [&str; 6] = ["iss", "sub", "aud", "exp", "nbf", "iat"];

const ISSUER_RULE: &str = "issuer must be an https URL without user info, query or fragment (http only for localhost, 127.0.0.1 or [::1]), at most 512 characters";

/// Admin input for a new federated credential.
#[derive(Debug, Default)]
pub struct FederatedCredentialInput {
    /// Display name, required and unique within the client.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// The external issuer, compared exactly with the token's `iss`.
    pub issuer: Option<String>,
    /// Where the issuer's keys are; absent or `null`: discovered.
    pub jwks_uri: Option<String>,
    /// Accepted `aud` values.
    pub audiences: Option<Vec<String>>,
    /// The exact `sub`.
    pub subject: Option<String>,
    /// A pattern `sub` must fit.
    pub subject_pattern: Option<String>,
    /// Further string claims and their patterns.
    pub claims: Option<BTreeMap<String, String>>,
}

impl FederatedCredentialInput {
    /// Reads the input from a JSON body's object: each member a string (`audiences` a list of
    /// strings, `claims` an object of strings) or `null` (absent). A member of another type,
    /// or an unknown one, is 400 `invalid_request`, as serde's readers answer elsewhere. Read
    /// by hand from the `Value` the body parses into (a reader the issuer has anyway): about
    /// 300 bytes of gzipped wasm less than a derived reader, measured.
    pub fn from_json(body: Value) -> Result<Self, Error> {
        let Value::Object(members) = body else {
            return Err(Error::invalid_request("expected a JSON object"));
        };
        let mut input = FederatedCredentialInput::default();
        for (field, value) in members {
            let slot = match field.as_str() {
                "name" => &mut input.name,
                "description" => &mut input.description,
                "issuer" => &mut input.issuer,
                "jwks_uri" => &mut input.jwks_uri,
                "subject" => &mut input.subject,
                "subject_pattern" => &mut input.subject_pattern,
                "audiences" => {
                    input.audiences = list(&field, value)?;
                    continue;
                }
                "claims" => {
                    input.claims = claims(value)?;
                    continue;
                }
                _ => {
                    return Err(Error::InvalidRequest(
                        format!("unknown field `{}`", printable(&field)).into(),
                    ))
                }
            };
            *slot = string(&field, value)?;
        }
        Ok(input)
    }

    /// Checks every rule and builds the credential (422 `invalid_client_metadata` naming the
    /// field otherwise). Values are stored as given: they are compared exactly later.
    pub fn create(self, id: CredentialId, now: u64) -> Result<FederatedCredential, Error> {
        let name = self.name.ok_or_else(|| required("name"))?;
        let name = bounded_text("name", name, MAX_NAME, false)?;
        if !is_visible(&name) {
            return Err(Error::invalid_metadata("name must not be empty"));
        }
        let description = match self.description {
            Some(d) => bounded_text("description", d, MAX_DESCRIPTION, true)?,
            None => String::new(),
        };
        let issuer = self.issuer.ok_or_else(|| required("issuer"))?;
        let valid_issuer = issuer.len() <= MAX_VALUE
            && !issuer.contains('?')
            && HttpUrl::parse(&issuer).is_some_and(|u| u.https || u.is_loopback());
        if !valid_issuer {
            return Err(Error::invalid_metadata(ISSUER_RULE));
        }
        let jwks_uri = self.jwks_uri.map(validate_jwks_uri).transpose()?;
        let audiences = self.audiences.ok_or_else(|| required("audiences"))?;
        if audiences.is_empty() || audiences.len() > MAX_AUDIENCES {
            return Err(Error::invalid_metadata(format!(
                "audiences must list 1 to {MAX_AUDIENCES} values"
            )));
        }
        for (i, a) in audiences.iter().enumerate() {
            value("each audience", a)?;
            if audiences[..i].contains(a) {
                return Err(Error::invalid_metadata("audiences contains a duplicate"));
            }
        }
        match (&self.subject, &self.subject_pattern) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_metadata(
                    "give subject or subject_pattern, not both",
                ))
            }
            (None, None) => {
                return Err(Error::invalid_metadata(
                    "subject or subject_pattern is required",
                ))
            }
            (Some(s), None) => value("subject", s)?,
            (None, Some(p)) => {
                value("subject_pattern", p)?;
                if p.bytes().all(|b| b == b'*') {
                    return Err(Error::invalid_metadata(
                        "subject_pattern must not be only '*': it would match every subject",
                    ));
                }
            }
        }
        let claims = self.claims.unwrap_or_default();
        if claims.len() > MAX_CLAIMS {
            return Err(Error::invalid_metadata(format!(
                "claims may hold at most {MAX_CLAIMS} entries"
            )));
        }
        for (claim, pattern) in &claims {
            if claim.is_empty() || claim.chars().count() > MAX_CLAIM_NAME || !is_clean(claim, false)
            {
                return Err(Error::invalid_metadata(format!(
                    "each claim name must be 1 to {MAX_CLAIM_NAME} characters without control characters"
                )));
            }
            if RESERVED_CLAIMS.contains(&claim.as_str()) {
                return Err(Error::invalid_metadata(
                    "claims must not name iss, sub, aud, exp, nbf or iat: issuer, audiences and subject govern them, and the token checks the times",
                ));
            }
            value("each claim pattern", pattern)?;
        }
        Ok(FederatedCredential {
            credential_id: id,
            name,
            description,
            issuer,
            jwks_uri,
            audiences,
            subject: self.subject,
            subject_pattern: self.subject_pattern,
            claims,
            created_at: now,
        })
    }
}

fn wrong_type(field: &str, what: &str) -> Error {
    Error::InvalidRequest(format!("{field} must be {what}").into())
}

/// A string member, or `None` for `null`.
fn string(field: &str, value: Value) -> Result<Option<String>, Error> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(wrong_type(field, "a string")),
    }
}

/// A list of strings, or `None` for `null`.
fn list(field: &str, value: Value) -> Result<Option<Vec<String>>, Error> {
    let items = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items,
        _ => return Err(wrong_type(field, "a list of strings")),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(s) => out.push(s),
            _ => return Err(wrong_type(field, "a list of strings")),
        }
    }
    Ok(Some(out))
}

/// An object of string members, or `None` for `null`.
fn claims(value: Value) -> Result<Option<BTreeMap<String, String>>, Error> {
    let members = match value {
        Value::Null => return Ok(None),
        Value::Object(members) => members,
        _ => return Err(wrong_type("claims", "an object of strings")),
    };
    let mut out = BTreeMap::new();
    for (name, value) in members {
        match value {
            Value::String(s) => out.insert(name, s),
            _ => return Err(wrong_type("claims", "an object of strings")),
        };
    }
    Ok(Some(out))
}

fn required(field: &str) -> Error {
    Error::InvalidMetadata(format!("{field} is required").into())
}

/// A value compared with a token's: 1 to [`MAX_VALUE`] characters, no control characters.
fn value(what: &str, text: &str) -> Result<(), Error> {
    if text.is_empty() || text.chars().count() > MAX_VALUE || !is_clean(text, false) {
        return Err(Error::InvalidMetadata(
            format!("{what} must be 1 to {MAX_VALUE} characters without control characters").into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(json: serde_json::Value) -> Result<FederatedCredential, Error> {
        FederatedCredentialInput::from_json(json)?.create(id(), 7)
    }

    fn id() -> CredentialId {
        CredentialId::parse("7c9e6679-7425-40de-944b-e07fc1f90ae7").unwrap()
    }

    fn base() -> serde_json::Value {
        serde_json::json!({"name": "deploy", "issuer": "https://token.actions.githubusercontent.com",
                           "audiences": ["edgeauth"], "subject": "repo:acme/api:ref:refs/heads/main"})
    }

    #[test]
    fn a_minimal_credential_is_stored_as_given() {
        let c = create(base()).unwrap();
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({"credential_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                "name": "deploy", "description": "",
                "issuer": "https://token.actions.githubusercontent.com", "jwks_uri": null,
                "audiences": ["edgeauth"], "subject": "repo:acme/api:ref:refs/heads/main",
                "subject_pattern": null, "claims": {}, "created_at": 7})
        );
    }

    #[test]
    fn unknown_members_and_wrong_types_are_400_and_null_is_absent() {
        let cases = [
            (
                "subjects",
                serde_json::json!("x"),
                "unknown field `subjects`",
            ),
            ("name", serde_json::json!(1), "name must be a string"),
            (
                "audiences",
                serde_json::json!("a"),
                "audiences must be a list of strings",
            ),
            (
                "audiences",
                serde_json::json!([1]),
                "audiences must be a list of strings",
            ),
            (
                "claims",
                serde_json::json!(["a"]),
                "claims must be an object of strings",
            ),
            (
                "claims",
                serde_json::json!({"a": 1}),
                "claims must be an object of strings",
            ),
        ];
        for (field, value, message) in cases {
            let mut v = base();
            v[field] = value;
            let e = FederatedCredentialInput::from_json(v).unwrap_err();
            assert_eq!((e.status(), &*e.description()), (400, message), "{field}");
        }
        let mut v = base();
        v["jwks_uri"] = serde_json::Value::Null;
        v["claims"] = serde_json::Value::Null;
        v["description"] = serde_json::Value::Null;
        assert_eq!(create(v).unwrap(), create(base()).unwrap());
        let mut v = base();
        v["name"] = serde_json::Value::Null;
        assert_eq!(create(v).unwrap_err().description(), "name is required");
    }

    #[test]
    fn an_issuer_is_https_or_loopback_without_query_fragment_or_user_info() {
        for ok in [
            "https://token.actions.githubusercontent.com",
            "https://kubernetes.default.svc.cluster.local/",
            "http://localhost:8788",
            "http://127.0.0.1:9/issuer",
            "http://[::1]:9",
        ] {
            let mut v = base();
            v["issuer"] = ok.into();
            assert_eq!(create(v).unwrap().issuer, ok);
        }
        for bad in [
            "http://issuer.example",
            "https://issuer.example/?x=1",
            "https://issuer.example/#f",
            "https://user@issuer.example",
            "issuer.example",
            "",
        ] {
            let mut v = base();
            v["issuer"] = bad.into();
            assert_eq!(create(v).unwrap_err().description(), ISSUER_RULE, "{bad}");
        }
    }
}
