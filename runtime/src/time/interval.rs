//! `Interval`: ticks at a fixed period.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{sleep_until, Instant, Sleep};

/// The wheel's resolution: shorter periods (zero included) tick every millisecond.
const MIN_PERIOD: Duration = Duration::from_millis(1);
/// A tick later than this counts as missed and the missed-tick behaviour applies.
const LATE: Duration = Duration::from_millis(5);

/// What an [`Interval`] does after it fell behind (its ticks were not awaited in time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up, keeping the original schedule.
    #[default]
    Burst,
    /// Restart the schedule from now: the next tick is one period after the late one.
    Delay,
    /// Drop the missed ticks: the next tick is the next one on the original schedule.
    Skip,
}

impl MissedTickBehavior {
    fn next_after(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => scheduled.saturating_add(period),
            MissedTickBehavior::Delay => now.saturating_add(period),
            MissedTickBehavior::Skip => {
                let behind = now.duration_since(scheduled).as_nanos();
                let into_period = (behind % period.as_nanos()) as u64;
                now.saturating_add(period - Duration::from_nanos(into_period))
            }
        }
    }
}

/// Ticks every `period`, the first tick completing at once. A period under 1 ms (the timer
/// resolution), zero included, ticks every millisecond.
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    Interval {
        sleep: sleep_until(start),
        period: period.max(MIN_PERIOD),
        missed: MissedTickBehavior::default(),
    }
}

/// Future stream of ticks returned by [`interval`].
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Completes at the next tick and returns when it was scheduled.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        std::task::ready!(Pin::new(&mut self.sleep).poll_inner(cx));
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        // Saturating: a period of `Duration::MAX` means "never again", not an overflow.
        let next = if now > scheduled.saturating_add(LATE) {
            self.missed.next_after(scheduled, now, self.period)
        } else {
            scheduled.saturating_add(self.period)
        };
        Pin::new(&mut self.sleep).reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.reset_after(self.period);
    }

    /// Restarts the schedule: the next tick completes at once, the ones after it a period
    /// apart from now.
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule: the next tick is `after` from now, the ones after it a period
    /// apart.
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(Instant::now().saturating_add(after));
    }

    /// Restarts the schedule: the next tick is at `deadline` (at once if it has passed), the
    /// ones after it a period apart.
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.sleep).reset(deadline);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The behaviour after missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the behaviour after missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}

trait PollInner {
    fn poll_inner(self, cx: &mut Context<'_>) -> Poll<()>;
}

impl PollInner for Pin<&mut Sleep> {
    fn poll_inner(self, cx: &mut Context<'_>) -> Poll<()> {
        std::future::Future::poll(self, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_tick_schedules() {
        let t0 = Instant::now();
        let p = Duration::from_millis(10);
        let now = t0 + Duration::from_millis(35);
        assert_eq!(MissedTickBehavior::Burst.next_after(t0, now, p), t0 + p);
        assert_eq!(MissedTickBehavior::Delay.next_after(t0, now, p), now + p);
        assert_eq!(
            MissedTickBehavior::Skip.next_after(t0, now, p),
            t0 + Duration::from_millis(40)
        );
    }
}
