//! What the probes' latency fields need from a channel (only with a probe backend compiled
//! in): when it was closed, and a send stamp per value for the send-to-receive delay.
//!
//! Sends are stamped only while a backend wants `channel_recv` (a tracer attached, or the
//! recorder on), so an unattached channel pays one load and one branch per send. Values that
//! were queued before the attach, or that sit deeper than the stamp ring, report no delay
//! (`Unmeasured`) rather than a wrong one; with several producers and consumers a delay may
//! pair with a neighbour sent in the same instant (see [`Stamps`]).

use weir_probes::{clock, probe_enabled, RecvLatency};

use crate::guard::stamps::Stamps;
use crate::sync::{AtomicU64, Ordering};

/// Longest stamp ring: bounds the memory a probed channel carries (2 KiB).
const RING: usize = 256;

pub(crate) struct ProbeStamps {
    /// `clock::now_ns()` at the close; 0 while open.
    closed_at: AtomicU64,
    sends: Stamps,
}

impl ProbeStamps {
    pub(crate) fn new(capacity: Option<usize>) -> Self {
        ProbeStamps {
            closed_at: AtomicU64::new(0),
            sends: Stamps::new(Some(capacity.unwrap_or(RING).min(RING))),
        }
    }

    /// A value went in.
    #[inline]
    pub(crate) fn sent(&self) {
        if probe_enabled!(ChannelRecv) {
            self.sends.on_send(clock::now_ns() / 1_000);
        }
    }

    /// A value came out: its send-to-receive delay. Call only behind `channel_recv`'s
    /// is-enabled check (the `probe!` macro evaluates it there).
    #[inline]
    pub(crate) fn received(&self) -> RecvLatency {
        match self.sends.on_recv(clock::now_ns() / 1_000) {
            Some(us) => RecvLatency::Queued {
                nanos: us.saturating_mul(1_000),
            },
            None => RecvLatency::Unmeasured,
        }
    }

    /// A close is about to happen: called before the flavour's close, so that every receive
    /// that sees the channel closed sees the time too. The first call keeps its time.
    pub(crate) fn closed(&self) {
        // Relaxed: a statistic; the flavour's close (a Release or stronger write that follows
        // in program order) is what a receiver synchronises with before it loads this.
        let _ = self.closed_at.compare_exchange(
            0,
            clock::now_ns().max(1),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// A receive returned `Closed` now: how long after the close.
    #[inline]
    pub(crate) fn after_close(&self) -> RecvLatency {
        // Relaxed: as in `closed`.
        match self.closed_at.load(Ordering::Relaxed) {
            0 => RecvLatency::Unmeasured,
            at => RecvLatency::AfterClose {
                nanos: clock::now_ns().saturating_sub(at),
            },
        }
    }
}
