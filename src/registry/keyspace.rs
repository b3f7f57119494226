//! Every key edgeauth writes to its KV namespace, and how values are encoded. The KV shell and
//! the in-memory test store both use these, so the layout is spelled once:
//!
//! | key | value |
//! | --- | --- |
//! | `client:{client_id}` | [`ClientRecord`] as JSON: the registration and its secrets' digests |
//! | `resource:{resource_id}` | a resource as JSON |
//! | `resource-identifier:{sha256 hex of the identifier}` | the resource id (identifiers may be 512 bytes, KV's whole key limit) |
//! | `audit:{inverted ms}:{event_id}` | an audit event, whole trail |
//! | `audit-client:{client_id}:{inverted ms}:{event_id}` | the same event, in its client's history |
//! | `usage:{client_id}:{yyyy-mm-dd}:{isolate_id}` | one isolate's token count for a client and day |
//! | `used:{client_id}:{secret_id}` | a secret's last use, epoch seconds |
//! | `signing-keys` | the signing-key rotation schedule as JSON |
//!
//! KV has no ordered scan but lists keys in byte order, so audit keys start with an inverted,
//! zero-padded millisecond timestamp and a plain prefix listing reads newest first. Audit and
//! usage keys are written with a KV expiration, so they trim themselves.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::registry::audit::AuditEvent;
use crate::registry::clients::ClientId;
use crate::registry::resources::ResourceId;

/// Prefix of every client record.
pub const CLIENT_PREFIX: &str = "client:";
/// Prefix of every resource record.
pub const RESOURCE_PREFIX: &str = "resource:";
/// The key of the signing-key rotation schedule.
pub const SIGNING_KEYS: &str = "signing-keys";
/// How long a usage key lives (35 days: the 30 shown, and some slack).
pub const USAGE_TTL_SECS: u64 = 35 * 86_400;

/// The key of a client record.
pub fn client_key(id: &ClientId) -> String {
    format!("{CLIENT_PREFIX}{}", id.as_str())
}

/// The key of a resource record.
pub fn resource_key(id: &ResourceId) -> String {
    format!("{RESOURCE_PREFIX}{}", id.as_str())
}

/// The key of a resource's identifier index entry.
pub fn identifier_key(identifier: &str) -> String {
    let h: String = Sha256::digest(identifier.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("resource-identifier:{h}")
}

fn inverted(at_ms: u64) -> String {
    format!("{:020}", u64::MAX - at_ms)
}

/// The key prefix of the whole audit trail, or of one client's history.
pub fn audit_prefix(client: Option<&ClientId>) -> String {
    match client {
        None => "audit:".to_string(),
        Some(c) => format!("audit-client:{}:", c.as_str()),
    }
}

/// The keys an event is written under: the whole trail, and its client's history if it has
/// a client.
pub fn event_keys(e: &AuditEvent) -> impl Iterator<Item = String> + '_ {
    let suffix = format!("{}:{}", inverted(e.at_ms), e.event_id);
    std::iter::once(None)
        .chain(e.client_id.as_ref().map(Some))
        .map(move |client| format!("{}{suffix}", audit_prefix(client)))
}

/// Prefix of a client's usage keys.
pub fn usage_prefix(client: &ClientId) -> String {
    format!("usage:{}:", client.as_str())
}

/// One isolate's usage key for a client and day.
pub fn usage_key(client: &ClientId, date: &str, isolate: &str) -> String {
    format!("{}{date}:{isolate}", usage_prefix(client))
}

/// The date part of a usage key, given the part after [`usage_prefix`].
pub fn usage_date(suffix: &str) -> Option<&str> {
    suffix.split(':').next()
}

/// Prefix of a client's last-use keys.
pub fn used_prefix(client: &ClientId) -> String {
    format!("used:{}:", client.as_str())
}

/// The last-use key of one secret.
pub fn used_key(client: &ClientId, secret_id: &str) -> String {
    format!("{}{secret_id}", used_prefix(client))
}

/// Decodes a stored JSON value; a corrupt value is an internal error, not a panic.
pub fn decode<T: DeserializeOwned>(key: &str, json: &str) -> Result<T, Error> {
    crate::support::json::from_slice(json.as_bytes()).map_err(|e| corrupt(key, e))
}

// Out of line: `decode` is instantiated for every stored type.
fn corrupt(key: &str, e: serde_json::Error) -> Error {
    Error::Internal(format!("corrupt value {key}: {e}"))
}

/// Encodes a value for storage.
pub fn encode(value: &impl Serialize) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at_ms: u64, id: &str, client: Option<ClientId>) -> AuditEvent {
        AuditEvent {
            event_id: id.into(),
            at: at_ms / 1000,
            at_ms,
            actor: "a".into(),
            via: String::new(),
            action: "x".into(),
            client_id: client,
            resource_id: None,
            detail: String::new(),
        }
    }

    #[test]
    fn later_events_sort_first() {
        let key = |e: &AuditEvent| event_keys(e).next().unwrap();
        let older = key(&event(1_000, "b", None));
        let newer = key(&event(1_001, "a", None));
        assert!(newer < older);
        assert_eq!(newer.len(), older.len());
        assert_eq!(key(&event(0, "z", None)), "audit:18446744073709551615:z");
    }

    #[test]
    fn client_events_are_also_kept_under_their_client() {
        let id = ClientId::parse("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap();
        let keys: Vec<String> = event_keys(&event(0, "z", Some(id))).collect();
        assert_eq!(
            keys,
            [
                "audit:18446744073709551615:z",
                "audit-client:0f8fad5b-d9cb-469f-a165-70867728950e:18446744073709551615:z"
            ]
        );
    }
}
