//! `Backoff`: the yield-and-backoff hook.
//!
//! A caller that retries after a failure waits here instead of hammering: the first wait
//! yields if the worker has other runnable tasks (the cheapest way to let a producer run);
//! every later wait, or a first wait on an idle worker, sleeps on the timer wheel for
//! `base << min(attempt, max_shift)`, capped, with equal jitter (half fixed, half random) so
//! that many waiters do not retry in lockstep.
//!
//! Two forms of the same wait: [`Backoff::wait`] (an async fn) and [`Backoff::poll_wait`] for
//! hand-written futures (the channel's receive), which keeps the pending yield or timer inside
//! the `Backoff` itself so that the caller's future stays named and allocation-free.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use weir_probes::{probe, Event, YieldReason};

use crate::runtime::context;
use crate::time::Sleep;

/// Exponential backoff with jitter on the runtime's timers.
///
/// Cloning copies the configuration, the attempt count and the jitter state, not a wait in
/// progress.
#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    max_shift: u32,
    cap: Duration,
    attempt: u32,
    rng: u64,
    pending: Pending,
}

/// The wait in progress of [`Backoff::poll_wait`].
#[derive(Debug)]
enum Pending {
    /// No wait started.
    Idle,
    /// The task woke itself and returned `Pending` once; the next poll completes the wait.
    Yielded,
    /// Sleeping on the timer wheel (`Sleep` is `Unpin`: it can live in a plain field).
    Sleeping(Sleep),
}

impl Clone for Backoff {
    fn clone(&self) -> Self {
        Backoff {
            base: self.base,
            max_shift: self.max_shift,
            cap: self.cap,
            attempt: self.attempt,
            rng: self.rng,
            pending: Pending::Idle,
        }
    }
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
            pending: Pending::Idle,
        }
    }

    /// Starts the count at `attempt` (a caller that keeps its failure count elsewhere, such as
    /// a channel's breaker shared by several receivers, resumes the schedule where it is).
    pub fn starting_at(mut self, attempt: u32) -> Self {
        self.attempt = attempt;
        self
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

    /// Starts over (after a success); a wait in progress is abandoned.
    pub fn reset(&mut self) {
        self.attempt = 0;
        self.pending = Pending::Idle;
    }

    /// True while a wait started by [`Backoff::poll_wait`] has not completed.
    pub fn is_waiting(&self) -> bool {
        !matches!(self.pending, Pending::Idle)
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

    /// Waits for this attempt, then counts it. See [`Backoff::poll_wait`].
    pub async fn wait(&mut self) {
        std::future::poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// The poll form of [`Backoff::wait`]: `Ready` once this attempt's wait is over (the
    /// attempt is then counted), `Pending` while it runs. The first attempt on a worker with
    /// other runnable tasks yields once (the task goes to the back of the queue); any other
    /// attempt sleeps on the timer wheel for the jittered delay. Allocation-free: the pending
    /// yield or timer is kept in `self`, so poll the same `Backoff` until it is ready.
    ///
    /// # Panics
    /// When it has to sleep outside a weir runtime with timers enabled (as `time::sleep`).
    pub fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.pending {
            Pending::Idle => {
                probe!(Event::Yield {
                    reason: YieldReason::Backoff
                });
                if self.attempt == 0 && context::has_runnable_work() {
                    // Woken while running: the scheduler re-queues the task at the back.
                    cx.waker().wake_by_ref();
                    self.pending = Pending::Yielded;
                    return Poll::Pending;
                }
                let delay = self.jittered(self.delay());
                let mut sleep = crate::time::sleep(delay);
                if Pin::new(&mut sleep).poll(cx).is_pending() {
                    self.pending = Pending::Sleeping(sleep);
                    return Poll::Pending;
                }
            }
            Pending::Yielded => {}
            Pending::Sleeping(sleep) => std::task::ready!(Pin::new(sleep).poll(cx)),
        }
        self.pending = Pending::Idle;
        self.attempt = self.attempt.saturating_add(1);
        Poll::Ready(())
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

    fn current_thread() -> crate::runtime::Runtime {
        crate::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn first_wait_yields_to_a_runnable_task_instead_of_sleeping() {
        let rt = current_thread();
        rt.block_on(async {
            let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = ran.clone();
            let _other = crate::spawn(async move {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            // An hour-long base: a sleep here would never end within the test.
            let mut b = Backoff::new(Duration::from_secs(3600));
            let mut first = true;
            std::future::poll_fn(|cx| {
                let p = b.poll_wait(cx);
                if first {
                    first = false;
                    assert!(p.is_pending(), "the first wait yields once");
                    assert!(b.is_waiting());
                }
                p
            })
            .await;
            // The yield let the other task run, and no timer was needed.
            assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
            assert_eq!(b.attempt(), 1);
            assert!(!b.is_waiting());
        });
    }

    #[test]
    fn later_waits_and_idle_workers_sleep_on_the_timer() {
        let rt = current_thread();
        rt.block_on(async {
            // Nothing else runnable: even the first wait sleeps (a short one).
            let mut b = Backoff::new(Duration::from_millis(1));
            b.wait().await;
            assert_eq!(b.attempt(), 1);
            // Attempt 1 sleeps even with a runnable task beside it: it stays pending after
            // that task has run.
            let mut b = Backoff::new(Duration::from_secs(3600)).starting_at(1);
            let _other = crate::spawn(async {});
            let mut polls = 0;
            std::future::poll_fn(|cx| {
                polls += 1;
                match b.poll_wait(cx) {
                    Poll::Ready(()) => panic!("an hour-long sleep completed"),
                    Poll::Pending if polls < 3 => {
                        // Come back after the other task to poll again.
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    Poll::Pending => Poll::Ready(()),
                }
            })
            .await;
            assert!(b.is_waiting(), "sleeping on the timer");
            assert_eq!(b.attempt(), 1, "not counted until the wait is over");
            // A reset abandons the wait (the timer entry leaves with the `Sleep`).
            b.reset();
            assert!(!b.is_waiting());
            assert_eq!(b.attempt(), 0);
        });
    }

    #[test]
    fn clone_copies_the_schedule_not_the_wait() {
        let b = Backoff::new(Duration::from_millis(5))
            .max_shift(2)
            .starting_at(3);
        let c = b.clone();
        assert_eq!(c.attempt(), 3);
        assert_eq!(c.delay(), Duration::from_millis(20));
        assert!(!c.is_waiting());
    }
}
