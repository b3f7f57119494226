//! Revoking one access token, the same way whoever asks (the client at the revocation
//! endpoint, or an admin by value or by `jti`): at the client's guard, so introspection
//! everywhere sees it within the guard cache time, and audited by `jti`, never by value.

use serde::Serialize;

use crate::context::{Actor, Ctx};
use crate::error::Error;
use crate::registry::audit::{Action, AuditEvent, Subject};
use crate::registry::clients::ClientId;
use crate::registry::guard::{
    GuardOp, GuardState, RevokedToken, SelfRevocationReport, SELF_REVOCATIONS_PER_MINUTE,
    TOKEN_SKEW,
};
use crate::support::time::rfc3339;

/// What became of a revocation: the admin API's answer.
#[derive(Debug, Serialize)]
pub struct Revocation {
    /// The token's client.
    pub client_id: ClientId,
    /// The token's id.
    pub jti: String,
    /// Until when the guard holds the `jti` (`exp` + skew); `None` when the client's "valid
    /// after" mark covers the token instead (see `GuardOp::RevokeToken`).
    pub held_until: Option<u64>,
    /// The client's "valid after" mark: tokens issued at or before it are revoked.
    pub tokens_valid_after: Option<u64>,
    /// Why the audit event could not be written, for the Worker log; the revocation stands.
    #[serde(skip)]
    pub audit_failure: Option<String>,
}

impl Ctx<'_> {
    /// Revokes `token` of client `id`. A token this isolate already knows as revoked writes
    /// nothing and is not audited again, so repeating a revocation costs no state. A client's
    /// own revocations are limited per minute (refused with 429 beyond, before the guard is
    /// asked when this isolate already knows) and audited as one event per hour.
    pub async fn revoke_token(
        &self,
        id: &ClientId,
        token: RevokedToken,
        actor: Actor,
    ) -> Result<Revocation, Error> {
        let known = self.cached_guard(id).await?;
        if known.is_token_revoked(&token.jti, token.iat) {
            return Ok(outcome(id, token.jti, &known, None));
        }
        let by_client = actor == Actor::Client;
        let now = self.now();
        if let Some(wait) = known.self_revocation_wait(now).filter(|_| by_client) {
            return Err(too_many(wait));
        }
        let op = match by_client {
            true => GuardOp::ClientRevokeToken(token.clone()),
            false => GuardOp::RevokeToken(token.clone()),
        };
        let state = self.guard(id, op).await?;
        if !state.is_token_revoked(&token.jti, token.iat) {
            // Refused by the guard: another isolate used up this minute's allowance.
            return Err(too_many(state.self_revocation_wait(now).unwrap_or(60)));
        }
        let subject = Subject::client(id);
        let audited = match by_client {
            true => match state.self_revocation_report(now) {
                Some(report) => self.audit_self_revocations(id, report).await,
                None => Ok(()),
            },
            false => {
                let mut detail = format!("token {} revoked", token.jti);
                // A full list folds into the mark: the trail says how far it now reaches.
                if let Some(mark) = state.tokens_valid_after {
                    if known.tokens_valid_after != Some(mark) {
                        detail.push_str(&format!(
                            "; every token issued until {} is now revoked (the revocation list was full)",
                            rfc3339(mark)
                        ));
                    }
                }
                self.audit(actor, Action::TokenRevoked, subject, detail)
                    .await
            }
        };
        let failure = audited
            .err()
            .map(|e| format!("audit event not recorded: {e:?}"));
        Ok(outcome(id, token.jti, &state, failure))
    }

    /// Writes the hour's one aggregated event of a client's own revocations, with the running
    /// count: the same key each time, so the trail holds one event per client per hour.
    async fn audit_self_revocations(
        &self,
        id: &ClientId,
        report: SelfRevocationReport,
    ) -> Result<(), Error> {
        let detail = format!(
            "{} token(s) revoked by the client in the hour from {} (count as of {})",
            report.count,
            rfc3339(report.hour),
            rfc3339(self.now())
        );
        let subject = Subject::client(id);
        let rng = self.ports.rng;
        let at_ms = report.hour * 1000;
        let action = Action::TokensSelfRevoked;
        let mut event = AuditEvent::new("client", action, subject, detail, at_ms, rng)?;
        event.event_id = format!("{}-{}", report.hour, id.as_str());
        let ttl = u64::from(self.config.audit_retention_days) * 86_400;
        self.ports.audit.append(&event, ttl).await
    }
}

fn too_many(wait: u64) -> Error {
    Error::TooManyRequests {
        reason: format!(
            "a client may revoke at most {SELF_REVOCATIONS_PER_MINUTE} of its own tokens a minute; retry in {wait} s"
        )
        .into(),
        retry_after: wait,
    }
}

fn held_until(state: &GuardState, jti: &str) -> Option<u64> {
    state
        .revoked_tokens
        .iter()
        .find(|r| r.jti == jti)
        .map(|r| r.exp + TOKEN_SKEW)
}

fn outcome(id: &ClientId, jti: String, state: &GuardState, failure: Option<String>) -> Revocation {
    Revocation {
        client_id: id.clone(),
        held_until: held_until(state, &jti),
        jti,
        tokens_valid_after: state.tokens_valid_after,
        audit_failure: failure,
    }
}
