//! Client authentication by JWT assertion (RFC 7523 section 2.2 and 3, OpenID Connect Core 9):
//! `private_key_jwt` with the client's registered public keys, `client_secret_jwt` with its
//! derived secrets.
//!
//! Order: size and shape, `crit`, the algorithm within the registered method's family, the key
//! chosen by the registration (never by the header beyond `kid`), the signature, the claims,
//! and last the single use of `jti`, so unsigned junk never writes replay state. Until the
//! signature verifies, every refusal reads "client authentication failed" (the reason is
//! logged): the method, the kids and their key types are not the caller's business yet.

use std::borrow::Cow;
use std::rc::Rc;

use serde::Deserialize;

use crate::context::Ctx;
use crate::error::Error;
use crate::jose::jws::parse_compact;
use crate::jose::{verify, Alg, CompactJws, PublicJwk};
use crate::oauth::{Refusal, TOKEN_PATH};
use crate::registry::clients::{AuthMethod, Client, ClientRecord};
use crate::registry::guard::{key_id, key_source, GuardState};
use crate::registry::secrets::{self, SecretCheck, SecretUse};
use crate::support::json;
use crate::support::text::printable;

/// The only assertion type (RFC 7523 section 2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Longest assertion accepted.
pub const MAX_ASSERTION_LEN: usize = 8 * 1024;
/// Clock difference tolerated between client and server.
pub const SKEW: u64 = 30;
const MAX_JTI: usize = 256;

/// `aud`: one string or an array of strings (RFC 7519 section 4.1.3).
#[derive(Debug)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// Whether any of the values is accepted by `ok`.
    pub(crate) fn any(&self, ok: impl Fn(&str) -> bool) -> bool {
        match self {
            Audience::One(a) => ok(a),
            Audience::Many(list) => list.iter().any(|a| ok(a)),
        }
    }
}

// By hand, not `#[serde(untagged)]`: that buffers the value to try each variant in turn, a
// generic path (about 1 KB of wasm gzipped) for what the next token tells apart.
impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Audience, D::Error> {
        struct Either;

        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = Audience;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Audience, E> {
                Ok(Audience::One(v.to_string()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Audience, A::Error> {
                let mut all = Vec::new();
                while let Some(a) = seq.next_element()? {
                    all.push(a);
                }
                Ok(Audience::Many(all))
            }
        }

        d.deserialize_any(Either)
    }
}

/// The registered claims we read; others are ignored here.
#[derive(Debug, Deserialize)]
pub(crate) struct Claims {
    pub(crate) iss: Option<String>,
    pub(crate) sub: Option<String>,
    pub(crate) aud: Option<Audience>,
    pub(crate) exp: Option<f64>,
    pub(crate) nbf: Option<f64>,
    pub(crate) iat: Option<f64>,
    jti: Option<String>,
}

fn refused(reason: impl Into<Cow<'static, str>>) -> Error {
    Error::InvalidClient(reason.into())
}

/// A refusal before the signature is verified: the caller learns nothing of the registration.
fn unproven(reason: impl Into<String>) -> Error {
    Error::Unproven(reason.into())
}

/// An assertion parsed once, by the credential extractor, but not yet verified: nothing in it
/// is trusted until [`verify`] has checked it against the client's registration.
pub struct UnverifiedAssertion<'a> {
    pub(crate) jws: CompactJws<'a>,
    pub(crate) claims: Claims,
}

impl UnverifiedAssertion<'_> {
    /// The client a self-signed assertion claims to be, or an external token's issuer (`iss`).
    pub fn client_id(&self) -> &str {
        self.claims.iss.as_deref().unwrap_or_default()
    }

    /// Checks what a self-signed assertion needs before the registry: `iss` = `sub`.
    pub fn self_signed(self) -> Result<Self, Error> {
        let (Some(iss), Some(sub)) = (&self.claims.iss, &self.claims.sub) else {
            return Err(refused(
                "the assertion must carry iss and sub, both the client_id",
            ));
        };
        if iss != sub {
            return Err(refused(
                "the assertion's iss and sub must both be the client_id",
            ));
        }
        Ok(self)
    }
}

/// Parses an assertion, or an external token, once: a compact JWS of at most
/// [`MAX_ASSERTION_LEN`] bytes whose payload is a JSON object of registered claims.
pub fn parse(assertion: &str) -> Result<UnverifiedAssertion<'_>, Error> {
    let jws = parse_compact(assertion, MAX_ASSERTION_LEN)
        .map_err(|e| refused(format!("invalid client assertion: {e}")))?;
    let claims: Claims = json::object(&jws.payload).map_err(|_| {
        refused("invalid client assertion: the payload is not a JSON object of registered claims")
    })?;
    Ok(UnverifiedAssertion { jws, claims })
}

/// Verifies an assertion for `record`; answers the secret used, for `client_secret_jwt`.
pub async fn verify(
    ctx: &Ctx<'_>,
    record: &ClientRecord,
    guard: &GuardState,
    assertion: &UnverifiedAssertion<'_>,
    issuer: &str,
) -> Result<Option<SecretUse>, Refusal> {
    let UnverifiedAssertion { jws, claims } = assertion;
    let id = &record.client.client_id;
    let method = record.client.token_endpoint_auth_method;
    let allowed: &[Alg] = match method {
        AuthMethod::PrivateKeyJwt => &Alg::PUBLIC,
        AuthMethod::ClientSecretJwt => &Alg::SECRET,
        other => {
            return Err(unproven(format!(
                "this client is registered for {}, not a JWT assertion",
                other.name()
            ))
            .into())
        }
    };
    let alg = Alg::within(&jws.header.alg, allowed).ok_or_else(|| {
        unproven(format!(
            "assertion alg '{}' is not allowed for {} (allowed: {})",
            printable(&jws.header.alg),
            method.name(),
            allowed
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let now = ctx.now();
    let secret = if alg == Alg::HS256 {
        match secrets::check_hs256(
            &record.secrets,
            &ctx.config.pepper,
            id.as_str(),
            jws.signing_input.as_bytes(),
            &jws.signature,
            now,
        ) {
            SecretCheck::Valid(used) => Some(used),
            SecretCheck::Expired => return Err(refused("the client secret has expired").into()),
            SecretCheck::Invalid => {
                let e = unproven("the assertion's HS256 signature matches no secret");
                // A client with no secret left has nothing to guess: not counted.
                return Err(match record.holds_secret() {
                    true => Refusal::WrongSecret(e),
                    false => Refusal::Other(e),
                });
            }
        }
    } else {
        verify_with_registered_key(ctx, &record.client, guard, alg, jws).await?;
        None
    };
    let exp = check_claims(claims, now, issuer, ctx.config.assertion_max_lifetime)?;
    let jti = claims.jti.as_deref().unwrap_or_default();
    if !ctx.ports.guards.claim_jti(id, jti, exp + SKEW).await? {
        return Err(refused("the assertion has already been used (jti replayed)").into());
    }
    Ok(secret)
}

/// Chooses the key by the client's registration: the `kid` if given, else every key that fits.
async fn verify_with_registered_key(
    ctx: &Ctx<'_>,
    client: &Client,
    guard: &GuardState,
    alg: Alg,
    jws: &CompactJws<'_>,
) -> Result<(), Error> {
    let kid = jws.header.kid.as_deref();
    // Keys an admin removed moments ago may still be in a stale KV copy here: the guard says.
    if let Some(url) = client.jwks_uri.as_deref() {
        if guard.is_key_revoked(&key_source(url)) {
            return Err(unproven("the client's jwks_uri was removed"));
        }
    }
    // Registered keys are named by thumbprint; a jwks_uri's keys go with the URL (above).
    let removed = |k: &PublicJwk| {
        client.jwks.is_some()
            && !guard.revoked_keys.is_empty()
            && guard.is_key_revoked(&key_id(&k.thumbprint()))
    };
    let keys = match (&client.jwks, &client.jwks_uri) {
        (Some(set), _) => Rc::new(set.keys.clone()),
        // A key host that cannot answer is an outage (503, retry), not a wrong credential.
        (None, Some(url)) => ctx
            .isolate
            .remote_keys
            .keys(ctx.ports.fetcher, url, kid, ctx.now_ms())
            .await
            .map_err(Error::KeysUnavailable)?,
        (None, None) => return Err(unproven("the client has no registered keys")),
    };
    let candidates: Vec<&PublicJwk> = match kid {
        Some(k) => {
            let key = keys
                .iter()
                .find(|x| x.kid == k && !removed(x))
                .ok_or_else(|| {
                    unproven(format!("unknown kid '{}' for this client", printable(k)))
                })?;
            if !key.fits(alg) {
                return Err(unproven(format!(
                    "key '{}' cannot verify alg {}",
                    printable(k),
                    alg.name()
                )));
            }
            vec![key]
        }
        None => keys.iter().filter(|x| x.fits(alg) && !removed(x)).collect(),
    };
    if candidates.is_empty() {
        return Err(unproven(format!(
            "no registered key fits alg {}",
            alg.name()
        )));
    }
    let (input, signature) = (jws.signing_input.as_bytes(), &jws.signature);
    for key in candidates {
        if verify::verify(alg, key, input, signature, ctx.ports.verifier).await? {
            return Ok(());
        }
    }
    Err(unproven("the assertion signature is invalid"))
}

/// A NumericDate claim as whole seconds: `Some(None)` when absent, `None` when it is not a
/// time (negative, or past the year 33658).
pub(crate) fn numeric_date(v: Option<f64>) -> Option<Option<u64>> {
    match v {
        None => Some(None),
        Some(t) if (0.0..1e12).contains(&t) => Some(Some(t as u64)),
        Some(_) => None,
    }
}

/// Checks time, audience and jti; answers `exp` for the replay record.
fn check_claims(claims: &Claims, now: u64, issuer: &str, max_lifetime: u64) -> Result<u64, Error> {
    let time = |v: Option<f64>, name: &str| {
        numeric_date(v)
            .ok_or_else(|| refused(format!("the assertion's {name} is not a valid NumericDate")))
    };
    let exp = time(claims.exp, "exp")?.ok_or_else(|| refused("the assertion has no exp"))?;
    if exp + SKEW <= now {
        return Err(refused(format!(
            "the assertion expired at {exp} (server time {now})"
        )));
    }
    let start = time(claims.iat, "iat")?
        .unwrap_or(now)
        .max(now.saturating_sub(SKEW));
    if exp > start + max_lifetime + SKEW {
        return Err(refused(format!(
            "the assertion lives too long: exp may be at most {max_lifetime} s after iat or now"
        )));
    }
    if time(claims.iat, "iat")?.is_some_and(|iat| iat > now + SKEW) {
        return Err(refused("the assertion was issued in the future (iat)"));
    }
    if time(claims.nbf, "nbf")?.is_some_and(|nbf| nbf > now + SKEW) {
        return Err(refused("the assertion is not valid yet (nbf)"));
    }
    let token_endpoint = format!("{issuer}{TOKEN_PATH}");
    let ours = |a: &str| a == token_endpoint || a == issuer;
    let aud_ok = claims.aud.as_ref().is_some_and(|a| a.any(ours));
    if !aud_ok {
        return Err(refused(format!(
            "the assertion's aud must contain the token endpoint URL ({token_endpoint}) or the issuer"
        )));
    }
    match claims.jti.as_deref() {
        None | Some("") => Err(refused("the assertion has no jti")),
        Some(j) if j.len() > MAX_JTI => Err(refused("the assertion's jti is too long")),
        Some(_) => Ok(exp),
    }
}
