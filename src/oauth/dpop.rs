//! DPoP at the token endpoint (RFC 9449 section 5): the proof in the `DPoP` header is read and
//! its claims checked before the client authenticates, so a malformed, stale or misdirected
//! proof is answered before any credential is looked at and never reaches the lockout; its
//! signature is checked once the client has authenticated, so only a client that proved itself
//! makes the isolate import a key (a stranger cannot push registered clients' keys out of the
//! import caches); its `jti` is then claimed in the client's guard, so a stranger cannot fill a
//! client's guard with proofs of their own. A valid proof binds the token to its key
//! (`cnf.jkt`, `token_type` `DPoP`).

use edgeauth_verify::dpop::DEFAULT_PROOF_WINDOW;
use edgeauth_verify::{Proof, ProofAlg, ProofError, ProofRules};

use crate::context::Ctx;
use crate::error::Error;
use crate::http::Request;
use crate::jose::verify::verify as verify_signature;
use crate::jose::{Alg, PublicJwk};
use crate::oauth::access_token::{Authorized, Confirmation};
use crate::oauth::TOKEN_PATH;
use crate::registry::clients::{Client, ClientId};
use crate::support::json;

/// Seconds a proof's `iat` may be from now, either way; its `jti` is held as long.
pub const PROOF_WINDOW: u64 = DEFAULT_PROOF_WINDOW;

fn refused(e: ProofError) -> Error {
    Error::InvalidDpopProof(e.description().into())
}

/// The request's DPoP proof for `POST` to this issuer's token endpoint, its form and claims
/// checked (not its signature: [`verify`]); `None` when the request has none.
pub fn parse<'r>(
    ctx: &Ctx<'_>,
    req: &'r Request,
    issuer: &str,
) -> Result<Option<Proof<'r>>, Error> {
    let Some(text) = req.header("dpop") else {
        return Ok(None);
    };
    let url = [issuer, TOKEN_PATH].concat();
    let rules = ProofRules {
        method: "POST",
        url: &url,
        window: PROOF_WINDOW,
        access_token: None,
    };
    Proof::parse(text, &rules, ctx.now())
        .map(Some)
        .map_err(refused)
}

/// Checks the proof's signature with its own key, by the platform.
pub async fn verify(ctx: &Ctx<'_>, proof: &Proof<'_>) -> Result<(), Error> {
    let platform = ctx.ports.verifier;
    proof
        .verify(|alg, key, input, signature| async move {
            // The key passed the crate's checks; the registry's own validation adds the point
            // and exponent checks, and gives the platform the form it imports.
            let Ok(value) = json::object(key.canonical.as_bytes()) else {
                return false;
            };
            let Ok(jwk) = PublicJwk::validate(&value) else {
                return false;
            };
            let alg = match alg {
                ProofAlg::ES256 => Alg::ES256,
                ProofAlg::EdDSA => Alg::EdDSA,
                ProofAlg::RS256 => Alg::RS256,
                ProofAlg::PS256 => Alg::PS256,
            };
            verify_signature(alg, &jwk, input, signature, platform)
                .await
                .unwrap_or(false)
        })
        .await
        .map_err(refused)
}

/// Binds the token to the proof's key; a client registered with `dpop_bound_access_tokens`
/// must have sent one.
pub fn bind(
    client: &Client,
    proof: Option<&Proof<'_>>,
    authorized: &mut Authorized,
) -> Result<(), Error> {
    match proof {
        Some(p) => {
            let cnf = authorized
                .confirmation
                .get_or_insert_with(Confirmation::default);
            cnf.jkt = Some(p.key.jkt.clone());
            Ok(())
        }
        None if client.dpop_bound_access_tokens => Err(Error::InvalidDpopProof(
            "this client's tokens are DPoP-bound: send a DPoP proof".into(),
        )),
        None => Ok(()),
    }
}

/// Claims the proof's `jti` for its key in the guard of `client`, which authenticated, held
/// for the proof's window: a second use is refused. Named apart from assertion `jti`s by the
/// prefix: only an assertion the client signed itself could carry such a `jti`, and it would
/// burn no one's proof but the client's own.
pub async fn claim(ctx: &Ctx<'_>, client: &ClientId, proof: &Proof<'_>) -> Result<(), Error> {
    let key = ["\u{1}dpop ", &proof.key.jkt, " ", &proof.jti].concat();
    let until = proof.iat + PROOF_WINDOW;
    match ctx.ports.guards.claim_jti(client, &key, until).await? {
        true => Ok(()),
        false => Err(refused(ProofError::Replayed)),
    }
}
