//! The in-process recorder (`--features record`).
//!
//! PLACEHOLDER for issue 9, which replaces this module: it keeps the two entry points that
//! `Probe::is_enabled` and `dispatch` call, and counts the events so that tests can see the
//! call sites fire.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::{Event, Probe, Stamp};

/// The recorder's runtime switch. On by default: building with `record` asks for it.
static ON: AtomicBool = AtomicBool::new(true);
static EMITTED: AtomicU64 = AtomicU64::new(0);

/// The is-enabled check of every probe site for this backend: one relaxed load.
#[inline(always)]
pub(crate) fn is_on(_probe: Probe) -> bool {
    // Relaxed: a switch; an event racing with the flip may be kept or missed.
    ON.load(Ordering::Relaxed)
}

/// Takes one stamped event.
pub(crate) fn record(_stamp: Stamp, _event: &Event<'_>) {
    // Relaxed: a statistic.
    EMITTED.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn emitted() -> u64 {
    // Relaxed: a statistic.
    EMITTED.load(Ordering::Relaxed)
}
