//! The audit trail: one event per admin change, kept for `AUDIT_RETENTION_DAYS`.
//!
//! KV has no ordered scan but lists keys in byte order, so keys start with an inverted,
//! zero-padded millisecond timestamp and a plain prefix listing reads newest first:
//! `audit:{u64::MAX - at_ms:020}:{event_id}` for the whole trail and
//! `audit-client:{client_id}:{inverted}:{event_id}` for one client's history. Both copies are
//! written with a KV expiration, so the trail trims itself.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::clients::ClientId;
use crate::encoding::b64url;
use crate::error::Error;
use crate::platform::{ClientStore, Clock, Random};
use crate::resources::ResourceId;

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A client was registered.
    ClientCreated,
    /// A client's metadata changed.
    ClientUpdated,
    /// A client was deleted.
    ClientDeleted,
    /// A secret was added.
    SecretCreated,
    /// A secret was removed.
    SecretDeleted,
    /// A resource was registered.
    ResourceCreated,
    /// A resource changed.
    ResourceUpdated,
    /// A resource was deleted.
    ResourceDeleted,
    /// A client was locked after failed attempts.
    ClientLocked,
    /// An admin lifted a lock.
    ClientUnlocked,
}

impl Action {
    /// The action's name in events.
    pub fn name(self) -> &'static str {
        match self {
            Action::ClientCreated => "client.created",
            Action::ClientUpdated => "client.updated",
            Action::ClientDeleted => "client.deleted",
            Action::SecretCreated => "secret.created",
            Action::SecretDeleted => "secret.deleted",
            Action::ResourceCreated => "resource.created",
            Action::ResourceUpdated => "resource.updated",
            Action::ResourceDeleted => "resource.deleted",
            Action::ClientLocked => "client.locked",
            Action::ClientUnlocked => "client.unlocked",
        }
    }
}

/// One recorded change. `detail` names what changed, never secret values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Random id, unique within the millisecond.
    pub event_id: String,
    /// When (epoch seconds).
    pub at: u64,
    /// When, in milliseconds; orders the keys.
    #[serde(skip_serializing, default)]
    pub at_ms: u64,
    /// Who: the admin credential's label, or `system` for automatic actions.
    pub actor: String,
    /// What: an [`Action`] name.
    pub action: String,
    /// The client concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
    /// The resource concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<ResourceId>,
    /// A short summary of the change.
    pub detail: String,
}

fn inverted(at_ms: u64) -> String {
    format!("{:020}", u64::MAX - at_ms)
}

/// The key of an event in the whole trail.
pub fn event_key(e: &AuditEvent) -> String {
    format!("audit:{}:{}", inverted(e.at_ms), e.event_id)
}

/// The key of an event in its client's history.
pub fn client_event_key(client: &ClientId, e: &AuditEvent) -> String {
    format!(
        "audit-client:{}:{}:{}",
        client.as_str(),
        inverted(e.at_ms),
        e.event_id
    )
}

/// The key prefix of the whole trail, or of one client's history.
pub fn prefix(client: Option<&ClientId>) -> String {
    match client {
        None => "audit:".to_string(),
        Some(c) => format!("audit-client:{}:", c.as_str()),
    }
}

/// Records an admin change made with the admin token.
pub async fn record<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    action: Action,
    client_id: Option<&ClientId>,
    resource_id: Option<&ResourceId>,
    detail: String,
) -> Result<(), Error> {
    append(
        app,
        &app.config.admin_label,
        action,
        client_id,
        resource_id,
        detail,
    )
    .await
}

/// Records that a client was locked after failed attempts (actor `system`): for the lockout
/// code to call when it locks a client.
pub async fn record_client_locked<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    client_id: &ClientId,
    detail: String,
) -> Result<(), Error> {
    append(
        app,
        "system",
        Action::ClientLocked,
        Some(client_id),
        None,
        detail,
    )
    .await
}

async fn append<S: ClientStore, C: Clock, R: Random>(
    app: &App<'_, S, C, R>,
    actor: &str,
    action: Action,
    client_id: Option<&ClientId>,
    resource_id: Option<&ResourceId>,
    detail: String,
) -> Result<(), Error> {
    let mut id = [0u8; 12];
    app.rng.fill(&mut id)?;
    let at_ms = app.clock.now_ms();
    let event = AuditEvent {
        event_id: b64url(id),
        at: at_ms / 1000,
        at_ms,
        actor: actor.to_string(),
        action: action.name().to_string(),
        client_id: client_id.cloned(),
        resource_id: resource_id.cloned(),
        detail,
    };
    let ttl = u64::from(app.config.audit_retention_days) * 86_400;
    app.store.append(&event, ttl).await
}

/// Sets an audit failure aside for the log: the change itself has already been made, so the
/// answer stays a success and the operator sees the gap in the Worker log.
pub fn note_failure(
    mut response: crate::http::Response,
    result: Result<(), Error>,
) -> crate::http::Response {
    if let Err(e) = result {
        response.log = Some(format!("audit event not recorded: {e:?}"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_events_sort_first() {
        let e = |at_ms, id: &str| AuditEvent {
            event_id: id.into(),
            at: at_ms / 1000,
            at_ms,
            actor: "a".into(),
            action: "x".into(),
            client_id: None,
            resource_id: None,
            detail: String::new(),
        };
        let older = event_key(&e(1_000, "b"));
        let newer = event_key(&e(1_001, "a"));
        assert!(newer < older);
        assert_eq!(newer.len(), older.len());
        assert_eq!(
            event_key(&e(0, "z")),
            "audit:18446744073709551615:z".to_string()
        );
    }
}
