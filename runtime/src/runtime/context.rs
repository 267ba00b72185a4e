//! Which runtime the current thread belongs to.
//!
//! Worker threads, `block_on` callers and `Runtime::enter` guards set a thread-local handle;
//! `weir::spawn`, timers and `Handle::current` read it.

use std::cell::RefCell;
use std::fmt;

use crate::scheduler;

crate::sync::thread_local! {
    static CURRENT: RefCell<Option<scheduler::Handle>> = const { RefCell::new(None) };
}

/// Restores the previous runtime context when dropped.
pub(crate) struct SetGuard {
    prev: Option<scheduler::Handle>,
}

pub(crate) fn enter(handle: scheduler::Handle) -> SetGuard {
    let prev = CURRENT.with(|c| c.borrow_mut().replace(handle));
    SetGuard { prev }
}

impl Drop for SetGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
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

pub(crate) fn current() -> Result<scheduler::Handle, TryCurrentError> {
    with_handle(Clone::clone)
}

/// True when the current worker has other runnable tasks (false outside a runtime).
pub(crate) fn has_runnable_work() -> bool {
    with_handle(|h| h.has_runnable_work()).unwrap_or(false)
}
