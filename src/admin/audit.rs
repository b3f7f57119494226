//! The audit trail and usage, read back: `/admin/audit`, `/admin/clients/{id}/audit` and
//! `/admin/clients/{id}/usage`.

use serde::Serialize;

use crate::admin::shared::{listing, load_client, page_params, path_id};
use crate::context::Ctx;
use crate::error::Error;
use crate::http::{Request, Response};
use crate::registry::clients::ClientId;
use crate::support::time::date_of_day;

/// Days shown by the usage endpoint, today included.
pub const USAGE_DAYS: u64 = 30;

/// `GET /admin/audit`: the whole trail, newest first.
pub async fn events(ctx: &Ctx<'_>, req: &Request) -> Result<Response, Error> {
    page_of_events(ctx, None, req).await
}

/// `GET /admin/clients/{id}/audit`: one client's history, newest first. It stays readable
/// after the client is deleted, until the events expire.
pub async fn client_events(ctx: &Ctx<'_>, id: &str, req: &Request) -> Result<Response, Error> {
    let id = path_id(id, ClientId::parse, "client")?;
    page_of_events(ctx, Some(&id), req).await
}

async fn page_of_events(
    ctx: &Ctx<'_>,
    client: Option<&ClientId>,
    req: &Request,
) -> Result<Response, Error> {
    let (limit, cursor) = page_params(ctx, req)?;
    let page = ctx
        .ports
        .audit
        .events(client, cursor.as_deref(), limit)
        .await?;
    let next = page.next_cursor.as_deref();
    Ok(listing(ctx, "events", &page.items, next))
}

/// `GET /admin/clients/{id}/usage`: tokens issued per UTC day, the last 30 days, oldest first.
pub async fn usage(ctx: &Ctx<'_>, id: &str) -> Result<Response, Error> {
    let record = load_client(ctx, id).await?;
    let entries = ctx.ports.activity.usage(&record.client.client_id).await?;
    let days: Vec<Day> = daily_totals(&entries, ctx.now())
        .into_iter()
        .map(|(date, tokens)| Day { date, tokens })
        .collect();
    Ok(Response::json(200, &Usage { days }))
}

/// The usage document: `{"days": [{"date": ..., "tokens": ...}, ...]}`.
#[derive(Serialize)]
struct Usage {
    days: Vec<Day>,
}

#[derive(Serialize)]
struct Day {
    date: String,
    tokens: u64,
}

/// Per-day totals of a client for the [`USAGE_DAYS`] days ending today, oldest first.
pub fn daily_totals(entries: &[(String, u64)], now: u64) -> Vec<(String, u64)> {
    let today = now / 86_400;
    (0..USAGE_DAYS)
        .rev()
        .filter_map(|back| today.checked_sub(back))
        .map(|day| {
            let date = date_of_day(day);
            let tokens = entries
                .iter()
                .filter(|(d, _)| *d == date)
                .map(|(_, n)| n)
                .sum();
            (date, tokens)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_totals_sum_isolates_and_cover_thirty_days() {
        let now = 20_780 * 86_400 + 5;
        let entries = vec![
            ("2026-11-23".to_string(), 3),
            ("2026-11-23".to_string(), 4),
            ("2026-11-20".to_string(), 1),
            ("2026-09-01".to_string(), 9),
        ];
        let days = daily_totals(&entries, now);
        assert_eq!(days.len(), 30);
        assert_eq!(days[29], ("2026-11-23".to_string(), 7));
        assert_eq!(days[26], ("2026-11-20".to_string(), 1));
        assert_eq!(days[0].0, "2026-10-25");
        assert_eq!(days.iter().map(|d| d.1).sum::<u64>(), 8);
    }
}
