//! A lock-free token bucket: the trickle a degraded channel still sends to its primary.
//!
//! Implemented as the generic cell-rate algorithm, which is a token bucket written as one
//! number: the *theoretical arrival time* (TAT), the instant at which the bucket would be full
//! again. A request at `now` is admitted when `max(TAT, now) + interval - now <= burst *
//! interval` (that many tokens' worth of time is still owed, at most), and moves TAT forward by
//! one interval. Starting empty of debt, `burst` requests pass at once, then one per interval.
//!
//! Invariants:
//! * the whole state is one `AtomicU64` (TAT in clock nanoseconds), moved by CAS: no lock, no
//!   allocation, and a request is admitted only by the CAS that moved TAT for it, so two racing
//!   requests never spend the same token;
//! * TAT only grows, so a late `now` from another thread's coarse clock cannot give tokens back.

use std::time::Duration;

use crate::clock::Nanos;
use crate::sync::{AtomicU64, Ordering};

/// A token bucket of `burst` tokens refilled at `rate` per second.
#[derive(Debug)]
pub struct TokenBucket {
    /// Theoretical arrival time, in clock nanoseconds.
    tat: AtomicU64,
    /// Nanoseconds per token.
    interval: Nanos,
    /// `burst * interval`: how far ahead of `now` TAT may run.
    tolerance: Nanos,
}

impl TokenBucket {
    /// `rate_per_sec` tokens a second, `burst` at once. Zero arguments are raised to 1 (the
    /// configuration refuses them before they get here).
    pub fn new(rate_per_sec: u32, burst: u32) -> Self {
        let interval = (1_000_000_000 / u64::from(rate_per_sec.max(1))).max(1);
        Self {
            tat: AtomicU64::new(0),
            interval,
            tolerance: interval.saturating_mul(u64::from(burst.max(1))),
        }
    }

    /// Time between two tokens.
    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval)
    }

    /// Takes one token if one is available at `now`.
    #[inline]
    pub fn try_acquire(&self, now: Nanos) -> bool {
        self.try_acquire_or_wait(now).is_ok()
    }

    /// Takes one token, or says how long until one is available.
    pub fn try_acquire_or_wait(&self, now: Nanos) -> Result<(), Duration> {
        // Relaxed load: the CAS below validates the value; TAT guards no other data.
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            let next = tat.max(now).saturating_add(self.interval);
            let owed = next - now;
            if owed > self.tolerance {
                return Err(Duration::from_nanos(owed - self.tolerance));
            }
            // Relaxed: the bucket publishes nothing but its own count; the RMW's atomicity is
            // what keeps two callers from taking the same token.
            match self
                .tat
                .compare_exchange_weak(tat, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(actual) => tat = actual,
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    const MS: Nanos = 1_000_000;

    #[test]
    fn burst_then_steady_rate() {
        let clock = ManualClock::new(1_000 * MS);
        let bucket = TokenBucket::new(50, 10);
        let burst = (0..100).filter(|_| bucket.try_acquire(clock.now())).count();
        assert_eq!(burst, 10);
        // Ten seconds of asking every millisecond: exactly one token per 20 ms.
        let mut admitted = 0;
        for _ in 0..10_000 {
            clock.advance(MS);
            if bucket.try_acquire(clock.now()) {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 500);
    }

    #[test]
    fn a_quiet_spell_refills_only_up_to_burst() {
        let clock = ManualClock::new(0);
        let bucket = TokenBucket::new(100, 5);
        assert_eq!(
            (0..20).filter(|_| bucket.try_acquire(clock.now())).count(),
            5
        );
        clock.advance(3_600_000 * MS);
        assert_eq!(
            (0..20).filter(|_| bucket.try_acquire(clock.now())).count(),
            5
        );
    }

    #[test]
    fn reports_the_wait_until_the_next_token() {
        let bucket = TokenBucket::new(10, 1);
        assert_eq!(bucket.try_acquire_or_wait(0), Ok(()));
        assert_eq!(
            bucket.try_acquire_or_wait(30 * MS),
            Err(Duration::from_millis(70))
        );
        assert_eq!(bucket.try_acquire_or_wait(100 * MS), Ok(()));
        assert_eq!(bucket.interval(), Duration::from_millis(100));
    }

    #[test]
    fn a_stale_clock_reading_gets_no_extra_tokens() {
        let bucket = TokenBucket::new(10, 2);
        assert!(bucket.try_acquire(1_000 * MS));
        assert!(bucket.try_acquire(1_000 * MS));
        assert!(!bucket.try_acquire(900 * MS));
        assert!(!bucket.try_acquire(1_000 * MS));
    }

    #[test]
    fn threads_never_share_a_token() {
        let bucket = std::sync::Arc::new(TokenBucket::new(1, 1000));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let b = bucket.clone();
                std::thread::spawn(move || (0..1000).filter(|_| b.try_acquire(5)).count())
            })
            .collect();
        let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(total, 1000);
    }
}
