//! Token quotas in the isolate: each client's tokens counted here, checked here, and settled
//! with the client's guard in batches (the rule and its bound: [`crate::registry::quota`]).
//!
//! The token endpoint asks [`admit`] before signing. Under an enforced quota it refuses when
//! (the other isolates' tokens as the guard last said) + (this isolate's own) reaches a limit,
//! with no guard call: counts only grow within a window, so a refusal on old news is right.
//! Otherwise it counts the token, also with no guard call, unless B of this isolate's tokens
//! are still unconfirmed: then that one request reports first and waits for the answer.
//!
//! Reports normally go after the response ([`due`], run by the shell with `wait_until`): when
//! half a batch is unconfirmed, or [`REPORT_MS`] after the last report while tokens are
//! unreported. Their answers refresh the client's guard copy too, in place of its own read. So a client issuing fewer
//! than B/2 tokens per isolate in a round trip never waits for its guard, and a client without
//! a quota costs nothing here: no entry, no call, one `Cell` read after each request. The
//! counters themselves: [`crate::context::isolate::quota_counts`].

use crate::context::isolate::quota_counts::Admission;
use crate::context::{Actor, Ctx};
use crate::error::Error;
use crate::registry::audit::{Action, Subject};
use crate::registry::clients::ClientId;
use crate::registry::guard::GuardOp;
use crate::registry::quota::{TokenQuota, TokenReport, NOTED_DAY, NOTED_HOUR};
use crate::support::LocalFuture;

/// How many times one request reports before it gives up with 503: each answer confirms every
/// token issued before its report, so only a burst of concurrent requests needs a second.
const MAX_ROUNDS: usize = 3;

/// Decides whether `client` may have one more token under `quota`, and counts it if so: 429
/// over an enforced quota; the guard is asked first only when B tokens are unconfirmed.
pub async fn admit(ctx: &Ctx<'_>, client: &ClientId, quota: &TokenQuota) -> Result<(), Error> {
    let quotas = &ctx.isolate.quota;
    for _ in 0..MAX_ROUNDS {
        match quotas.admit(client, quota, ctx.now_ms(), ctx.ports.rng)? {
            Admission::Issue => return Ok(()),
            Admission::Refuse(e) => return Err(e),
            Admission::Report(report) => send(ctx, client, report).await?,
        }
    }
    Err(Error::Unavailable(
        "quota: tokens stayed unconfirmed after several reports".into(),
    ))
}

/// The background reports this isolate owes now; [`settle`] sends them.
pub fn due(ctx: &Ctx<'_>) -> Vec<(ClientId, TokenReport)> {
    ctx.isolate.quota.take_due(ctx.now_ms(), ctx.ports.rng)
}

/// Sends background reports, takes in the answers and writes the audit events they call for
/// (a monitored limit passed, once per window); answers the failures, for the log.
pub async fn settle(ctx: &Ctx<'_>, reports: Vec<(ClientId, TokenReport)>) -> Vec<Error> {
    let mut errors = Vec::new();
    for (client, report) in reports {
        if let Err(e) = send(ctx, &client, report).await {
            errors.push(e);
        }
    }
    errors
}

/// Sends one report, takes in its answer and audits a monitored limit it passed; on failure
/// its tokens go with the next report. Boxed: the token path and the shell's background work
/// share this one state machine instead of each inlining it.
fn send<'a>(
    ctx: &'a Ctx<'a>,
    client: &'a ClientId,
    report: TokenReport,
) -> LocalFuture<'a, Result<(), Error>> {
    Box::pin(async move {
        let quotas = &ctx.isolate.quota;
        let op = GuardOp::Tokens {
            tokens: report.clone(),
        };
        let state = match ctx.guard(client, op).await {
            Ok(state) => state,
            Err(e) => {
                quotas.failed(client);
                return Err(e);
            }
        };
        quotas.confirm(client, &report, &state.quota);
        let (hour, day) = state.quota.in_use(ctx.now());
        let windows = [
            (NOTED_HOUR, "hour", report.monitor_hour, hour),
            (NOTED_DAY, "day", report.monitor_day, day),
        ];
        for (bit, per, limit, count) in windows {
            if state.quota.noted_now() & bit == 0 {
                continue;
            }
            let detail = format!(
                "{count} tokens this {per}, over its quota of {limit} per {per} (monitored, not enforced)"
            );
            let subject = Subject::client(client);
            ctx.audit(Actor::System, Action::QuotaExceeded, subject, detail)
                .await?;
        }
        Ok(())
    })
}
