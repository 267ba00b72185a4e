//! The injected clock every breaker layer reads.

use std::sync::atomic::{AtomicU64, Ordering};

/// Nanoseconds on a monotonic time line whose origin the clock chooses.
pub type Nanos = u64;

/// A monotonic clock. The runtime supplies its coarse clock; tests supply [`ManualClock`].
pub trait Clock: Send + Sync {
    /// The current time in nanoseconds; never goes backwards.
    fn now(&self) -> Nanos;
}

/// A clock that moves only when told to: deterministic breaker and SLO tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicU64,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Nanos) -> Self {
        Self {
            now: AtomicU64::new(start),
        }
    }

    /// Moves the clock forward by `by` nanoseconds.
    pub fn advance(&self, by: Nanos) {
        // Relaxed: the clock value is the only data; readers need no other memory ordered by it.
        self.now.fetch_add(by, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Nanos {
        self.now.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::new(5);
        assert_eq!(clock.now(), 5);
        clock.advance(10);
        assert_eq!(clock.now(), 15);
    }
}
