//! Probe points of the weir runtime.
//!
//! This crate owns these things and depends on nothing else of weir:
//!
//! * [`Event`]: the one vocabulary of everything the scheduler, timers and channels report,
//!   and [`Probe`], its variants' names (one probe per variant);
//! * [`probe!`]: the macro every call site uses. Without a backend feature (`usdt`, `record`)
//!   it expands to dead code that the compiler removes, so a probe costs nothing;
//! * [`context`]: the thread-local scheduler context (current task id, current worker id) that
//!   the runtime sets on every poll and that every event is stamped with;
//! * [`table`]: every probe's arguments as a tracer sees them (the documented probe table);
//! * the backends: USDT notes (`usdt`) and the in-process recorder (`record`).
//!
//! Is-enabled first: a call site compiled in checks its probe ([`Probe::is_enabled`]: one
//! load and one branch per backend) before it builds the event, reads the context or reads a
//! clock. Only then does [`dispatch`] stamp the event and hand it to the backends.

#![warn(missing_docs)]

pub mod clock;
pub mod context;
pub mod elf_notes;
mod event;
mod probe;
pub mod scripts;
pub mod table;
pub mod tracer;

#[cfg(feature = "record")]
mod record;
#[cfg(all(feature = "usdt", weir_usdt))]
mod usdt;

pub use event::{ChannelOp, Event, RecvLatency, YieldReason};
pub use probe::Probe;

/// Whether any probe backend is compiled in.
pub const ENABLED: bool = cfg!(any(feature = "usdt", feature = "record"));

/// What every event is stamped with: who emitted it. Read from [`context`] only after the
/// probe's is-enabled check passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The task being polled on the emitting thread ([`context::NO_TASK`] outside a task).
    pub task: u64,
    /// The runtime worker of the emitting thread ([`context::NO_WORKER`] off the runtime).
    pub worker: u32,
}

impl Stamp {
    /// The emitting thread's current task and worker.
    #[inline]
    pub fn current() -> Stamp {
        Stamp {
            task: context::current_task(),
            worker: context::current_worker(),
        }
    }
}

/// Stamps one event and hands it to the compiled-in backends. Call it through [`probe!`],
/// which checks the probe's is-enabled state first and removes the call entirely when no
/// backend is compiled in.
///
/// Out of line: a call site pays for its is-enabled check only; the stamping and emission
/// happen here, once per emitted event.
#[inline(never)]
pub fn dispatch(event: Event<'_>) {
    // Which backends want it, before anything is read for them: with both compiled in, the
    // stamp is read only when one of them does.
    #[cfg(all(feature = "usdt", weir_usdt))]
    let to_usdt = usdt::is_attached(event.probe());
    #[cfg(not(all(feature = "usdt", weir_usdt)))]
    let to_usdt = false;
    // ---- record backend: the recorder (`--features record`) takes the event here ----
    #[cfg(feature = "record")]
    let to_record = record::is_on(event.probe());
    #[cfg(not(feature = "record"))]
    let to_record = false;
    if !(to_usdt || to_record) {
        return;
    }
    let stamp = Stamp::current();
    #[cfg(all(feature = "usdt", weir_usdt))]
    if to_usdt {
        usdt::emit(stamp, &event);
    }
    #[cfg(feature = "record")]
    if to_record {
        record::record(stamp, &event);
    }
    let _ = (stamp, event);
}

/// Number of events handed to the recorder since the process started (0 without `record`).
pub fn emitted() -> u64 {
    #[cfg(feature = "record")]
    {
        record::emitted()
    }
    #[cfg(not(feature = "record"))]
    {
        0
    }
}

/// Emits a probe event: `probe!(Event::TaskWake { task })`.
///
/// Expands to `if Probe::TaskWake.is_enabled() { dispatch(Event::TaskWake { task }) }`: the
/// event's fields are computed only when a backend wants the event.
#[cfg(any(feature = "usdt", feature = "record"))]
#[macro_export]
macro_rules! probe {
    ($event:ident :: $variant:ident $($fields:tt)*) => {
        if $crate::Probe::$variant.is_enabled() {
            $crate::dispatch($event::$variant $($fields)*);
        }
    };
}

/// Emits a probe event: `probe!(Event::TaskWake { task })`.
///
/// With no backend feature the event expression is still type-checked but sits behind
/// `if false`, so it is never built and the optimiser drops it.
#[cfg(not(any(feature = "usdt", feature = "record")))]
#[macro_export]
macro_rules! probe {
    ($event:ident :: $variant:ident $($fields:tt)*) => {
        if false {
            let _ = $crate::Probe::$variant;
            let _ = $event::$variant $($fields)*;
        }
    };
}

/// Whether a backend wants `Probe::$variant`'s events now: for the work a call site does only
/// to feed a probe (a clock read for a latency field). `false`, a constant, without a backend.
#[cfg(any(feature = "usdt", feature = "record"))]
#[macro_export]
macro_rules! probe_enabled {
    ($variant:ident) => {
        $crate::Probe::$variant.is_enabled()
    };
}

/// Whether a backend wants `Probe::$variant`'s events now: for the work a call site does only
/// to feed a probe (a clock read for a latency field). `false`, a constant, without a backend.
#[cfg(not(any(feature = "usdt", feature = "record")))]
#[macro_export]
macro_rules! probe_enabled {
    ($variant:ident) => {{
        let _ = $crate::Probe::$variant;
        false
    }};
}
