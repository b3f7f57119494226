//! What the admin API shows: a client's registration and secret metadata with its lock state,
//! never a digest or salt.

use serde::Serialize;

use crate::context::Ctx;
use crate::error::Error;
use crate::registry::clients::{Client, ClientRecord};
use crate::registry::guard::GuardState;
use crate::registry::secrets::SecretMeta;

/// A client as the admin API shows it.
#[derive(Debug, Serialize)]
pub struct ClientView<'a> {
    #[serde(flatten)]
    client: &'a Client,
    secrets: Vec<&'a SecretMeta>,
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

/// The view of a client with the lock state from its guard at `now`.
pub fn client<'a>(record: &'a ClientRecord, guard: &GuardState, now: u64) -> ClientView<'a> {
    ClientView {
        client: &record.client,
        secrets: record.secrets.iter().map(|s| &s.meta).collect(),
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
    client(record, &GuardState::default(), 0)
}

/// The record with its secrets' last uses (written in the background) merged in, for showing.
pub async fn with_last_used(ctx: &Ctx<'_>, record: ClientRecord) -> Result<ClientRecord, Error> {
    let used = ctx
        .ports
        .activity
        .last_used(&record.client.client_id)
        .await?;
    Ok(merge_last_used(record, &used))
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
