//! Probe points of the weir runtime.
//!
//! This crate owns three things and depends on nothing else of weir:
//!
//! * [`Event`]: the one vocabulary of everything the scheduler, timers and channels report;
//! * [`probe!`]: the macro every call site uses. Without a backend feature (`usdt`, `record`)
//!   it expands to dead code that the compiler removes, so a probe costs nothing;
//! * [`context`]: the thread-local scheduler context (current task id, current worker id) that
//!   the runtime sets on every poll and that every event is stamped with.
//!
//! Backends (USDT notes, the in-process recorder) plug in behind [`dispatch`].

#![warn(missing_docs)]

pub mod context;
mod event;

pub use event::{ChannelOp, Event, YieldReason};

/// Whether any probe backend is compiled in.
pub const ENABLED: bool = cfg!(any(feature = "usdt", feature = "record"));

/// Hands one event to the compiled-in backends. Call it through [`probe!`], which removes the
/// call entirely when no backend is enabled.
#[inline]
pub fn dispatch(event: Event) {
    let _task = context::current_task();
    #[cfg(any(feature = "usdt", feature = "record"))]
    backend::emit(_task, &event);
    let _ = event;
}

#[cfg(any(feature = "usdt", feature = "record"))]
mod backend {
    use crate::Event;

    /// The backends arrive with the probes issue; until then an enabled build counts events so
    /// that a test can see the call sites fire.
    pub(crate) fn emit(_task: u64, _event: &Event) {
        EMITTED.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) static EMITTED: core::sync::atomic::AtomicU64 =
        core::sync::atomic::AtomicU64::new(0);
}

/// Number of events handed to a backend since the process started (0 without a backend).
pub fn emitted() -> u64 {
    #[cfg(any(feature = "usdt", feature = "record"))]
    {
        backend::EMITTED.load(core::sync::atomic::Ordering::Relaxed)
    }
    #[cfg(not(any(feature = "usdt", feature = "record")))]
    {
        0
    }
}

/// Emits a probe event: `probe!(Event::TaskWake { task })`.
///
/// With no backend feature the event expression is still type-checked but sits behind
/// `if false`, so it is never built and the optimiser drops it.
#[cfg(any(feature = "usdt", feature = "record"))]
#[macro_export]
macro_rules! probe {
    ($event:expr) => {
        $crate::dispatch($event)
    };
}

/// Emits a probe event: `probe!(Event::TaskWake { task })`.
///
/// With no backend feature the event expression is still type-checked but sits behind
/// `if false`, so it is never built and the optimiser drops it.
#[cfg(not(any(feature = "usdt", feature = "record")))]
#[macro_export]
macro_rules! probe {
    ($event:expr) => {
        if false {
            let _ = $event;
        }
    };
}
