//! The `ClientGuard` Durable Object, one per client id: exact, cross-location decisions
//! (assertion replay, and the guard state machine of [`crate::registry::guard`]) in SQLite,
//! with an alarm that removes what expired and drops the storage once nothing is left.
//!
//! Between reading and writing, each request runs synchronous SQL only, so no other request
//! can interleave: counting is exact however many arrive at once.
//!
//! The Worker's side, which calls it, is [`super::guards`]: Durable Object RPC, through the
//! methods `src/shell/entry.mjs` gives the object.
//!
//! jti claims come in batches: every write costs the object a commit (about 280 µs of
//! workerd's time, measured) while a statement is cheap, so each isolate sends a guard at most
//! one claim call at a time, carrying the claims that waited for it ([`super::guards`]), and
//! the call is one multi-row insert. Its answer leaves only after that commit, as the output
//! gate holds responses until the writes before them are durable.

use std::cell::Cell;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::State;

use crate::registry::guard::{GuardOp, GuardState};
use crate::support::json;

/// A guard change, as the Worker sends it to [`ClientGuard::change`] (JSON text).
#[derive(Serialize, Deserialize)]
pub(super) struct GuardRequest {
    pub(super) change: GuardOp,
    pub(super) now: i64,
}

/// Cloudflare allows at most 100 bound parameters per statement: two per claim.
const ROWS_PER_INSERT: usize = 50;

/// Per-client coordination state. The runtime reaches it through `ClientGuard` of
/// `src/shell/entry.mjs`, a `DurableObject` whose RPC methods (`claim`, `change`) and alarm
/// call these: plain arguments and results, no HTTP request or response on either side.
#[wasm_bindgen]
pub struct ClientGuard {
    state: State,
    /// The alarm time this instance last set or saw, so the hot path skips the storage call.
    alarm_at: Cell<Option<i64>>,
    /// Whether the tables exist: `delete_all` on a SQLite-backed object drops them, so they
    /// are made again before the next use, not only when the object starts.
    schema_ready: Cell<bool>,
}

#[wasm_bindgen]
impl ClientGuard {
    /// The guard of the object whose state (`ctx`) the runtime gave `entry.mjs`.
    #[wasm_bindgen(constructor)]
    pub fn new(state: worker::worker_sys::DurableObjectState) -> ClientGuard {
        ClientGuard {
            state: State::from(state),
            alarm_at: Cell::new(None),
            schema_ready: Cell::new(false),
        }
    }

    /// Records the claims, jti `jtis[i]` kept until `untils[i]` (epoch seconds): one character
    /// per claim, in order, `1` for a claim that recorded its jti and `0` for one whose jti was
    /// already recorded (or earlier in this call).
    pub async fn claim(&self, jtis: Vec<String>, untils: Vec<f64>) -> Result<String, JsValue> {
        if jtis.len() != untils.len() {
            return Err(JsValue::from_str("claim: as many jtis as untils"));
        }
        let claims: Vec<(String, i64)> = jtis
            .into_iter()
            .zip(untils.iter().map(|&u| u as i64))
            .collect();
        let fresh = self.record(&claims)?;
        if let Some(latest) = claims.iter().map(|(_, until)| *until).max() {
            self.alarm_by(latest).await?;
        }
        Ok(fresh.iter().map(|&f| if f { '1' } else { '0' }).collect())
    }

    /// Applies a [`GuardRequest`] (JSON text): the guard state after it, as JSON text.
    pub async fn change(&self, request: String) -> Result<String, JsValue> {
        let GuardRequest { change, now } =
            json::from_slice(request.as_bytes()).map_err(|e| JsValue::from_str(&e.to_string()))?;
        let state = self.apply(&change, now)?;
        if let Some(next) = state.next_expiry() {
            self.alarm_by(next as i64).await?;
        }
        serde_json::to_string(&state).map_err(|e| JsValue::from_str(&e.to_string()))
    }

    /// The alarm: removes what expired, and drops the storage once nothing is left.
    pub async fn alarm(&self) -> Result<(), JsValue> {
        self.alarm_at.set(None);
        self.schema()?;
        let now = super::clock::now_ms() as i64 / 1000;
        let sql = self.state.storage().sql();
        sql.exec("DELETE FROM jti WHERE until < ?", vec![now.into()])?;
        let state = self.apply(&GuardOp::Read, now)?;
        let next = column(
            sql.exec("SELECT MIN(until) AS until FROM jti", None)?,
            "until",
        )?;
        // NULL when the table is empty; SQLite integers cross as JS numbers.
        let jti_next = next.first().and_then(JsValue::as_f64).map(|t| t as i64);
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
        Ok(())
    }
}

/// One column of a cursor's rows, read off each row object: every query here reads one.
/// `to_array` would link serde-wasm-bindgen, and reading each row as JSON text took a serde
/// reader per row type (about 1.3 KB of wasm gzipped for three one-column queries).
fn column(cursor: worker::SqlCursor, name: &str) -> worker::Result<Vec<JsValue>> {
    let name = JsValue::from_str(name);
    cursor
        .map(|row| Ok(js_sys::Reflect::get(&row?, &name)?))
        .collect()
}

/// A column of text (a `TEXT NOT NULL` column: anything else is an error, as before).
fn text_column(cursor: worker::SqlCursor, name: &str) -> worker::Result<Vec<String>> {
    column(cursor, name)?
        .into_iter()
        .map(|v| {
            v.as_string()
                .ok_or_else(|| worker::Error::RustError(format!("column {name} is not text")))
        })
        .collect()
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

    /// Records each jti, in order, with no await in between: true for the one claim that
    /// recorded it, false for every other (recorded before, or earlier in `claims`). The jtis
    /// the statements return are the ones recorded now. Expired rows are left to the alarm: an
    /// expired assertion never gets this far.
    fn record(&self, claims: &[(String, i64)]) -> worker::Result<Vec<bool>> {
        self.schema()?;
        let sql = self.state.storage().sql();
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
            recorded.extend(text_column(sql.exec(&statement, params)?, "jti")?);
        }
        // The insert returns an equal jti once: the first of equal claims is the one.
        let mut seen = HashSet::with_capacity(claims.len());
        Ok(claims
            .iter()
            .map(|(jti, _)| seen.insert(jti.as_str()) && recorded.contains(jti))
            .collect())
    }

    /// Reads, changes and writes the guard state with no await in between.
    fn apply(&self, change: &GuardOp, now: i64) -> worker::Result<GuardState> {
        // Here, not before the request's body is read: the alarm may drop the tables meanwhile.
        self.schema()?;
        let sql = self.state.storage().sql();
        let rows = text_column(
            sql.exec("SELECT state FROM guard WHERE id = 0", None)?,
            "state",
        )?;
        let mut state: GuardState = rows
            .first()
            .and_then(|state| json::from_slice(state.as_bytes()).ok())
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
                let now = super::clock::now_ms() as i64;
                storage.set_alarm((wanted - now).max(0)).await?;
                self.alarm_at.set(Some(wanted));
            }
        }
        Ok(())
    }
}
