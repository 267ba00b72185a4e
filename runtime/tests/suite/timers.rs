//! Timers: sleeps complete in deadline order and never early; `timeout`; intervals report the
//! schedule each missed-tick behaviour promises; resetting and dropping sleeps.
//!
//! Nothing here bounds how late a timer may be: only lower bounds ("not before the deadline")
//! and orders are asserted.

use std::future::{pending, poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use weir_runtime::task;
use weir_runtime::time::{
    interval, interval_at, sleep, sleep_until, timeout, timeout_at, Elapsed, Instant,
    MissedTickBehavior,
};

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::Gate;
use crate::thread_executor::block_on_thread;

/// Deterministic pseudo-random numbers (xorshift64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// When the timer driver first invoked a future's waker: a global sequence number (the order
/// of wake calls across all timers of the test) and the time of the call.
type WakeRecord = Arc<Mutex<Option<(usize, Instant)>>>;

struct RecordingWaker {
    inner: Waker,
    seq: Arc<AtomicUsize>,
    record: WakeRecord,
}

impl Wake for RecordingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let mut r = self.record.lock().unwrap();
        if r.is_none() {
            *r = Some((self.seq.fetch_add(1, Ordering::SeqCst), Instant::now()));
        }
        drop(r);
        self.inner.wake_by_ref();
    }
}

/// Polls `future` with a waker that records its first wake-up into `record`.
async fn record_wake<F: Future>(future: F, seq: Arc<AtomicUsize>, record: WakeRecord) -> F::Output {
    let mut future = pin!(future);
    poll_fn(|cx| {
        let waker = Waker::from(Arc::new(RecordingWaker {
            inner: cx.waker().clone(),
            seq: seq.clone(),
            record: record.clone(),
        }));
        future.as_mut().poll(&mut Context::from_waker(&waker))
    })
    .await
}

struct SleepResult {
    deadline: Instant,
    /// Order in which the tasks observed their sleep completing.
    done_seq: usize,
    done_at: Instant,
    /// When the timer fired this sleep's waker; `None` if the sleep was already due at its
    /// first poll (then nothing was registered and nothing fired).
    woken: Option<(usize, Instant)>,
}

/// Pairs (earlier, later) of results whose deadlines are at least 2 ms apart.
fn clearly_ordered(results: &[SleepResult]) -> impl Iterator<Item = (&SleepResult, &SleepResult)> {
    results.iter().flat_map(move |a| {
        results
            .iter()
            .filter(move |b| a.deadline + Duration::from_millis(2) <= b.deadline)
            .map(move |b| (a, b))
    })
}

flavor_tests! {
    /// Sleeps with random deadlines: none completes before its deadline, the timer fires them
    /// in deadline order, and (where one thread runs every task) the tasks finish in that
    /// order too.
    fn sleeps_fire_in_deadline_order_and_never_early(flavor: Flavor) {
        const SLEEPS: usize = 60;
        let rt = flavor.build();
        let mut rng = Rng(0x5EED_1234_ABCD_0001);
        let wake_seq = Arc::new(AtomicUsize::new(0));
        let done_seq = Arc::new(AtomicUsize::new(0));
        let results: Vec<SleepResult> = rt.block_on(async {
            // Deadlines from a common base a little ahead, so that the tasks register before
            // the earliest deadline on any reasonably loaded machine (a late registration is
            // still checked for "never early", just not for order).
            let base = Instant::now() + Duration::from_millis(20);
            let handles: Vec<_> = (0..SLEEPS)
                .map(|_| {
                    let deadline = base + Duration::from_micros(rng.below(80_000));
                    let (wake_seq, done_seq) = (wake_seq.clone(), done_seq.clone());
                    weir_runtime::spawn(async move {
                        let record = WakeRecord::default();
                        record_wake(sleep_until(deadline), wake_seq, record.clone()).await;
                        let done_at = Instant::now();
                        let done_seq = done_seq.fetch_add(1, Ordering::SeqCst);
                        let woken = *record.lock().unwrap();
                        SleepResult { deadline, done_seq, done_at, woken }
                    })
                })
                .collect();
            let mut results = Vec::new();
            for h in handles {
                results.push(h.await.unwrap());
            }
            results
        });
        for r in &results {
            assert!(r.done_at >= r.deadline, "a sleep completed {:?} early", r.deadline - r.done_at);
            if let Some((_, at)) = r.woken {
                assert!(at >= r.deadline, "a timer fired {:?} early", r.deadline - at);
            }
        }
        for (a, b) in clearly_ordered(&results) {
            if let (Some((sa, _)), Some((sb, _))) = (a.woken, b.woken) {
                assert!(sa < sb, "a timer fired after one with a deadline >= 2 ms later");
            }
            if let (Some(_), Some(_), true) = (a.woken, b.woken, flavor.is_current_thread()) {
                // One thread runs every task, in the order the timer woke them.
                assert!(a.done_seq < b.done_seq, "sleeps completed out of deadline order");
            }
        }
    }

    /// Sleeps sharing one deadline all complete; zero and past deadlines complete at once.
    fn equal_zero_and_past_deadlines(flavor: Flavor) {
        let rt = flavor.build();
        rt.block_on(async {
            let deadline = Instant::now() + Duration::from_millis(5);
            let hs: Vec<_> = (0..50)
                .map(|_| weir_runtime::spawn(async move { sleep_until(deadline).await; Instant::now() }))
                .collect();
            for h in hs {
                assert!(h.await.unwrap() >= deadline);
            }
            sleep(Duration::ZERO).await;
            let past = Instant::now();
            sleep_until(past).await;
            let s = sleep_until(past);
            assert!(s.is_elapsed());
            assert_eq!(s.deadline(), past);
        });
    }

    /// Durations too large for the clock mean "never": no overflow, the sleep waits and a
    /// timeout around a ready future still returns its output.
    fn huge_durations_mean_never(flavor: Flavor) {
        let rt = flavor.build();
        rt.block_on(async {
            let mut s = sleep(Duration::MAX);
            assert!(s.deadline() > Instant::now() + Duration::from_secs(86_400 * 365));
            poll_fn(|cx| {
                assert!(Pin::new(&mut s).poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            assert!(!s.is_elapsed());
            assert_eq!(timeout(Duration::MAX, async { 3 }).await, Ok(3));
            let mut iv = interval(Duration::from_secs(86_400 * 365 * 100));
            iv.tick().await;
        });
    }

    /// `Sleep::reset` moves the deadline both ways: a long sleep reset to soon completes,
    /// and a completed sleep reset to later is pending again.
    fn reset_moves_the_deadline(flavor: Flavor) {
        let rt = flavor.build();
        rt.block_on(async {
            let mut s = sleep(Duration::from_secs(3600));
            poll_fn(|cx| {
                assert!(Pin::new(&mut s).poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            let soon = Instant::now() + Duration::from_millis(5);
            Pin::new(&mut s).reset(soon);
            (&mut s).await;
            assert!(Instant::now() >= soon);
            assert!(s.is_elapsed());

            Pin::new(&mut s).reset(Instant::now() + Duration::from_secs(3600));
            assert!(!s.is_elapsed());
            poll_fn(|cx| {
                assert!(Pin::new(&mut s).poll(cx).is_pending(), "a reset sleep waits again");
                Poll::Ready(())
            })
            .await;
        });
    }

    /// `timeout`: `Err(Elapsed)`, not before the deadline, for a future that never finishes;
    /// `Ok` for one that is ready, or becomes ready in time.
    fn timeout_elapses_or_returns_the_output(flavor: Flavor) {
        let rt = flavor.build();
        rt.block_on(async {
            let start = Instant::now();
            let r: Result<(), Elapsed> = timeout(Duration::from_millis(10), pending::<()>()).await;
            assert!(r.is_err());
            assert!(Instant::now() >= start + Duration::from_millis(10));

            let deadline = Instant::now() + Duration::from_millis(5);
            assert!(timeout_at(deadline, pending::<()>()).await.is_err());
            assert!(Instant::now() >= deadline);

            assert_eq!(timeout(Duration::from_secs(3600), async { 5 }).await, Ok(5));
            // Ready futures win even against a deadline already passed.
            assert_eq!(timeout(Duration::ZERO, async { 6 }).await, Ok(6));

            let gate = Gate::new();
            let opener = {
                let gate = gate.clone();
                weir_runtime::spawn(async move {
                    task::yield_now().await;
                    gate.open();
                })
            };
            let r = timeout(Duration::from_secs(3600), gate.wait()).await;
            assert_eq!(r, Ok(()));
            opener.await.unwrap();

            let err = timeout(Duration::ZERO, pending::<()>()).await.unwrap_err();
            assert_eq!(err.to_string(), "deadline has elapsed");
            let io: std::io::Error = err.into();
            assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        });
    }

    /// Intervals report their schedule: `Burst` keeps every tick on the original grid, also
    /// after falling behind; `Skip` stays on the grid but jumps past the missed ticks; `Delay`
    /// restarts the schedule one period after the late tick.
    fn interval_missed_tick_behaviors(flavor: Flavor) {
        const P: Duration = Duration::from_millis(20);
        // Longer than several periods, so the next tick is well past late.
        const STALL: Duration = Duration::from_millis(90);
        let rt = flavor.build();
        rt.block_on(async {
            // Burst: exact grid values, before and after the stall.
            let t0 = Instant::now();
            let mut iv = interval_at(t0, P);
            assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
            for k in 0..3u32 {
                assert_eq!(iv.tick().await, t0 + P * k);
            }
            sleep(STALL).await;
            let after_stall = Instant::now();
            for k in 3..6u32 {
                let tick = iv.tick().await;
                assert_eq!(tick, t0 + P * k);
            }
            // The burst ticks were scheduled in the past: they came back to back.
            assert!(t0 + P * 4 < after_stall);

            // Skip: on the grid, and the tick after the late one is beyond the stall.
            let t0 = Instant::now();
            let mut iv = interval_at(t0, P);
            iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
            let mut ticks = Vec::new();
            for _ in 0..2 {
                ticks.push(iv.tick().await);
            }
            sleep(STALL).await;
            let after_stall = Instant::now();
            let late = iv.tick().await;
            let next = iv.tick().await;
            ticks.push(late);
            ticks.push(next);
            for &t in &ticks {
                let offset = (t - t0).as_nanos();
                assert_eq!(offset % P.as_nanos(), 0, "a Skip tick left the grid");
            }
            assert!(ticks.windows(2).all(|w| w[0] < w[1]));
            assert!(next > after_stall, "Skip must not replay missed ticks");
            assert!(next - late >= 2 * P, "Skip jumped over no tick");

            // Delay: the schedule restarts one period after the late tick was taken.
            let t0 = Instant::now();
            let mut iv = interval_at(t0, P);
            iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
            assert_eq!(iv.tick().await, t0);
            sleep(STALL).await;
            let after_stall = Instant::now();
            let late = iv.tick().await;
            assert!(late >= t0 + P && late <= after_stall, "the late tick reports when it was due");
            let next = iv.tick().await;
            assert!(next >= after_stall + P, "Delay restarts one period after the late tick");
            let following = iv.tick().await;
            assert!(following >= next + P);
        });
    }

    /// An interval's first tick is scheduled at its creation; `reset` restarts the schedule
    /// from now; periods below the timer resolution are raised to 1 ms.
    fn interval_first_tick_reset_and_min_period(flavor: Flavor) {
        const P: Duration = Duration::from_millis(5);
        let rt = flavor.build();
        rt.block_on(async {
            let before = Instant::now();
            let mut iv = interval(P);
            let created = Instant::now();
            let first = iv.tick().await;
            assert!(before <= first && first <= created);
            assert_eq!(iv.tick().await, first + P);
            let reset_at = Instant::now();
            iv.reset();
            assert!(iv.tick().await >= reset_at + P);

            let mut fast = interval(Duration::ZERO);
            assert_eq!(fast.period(), Duration::from_millis(1));
            let a = fast.tick().await;
            let b = fast.tick().await;
            assert_eq!(b - a, Duration::from_millis(1));
        });
    }

    /// Polling a sleep in a runtime built without timers panics with a message that says
    /// how to enable them; the panic comes back as the task's JoinError.
    fn sleep_without_timers_panics_with_advice(flavor: Flavor) {
        let rt = flavor.bare_builder().build().unwrap();
        let err = rt
            .block_on(rt.spawn(async { sleep(Duration::from_secs(3600)).await }))
            .unwrap_err();
        let payload = err.into_panic();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap();
        assert!(msg.contains("enable_time"), "{msg}");
    }
}

/// The coarse clock never runs ahead of the real one and never goes back; on the
/// current-thread runtime the timer pass that ends a sleep refreshes it first.
#[test]
fn coarse_clock_is_monotonic_and_not_ahead() {
    let rt = Flavor::CurrentThread.build();
    rt.block_on(async {
        let mut last = weir_runtime::time::coarse_now();
        for _ in 0..20 {
            let deadline = Instant::now() + Duration::from_millis(1);
            let mut s = sleep_until(deadline);
            let registered =
                poll_fn(|cx| Poll::Ready(Pin::new(&mut s).poll(cx).is_pending())).await;
            (&mut s).await;
            let coarse = weir_runtime::time::coarse_now();
            assert!(coarse >= last, "the coarse clock went back");
            assert!(coarse <= Instant::now(), "the coarse clock ran ahead");
            if registered {
                // The timer fired it, and the driver refreshes the clock after firing.
                assert!(coarse >= deadline, "not refreshed by the timer pass");
            }
            last = coarse;
        }
    });
}

/// Outside any runtime a sleep cannot register: polling it panics, naming the problem.
#[test]
fn sleep_outside_a_runtime_panics() {
    let payload = std::panic::catch_unwind(|| block_on_thread(sleep(Duration::from_secs(3600))))
        .expect_err("polling a sleep outside a runtime panics");
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(msg.contains("runtime"), "{msg}");
}
