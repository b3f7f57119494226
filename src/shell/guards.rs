//! The [`Guards`] port over the `CLIENT_GUARD` namespace: guard changes, one call each, and
//! jti claims from this isolate, coalesced per client guard ([`Coalescer`]): while a claim
//! call to a guard is in flight, the claims that arrive for it wait and go together in the
//! next call, which answers each. Alone a claim goes at once; under load one Durable Object
//! request, one insert and one commit carry many.
//!
//! Workers ties every I/O to the request that made it, so each request must resume in its
//! own context. A request that awaits a promise made by another request is resumed by the
//! runtime as an event of its own (workerd's cross-request promise handling), while one that
//! awaits its own promise resumes inside whichever request settled it, and with it every Rust
//! task woken in the same turn. So waiting claims follow a *gate*: a promise made by another
//! request (the leader of the call ahead of them) and opened when that call is answered. They
//! find their answers in this isolate's memory; the first of the next batch leads its call,
//! or, if it has not within [`TAKE_OVER_MS`] (its request may be gone), another of them does.
//! The gate's maker is alive until it opens it (it awaits its own call meanwhile): a gate
//! opened after its maker answered would not wake anyone, `waitUntil` or not (seen under
//! workerd). Each gate still goes to its maker's `waitUntil`, for a maker whose client leaves
//! mid-call.

use std::cell::{Cell, RefCell};

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::ObjectNamespace;

use super::clock::now_ms;
use super::guard::GuardRequest;
use crate::error::Error;
use crate::ports::{Guards, PortResult};
use crate::registry::clients::ClientId;
use crate::registry::guard::{GuardOp, GuardState};
use crate::support::coalesce::{Arrival, Coalescer};
use crate::support::json;

/// The answer left for a waiting claim: its jti was recorded by it, or already recorded.
const FRESH: i8 = 1;
const REPLAYED: i8 = 0;
/// The answer left for a claim whose call failed.
const FAILED: i8 = -1;

/// At most this many claims per call: the guard inserts 50 rows per statement.
const MAX_CLAIMS: usize = 50;
/// At most this many bytes of jtis in a call (a jti is at most a few hundred bytes): an RPC
/// call's arguments stay small.
const MAX_CALL_BYTES: usize = 8_000;
/// How long (ms) a claim waits for a call's first to take its lead before taking it itself:
/// the first's request may be gone.
const TAKE_OVER_MS: u32 = 20;
/// How long (ms) a claim waits for the calls ahead of it before it answers unavailable.
const WAIT_LIMIT_MS: u64 = 10_000;
/// A lane whose call has not come back in this long is given up on (its leader's request is
/// gone), and an answer not taken in this long is dropped.
const STALE_MS: u64 = 10_000;

/// A claim waiting for the call ahead of it.
struct Waiter {
    id: u64,
    jti: String,
    until: i64,
}

thread_local! {
    /// Per client, the call in flight, its waiting claims, and the gate they follow: a promise
    /// made by that call's leader.
    static LANES: RefCell<Coalescer<Waiter, Option<js_sys::Promise>>> =
        RefCell::new(Coalescer::new(MAX_CLAIMS, MAX_CALL_BYTES, STALE_MS));
    /// Answers left for waiting claims: claim id, answer, and when it was left. Taken within
    /// a turn of being left, so a short list.
    static ANSWERS: RefCell<Vec<(u64, i8, u64)>> = const { RefCell::new(Vec::new()) };
    static IDS: Cell<u64> = const { Cell::new(0) };
}

/// Claims `jti` at `client`'s guard: true for the one claim, anywhere, that recorded it.
pub(super) async fn claim(
    guards: &DurableGuards,
    client: &ClientId,
    jti: &str,
    until: i64,
) -> Result<bool, Error> {
    let key = client.as_str();
    let id = IDS.with(|ids| {
        ids.set(ids.get() + 1);
        ids.get()
    });
    let arrival = LANES.with(|lanes| {
        lanes.borrow_mut().arrive(key, now_ms(), || Waiter {
            id,
            jti: jti.to_string(),
            until,
        })
    });
    let (generation, carried) = match arrival {
        Arrival::Lead(generation) => (generation, Vec::new()),
        Arrival::Wait => match wait(key, id).await? {
            Waited::Answer(fresh) => return Ok(fresh),
            Waited::Lead(generation, carried) => (generation, carried),
        },
    };
    lead(guards, client, generation, (jti, until), carried).await
}

enum Waited {
    Answer(bool),
    Lead(u64, Vec<Waiter>),
}

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = "
export function follow(gate, ms) {
  return new Promise((settle) => {
    const timer = setTimeout(settle, ms, false);
    if (gate) gate.then(() => { clearTimeout(timer); settle(true); });
  });
}")]
extern "C" {
    /// A promise of this request that settles `true` when `gate` opens, or `false` after
    /// `ms`. The timer also keeps the request from looking idle to the runtime, and the
    /// `then` on another request's gate is what makes the runtime resume this one as an event
    /// of its own.
    fn follow(gate: Option<js_sys::Promise>, ms: u32) -> js_sys::Promise;
}

/// Follows the lane's gates until the claim is answered or leads a call.
async fn wait(key: &str, id: u64) -> Result<Waited, Error> {
    let deadline = now_ms() + WAIT_LIMIT_MS;
    let mut followed: Option<js_sys::Promise> = None;
    let (mut pause, mut paused) = (1, 0);
    loop {
        let gate = LANES.with(|lanes| lanes.borrow_mut().extra(key)?.clone());
        let gate = gate.ok_or_else(|| unavailable("claim abandoned"))?;
        let left = deadline.saturating_sub(now_ms()) as u32;
        if followed
            .as_ref()
            .is_some_and(|f| js_sys::Object::is(f, &gate))
        {
            // The call this claim goes in has no leader yet: give the first of it a moment.
            let _ = JsFuture::from(follow(None, pause.min(left))).await;
            paused += pause;
            pause = (pause * 2).min(64);
        } else {
            followed = Some(gate.clone());
            let _ = JsFuture::from(follow(Some(gate), left)).await;
        }
        match take_answer(id) {
            Some(FRESH) => return Ok(Waited::Answer(true)),
            Some(REPLAYED) => return Ok(Waited::Answer(false)),
            Some(_) => return Err(unavailable("claim failed")),
            None => {}
        }
        let take_over = paused >= TAKE_OVER_MS;
        let lead = LANES.with(|lanes| lanes.borrow_mut().take_lead(key, |w| w.id == id, take_over));
        if let Some((generation, carried)) = lead {
            return Ok(Waited::Lead(generation, carried));
        }
        if now_ms() >= deadline {
            return Err(unavailable("claim timed out"));
        }
        // Queued behind the call that just came back: follow the gate of the next.
    }
}

/// Makes the call carrying this request's claim and `carried`, leaves the answers, hands the
/// lane on and opens the gate the waiting claims follow.
async fn lead(
    guards: &DurableGuards,
    client: &ClientId,
    generation: u64,
    own: (&str, i64),
    carried: Vec<Waiter>,
) -> Result<bool, Error> {
    let key = client.as_str();
    // The gate for the claims that wait during this call, made by this request, which is
    // alive (awaiting the call) when it opens it.
    let (gate, open) = new_gate(guards);
    LANES.with(|lanes| {
        if let Some(current) = lanes.borrow_mut().extra(key) {
            *current = Some(gate);
        }
    });
    let claims = std::iter::once(own).chain(carried.iter().map(|w| (w.jti.as_str(), w.until)));
    let answers = guards.send_claims(client, claims.collect()).await;
    let now = now_ms();
    ANSWERS.with(|left| {
        let mut left = left.borrow_mut();
        left.retain(|(_, _, at)| now.saturating_sub(*at) < STALE_MS);
        for (i, waiter) in carried.iter().enumerate() {
            let answer = match &answers {
                Ok(fresh) => fresh
                    .get(i + 1)
                    .map_or(FAILED, |&f| if f { FRESH } else { REPLAYED }),
                Err(_) => FAILED,
            };
            left.push((waiter.id, answer, now));
        }
    });
    // The claims that waited during this call go in the next, led by the first of them.
    LANES.with(|lanes| {
        let mut lanes = lanes.borrow_mut();
        lanes.hand_off(key, generation, now, |w| w.jti.len())
    });
    // Resolving only queues the followers' continuations: it cannot fail or re-enter.
    let _ = open.call0(&JsValue::UNDEFINED);
    answers.and_then(|fresh| {
        fresh
            .first()
            .copied()
            .ok_or_else(|| unavailable("claim unanswered"))
    })
}

/// A gate made by the current request, and what opens it; the request's `waitUntil` holds
/// it until then.
fn new_gate(guards: &DurableGuards) -> (js_sys::Promise, js_sys::Function) {
    let mut open = None;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| open = Some(resolve));
    guards.keep_alive(&promise);
    let open = open.unwrap_or_else(|| unreachable!("the executor runs at once"));
    (promise, open)
}

/// The answer left for claim `id`, taken.
fn take_answer(id: u64) -> Option<i8> {
    ANSWERS.with(|left| {
        let mut left = left.borrow_mut();
        let at = left.iter().position(|(i, _, _)| *i == id)?;
        Some(left.swap_remove(at).1)
    })
}

/// [`Guards`] over the `CLIENT_GUARD` namespace.
pub struct DurableGuards {
    /// The Durable Object namespace binding.
    pub namespace: ObjectNamespace,
    /// The request's context, whose `waitUntil` keeps it alive while claims rely on it (none
    /// for a scheduled run, which makes no claims).
    pub context: Option<worker::worker_sys::Context>,
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("ClientGuard: {e}"))
}

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = "
export function rpc_claim(stub, jtis, untils) { return stub.claim(jtis, untils); }
export function rpc_change(stub, request) { return stub.change(request); }")]
extern "C" {
    /// `ClientGuard.claim` over RPC (`src/shell/entry.mjs`): a promise of one character per
    /// claim, `1` for recorded now and `0` for recorded before.
    #[wasm_bindgen(catch)]
    fn rpc_claim(
        stub: &JsValue,
        jtis: Vec<String>,
        untils: Vec<f64>,
    ) -> Result<js_sys::Promise, JsValue>;
    /// `ClientGuard.change` over RPC: a promise of the guard state after the change, as JSON.
    #[wasm_bindgen(catch)]
    fn rpc_change(stub: &JsValue, request: String) -> Result<js_sys::Promise, JsValue>;
}

impl DurableGuards {
    fn stub(&self, client: &ClientId) -> Result<JsValue, Error> {
        self.namespace
            .get_by_name(client.as_str())
            .map(|stub| stub.into_rpc::<JsValue>())
            .map_err(unavailable)
    }

    /// Keeps the request alive until `promise` settles (see [`claim`]).
    pub(super) fn keep_alive(&self, promise: &js_sys::Promise) {
        if let Some(context) = &self.context {
            let _ = context.wait_until(promise);
        }
    }

    /// One claim call: whether each claim recorded its jti, in order.
    pub(super) async fn send_claims(
        &self,
        client: &ClientId,
        claims: Vec<(&str, i64)>,
    ) -> Result<Vec<bool>, Error> {
        let count = claims.len();
        let (jtis, untils): (Vec<String>, Vec<f64>) = claims
            .into_iter()
            .map(|(jti, until)| (jti.to_string(), until as f64))
            .unzip();
        let call = rpc_claim(&self.stub(client)?, jtis, untils).map_err(js_error)?;
        let answer = JsFuture::from(call).await.map_err(js_error)?;
        match answer.as_string() {
            Some(a) if a.len() == count => Ok(a.bytes().map(|b| b == b'1').collect()),
            _ => Err(unavailable(format!(
                "claim answered without {count} answers"
            ))),
        }
    }

    /// One guard change.
    async fn ask<T: serde::de::DeserializeOwned>(
        &self,
        client: &ClientId,
        request: &GuardRequest,
    ) -> Result<T, Error> {
        let request = serde_json::to_string(request).map_err(unavailable)?;
        let call = rpc_change(&self.stub(client)?, request).map_err(js_error)?;
        let answer = JsFuture::from(call).await.map_err(js_error)?;
        json::from_slice(answer.as_string().unwrap_or_default().as_bytes()).map_err(unavailable)
    }
}

/// A failed call, as [`unavailable`], with the runtime's error (no secret is in a guard call).
fn js_error(e: JsValue) -> Error {
    unavailable(format!("{e:?}"))
}

impl Guards for DurableGuards {
    fn claim_jti<'a>(
        &'a self,
        client: &'a ClientId,
        jti: &'a str,
        until: u64,
    ) -> PortResult<'a, bool> {
        Box::pin(claim(self, client, jti, until as i64))
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
