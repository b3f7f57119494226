//! Runs a request's future, polling it straight from the callback that wakes it.
//!
//! wasm-bindgen's executor queues every woken task and runs the queue in a `queueMicrotask`
//! callback: one more runtime call and microtask per wake, which profiled at about 10 µs of a
//! token request's 140 (three wakes: the spawn, the body, the signature). Here a wake polls its
//! task at once. Wakes only ever come from promise callbacks, which run between polls, each in
//! the runtime context of the request whose promise settled; a task never runs inside another
//! request's callback, as one shared queue could make it do.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use wasm_bindgen::JsValue;

type Job = Pin<Box<dyn Future<Output = ()>>>;

/// A task between polls, or being polled (and whether it was woken meanwhile).
enum Slot {
    Idle(Job),
    Polling { woken: bool },
}

thread_local! {
    // A handful at a time (the requests in flight), so a list beats a map, in wasm size too.
    static TASKS: RefCell<Vec<(u64, Slot)>> = const { RefCell::new(Vec::new()) };
    static NEXT: Cell<u64> = const { Cell::new(0) };
}

fn slot(tasks: &mut [(u64, Slot)], id: u64) -> Option<&mut Slot> {
    tasks.iter_mut().find(|(i, _)| *i == id).map(|(_, s)| s)
}

fn remove(tasks: &mut Vec<(u64, Slot)>, id: u64) -> Option<Slot> {
    let at = tasks.iter().position(|(i, _)| *i == id)?;
    Some(tasks.swap_remove(at).1)
}

/// Names a task, not a pointer to it: a wake for a task already done finds nothing.
struct TaskWaker(u64);

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        run(self.0);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        run(self.0);
    }
}

/// Polls task `id` until it pends without having been woken during the poll, or finishes.
fn run(id: u64) {
    let waker = Waker::from(Arc::new(TaskWaker(id)));
    loop {
        let taken = TASKS.with(|tasks| match slot(&mut tasks.borrow_mut(), id) {
            Some(slot @ Slot::Idle(_)) => {
                match std::mem::replace(slot, Slot::Polling { woken: false }) {
                    Slot::Idle(job) => Some(job),
                    Slot::Polling { .. } => None,
                }
            }
            // Woken from inside its own poll: poll again once this one returns.
            Some(Slot::Polling { woken }) => {
                *woken = true;
                None
            }
            None => None,
        });
        let Some(mut job) = taken else { return };
        let done = job
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready();
        let again = TASKS.with(|tasks| {
            let mut tasks = tasks.borrow_mut();
            if done {
                remove(&mut tasks, id);
                return false;
            }
            match slot(&mut tasks, id) {
                Some(slot) => matches!(
                    std::mem::replace(slot, Slot::Idle(job)),
                    Slot::Polling { woken: true }
                ),
                None => false,
            }
        });
        if !again {
            return;
        }
    }
}

/// Starts `job` as a task (its first poll happens now).
fn spawn_job(job: Job) {
    let id = NEXT.with(|n| n.replace(n.get() + 1));
    TASKS.with(|tasks| tasks.borrow_mut().push((id, Slot::Idle(job))));
    run(id);
}

/// A promise settled when `future` is done, with its value; polling starts now.
pub fn spawn(future: impl Future<Output = JsValue> + 'static) -> js_sys::Promise {
    let mut future = Some(future);
    js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(future) = future.take() {
            spawn_job(Box::pin(async move {
                let value = future.await;
                let _ = resolve.call1(&JsValue::UNDEFINED, &value);
            }));
        }
    })
}

/// `future`'s value when its first poll finishes it (no promise, no microtask), else a promise
/// of it.
pub fn answer(future: impl Future<Output = JsValue> + 'static) -> JsValue {
    let mut future = Box::pin(future);
    let id = NEXT.with(|n| n.replace(n.get() + 1));
    TASKS.with(|tasks| {
        tasks
            .borrow_mut()
            .push((id, Slot::Polling { woken: false }))
    });
    let waker = Waker::from(Arc::new(TaskWaker(id)));
    let first = future.as_mut().poll(&mut Context::from_waker(&waker));
    if let Poll::Ready(value) = first {
        TASKS.with(|tasks| remove(&mut tasks.borrow_mut(), id));
        return value;
    }
    let mut rest = Some(future);
    js_sys::Promise::new(&mut |resolve, _reject| {
        let Some(future) = rest.take() else { return };
        let job: Job = Box::pin(async move {
            let value = future.await;
            let _ = resolve.call1(&JsValue::UNDEFINED, &value);
        });
        let woken = TASKS.with(|tasks| match slot(&mut tasks.borrow_mut(), id) {
            Some(slot) => matches!(
                std::mem::replace(slot, Slot::Idle(job)),
                Slot::Polling { woken: true }
            ),
            None => false,
        });
        if woken {
            run(id);
        }
    })
    .into()
}
