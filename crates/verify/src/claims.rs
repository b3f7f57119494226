//! The claims of a verified access token (RFC 9068 section 2.2), and the checks on them.

use serde::Deserialize;
use serde_json::Value;

use crate::VerifyError;

/// The claims of a token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Subject: the client, in client credentials.
    pub sub: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Audiences (`aud` as a string is one audience).
    pub audiences: Vec<String>,
    /// Granted scopes (`scope` split on spaces; empty when absent).
    pub scopes: Vec<String>,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Not before, Unix seconds, if sent.
    pub nbf: Option<u64>,
    /// Token id.
    pub jti: String,
    /// The chain of actors of an exchanged token (RFC 8693 section 4.1 `act`): each actor's
    /// `sub`, outermost first, so `actors[0]` is the party that presented the token for
    /// `sub` (in edgeauth, the client that exchanged it) and the last is the earliest. Empty
    /// when the token was not exchanged.
    pub actors: Vec<String>,
    /// The key the token is bound to (RFC 7800 `cnf`); both members `None` for a bearer token.
    pub cnf: Confirmation,
}

/// A token's binding (`cnf`): the members this crate knows, each base64url as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Confirmation {
    /// `jkt`: the RFC 7638 thumbprint of the DPoP key (RFC 9449 section 6.1).
    pub jkt: Option<String>,
    /// `x5t#S256`: the client certificate's SHA-256 thumbprint (RFC 8705 section 3.1).
    pub x5t_s256: Option<String>,
}

impl Confirmation {
    /// Whether the token is bound to anything.
    pub fn is_bound(&self) -> bool {
        self.jkt.is_some() || self.x5t_s256.is_some()
    }
}

/// The most actors an `act` chain may nest: a deeper one is `BadClaim("act")`.
pub const MAX_ACTORS: usize = 5;

/// Which scopes a resource needs.
#[derive(Debug, Clone, Copy)]
pub enum Scopes<'a> {
    /// Every one of these.
    AllOf(&'a [&'a str]),
    /// At least one of these.
    AnyOf(&'a [&'a str]),
}

impl Claims {
    /// Whether the token was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// `Ok` when the token holds the scopes `needed`; otherwise `insufficient_scope` naming
    /// them all (for `AnyOf`, any one of those named would do).
    pub fn require_scopes(&self, needed: Scopes<'_>) -> Result<(), VerifyError> {
        let (list, ok) = match needed {
            Scopes::AllOf(list) => (list, list.iter().all(|s| self.has_scope(s))),
            Scopes::AnyOf(list) => (list, list.iter().any(|s| self.has_scope(s))),
        };
        if ok {
            Ok(())
        } else {
            Err(VerifyError::InsufficientScope(list.join(" ")))
        }
    }
}

/// The claims as sent. Derived, so a duplicate member is an error, not a last-wins.
#[derive(Deserialize)]
struct Raw {
    iss: Option<Value>,
    sub: Option<Value>,
    client_id: Option<Value>,
    aud: Option<Value>,
    scope: Option<Value>,
    exp: Option<Value>,
    iat: Option<Value>,
    nbf: Option<Value>,
    jti: Option<Value>,
    // `null` is present, so it is refused as not an object rather than read as absent.
    #[serde(default, deserialize_with = "crate::token::present")]
    act: Option<Value>,
    // `null` reads as absent: no binding, as no `cnf` is.
    cnf: Option<Value>,
}

/// What the claims must satisfy.
pub(crate) struct ClaimRules<'a> {
    pub issuer: &'a str,
    /// `None`: any audience (an issuer introspecting its own tokens).
    pub audiences: Option<&'a [String]>,
    pub skew: u64,
}

/// Checks the payload of a token whose signature verified: an object, then `iss`, `aud`, the
/// times with the skew, then the other required claims and their types, then `act`.
pub(crate) fn check(
    payload: &[u8],
    rules: &ClaimRules<'_>,
    now: u64,
) -> Result<Claims, VerifyError> {
    if payload.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(VerifyError::PayloadNotObject);
    }
    let raw: Raw = crate::json::from_slice(payload).map_err(|_| VerifyError::PayloadNotObject)?;
    let iss = text(raw.iss, "iss").map_err(|_| VerifyError::WrongIssuer)?;
    if iss != rules.issuer {
        return Err(VerifyError::WrongIssuer);
    }
    let audiences = match raw.aud {
        Some(Value::String(a)) => vec![a],
        Some(Value::Array(list)) if !list.is_empty() => list
            .into_iter()
            .map(|a| match a {
                Value::String(a) => Ok(a),
                _ => Err(VerifyError::BadClaim("aud")),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(VerifyError::BadClaim("aud")),
    };
    if let Some(accepted) = rules.audiences {
        if !audiences.iter().any(|a| accepted.contains(a)) {
            return Err(VerifyError::WrongAudience);
        }
    }
    let exp = time(raw.exp, "exp")?.ok_or(VerifyError::BadClaim("exp"))?;
    if now >= exp.saturating_add(rules.skew) {
        return Err(VerifyError::Expired);
    }
    let nbf = time(raw.nbf, "nbf")?;
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(rules.skew)) {
        return Err(VerifyError::NotYetValid);
    }
    let iat = time(raw.iat, "iat")?.ok_or(VerifyError::BadClaim("iat"))?;
    if iat > now.saturating_add(rules.skew) {
        return Err(VerifyError::IssuedInFuture);
    }
    let scopes = match raw.scope {
        None => Vec::new(),
        Some(Value::String(s)) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Some(_) => return Err(VerifyError::BadClaim("scope")),
    };
    Ok(Claims {
        iss,
        sub: text(raw.sub, "sub")?,
        client_id: text(raw.client_id, "client_id")?,
        audiences,
        scopes,
        exp,
        iat,
        nbf,
        jti: text(raw.jti, "jti")?,
        actors: actors(raw.act.as_ref())?,
        cnf: confirmation(raw.cnf)?,
    })
}

/// `cnf`, when present: an object whose `jkt` and `x5t#S256`, each when present, are
/// non-empty strings. Other members (other confirmation methods) are not read.
fn confirmation(cnf: Option<Value>) -> Result<Confirmation, VerifyError> {
    let Some(cnf) = cnf else {
        return Ok(Confirmation::default());
    };
    let bad = || VerifyError::BadClaim("cnf");
    let Value::Object(cnf) = cnf else {
        return Err(bad());
    };
    // Read with `get`: a `remove` would link the map's rebalancing code for two strings.
    let member = |name: &str| match cnf.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(bad()),
    };
    Ok(Confirmation {
        jkt: member("jkt")?,
        x5t_s256: member("x5t#S256")?,
    })
}

/// The `act` chain: each level an object whose `sub` is a non-empty string, at most
/// [`MAX_ACTORS`] levels. Members other than `sub` and `act` are not read.
fn actors(mut next: Option<&Value>) -> Result<Vec<String>, VerifyError> {
    let mut chain = Vec::new();
    while let Some(level) = next {
        // `get` is `None` on anything but an object, so a string or array `act` fails here.
        match level.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() && chain.len() < MAX_ACTORS => {
                chain.push(sub.clone())
            }
            _ => return Err(VerifyError::BadClaim("act")),
        }
        next = level.get("act");
    }
    Ok(chain)
}

/// A required string claim.
fn text(value: Option<Value>, name: &'static str) -> Result<String, VerifyError> {
    match value {
        Some(Value::String(s)) => Ok(s),
        _ => Err(VerifyError::BadClaim(name)),
    }
}

/// An optional NumericDate claim: whole seconds (edgeauth never sends fractions).
fn time(value: Option<Value>, name: &'static str) -> Result<Option<u64>, VerifyError> {
    match value {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or(VerifyError::BadClaim(name)),
    }
}
