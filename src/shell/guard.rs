//! The `ClientGuard` Durable Object, one per client id: exact, cross-location decisions
//! (assertion replay), in SQLite storage, with an alarm that removes expired rows.

use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Method, ObjectNamespace, RequestInit, State};

use crate::clients::ClientId;
use crate::error::Error;
use crate::platform::{Coordinator, LocalFuture};

/// What the Worker asks of a guard.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum GuardRequest {
    ClaimJti { jti: String, until: i64, now: i64 },
}

#[derive(Serialize, Deserialize)]
struct Claimed {
    fresh: bool,
}

/// Per-client coordination state.
#[durable_object]
pub struct ClientGuard {
    state: State,
}

impl DurableObject for ClientGuard {
    fn new(state: State, _env: Env) -> Self {
        // Idempotent; runs once per object instantiation.
        let created = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS jti (jti TEXT PRIMARY KEY, until INTEGER NOT NULL)",
            None,
        );
        if let Err(e) = created {
            worker::console_error!("guard: creating tables failed: {e}");
        }
        ClientGuard { state }
    }

    async fn fetch(&self, mut req: worker::Request) -> worker::Result<worker::Response> {
        let GuardRequest::ClaimJti { jti, until, now } = req.json().await?;
        let sql = self.state.storage().sql();
        sql.exec("DELETE FROM jti WHERE until < ?", vec![now.into()])?;
        // One statement decides: the row is returned only if this call inserted it.
        let inserted: Vec<serde_json::Value> = sql
            .exec(
                "INSERT INTO jti (jti, until) VALUES (?, ?) ON CONFLICT(jti) DO NOTHING RETURNING jti",
                vec![jti.into(), until.into()],
            )?
            .to_array()?;
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_none() {
            storage.set_alarm((until + 1) * 1000).await?;
        }
        worker::Response::from_json(&Claimed {
            fresh: !inserted.is_empty(),
        })
    }

    async fn alarm(&self) -> worker::Result<worker::Response> {
        let now = worker::Date::now().as_millis() as i64 / 1000;
        let sql = self.state.storage().sql();
        sql.exec("DELETE FROM jti WHERE until < ?", vec![now.into()])?;
        #[derive(Deserialize)]
        struct Next {
            until: Option<i64>,
        }
        let next: Vec<Next> = sql
            .exec("SELECT MIN(until) AS until FROM jti", None)?
            .to_array()?;
        match next.first().and_then(|n| n.until) {
            // Nothing left: drop the object's storage entirely, so idle clients cost nothing.
            None => self.state.storage().delete_all().await?,
            Some(u) => self.state.storage().set_alarm((u + 1) * 1000).await?,
        }
        worker::Response::ok("ok")
    }
}

/// [`Coordinator`] over the `CLIENT_GUARD` namespace.
pub struct GuardCoordinator {
    /// The Durable Object namespace binding.
    pub namespace: ObjectNamespace,
    /// The Worker's current time, sent along so the guard purges by the same clock.
    pub now: u64,
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("ClientGuard: {e}"))
}

impl Coordinator for GuardCoordinator {
    fn claim_jti<'a>(
        &'a self,
        client: &'a ClientId,
        jti: &'a str,
        until: u64,
    ) -> LocalFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let body = serde_json::to_string(&GuardRequest::ClaimJti {
                jti: jti.to_string(),
                until: until as i64,
                now: self.now as i64,
            })
            .map_err(unavailable)?;
            let stub = self
                .namespace
                .id_from_name(client.as_str())
                .and_then(|id| id.get_stub())
                .map_err(unavailable)?;
            let mut init = RequestInit::new();
            init.with_method(Method::Post).with_body(Some(body.into()));
            let req = worker::Request::new_with_init("https://guard/claim-jti", &init)
                .map_err(unavailable)?;
            let mut resp = stub.fetch_with_request(req).await.map_err(unavailable)?;
            let claimed: Claimed = resp.json().await.map_err(unavailable)?;
            Ok(claimed.fresh)
        })
    }
}
