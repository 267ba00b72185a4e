//! Loom model checks of weir's lock-free protocols. The models live in `tests/`; CI runs them
//! with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p weir-loom-tests --release
//! ```
//!
//! Without `--cfg loom` every test file is empty and this crate holds nothing.
//!
//! The runtime core (the other files, `breaker_*` and `channel_*`, model those crates):
//! - `tests/task_state.rs`: the task state word alone (`weir_runtime::loom_api::TaskState`).
//! - `tests/task_lifecycle.rs`: real tasks on a current-thread runtime, woken, aborted and
//!   joined from other threads.
//! - `tests/sched_park.rs`: `ParkThread` and the worker `Parker`/`Unparker` with the driver.
//! - `tests/sched_idle.rs`: the sleeper/searcher protocol of the multi-thread scheduler.
//! - `tests/sched_queue.rs`: a worker's local ring (LIFO-slot spill, pop, steal, overflow) and
//!   the injector.
//! - `tests/sched_lifo.rs`: the multi-thread scheduler itself (LIFO slot, local queue, stealing,
//!   parking) with its workers as loom threads.
//! - `tests/sync_wait_list.rs`: `weir-sync`'s semaphore (the QUEUED hand-off, a cancelled
//!   waiter passing its permit on) and `Notify`'s stored permit.
//!
//! This file holds what the models share: `model`, `model_with` and `model_exhaustive` (the
//! loom runners: the environment's preemption bound, or 2 when it sets none; that bound capped
//! lower for the largest models; no bound for the smallest), `Signal` (a one-shot event a
//! future can wait on) and `DropCount` (counts drops, to check that a value is dropped exactly
//! once).

#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::sync::{Arc, Mutex};

/// Preemption bound used when `LOOM_MAX_PREEMPTIONS` is not set: unbounded exploration of
/// these models would not finish.
pub const DEFAULT_PREEMPTIONS: usize = 2;

/// Runs `f` under loom, exploring every interleaving within the preemption bound
/// (`LOOM_MAX_PREEMPTIONS`, else [`DEFAULT_PREEMPTIONS`]).
pub fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    model_with(None, f)
}

/// Runs `f` under loom with no preemption bound: every interleaving, whatever
/// `LOOM_MAX_PREEMPTIONS` says. For the small models (a few atomic steps per thread) where
/// that stays cheap.
pub fn model_exhaustive<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = None;
    run(builder, f);
}

/// As [`model`], with the preemption bound capped at `max_preemptions` for a model whose state
/// space is too large for the default (the cap is stated at the call site).
pub fn model_with<F>(max_preemptions: Option<usize>, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    let bound = builder.preemption_bound.unwrap_or(DEFAULT_PREEMPTIONS);
    builder.preemption_bound = Some(match max_preemptions {
        Some(cap) => bound.min(cap),
        None => bound,
    });
    run(builder, f);
}

fn run<F>(mut builder: loom::model::Builder, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    // The runtime models take many steps per execution; loom's default (1000) is too low.
    builder.max_branches = builder.max_branches.max(100_000);
    // Count the executions explored, so that a run shows the model did explore (printed with
    // `--nocapture`).
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = runs.clone();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    println!(
        "loom: {} executions explored (preemption bound {:?})",
        runs.load(std::sync::atomic::Ordering::Relaxed),
        builder.preemption_bound
    );
}

/// A one-shot event: [`Signal::set`] from any thread, [`Signal::wait`] from a task or
/// `block_on`. Built from a mutex so that it is obviously correct: a lost wake-up found by a
/// model is then the runtime's, not the signal's. Clones share the event.
#[derive(Clone, Default)]
pub struct Signal {
    inner: Arc<Mutex<SignalInner>>,
}

#[derive(Default)]
struct SignalInner {
    set: bool,
    waker: Option<Waker>,
}

impl Signal {
    /// A signal not yet set.
    pub fn new() -> Signal {
        Signal::default()
    }

    fn set_take_waker(&self) -> Option<Waker> {
        let mut inner = self.inner.lock().unwrap();
        inner.set = true;
        inner.waker.take()
    }

    /// Sets the signal and wakes its waiter with `Waker::wake` (by value).
    pub fn set(&self) {
        if let Some(waker) = self.set_take_waker() {
            waker.wake();
        }
    }

    /// Sets the signal and wakes its waiter with `Waker::wake_by_ref`, then drops the waker.
    pub fn set_by_ref(&self) {
        if let Some(waker) = self.set_take_waker() {
            waker.wake_by_ref();
            drop(waker);
        }
    }

    /// A future that completes once the signal is set.
    pub fn wait(&self) -> Wait {
        Wait {
            signal: self.clone(),
        }
    }
}

/// Future returned by [`Signal::wait`].
pub struct Wait {
    signal: Signal,
}

impl Future for Wait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut inner = self.signal.inner.lock().unwrap();
        if inner.set {
            return Poll::Ready(());
        }
        match &inner.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => inner.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// Counts how many times values tagged with it were dropped.
///
/// Bookkeeping of the model, not part of the protocol under test, so it uses std's atomics:
/// loom runs all its threads on one OS thread, so the count is exact, and it adds no
/// interleavings to explore.
#[derive(Clone, Default)]
pub struct DropCount(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl DropCount {
    /// A counter at zero.
    pub fn new() -> DropCount {
        DropCount::default()
    }

    /// A value whose drop is counted here.
    pub fn tag(&self) -> Tagged {
        Tagged(self.clone())
    }

    /// Drops counted so far.
    pub fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A value that counts its own drop.
pub struct Tagged(DropCount);

impl Drop for Tagged {
    fn drop(&mut self) {
        (self.0).0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}
