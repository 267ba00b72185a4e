//! `Backoff`: the yield-and-backoff hook.
//!
//! A caller that retries after a failure waits here instead of hammering: the first wait
//! yields if the worker has other runnable tasks (the cheapest way to let a producer run);
//! every later wait, or a first wait on an idle worker, sleeps on the timer wheel for
//! `base << min(attempt, max_shift)`, capped, with equal jitter (half fixed, half random) so
//! that many waiters do not retry in lockstep.

use std::time::Duration;

use weir_probes::{probe, Event, YieldReason};

use crate::runtime::context;

/// Exponential backoff with jitter on the runtime's timers.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max_shift: u32,
    cap: Duration,
    attempt: u32,
    rng: u64,
}

impl Default for Backoff {
    /// 10 ms << min(attempt, 4), capped at 1 s: the breaker's default.
    fn default() -> Self {
        Self::new(Duration::from_millis(10))
    }
}

impl Backoff {
    /// A backoff starting at `base`, doubling up to 4 times, capped at 1 s.
    pub fn new(base: Duration) -> Self {
        static SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0x9E37_79B9);
        // Relaxed: the seed only needs to differ between backoffs.
        let seed = SEED.fetch_add(0x9E37_79B9_7F4A_7C15, std::sync::atomic::Ordering::Relaxed);
        Self {
            base,
            max_shift: 4,
            cap: Duration::from_secs(1),
            attempt: 0,
            rng: seed | 1,
        }
    }

    /// How many times the delay may double.
    pub fn max_shift(mut self, max_shift: u32) -> Self {
        self.max_shift = max_shift.min(31);
        self
    }

    /// The longest delay.
    pub fn cap(mut self, cap: Duration) -> Self {
        self.cap = cap;
        self
    }

    /// Waits made since the last reset.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Starts over (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The delay before jitter for the current attempt.
    pub fn delay(&self) -> Duration {
        let shift = self.attempt.min(self.max_shift);
        self.base
            .checked_mul(1u32 << shift)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    fn jittered(&mut self, delay: Duration) -> Duration {
        // xorshift64: cheap, allocation-free, good enough to spread retries.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let half = delay / 2;
        let nanos = half.as_nanos() as u64;
        let extra = if nanos == 0 {
            0
        } else {
            self.rng % (nanos + 1)
        };
        half + Duration::from_nanos(extra)
    }

    /// Waits for this attempt, then counts it.
    pub async fn wait(&mut self) {
        if self.attempt == 0 && context::has_runnable_work() {
            probe!(Event::Yield {
                reason: YieldReason::Backoff
            });
            super::yield_now().await;
        } else {
            let delay = self.jittered(self.delay());
            probe!(Event::Yield {
                reason: YieldReason::Backoff
            });
            crate::time::sleep(delay).await;
        }
        self.attempt = self.attempt.saturating_add(1);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_up_to_the_shift_and_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(10));
        let mut seen = Vec::new();
        for _ in 0..7 {
            seen.push(b.delay().as_millis());
            b.attempt += 1;
        }
        assert_eq!(seen, [10, 20, 40, 80, 160, 160, 160]);
        let b = Backoff::new(Duration::from_millis(300)).cap(Duration::from_millis(500));
        let mut b = b;
        b.attempt = 3;
        assert_eq!(b.delay(), Duration::from_millis(500));
        b.reset();
        assert_eq!(b.delay(), Duration::from_millis(300));
    }

    #[test]
    fn jitter_stays_within_half_and_full_delay() {
        let mut b = Backoff::new(Duration::from_millis(10));
        for _ in 0..1000 {
            let d = b.jittered(Duration::from_millis(80));
            assert!(
                d >= Duration::from_millis(40) && d <= Duration::from_millis(80),
                "{d:?}"
            );
        }
    }
}
