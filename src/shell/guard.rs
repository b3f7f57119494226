//! The `ClientGuard` Durable Object, one per client id: exact, cross-location decisions
//! (assertion replay, and the guard state machine of [`crate::registry::guard`]) in SQLite,
//! with an alarm that removes what expired and drops the storage once nothing is left.
//!
//! Between reading and writing, each request runs synchronous SQL only, so no other request
//! can interleave: counting is exact however many arrive at once.

use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Method, ObjectNamespace, RequestInit, State};

use crate::error::Error;
use crate::ports::{Guards, PortResult};
use crate::registry::clients::ClientId;
use crate::registry::guard::{GuardOp, GuardState};

/// What the Worker asks of a guard.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum GuardRequest {
    ClaimJti { jti: String, until: i64 },
    Guard { change: GuardOp, now: i64 },
}

#[derive(Serialize, Deserialize)]
struct Claimed {
    fresh: bool,
}

#[derive(Deserialize)]
struct StateRow {
    state: String,
}

#[derive(Deserialize)]
struct Next {
    until: Option<i64>,
}

/// Per-client coordination state.
#[durable_object]
pub struct ClientGuard {
    state: State,
    /// The alarm time this instance last set or saw, so the hot path skips the storage call.
    alarm_at: std::cell::Cell<Option<i64>>,
    /// Whether the tables exist: `delete_all` on a SQLite-backed object drops them, so they
    /// are made again before the next use, not only when the object starts.
    schema_ready: std::cell::Cell<bool>,
}

impl DurableObject for ClientGuard {
    fn new(state: State, _env: Env) -> Self {
        ClientGuard {
            state,
            alarm_at: std::cell::Cell::new(None),
            schema_ready: std::cell::Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: worker::Request) -> worker::Result<worker::Response> {
        self.schema()?;
        match req.json().await? {
            GuardRequest::ClaimJti { jti, until } => {
                let fresh = self.claim(&jti, until)?;
                self.alarm_by(until).await?;
                worker::Response::from_json(&Claimed { fresh })
            }
            GuardRequest::Guard { change, now } => {
                let state = self.change(&change, now)?;
                if let Some(next) = state.next_expiry() {
                    self.alarm_by(next as i64).await?;
                }
                worker::Response::from_json(&state)
            }
        }
    }

    async fn alarm(&self) -> worker::Result<worker::Response> {
        self.alarm_at.set(None);
        self.schema()?;
        let now = worker::Date::now().as_millis() as i64 / 1000;
        let sql = self.state.storage().sql();
        sql.exec("DELETE FROM jti WHERE until < ?", vec![now.into()])?;
        let state = self.change(&GuardOp::Read, now)?;
        let next: Vec<Next> = sql
            .exec("SELECT MIN(until) AS until FROM jti", None)?
            .to_array()?;
        let jti_next = next.first().and_then(|n| n.until);
        let guard_next = state.next_expiry().map(|t| t as i64);
        match jti_next.into_iter().chain(guard_next).min() {
            // Nothing left: drop the object's storage entirely, so idle clients cost nothing.
            None if state.is_empty() => {
                self.state.storage().delete_all().await?;
                self.schema_ready.set(false);
            }
            None => {}
            Some(u) => self.alarm_by(u).await?,
        }
        worker::Response::ok("ok")
    }
}

impl ClientGuard {
    /// Makes the tables if this instance has not yet, or dropped them with `delete_all`.
    fn schema(&self) -> worker::Result<()> {
        if self.schema_ready.get() {
            return Ok(());
        }
        let sql = self.state.storage().sql();
        sql.exec(
            "CREATE TABLE IF NOT EXISTS jti (jti TEXT PRIMARY KEY, until INTEGER NOT NULL)",
            None,
        )?;
        sql.exec("CREATE INDEX IF NOT EXISTS jti_until ON jti (until)", None)?;
        sql.exec(
            "CREATE TABLE IF NOT EXISTS guard (id INTEGER PRIMARY KEY CHECK (id = 0), state TEXT NOT NULL)",
            None,
        )?;
        self.schema_ready.set(true);
        Ok(())
    }

    /// Records a jti; one statement decides, so exactly one of two equal claims wins. Expired
    /// rows are left to the alarm: an expired assertion never gets this far.
    fn claim(&self, jti: &str, until: i64) -> worker::Result<bool> {
        let sql = self.state.storage().sql();
        let inserted: Vec<serde_json::Value> = sql
            .exec(
                "INSERT INTO jti (jti, until) VALUES (?, ?) ON CONFLICT(jti) DO NOTHING RETURNING jti",
                vec![jti.into(), until.into()],
            )?
            .to_array()?;
        Ok(!inserted.is_empty())
    }

    /// Reads, changes and writes the guard state with no await in between.
    fn change(&self, change: &GuardOp, now: i64) -> worker::Result<GuardState> {
        let sql = self.state.storage().sql();
        let rows: Vec<StateRow> = sql
            .exec("SELECT state FROM guard WHERE id = 0", None)?
            .to_array()?;
        let mut state: GuardState = rows
            .first()
            .and_then(|r| serde_json::from_str(&r.state).ok())
            .unwrap_or_default();
        let before = state.clone();
        state.apply(change, now.max(0) as u64);
        if state != before {
            if state.is_empty() {
                sql.exec("DELETE FROM guard WHERE id = 0", None)?;
            } else {
                let json = serde_json::to_string(&state)?;
                sql.exec(
                    "INSERT INTO guard (id, state) VALUES (0, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state",
                    vec![json.into()],
                )?;
            }
        }
        Ok(state)
    }

    /// Makes sure the cleanup alarm fires no later than just after `until` (epoch seconds).
    async fn alarm_by(&self, until: i64) -> worker::Result<()> {
        let wanted = (until + 1) * 1000;
        if self.alarm_at.get().is_some_and(|at| at <= wanted) {
            return Ok(());
        }
        let storage = self.state.storage();
        match storage.get_alarm().await? {
            Some(at) if at <= wanted => self.alarm_at.set(Some(at)),
            _ => {
                // workers-rs reads a bare number as an offset from now, not a time: give it one.
                let now = worker::Date::now().as_millis() as i64;
                storage.set_alarm((wanted - now).max(0)).await?;
                self.alarm_at.set(Some(wanted));
            }
        }
        Ok(())
    }
}

/// [`Guards`] over the `CLIENT_GUARD` namespace.
pub struct DurableGuards {
    /// The Durable Object namespace binding.
    pub namespace: ObjectNamespace,
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("ClientGuard: {e}"))
}

impl DurableGuards {
    /// One request to the client's guard.
    async fn ask<T: serde::de::DeserializeOwned>(
        &self,
        client: &ClientId,
        request: &GuardRequest,
    ) -> Result<T, Error> {
        let body = serde_json::to_string(request).map_err(unavailable)?;
        let stub = self
            .namespace
            .id_from_name(client.as_str())
            .and_then(|id| id.get_stub())
            .map_err(unavailable)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let req = worker::Request::new_with_init("https://guard/", &init).map_err(unavailable)?;
        let mut resp = stub.fetch_with_request(req).await.map_err(unavailable)?;
        resp.json().await.map_err(unavailable)
    }
}

impl Guards for DurableGuards {
    fn claim_jti<'a>(
        &'a self,
        client: &'a ClientId,
        jti: &'a str,
        until: u64,
    ) -> PortResult<'a, bool> {
        Box::pin(async move {
            let request = GuardRequest::ClaimJti {
                jti: jti.to_string(),
                until: until as i64,
            };
            let claimed: Claimed = self.ask(client, &request).await?;
            Ok(claimed.fresh)
        })
    }

    fn apply<'a>(
        &'a self,
        client: &'a ClientId,
        op: GuardOp,
        now: u64,
    ) -> PortResult<'a, GuardState> {
        Box::pin(async move {
            let request = GuardRequest::Guard {
                change: op,
                now: now as i64,
            };
            self.ask(client, &request).await
        })
    }
}
