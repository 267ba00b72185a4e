//! Tasks: spawning, joining, yielding and backing off.
//!
//! A task is one allocation (see `raw.rs`) driven by one state word (see `state.rs`). This
//! module is the public face: [`spawn`], [`JoinHandle`], [`JoinError`], [`JoinSet`], and the
//! yield-and-backoff hooks that the channel's breaker drives: [`yield_now`] and [`Backoff`].

mod backoff;
mod error;
mod join;
mod join_set;
mod local_set;
pub(crate) mod owned;
pub(crate) mod raw;
pub(crate) mod state;
mod yield_now;

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use backoff::Backoff;
pub use error::JoinError;
pub use join::{AbortHandle, JoinHandle};
pub use join_set::JoinSet;
pub use local_set::{spawn_local, LocalEnterGuard, LocalSet};
pub use yield_now::yield_now;

pub use crate::blocking::spawn_blocking;
pub use crate::macros::task_local::{AccessError, LocalKey, TaskLocalFuture};
use crate::runtime::context;

/// A task's id: unique among all tasks of the process while it lives, never 0.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub(crate) u64);

impl Id {
    /// Allocates an id. Threads take blocks of ids from one global counter so that spawning
    /// from many workers does not contend on it.
    pub(crate) fn next() -> Id {
        use std::sync::atomic::{AtomicU64, Ordering};
        const BLOCK: u64 = 1024;
        static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
        // Through the facade: under loom each modelled thread then starts every execution
        // with a fresh block, so ids (and the owned-list shards they pick) repeat from one
        // execution to the next, as loom requires.
        crate::sync::thread_local! {
            static RANGE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
        }
        let take_block = || {
            // Relaxed: uniqueness comes from the RMW itself; nothing else is published.
            let start = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
            (start, start + BLOCK)
        };
        let id = RANGE
            .try_with(|r| {
                let (mut next, mut end) = r.get();
                if next == end {
                    (next, end) = take_block();
                }
                r.set((next + 1, end));
                next
            })
            .unwrap_or_else(|_| take_block().0);
        Id(id)
    }

    /// The id as a number (as probes report it).
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

/// The id of the task being polled on this thread, or `None` outside a task.
pub fn current_id() -> Option<Id> {
    match weir_probes::context::current_task() {
        weir_probes::context::NO_TASK => None,
        id => Some(Id(id)),
    }
}

/// The id of the running task (tokio's name for [`current_id`]).
///
/// # Panics
/// Outside a task; see [`try_id`].
#[track_caller]
pub fn id() -> Id {
    match current_id() {
        Some(id) => id,
        None => panic!("weir::task::id called outside a task; use task::try_id"),
    }
}

/// The id of the running task, or `None` outside a task (tokio's name for [`current_id`]).
pub fn try_id() -> Option<Id> {
    current_id()
}

pub use crate::coop::consume_budget;

/// Spawns a task on the current runtime.
///
/// # Panics
/// When called outside a weir runtime (use `Runtime::spawn` or `Handle::spawn` there).
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = std::panic::Location::caller();
    match context::with_handle(|h| h.spawn(future, location)) {
        Ok(handle) => handle,
        Err(err) => panic!("weir::spawn: {err}"),
    }
}

/// Wraps `future` so that its operations never force a yield (see [`crate::coop`]). Use it for
/// a task that must not be interrupted by the budget; it can then starve its worker.
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { future }
}

/// Future returned by [`unconstrained`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Unconstrained<F> {
    future: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of the only field; it is never moved out.
        let future = unsafe { self.map_unchecked_mut(|s| &mut s.future) };
        crate::coop::poll_unconstrained(future, cx)
    }
}

/// Runs the blocking closure `f` on this thread without stalling the runtime's other tasks,
/// which are handed to the other workers first (tokio's `block_in_place`).
///
/// On a multi-thread worker the worker's queued tasks move to the shared queue and a sleeping
/// worker is woken to take them; then `f` runs here (tasks it wakes go to the shared queue),
/// and the task continues when it returns; inside `f`, `Handle::block_on` is allowed. Unlike
/// tokio no replacement worker thread is started, so while every worker is inside
/// `block_in_place` the runtime polls nothing else (a `block_on` there that waits for a
/// spawned task waits for a worker to come back).
///
/// On a current-thread runtime, or outside a runtime, `f` simply runs (tokio panics on a
/// current-thread runtime); a `Handle::block_on` in it from a task still panics, as it
/// would deadlock the only thread.
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    crate::scheduler::multi_thread::block_in_place(f)
}
