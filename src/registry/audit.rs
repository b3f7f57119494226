//! Audit events: one per admin change (or automatic lock), kept for `AUDIT_RETENTION_DAYS`.
//! Their keys, which make a listing read newest first, are in [`crate::registry::keyspace`].

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::registry::clients::ClientId;
use crate::registry::resources::ResourceId;
use crate::support::random::{random_id, Random};

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
    /// A federated credential was added.
    FederatedCredentialCreated,
    /// A federated credential was removed.
    FederatedCredentialDeleted,
    /// A client certificate was registered.
    CertificateCreated,
    /// A client certificate was removed.
    CertificateDeleted,
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
    /// An admin revoked every token a client was issued so far.
    TokensRevoked,
    /// One token was revoked by an admin.
    TokenRevoked,
    /// A client's revocations of its own tokens in one hour, counted in one event.
    TokensSelfRevoked,
    /// A signing-key rotation started: the next key is published.
    KeysRotated,
    /// A replaced signing key was dropped from the JWKS.
    KeyRetired,
    /// A signing key was revoked: out of the JWKS and of signing at once.
    KeyRevoked,
    /// A client passed its monitored token quota (once per window).
    QuotaExceeded,
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
            Action::FederatedCredentialCreated => "federated_credential.created",
            Action::FederatedCredentialDeleted => "federated_credential.deleted",
            Action::CertificateCreated => "certificate.created",
            Action::CertificateDeleted => "certificate.deleted",
            Action::ResourceCreated => "resource.created",
            Action::ResourceUpdated => "resource.updated",
            Action::ResourceDeleted => "resource.deleted",
            Action::ClientLocked => "client.locked",
            Action::ClientUnlocked => "client.unlocked",
            Action::TokensRevoked => "client.tokens_revoked",
            Action::TokenRevoked => "client.token_revoked",
            Action::TokensSelfRevoked => "client.tokens_self_revoked",
            Action::KeysRotated => "keys.rotated",
            Action::KeyRetired => "keys.retired",
            Action::KeyRevoked => "keys.revoked",
            Action::QuotaExceeded => "client.quota_exceeded",
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
    /// Who: a person's email, `client:<client_id>` for a management token, the break-glass
    /// token's label, `system` for automatic actions, or `client` for a client's own.
    pub actor: String,
    /// How the actor authenticated: `access`, `management_token` or `admin_token`; `system`
    /// or `client` for the others. Empty (and not shown) in events recorded before it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub via: String,
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

impl AuditEvent {
    /// A new event at `at_ms` with a random id.
    pub fn new(
        actor: &str,
        action: Action,
        subject: Subject<'_>,
        detail: String,
        at_ms: u64,
        rng: &dyn Random,
    ) -> Result<AuditEvent, Error> {
        Ok(AuditEvent {
            event_id: random_id::<12>(rng)?,
            at: at_ms / 1000,
            at_ms,
            actor: actor.to_string(),
            via: String::new(),
            action: action.name().to_string(),
            client_id: subject.client.cloned(),
            resource_id: subject.resource.cloned(),
            detail,
        })
    }
}

/// What an event is about: a client, a resource, or neither.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    /// The client concerned.
    pub client: Option<&'a ClientId>,
    /// The resource concerned.
    pub resource: Option<&'a ResourceId>,
}

impl<'a> Subject<'a> {
    /// An event about a client.
    pub fn client(id: &'a ClientId) -> Subject<'a> {
        Subject {
            client: Some(id),
            resource: None,
        }
    }

    /// An event about a resource.
    pub fn resource(id: &'a ResourceId) -> Subject<'a> {
        Subject {
            client: None,
            resource: Some(id),
        }
    }
}
