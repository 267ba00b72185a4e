//! Which runtime the current thread belongs to.
//!
//! Worker threads, `block_on` callers and `Runtime::enter` guards set a thread-local handle;
//! `weir::spawn`, timers and `Handle::current` read it.

use std::cell::{Cell, RefCell};
use std::fmt;

use crate::scheduler;

crate::sync::thread_local! {
    static CURRENT: RefCell<Option<scheduler::Handle>> = const { RefCell::new(None) };
    /// How many guards are entered on this thread: each guard knows its own depth, so one
    /// dropped out of order is caught instead of restoring a context that is no longer current.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Restores the previous runtime context when dropped.
pub(crate) struct SetGuard {
    prev: Option<scheduler::Handle>,
    depth: usize,
}

pub(crate) fn enter(handle: scheduler::Handle) -> SetGuard {
    let prev = CURRENT.with(|c| c.borrow_mut().replace(handle));
    let depth = DEPTH.with(|d| {
        d.set(d.get() + 1);
        d.get()
    });
    SetGuard { prev, depth }
}

impl Drop for SetGuard {
    fn drop(&mut self) {
        let depth = DEPTH.try_with(Cell::get).unwrap_or(self.depth);
        if depth != self.depth {
            // Restoring now would resurrect a context whose guard is still alive (or one
            // already left): a later `spawn` would reach a runtime that may be gone. Leave the
            // context as it is and say so, unless the thread is unwinding already.
            if !std::thread::panicking() {
                panic!(
                    "weir: runtime context guards (EnterGuard, from Runtime::enter or \
                     Handle::enter) dropped out of order: drop them in the reverse order \
                     they were created"
                );
            }
            return;
        }
        let prev = self.prev.take();
        // The handle left is dropped after the borrow ends: it may be the runtime's last
        // reference, and its teardown may read the context (a clock, a spawn).
        let left = CURRENT.try_with(|c| std::mem::replace(&mut *c.borrow_mut(), prev));
        drop(left);
        let _ = DEPTH.try_with(|d| d.set(self.depth - 1));
    }
}

/// The error of operations that need a runtime when the thread has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryCurrentError {
    /// The thread is not in a weir runtime context.
    NoContext,
    /// The thread's runtime context is being torn down.
    ThreadLocalDestroyed,
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryCurrentError::NoContext => f.write_str(
                "there is no weir runtime on this thread: call it from a task, from \
                 Runtime::block_on, or inside Runtime::enter",
            ),
            TryCurrentError::ThreadLocalDestroyed => {
                f.write_str("the weir runtime context of this thread was already destroyed")
            }
        }
    }
}

impl std::error::Error for TryCurrentError {}

/// Runs `f` with the current scheduler handle.
pub(crate) fn with_handle<R>(
    f: impl FnOnce(&scheduler::Handle) -> R,
) -> Result<R, TryCurrentError> {
    CURRENT
        .try_with(|c| {
            let c = c.borrow();
            c.as_ref().map(f).ok_or(TryCurrentError::NoContext)
        })
        .unwrap_or(Err(TryCurrentError::ThreadLocalDestroyed))
}

/// As [`with_handle`], but `None` (no panic) while the context is being changed on this thread.
pub(crate) fn try_with_handle<R>(f: impl FnOnce(&scheduler::Handle) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| c.try_borrow().ok().and_then(|c| c.as_ref().map(f)))
        .ok()
        .flatten()
}

pub(crate) fn current() -> Result<scheduler::Handle, TryCurrentError> {
    with_handle(Clone::clone)
}

/// True when the current worker has other runnable tasks (false outside a runtime).
pub(crate) fn has_runnable_work() -> bool {
    with_handle(|h| h.has_runnable_work()).unwrap_or(false)
}

/// Polls the current runtime's IO and timers without sleeping when this thread drives the
/// runtime and has nothing else queued (see `task::yield_now`). Does nothing elsewhere, or when
/// another thread holds the driver (it is awake and will see the events itself).
pub(crate) fn turn_driver_if_idle() {
    // A clone, not a borrow: the wakers the driver runs may enter a runtime context.
    if let Ok(handle) = current() {
        handle.turn_driver_if_idle_here();
    }
}
