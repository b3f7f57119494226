//! Small helpers that know nothing of OAuth: encodings, text, time, randomness, URI rules and
//! a bounded TTL cache. Everything else builds on these.

pub mod b64;
pub mod cache;
pub mod coalesce;
pub mod json;
pub mod random;
pub mod text;
pub mod time;
pub mod uri;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Poll, Waker};

/// A boxed future that need not be `Send` (a Worker isolate is single-threaded), so the ports
/// can be trait objects.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs `futures` at once and answers their outputs in order, as `futures_util`'s `join_all`
/// without its path for long lists (`FuturesOrdered`, about 1 KB of gzipped wasm for the one
/// listing that joins). Every wake polls each future not yet done: for the short lists it
/// serves (an admin page, at most 100), that costs nothing measurable.
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut slots: Vec<Result<F::Output, Pin<Box<F>>>> =
        futures.into_iter().map(|f| Err(Box::pin(f))).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for slot in slots.iter_mut() {
            if let Err(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(output) => *slot = Ok(output),
                    Poll::Pending => done = false,
                }
            }
        }
        if done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    let outputs = slots.into_iter().map(|slot| slot.ok());
    outputs
        .map(|output| output.unwrap_or_else(|| unreachable!("every future is done")))
        .collect()
}

/// An async lock for one isolate (single-threaded, so no atomics): `futures_util`'s `Mutex`
/// without its waiter slab (about 0.5 KB of gzipped wasm). Releasing wakes every waiter and the
/// first to run takes the lock, the others wait again: a waiter given up on (its request
/// ended) can then never strand the rest. Its users hold it across one fetch, with a few
/// waiters at most.
#[derive(Debug, Default)]
pub struct Lock {
    held: Cell<bool>,
    waiting: RefCell<Vec<Waker>>,
}

/// Holds a [`Lock`] until dropped.
#[derive(Debug)]
pub struct LockGuard<'a>(&'a Lock);

impl Lock {
    /// Waits until the lock is free, and takes it.
    pub async fn lock(&self) -> LockGuard<'_> {
        std::future::poll_fn(|cx| {
            if self.held.replace(true) {
                self.waiting.borrow_mut().push(cx.waker().clone());
                return Poll::Pending;
            }
            Poll::Ready(LockGuard(self))
        })
        .await
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        self.0.held.set(false);
        for waker in self.0.waiting.take() {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::task::{Context, Waker};

    /// Ready with `value` after `polls` more polls; counts its polls in `seen`.
    struct After<'a> {
        polls: u32,
        value: u32,
        seen: &'a Cell<u32>,
    }

    impl Future for After<'_> {
        type Output = u32;

        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
            self.seen.set(self.seen.get() + 1);
            if self.polls == 0 {
                return Poll::Ready(self.value);
            }
            self.polls -= 1;
            Poll::Pending
        }
    }

    #[test]
    fn join_all_starts_every_future_at_once_and_answers_in_order() {
        let seen = Cell::new(0);
        let after = |polls, value| After {
            polls,
            value,
            seen: &seen,
        };
        let mut joined = std::pin::pin!(join_all([after(3, 1), after(0, 2), after(1, 3)]));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(joined.as_mut().poll(&mut cx).is_pending());
        assert_eq!(seen.get(), 3, "the first poll starts all three");
        let mut answer = joined.as_mut().poll(&mut cx);
        while answer.is_pending() {
            answer = joined.as_mut().poll(&mut cx);
        }
        assert_eq!(answer, Poll::Ready(vec![1, 2, 3]));
        // Done ones are not polled again: 4 + 1 + 2 polls in all.
        assert_eq!(seen.get(), 7);
        let none: Vec<After<'_>> = Vec::new();
        let mut empty = std::pin::pin!(join_all(none));
        assert_eq!(empty.as_mut().poll(&mut cx), Poll::Ready(vec![]));
    }

    #[test]
    fn the_lock_is_held_by_one_and_its_release_wakes_the_waiters() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::task::Wake;

        /// Counts its wakes.
        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let lock = Lock::default();
        let first = std::pin::pin!(lock.lock()).as_mut().poll(&mut cx);
        let Poll::Ready(held) = first else {
            panic!("a free lock is taken at once")
        };
        let mut second = Box::pin(lock.lock());
        let mut third = Box::pin(lock.lock());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert!(third.as_mut().poll(&mut cx).is_pending());
        drop(held);
        assert_eq!(count.0.load(Ordering::Relaxed), 2, "both waiters woken");
        // The second gave up: the third still gets the lock.
        drop(second);
        let Poll::Ready(again) = third.as_mut().poll(&mut cx) else {
            panic!("the lock is free")
        };
        assert!(std::pin::pin!(lock.lock())
            .as_mut()
            .poll(&mut cx)
            .is_pending());
        drop(again);
        assert!(std::pin::pin!(lock.lock())
            .as_mut()
            .poll(&mut cx)
            .is_ready());
    }
}
