//! Revoking one access token, the same way whoever asks (the client at the revocation
//! endpoint, or an admin by value or by `jti`): at the client's guard, so introspection
//! everywhere sees it within the guard cache time, and audited by `jti`, never by value.

use serde::Serialize;

use crate::context::{Actor, Ctx};
use crate::error::Error;
use crate::registry::audit::{Action, Subject};
use crate::registry::clients::ClientId;
use crate::registry::guard::{GuardOp, GuardState, RevokedToken, TOKEN_SKEW};
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
    /// nothing and is not audited again, so repeating a revocation costs no state.
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
        let state = self.guard(id, GuardOp::RevokeToken(token.clone())).await?;
        let mut detail = match actor {
            Actor::Client => format!("token {} revoked by the client", token.jti),
            _ => format!("token {} revoked", token.jti),
        };
        // A full list folds into the mark: the trail says how far it now reaches.
        if let Some(mark) = state.tokens_valid_after {
            if known.tokens_valid_after != Some(mark) {
                detail.push_str(&format!(
                    "; every token issued until {} is now revoked (the revocation list was full)",
                    rfc3339(mark)
                ));
            }
        }
        let subject = Subject::client(id);
        let audited = self
            .audit(actor, Action::TokenRevoked, subject, detail)
            .await;
        let failure = audited
            .err()
            .map(|e| format!("audit event not recorded: {e:?}"));
        Ok(outcome(id, token.jti, &state, failure))
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
