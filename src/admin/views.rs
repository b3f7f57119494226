//! What the admin API shows: a client's registration, secret metadata and federated
//! credentials with its lock state and last uses, never a digest or salt.

use serde::Serialize;

use crate::context::Ctx;
use crate::error::Error;
use crate::registry::clients::{Client, ClientRecord};
use crate::registry::federation::FederatedCredential;
use crate::registry::guard::GuardState;
use crate::registry::secrets::SecretMeta;

/// A client as the admin API shows it.
#[derive(Debug, Serialize)]
pub struct ClientView<'a> {
    #[serde(flatten)]
    client: &'a Client,
    secrets: Vec<&'a SecretMeta>,
    federated_credentials: Vec<CredentialView<'a>>,
    /// End of the current lock, if locked.
    locked_until: Option<u64>,
    /// Failed authentications since the last success or unlock.
    failed_attempts: u32,
    /// Tokens issued at or before this time are revoked, if an admin said so.
    tokens_valid_after: Option<u64>,
    /// Tokens counted this UTC hour and day, for a client with a quota.
    #[serde(skip_serializing_if = "Option::is_none")]
    token_quota_use: Option<QuotaUse>,
}

/// A client's use against its token quota, as its guard has it (each isolate reports within
/// seconds, and a thousandth of the quota at most, after issuing).
#[derive(Debug, Serialize)]
struct QuotaUse {
    per_hour: u64,
    per_day: u64,
}

/// A federated credential as the admin API shows it: as stored, with its last use.
#[derive(Debug, Serialize)]
pub struct CredentialView<'a> {
    #[serde(flatten)]
    credential: &'a FederatedCredential,
    /// Last successful use (epoch seconds), if tracked.
    last_used_at: Option<u64>,
}

/// The view of `credential` with its last use among `used` (the activity port's last uses,
/// which name a credential by its id where a secret's name it by the secret id).
pub fn credential<'a>(
    credential: &'a FederatedCredential,
    used: &[(String, u64)],
) -> CredentialView<'a> {
    let id = credential.credential_id.as_str();
    let last_used_at = used
        .iter()
        .filter(|(u, _)| u == id)
        .map(|(_, at)| *at)
        .max();
    CredentialView {
        credential,
        last_used_at,
    }
}

/// The view of a client with the lock state from its guard at `now` and its federated
/// credentials' last uses among `used`.
pub fn client<'a>(
    record: &'a ClientRecord,
    used: &[(String, u64)],
    guard: &GuardState,
    now: u64,
) -> ClientView<'a> {
    ClientView {
        client: &record.client,
        secrets: record.secrets.iter().map(|s| &s.meta).collect(),
        federated_credentials: record
            .federated_credentials
            .iter()
            .map(|c| credential(c, used))
            .collect(),
        locked_until: guard.locked(now),
        failed_attempts: guard.failures,
        tokens_valid_after: guard.tokens_valid_after,
        token_quota_use: record.client.token_quota.map(|_| {
            let (per_hour, per_day) = guard.quota.in_use(now);
            QuotaUse { per_hour, per_day }
        }),
    }
}

/// The view of a client that has no guard state yet (just created).
pub fn unguarded(record: &ClientRecord) -> ClientView<'_> {
    client(record, &[], &GuardState::default(), 0)
}

/// The record with its secrets' last uses (written in the background) merged in, and those
/// last uses, for showing (they hold the federated credentials' too; see [`credential`]).
pub async fn with_last_used(
    ctx: &Ctx<'_>,
    record: ClientRecord,
) -> Result<(ClientRecord, Vec<(String, u64)>), Error> {
    let used = ctx
        .ports
        .activity
        .last_used(&record.client.client_id)
        .await?;
    Ok((merge_last_used(record, &used), used))
}

/// The record with `used` (the activity port's last uses) merged into its secrets, for showing.
pub fn merge_last_used(mut record: ClientRecord, used: &[(String, u64)]) -> ClientRecord {
    for s in &mut record.secrets {
        if let Some((_, at)) = used.iter().find(|(id, _)| *id == s.meta.secret_id) {
            s.meta.last_used_at = Some(s.meta.last_used_at.map_or(*at, |x| x.max(*at)));
        }
    }
    record
}
