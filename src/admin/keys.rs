//! The token signing keys: `GET /admin/keys` shows each key's state and dates,
//! `POST /admin/keys/rotate` starts a rotation, `POST /admin/keys/{kid}/revoke` pulls a key at
//! once (see [`KeySchedule::revoke`](crate::registry::signing_keys::KeySchedule::revoke)), and
//! [`tick`] (the Cron Trigger) drops retired keys and rotates on the configured period.

use serde::Serialize;

use crate::admin::shared::{audited, not_found};
use crate::context::{Actor, Ctx};
use crate::error::Error;
use crate::http::Response;
use crate::registry::audit::{Action, Subject};
use crate::registry::signing_keys::{KeyRing, KeySchedule, KeyState, ScheduledKey};
use crate::support::time::rfc3339;

/// One key as the admin API shows it.
#[derive(Serialize)]
struct KeyView<'a> {
    kid: &'a str,
    state: KeyState,
    /// Where the key comes from: the rotation schedule, or `PREVIOUS_SIGNING_KEY_SEED`.
    source: &'static str,
    index: Option<u32>,
    published_at: Option<u64>,
    signs_from: Option<u64>,
    retires_at: Option<u64>,
    revoked_at: Option<u64>,
}

/// What `GET /admin/keys` and the changes answer.
#[derive(Serialize)]
struct KeyList<'a> {
    keys: Vec<KeyView<'a>>,
    publish_lead_secs: u64,
    rotation_period_days: Option<u64>,
}

/// The key list at `now`: retired keys not yet pruned are shown as such.
fn view(ctx: &Ctx<'_>, ring: &KeyRing) -> Response {
    let now = ctx.now();
    let mut keys: Vec<KeyView<'_>> = ring
        .schedule()
        .states(now)
        .into_iter()
        .map(|(k, state, retires_at)| KeyView {
            kid: ring.kid(k.index),
            state,
            source: "schedule",
            index: Some(k.index),
            published_at: Some(k.published_at),
            signs_from: Some(k.signs_from),
            retires_at,
            revoked_at: k.revoked_at,
        })
        .collect();
    keys.extend(ring.configured_previous().map(|k| KeyView {
        kid: k.kid(),
        state: KeyState::Previous,
        source: "PREVIOUS_SIGNING_KEY_SEED",
        index: None,
        published_at: None,
        signs_from: None,
        retires_at: None,
        revoked_at: None,
    }));
    let doc = KeyList {
        keys,
        publish_lead_secs: ctx.config.key_publish_lead,
        rotation_period_days: ctx.config.key_rotation_period.map(|p| p / 86_400),
    };
    Response::json(200, &doc).with_header("cache-control", "no-store")
}

/// `GET /admin/keys`.
pub async fn show(ctx: &Ctx<'_>) -> Result<Response, Error> {
    let ring = ctx.key_ring().await?;
    Ok(view(ctx, &ring))
}

/// `POST /admin/keys/rotate` (`kid` none) or `POST /admin/keys/{kid}/revoke`, on a fresh read of
/// the schedule (never a cached one: a stale copy could hide a pending rotation or a
/// revocation). Answers the key list after the change, and audits it.
pub async fn change(ctx: &Ctx<'_>, kid: Option<&str>) -> Result<Response, Error> {
    let mut schedule = ctx.key_schedule().await?;
    // The stored schedule in use at once: its keys derived, their kids known.
    let before = ctx.use_key_schedule(schedule.clone()).await?;
    let (rotated_in, revoked) = match kid {
        None => (Some(rotate(ctx, &mut schedule)?), None),
        Some(kid) => (None, revoke(ctx, &before, &mut schedule, kid)?),
    };
    // Nothing changed (a key already revoked): no write, which KV allows once a second.
    if rotated_in.is_some() || revoked.is_some() {
        ctx.ports.keys.put_schedule(&schedule).await?;
    }
    let ring = ctx.use_key_schedule(schedule).await?;
    let response = view(ctx, &ring);
    let event = match (rotated_in, revoked) {
        (Some(key), _) => Some((Action::KeysRotated, rotated(&ring, key))),
        (None, revoked) => revoked,
    };
    match event {
        Some((action, detail)) => {
            Ok(audited(ctx, action, Subject::default(), detail, response).await)
        }
        None => Ok(response),
    }
}

/// Publishes the next key now; it signs after the publish lead. 409 while a rotation is
/// already under way.
fn rotate(ctx: &Ctx<'_>, schedule: &mut KeySchedule) -> Result<ScheduledKey, Error> {
    let lead = ctx.config.key_publish_lead;
    schedule.rotate(ctx.now(), lead).map_err(|pending| {
        let at = rfc3339(pending.signs_from);
        Error::Conflict(format!("a rotation is under way: the next key signs from {at}").into())
    })
}

/// Takes the key out of the JWKS and out of signing at once (see [`KeySchedule::revoke`]).
/// A key already revoked changes nothing and is not audited again. Any kid the schedule does
/// not hold, well-formed or not, is 404, as other admin path ids.
fn revoke(
    ctx: &Ctx<'_>,
    ring: &KeyRing,
    schedule: &mut KeySchedule,
    kid: &str,
) -> Result<Option<(Action, String)>, Error> {
    let Some(index) = schedule.indexes().find(|&i| ring.kid(i) == kid) else {
        if ring.configured_previous().is_some_and(|k| k.kid() == kid) {
            let why = "this key comes from PREVIOUS_SIGNING_KEY_SEED: unset that setting instead";
            return Err(Error::Conflict(why.into()));
        }
        return Err(not_found("signing key"));
    };
    let revoked = schedule.revoke(index, ctx.now())?;
    let detail = format!("revoked key {kid} (index {index})");
    Ok(revoked.then_some((Action::KeyRevoked, detail)))
}

fn rotated(ring: &KeyRing, key: ScheduledKey) -> String {
    format!(
        "published key {} (index {}); it signs from {}",
        ring.kid(key.index),
        key.index,
        rfc3339(key.signs_from)
    )
}

/// The scheduled work, run by the Cron Trigger: drops retired keys, and starts a rotation
/// when the configured period has passed. Both are audited as the system's doing.
pub async fn tick(ctx: &Ctx<'_>) -> Result<(), Error> {
    let now = ctx.now();
    let mut schedule = ctx.key_schedule().await?;
    let stored = schedule.clone();
    let retired = schedule.prune(now);
    let due = ctx
        .config
        .key_rotation_period
        .is_some_and(|period| schedule.rotation_due(now, period));
    let started = due
        .then(|| schedule.rotate(now, ctx.config.key_publish_lead).ok())
        .flatten();
    if retired.is_empty() && started.is_none() {
        return Ok(());
    }
    // The retired keys' kids come from the schedule that still holds them.
    let before = ctx.use_key_schedule(stored).await?;
    let ring = ctx.save_key_schedule(schedule).await?;
    for key in retired {
        let kid = before.kid(key.index);
        let detail = format!("retired key {kid} (index {})", key.index);
        ctx.audit(
            Actor::System,
            Action::KeyRetired,
            Subject::default(),
            detail,
        )
        .await?;
    }
    if let Some(key) = started {
        let detail = format!("{} (periodic rotation)", rotated(&ring, key));
        ctx.audit(
            Actor::System,
            Action::KeysRotated,
            Subject::default(),
            detail,
        )
        .await?;
    }
    Ok(())
}
