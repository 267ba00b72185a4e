//! L2 helpers: the retry-delay policy and a caller's run of failed attempts and timeouts.
//!
//! Pure values, no clock and no waiting: the runtime's `task::Backoff` does the waiting (with
//! jitter, yielding first when other tasks are runnable); these decide whether a caller must
//! be held and for how long before jitter. A receiver keeps one [`RetryState`] (`&mut`, no
//! atomics needed) and feeds it every outcome; the channel-wide run of timeouts that moves a
//! circuit to HalfOpen lives in the circuit's own state word.

use std::time::Duration;

use crate::circuit::Outcome;
use crate::config::BreakerConfig;

/// `delay(attempt) = base << min(attempt, max_shift)`, saturating at `Duration::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    base: Duration,
    max_shift: u32,
}

impl Default for RetryPolicy {
    /// 10 ms << min(attempt, 4): the breaker's default.
    fn default() -> Self {
        Self::from_config(&BreakerConfig::default())
    }
}

impl RetryPolicy {
    /// A policy starting at `base`, doubling at most `max_shift` times (capped at 31).
    pub const fn new(base: Duration, max_shift: u32) -> Self {
        Self {
            base,
            max_shift: if max_shift > 31 { 31 } else { max_shift },
        }
    }

    /// The policy of a breaker configuration (`backoff_base`, `backoff_max_shift`).
    pub const fn from_config(config: &BreakerConfig) -> Self {
        Self::new(config.backoff_base, config.backoff_max_shift)
    }

    /// The first delay.
    pub const fn base(&self) -> Duration {
        self.base
    }

    /// How many times the delay doubles.
    pub const fn max_shift(&self) -> u32 {
        self.max_shift
    }

    /// The delay before retry number `attempt` (0 for the first retry).
    #[inline]
    pub fn delay(&self, attempt: u32) -> Duration {
        let shift = attempt.min(self.max_shift);
        self.base
            .checked_mul(1u32 << shift)
            .unwrap_or(Duration::MAX)
    }

    /// The longest delay this policy gives.
    pub fn max_delay(&self) -> Duration {
        self.delay(self.max_shift)
    }
}

/// One caller's run of failed attempts since its last success.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryState {
    failures: u32,
    timeouts: u32,
}

impl RetryState {
    /// No failures yet.
    pub const fn new() -> Self {
        Self {
            failures: 0,
            timeouts: 0,
        }
    }

    /// Feeds one outcome: a success clears the run; a failure extends it and breaks the run of
    /// timeouts; a timeout extends both.
    pub fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Success => *self = Self::new(),
            Outcome::Failure => {
                self.failures = self.failures.saturating_add(1);
                self.timeouts = 0;
            }
            Outcome::Timeout => {
                self.failures = self.failures.saturating_add(1);
                self.timeouts = self.timeouts.saturating_add(1);
            }
        }
    }

    /// Failed attempts since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Timeouts in a row since the last success or non-timeout failure.
    pub fn consecutive_timeouts(&self) -> u32 {
        self.timeouts
    }

    /// Whether the run of timeouts reached `threshold` (e.g. `consecutive_timeouts`).
    pub fn timeouts_reached(&self, threshold: u32) -> bool {
        threshold > 0 && self.timeouts >= threshold
    }

    /// How long to hold the next attempt: `None` right after a success (no hold), otherwise
    /// the policy's delay for retry number `failures - 1`.
    pub fn next_delay(&self, policy: &RetryPolicy) -> Option<Duration> {
        self.failures
            .checked_sub(1)
            .map(|attempt| policy.delay(attempt))
    }

    /// Forgets the run.
    pub fn reset(&mut self) {
        *self = Self::new();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn default_delays_double_four_times_then_stay() {
        let p = RetryPolicy::default();
        let ms: Vec<u128> = (0..8).map(|a| p.delay(a).as_millis()).collect();
        assert_eq!(ms, [10, 20, 40, 80, 160, 160, 160, 160]);
        assert_eq!(p.max_delay(), Duration::from_millis(160));
        assert_eq!(p.delay(u32::MAX), Duration::from_millis(160));
    }

    #[test]
    fn huge_shifts_saturate_instead_of_overflowing() {
        let p = RetryPolicy::new(Duration::from_secs(u64::MAX / 2), 40);
        assert_eq!(p.max_shift(), 31);
        assert_eq!(p.delay(31), Duration::MAX);
        assert_eq!(RetryPolicy::new(Duration::ZERO, 4).delay(9), Duration::ZERO);
    }

    #[test]
    fn retry_state_tracks_failures_and_timeout_runs() {
        let p = RetryPolicy::from_config(&BreakerConfig::default());
        let mut s = RetryState::new();
        assert_eq!(s.next_delay(&p), None);
        s.record(Outcome::Timeout);
        s.record(Outcome::Timeout);
        assert_eq!(s.consecutive_timeouts(), 2);
        assert!(!s.timeouts_reached(3));
        assert_eq!(s.next_delay(&p), Some(Duration::from_millis(20)));
        s.record(Outcome::Failure);
        assert_eq!(s.consecutive_timeouts(), 0);
        assert_eq!(s.failures(), 3);
        assert_eq!(s.next_delay(&p), Some(Duration::from_millis(40)));
        for _ in 0..3 {
            s.record(Outcome::Timeout);
        }
        assert!(s.timeouts_reached(3));
        assert!(!s.timeouts_reached(0));
        s.record(Outcome::Success);
        assert_eq!(s, RetryState::new());
        s.record(Outcome::Failure);
        s.reset();
        assert_eq!(s.next_delay(&p), None);
    }
}
