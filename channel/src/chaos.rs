//! Fault injection at the channel's probe points (the `chaos` feature; never in a default
//! build). A [`Faults`] handle is attached with `Builder::chaos` and switched from the test
//! while traffic runs:
//!
//! * latency: every message received from the channel looks this much older to L3 (a latency
//!   ramp when raised step by step);
//! * dropped sends: the next `n` sends are refused at their first poll and give their value
//!   back as `Err(SendError(v))` (or `TrySendError::Full(v)` from `try_send`), although the
//!   channel is open: nothing is lost, the producer sees the failure;
//! * stall: while on, `try_recv` finds the channel empty (the consumer's view of a stalled
//!   producer); async receives are not affected.
//!
//! Abrupt close is `close()` itself; a producer that panics is the test's own doing (its
//! sender is dropped during the unwind, which closes the channel if it was the last).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The faults of one channel (see the module doc). All switches are relaxed atomics: a fault
/// that starts a moment late is still a fault.
#[derive(Debug, Default)]
pub struct Faults {
    extra_latency_us: AtomicU64,
    drop_sends: AtomicU64,
    dropped: AtomicU64,
    stall: AtomicBool,
}

impl Faults {
    /// No fault switched on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message received from now on looks `extra` older to L3.
    pub fn set_latency(&self, extra: Duration) {
        // Relaxed: see the type's doc.
        self.extra_latency_us.store(
            extra.as_micros().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
    }

    /// Refuses the next `n` sends (they return their value).
    pub fn drop_next_sends(&self, n: u64) {
        // Relaxed: see the type's doc.
        self.drop_sends.store(n, Ordering::Relaxed);
    }

    /// Sends refused so far.
    pub fn dropped(&self) -> u64 {
        // Relaxed: a statistic.
        self.dropped.load(Ordering::Relaxed)
    }

    /// Switches the receive stall on or off.
    pub fn set_stall(&self, on: bool) {
        // Relaxed: see the type's doc.
        self.stall.store(on, Ordering::Relaxed);
    }

    pub(crate) fn extra_latency_us(&self) -> u64 {
        // Relaxed: see the type's doc.
        self.extra_latency_us.load(Ordering::Relaxed)
    }

    pub(crate) fn stalled(&self) -> bool {
        // Relaxed: see the type's doc.
        self.stall.load(Ordering::Relaxed)
    }

    /// Whether this send is one to refuse (takes one from the count).
    pub(crate) fn take_drop(&self) -> bool {
        // Relaxed: the count is its own only datum; fetch_update keeps it from going below 0.
        let took = self
            .drop_sends
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        if took {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        took
    }
}
