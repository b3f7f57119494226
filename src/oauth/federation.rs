//! Client authentication by an external token (workload identity federation): a JWT that
//! another OIDC issuer (GitHub Actions, a Kubernetes cluster, a cloud) signed for a workload,
//! accepted for a `private_key_jwt` client that holds a federated credential trusting it (see
//! [`crate::registry::federation`]). It arrives as a client assertion whose `iss` is not the
//! `client_id`, or as the RFC 7523 section 2.1 grant.
//!
//! Order: the client's method, the algorithm, the times, the first credential whose issuer is
//! the token's `iss` exactly and whose audiences, subject and claim conditions it fits (and
//! that is not deleted), then the signature with a key from that credential's `jwks_uri` or
//! the issuer's discovery document. Nothing is written before the signature verifies, and
//! every refusal reads "client authentication failed" (the reason is logged); none counts
//! toward the lockout: nothing here is a guess at a secret. The issuer's keys out of reach is an
//! outage (503, retry). The token is not single-use: a CI job may trade one token several
//! times, as it may at AWS or Google.

use std::rc::Rc;

use serde_json::Value;

use crate::context::isolate::remote_keys::ISSUER_REFETCH_MS;
use crate::context::Ctx;
use crate::error::Error;
use crate::jose::{verify, Alg, CompactJws, PublicJwk};
use crate::oauth::assertions::{numeric_date, Claims, UnverifiedAssertion};
use crate::registry::clients::{AuthMethod, ClientRecord};
use crate::registry::federation::{pattern_matches, CredentialId, FederatedCredential};
use crate::registry::guard::GuardState;
use crate::support::json;
use crate::support::text::printable;

/// Clock difference tolerated between the issuer and us.
pub const SKEW: u64 = 60;
/// Longest an external token may live (`exp` - `iat`).
pub const MAX_LIFETIME: u64 = 24 * 3600;

fn unproven(reason: impl Into<String>) -> Error {
    Error::Unproven(reason.into())
}

/// Verifies an external token for `record`; answers the credential that trusts it.
pub async fn verify(
    ctx: &Ctx<'_>,
    record: &ClientRecord,
    guard: &GuardState,
    token: &UnverifiedAssertion<'_>,
) -> Result<CredentialId, Error> {
    let UnverifiedAssertion { jws, claims } = token;
    let method = record.client.token_endpoint_auth_method;
    if method != AuthMethod::PrivateKeyJwt {
        return Err(unproven(format!(
            "this client is registered for {}, which holds no federated credentials",
            method.name()
        )));
    }
    let alg = Alg::within(&jws.header.alg, &Alg::PUBLIC).ok_or_else(|| {
        unproven(format!(
            "external token alg '{}' is not allowed",
            printable(&jws.header.alg)
        ))
    })?;
    check_time(claims, ctx.now())?;
    let iss = token.client_id();
    let mut reason = format!(
        "no federated credential of the client trusts issuer '{}'",
        printable(iss)
    );
    let mut payload = None;
    let credential = record
        .federated_credentials
        .iter()
        .filter(|c| c.issuer == iss)
        .find(|c| {
            let fits = check_claims(c, guard, claims, &jws.payload, &mut payload);
            if let Err(why) = &fits {
                reason = format!("credential {}: {why}", c.credential_id.as_str());
            }
            fits.is_ok()
        })
        .ok_or_else(|| unproven(reason))?;
    let url = match &credential.jwks_uri {
        Some(u) => u.clone(),
        None => {
            let issuers = &ctx.isolate.issuers;
            issuers
                .jwks_uri(ctx.ports.fetcher, iss, ctx.now_ms())
                .await?
        }
    };
    check_signature(ctx, &url, alg, jws).await?;
    Ok(credential.credential_id.clone())
}

/// The signature verifies with a key of the set at `url` (fetched, or [`Error::KeysUnavailable`]).
/// Also how Cloudflare Access's tokens are checked (`oauth::admins`).
pub(super) async fn check_signature(
    ctx: &Ctx<'_>,
    url: &str,
    alg: Alg,
    jws: &CompactJws<'_>,
) -> Result<(), Error> {
    let kid = jws.header.kid.as_deref();
    let keys: Rc<Vec<PublicJwk>> = ctx
        .isolate
        .remote_keys
        .keys_within(ctx.ports.fetcher, url, kid, ctx.now_ms(), ISSUER_REFETCH_MS)
        .await
        .map_err(|e| Error::KeysUnavailable(format!("issuer keys at {url}: {e}")))?;
    let (input, signature) = (jws.signing_input.as_bytes(), &jws.signature);
    let mut tried = false;
    for key in keys
        .iter()
        .filter(|k| kid.is_none_or(|kid| k.kid == kid) && k.fits(alg))
    {
        tried = true;
        if verify::verify(alg, key, input, signature, ctx.ports.verifier).await? {
            return Ok(());
        }
    }
    Err(unproven(match tried {
        false => format!(
            "no key at {url} fits kid '{}' and alg {}",
            printable(kid.unwrap_or_default()),
            alg.name()
        ),
        true => "the external token's signature is invalid".into(),
    }))
}

/// `exp` present and not past, `nbf` and `iat` not ahead, and a lifetime of at most a day.
fn check_time(claims: &Claims, now: u64) -> Result<(), Error> {
    let time = |v: Option<f64>, name: &str| {
        numeric_date(v)
            .ok_or_else(|| unproven(format!("the external token's {name} is not a NumericDate")))
    };
    let exp = time(claims.exp, "exp")?.ok_or_else(|| unproven("the external token has no exp"))?;
    if exp + SKEW <= now {
        return Err(unproven(format!(
            "the external token expired at {exp} (server time {now})"
        )));
    }
    if time(claims.nbf, "nbf")?.is_some_and(|nbf| nbf > now + SKEW) {
        return Err(unproven("the external token is not valid yet (nbf)"));
    }
    let iat = time(claims.iat, "iat")?;
    if iat.is_some_and(|iat| iat > now + SKEW) {
        return Err(unproven(
            "the external token was issued in the future (iat)",
        ));
    }
    if exp > iat.unwrap_or(now) + MAX_LIFETIME {
        return Err(unproven(format!(
            "the external token lives longer than {MAX_LIFETIME} s"
        )));
    }
    Ok(())
}

/// One credential: not deleted, `aud`, `sub` and the claim conditions. The payload is read as
/// JSON once, and only for a credential with claim conditions; only string claims can fit one.
fn check_claims(
    credential: &FederatedCredential,
    guard: &GuardState,
    claims: &Claims,
    raw: &[u8],
    payload: &mut Option<Value>,
) -> Result<(), String> {
    // A credential an admin deleted moments ago may still be in a stale KV copy here.
    if !guard.revoked_keys.is_empty() && guard.is_key_revoked(&credential.guard_name()) {
        return Err("deleted".into());
    }
    let audiences = &credential.audiences;
    if !claims
        .aud
        .as_ref()
        .is_some_and(|a| a.any(|x| audiences.iter().any(|ours| ours == x)))
    {
        return Err("aud holds none of the credential's audiences".into());
    }
    let sub = claims.sub.as_deref().unwrap_or_default();
    if claims.sub.is_none() || !credential.subject_matches(sub) {
        return Err(format!("sub '{}' does not match", printable(sub)));
    }
    if credential.claims.is_empty() {
        return Ok(());
    }
    if payload.is_none() {
        *payload = Some(json::from_slice(raw).map_err(|_| "the payload is not JSON")?);
    }
    let doc = payload.as_ref();
    for (name, pattern) in &credential.claims {
        let value = doc.and_then(|d| d.get(name)).and_then(Value::as_str);
        if !value.is_some_and(|v| pattern_matches(pattern, v)) {
            return Err(format!(
                "claim '{}' is missing, not a string or does not match",
                printable(name)
            ));
        }
    }
    Ok(())
}
