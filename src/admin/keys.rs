//! The token signing keys: `GET /admin/keys` shows each key's state and dates,
//! `POST /admin/keys/rotate` starts a rotation, and [`tick`] (the Cron Trigger) drops retired
//! keys and rotates on the configured period.

use std::rc::Rc;

use serde::Serialize;
use serde_json::json;

use crate::admin::shared::audited;
use crate::context::{Actor, Ctx};
use crate::error::Error;
use crate::http::Response;
use crate::registry::audit::{Action, Subject};
use crate::registry::signing_keys::{KeyRing, KeyState, ScheduledKey};
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
    }));
    Response::json(
        200,
        &json!({
            "keys": keys,
            "publish_lead_secs": ctx.config.key_publish_lead,
            "rotation_period_days": ctx.config.key_rotation_period.map(|p| p / 86_400),
        }),
    )
    .with_header("cache-control", "no-store")
}

/// `GET /admin/keys`.
pub async fn show(ctx: &Ctx<'_>) -> Result<Response, Error> {
    let ring = ctx.key_ring().await?;
    Ok(view(ctx, &ring))
}

/// `POST /admin/keys/rotate`: publishes the next key now; it signs after the publish lead.
/// 409 while a rotation is already under way.
pub async fn rotate(ctx: &Ctx<'_>) -> Result<Response, Error> {
    let (ring, key) = start_rotation(ctx).await?.map_err(|pending| {
        Error::Conflict(
            format!(
                "a rotation is under way: the next key signs from {}",
                rfc3339(pending.signs_from)
            )
            .into(),
        )
    })?;
    let detail = rotated(&ring, key);
    let response = view(ctx, &ring);
    Ok(audited(
        ctx,
        Action::KeysRotated,
        Subject::default(),
        detail,
        response,
    )
    .await)
}

/// Rotates on a fresh read of the schedule (never a cached one: a stale copy could hide a
/// pending rotation). `Ok(Err(pending))` when one is already under way.
async fn start_rotation(
    ctx: &Ctx<'_>,
) -> Result<Result<(Rc<KeyRing>, ScheduledKey), ScheduledKey>, Error> {
    let mut schedule = ctx.key_schedule().await?;
    match schedule.rotate(ctx.now(), ctx.config.key_publish_lead) {
        Err(pending) => Ok(Err(pending)),
        Ok(key) => Ok(Ok((ctx.save_key_schedule(schedule).await?, key))),
    }
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
    let ring = ctx.save_key_schedule(schedule).await?;
    for key in retired {
        let kid = ctx.config.seed.key(key.index).public().kid().to_string();
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
