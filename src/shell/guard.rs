//! The `ClientGuard` Durable Object, one per client id: exact, cross-location decisions
//! (assertion replay, and the guard state machine of [`crate::registry::guard`]) in SQLite,
//! with an alarm that removes what expired and drops the storage once nothing is left.
//!
//! Between reading and writing, each request runs synchronous SQL only, so no other request
//! can interleave: counting is exact however many arrive at once.
//!
//! jti claims are written in batches: every write costs the object a commit (about 280 µs of
//! workerd's time, measured), while a statement is cheap. Claims arriving in the same turn of
//! the event loop wait for one multi-row insert; each answer leaves only after that commit, as
//! the output gate holds responses until the writes before them are durable.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use serde::{Deserialize, Serialize};
use wasm_bindgen_futures::JsFuture;
use worker::{durable_object, DurableObject, Env, ObjectNamespace, SqlStorage, State};

use crate::error::Error;
use crate::ports::{Guards, PortResult};
use crate::registry::clients::ClientId;
use crate::registry::guard::{GuardOp, GuardState};
use crate::support::b64::{b64url, b64url_decode};

/// A guard change, as the Worker sends it (jti claims take the compact path, [`claim_url`]).
#[derive(Serialize, Deserialize)]
struct GuardRequest {
    change: GuardOp,
    now: i64,
}

/// The claim path: `/claim/{base64url(jti)}/{until}`. A claim is a bodiless GET answered by
/// its status alone, as it is the one guard call on a hot path: no body to write or read on
/// either side.
const CLAIM_PATH: &str = "/claim/";

/// The answer to a claim that recorded its jti; a replay gets [`REPLAYED`].
const FRESH: u16 = 200;
/// The answer to a claim whose jti was already recorded.
const REPLAYED: u16 = 409;

fn claim_url(jti: &str, until: i64) -> String {
    format!("https://guard{CLAIM_PATH}{}/{until}", b64url(jti))
}

/// The jti and time of a claim URL, or None if `url` is not one.
fn parse_claim(url: &str) -> Option<(String, i64)> {
    let rest = &url[url.find(CLAIM_PATH)? + CLAIM_PATH.len()..];
    let (jti, until) = rest.split_once('/')?;
    let jti = String::from_utf8(b64url_decode(jti)?).ok()?;
    Some((jti, until.parse().ok()?))
}

#[derive(Deserialize)]
struct StateRow {
    state: String,
}

#[derive(Deserialize)]
struct Next {
    until: Option<i64>,
}

#[derive(Deserialize)]
struct Inserted {
    jti: String,
}

/// The jtis one batch recorded, or why its write failed.
type Written = Rc<Result<HashSet<String>, String>>;

/// Claims waiting for the next write, and that write: whoever awaits it drives it.
#[derive(Clone)]
struct Batch {
    claims: Rc<RefCell<Vec<(String, i64)>>>,
    written: Shared<LocalBoxFuture<'static, Written>>,
}

/// Cloudflare allows at most 100 bound parameters per statement: two per claim.
const ROWS_PER_INSERT: usize = 50;

/// Per-client coordination state.
#[durable_object]
pub struct ClientGuard {
    state: State,
    /// The alarm time this instance last set or saw, so the hot path skips the storage call.
    alarm_at: Cell<Option<i64>>,
    /// Whether the tables exist: `delete_all` on a SQLite-backed object drops them, so they
    /// are made again before the next use, not only when the object starts.
    schema_ready: Rc<Cell<bool>>,
    /// The batch still taking claims, if any.
    open: Rc<RefCell<Option<Batch>>>,
}

impl DurableObject for ClientGuard {
    fn new(state: State, _env: Env) -> Self {
        ClientGuard {
            state,
            alarm_at: Cell::new(None),
            schema_ready: Rc::new(Cell::new(false)),
            open: Rc::new(RefCell::new(None)),
        }
    }

    async fn fetch(&self, mut req: worker::Request) -> worker::Result<worker::Response> {
        self.schema()?;
        if let Some((jti, until)) = parse_claim(&req.inner().url()) {
            let fresh = self.claim(jti, until).await?;
            self.alarm_by(until).await?;
            return worker::Response::empty()
                .map(|r| r.with_status(if fresh { FRESH } else { REPLAYED }));
        }
        // text() and serde_json: json() would walk the parsed JS object across the boundary.
        let GuardRequest { change, now } = serde_json::from_str(&req.text().await?)?;
        let state = self.change(&change, now)?;
        if let Some(next) = state.next_expiry() {
            self.alarm_by(next as i64).await?;
        }
        worker::Response::from_json(&state)
    }

    async fn alarm(&self) -> worker::Result<worker::Response> {
        self.alarm_at.set(None);
        self.schema()?;
        let now = worker::Date::now().as_millis() as i64 / 1000;
        let sql = self.state.storage().sql();
        sql.exec("DELETE FROM jti WHERE until < ?", vec![now.into()])?;
        let state = self.change(&GuardOp::Read, now)?;
        let next: Vec<Next> = rows_of(sql.exec("SELECT MIN(until) AS until FROM jti", None)?)?;
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

/// A cursor's rows, each crossing as JSON text: `to_array` would link serde-wasm-bindgen for
/// three small queries.
fn rows_of<T: serde::de::DeserializeOwned>(cursor: worker::SqlCursor) -> worker::Result<Vec<T>> {
    cursor
        .map(|row| {
            let text = js_sys::JSON::stringify(&row?)?;
            Ok(serde_json::from_str(&String::from(text))?)
        })
        .collect()
}

/// Makes the tables if this instance has not yet, or dropped them with `delete_all`.
fn schema(sql: &SqlStorage, ready: &Cell<bool>) -> worker::Result<()> {
    if ready.get() {
        return Ok(());
    }
    sql.exec(
        "CREATE TABLE IF NOT EXISTS jti (jti TEXT PRIMARY KEY, until INTEGER NOT NULL)",
        None,
    )?;
    sql.exec("CREATE INDEX IF NOT EXISTS jti_until ON jti (until)", None)?;
    sql.exec(
        "CREATE TABLE IF NOT EXISTS guard (id INTEGER PRIMARY KEY CHECK (id = 0), state TEXT NOT NULL)",
        None,
    )?;
    ready.set(true);
    Ok(())
}

/// Inserts the claims, with no await in between: the jtis the statements return are the ones
/// recorded now, so exactly one of two equal claims wins. Expired rows are left to the alarm:
/// an expired assertion never gets this far.
fn insert(
    sql: &SqlStorage,
    ready: &Cell<bool>,
    claims: &[(String, i64)],
) -> worker::Result<HashSet<String>> {
    schema(sql, ready)?;
    let mut recorded = HashSet::with_capacity(claims.len());
    for chunk in claims.chunks(ROWS_PER_INSERT) {
        let rows = vec!["(?, ?)"; chunk.len()].join(", ");
        let params: Vec<worker::SqlStorageValue> = chunk
            .iter()
            .flat_map(|(jti, until)| [jti.as_str().into(), (*until).into()])
            .collect();
        let statement = format!(
            "INSERT INTO jti (jti, until) VALUES {rows} ON CONFLICT(jti) DO NOTHING RETURNING jti"
        );
        let inserted: Vec<Inserted> = rows_of(sql.exec(&statement, params)?)?;
        recorded.extend(inserted.into_iter().map(|row| row.jti));
    }
    Ok(recorded)
}

impl ClientGuard {
    /// Makes the tables if this instance has not yet, or dropped them with `delete_all`.
    fn schema(&self) -> worker::Result<()> {
        schema(&self.state.storage().sql(), &self.schema_ready)
    }

    /// Records a jti: true for the one claim that recorded it, false for every other. The
    /// claim joins the open batch, which is written once the event loop has delivered the
    /// claims already waiting.
    async fn claim(&self, jti: String, until: i64) -> worker::Result<bool> {
        let Batch { claims, written } = self.open_batch();
        {
            let mut claims = claims.borrow_mut();
            // An equal claim in the same batch: that one is first, and the insert would
            // return the jti once for both.
            if claims.iter().any(|(j, _)| *j == jti) {
                return Ok(false);
            }
            claims.push((jti.clone(), until));
        }
        match &*written.await {
            Ok(recorded) => Ok(recorded.contains(&jti)),
            Err(e) => Err(worker::Error::RustError(e.clone())),
        }
    }

    /// The batch taking claims, opened if none is.
    fn open_batch(&self) -> Batch {
        let mut open = self.open.borrow_mut();
        let batch = open.get_or_insert_with(|| {
            let claims = Rc::new(RefCell::new(Vec::new()));
            let (sql, ready, slot) = (
                self.state.storage().sql(),
                self.schema_ready.clone(),
                self.open.clone(),
            );
            let taken = claims.clone();
            let written = async move {
                // A zero timer ends the turn: claims already queued arrive before the write.
                worker::Delay::from(std::time::Duration::ZERO).await;
                slot.borrow_mut().take();
                let claims = std::mem::take(&mut *taken.borrow_mut());
                Rc::new(insert(&sql, &ready, &claims).map_err(|e| e.to_string()))
            }
            .boxed_local()
            .shared();
            Batch { claims, written }
        });
        batch.clone()
    }

    /// Reads, changes and writes the guard state with no await in between.
    fn change(&self, change: &GuardOp, now: i64) -> worker::Result<GuardState> {
        let sql = self.state.storage().sql();
        let rows: Vec<StateRow> = rows_of(sql.exec("SELECT state FROM guard WHERE id = 0", None)?)?;
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
    fn stub(&self, client: &ClientId) -> Result<worker::Stub, Error> {
        self.namespace
            .id_from_name(client.as_str())
            .and_then(|id| id.get_stub())
            .map_err(unavailable)
    }

    /// One guard change.
    async fn ask<T: serde::de::DeserializeOwned>(
        &self,
        client: &ClientId,
        request: &GuardRequest,
    ) -> Result<T, Error> {
        let body = serde_json::to_string(request).map_err(unavailable)?;
        let stub = self.stub(client)?;
        // web-sys's RequestInit, not workers-rs's: that one links every `cf` option.
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&body.into());
        let req = web_sys::Request::new_with_str_and_init("https://guard/", &init)
            .map_err(|e| unavailable(format!("{e:?}")))?;
        let resp = stub
            .fetch_with_request(req.into())
            .await
            .map_err(unavailable)?;
        // The runtime's own text(): workers-rs would read the body through a stream reader,
        // chunk by chunk across the boundary (about 60 µs a claim in a CPU profile).
        let text = web_sys::Response::from(resp)
            .text()
            .map(JsFuture::from)
            .map_err(|e| unavailable(format!("{e:?}")))?
            .await
            .map_err(|e| unavailable(format!("{e:?}")))?;
        serde_json::from_str(&text.as_string().unwrap_or_default()).map_err(unavailable)
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
            let url = claim_url(jti, until as i64);
            let resp = self
                .stub(client)?
                .fetch_with_str(&url)
                .await
                .map_err(unavailable)?;
            match resp.status_code() {
                FRESH => Ok(true),
                REPLAYED => Ok(false),
                other => Err(unavailable(format!("claim answered {other}"))),
            }
        })
    }

    fn apply<'a>(
        &'a self,
        client: &'a ClientId,
        op: GuardOp,
        now: u64,
    ) -> PortResult<'a, GuardState> {
        Box::pin(async move {
            let request = GuardRequest {
                change: op,
                now: now as i64,
            };
            self.ask(client, &request).await
        })
    }
}
