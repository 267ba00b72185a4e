//! The cooperative budget, `yield_now` and `Backoff`: a task that never waits still gives its
//! worker to others; `unconstrained` turns that off; yields interleave tasks; backoff yields
//! first and then sleeps for growing delays.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use weir_runtime::coop::{self, consume_budget, BUDGET};
use weir_runtime::task::{self, yield_now, Backoff};
use weir_runtime::time::sleep;
use weir_runtime::Handle;

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::wait_until;
use crate::tracker::Tracker;

/// Forwards wake-ups and remembers that one happened.
struct FlagWaker {
    inner: Waker,
    woken: AtomicBool,
}

impl Wake for FlagWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.inner.wake_by_ref();
    }
}

/// Polls `future` once; returns whether it was ready and whether it woke its own task during
/// that poll (what a yield does, and a timer registration does not).
fn poll_and_watch<F: Future + ?Sized>(
    future: std::pin::Pin<&mut F>,
    cx: &mut Context<'_>,
) -> (bool, bool) {
    let flag = Arc::new(FlagWaker {
        inner: cx.waker().clone(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(flag.clone());
    let ready = future.poll(&mut Context::from_waker(&waker)).is_ready();
    (ready, flag.woken.load(Ordering::SeqCst))
}

flavor_tests! {
    /// A task looping on an always-ready operation is forced to yield when its budget runs
    /// out: a task spawned after it gets to run and end the loop (on one worker, nothing else
    /// could), and the runtime counts the forced yields.
    fn coop_forces_a_yield_in_a_ready_loop(flavor: Flavor) {
        let rt = flavor.build();
        let metrics = rt.handle().metrics();
        let before = metrics.forced_yield_count();
        let iterations = rt.block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            let spinner = weir_runtime::spawn({
                let stop = stop.clone();
                async move {
                    let mut n = 0usize;
                    // At least four budgets' worth, so that yields are forced on any flavour.
                    while n < 4 * BUDGET as usize || !stop.load(Ordering::SeqCst) {
                        consume_budget().await;
                        n += 1;
                    }
                    n
                }
            });
            let stopper = weir_runtime::spawn(async move { stop.store(true, Ordering::SeqCst) });
            stopper.await.unwrap();
            spinner.await.unwrap()
        });
        assert!(iterations >= 4 * BUDGET as usize);
        // Counters are folded in after a poll returns, possibly just after the join.
        wait_until("forced yields to be counted", || metrics.forced_yield_count() >= before + 3);
    }

    /// The same with an elapsed sleep as the always-ready operation: timer polls spend budget.
    fn coop_limits_a_loop_on_an_elapsed_sleep(flavor: Flavor) {
        let rt = flavor.build();
        let done = rt.block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            let spinner = weir_runtime::spawn({
                let stop = stop.clone();
                async move {
                    let mut elapsed = sleep(Duration::ZERO);
                    let mut n = 0usize;
                    while n < 2 * BUDGET as usize || !stop.load(Ordering::SeqCst) {
                        (&mut elapsed).await;
                        n += 1;
                    }
                    n
                }
            });
            weir_runtime::spawn(async move { stop.store(true, Ordering::SeqCst) })
                .await
                .unwrap();
            spinner.await.unwrap()
        });
        assert!(done >= 2 * BUDGET as usize);
    }

    /// Inside `unconstrained` the budget never runs out: ten budgets of work finish in the
    /// task's first poll.
    fn unconstrained_disables_coop(flavor: Flavor) {
        let rt = flavor.build();
        let tracker = Tracker::new();
        let h = rt.spawn(tracker.track(task::unconstrained(async {
            for _ in 0..10 * BUDGET as usize {
                consume_budget().await;
                assert!(coop::has_budget_remaining());
            }
        })));
        rt.block_on(h).unwrap();
        assert_eq!(tracker.polls(), 1, "an unconstrained task was forced to yield");

        // The same loop constrained needs more than one poll.
        let tracker = Tracker::new();
        let h = rt.spawn(tracker.track(async {
            for _ in 0..10 * BUDGET as usize {
                consume_budget().await;
            }
        }));
        rt.block_on(h).unwrap();
        assert!(tracker.polls() >= 10);
    }

    /// A spent budget is restored for the next poll, and `has_budget_remaining` reports it.
    fn budget_is_per_poll(flavor: Flavor) {
        let rt = flavor.build();
        rt.block_on(rt.spawn(async {
            for round in 0..3 {
                assert!(coop::has_budget_remaining(), "round {round}");
                let mut spent = 0usize;
                // Spend the whole budget in this poll.
                poll_fn(|cx| {
                    while let Poll::Ready(guard) = coop::poll_proceed(cx) {
                        guard.made_progress();
                        spent += 1;
                    }
                    Poll::Ready(())
                })
                .await;
                assert_eq!(spent, BUDGET as usize);
                assert!(!coop::has_budget_remaining());
                // The exhausted poll_proceed woke the task: this yield returns next poll.
                yield_now().await;
            }
        }))
        .unwrap();
    }
}

flavor_tests! {
    /// With one thread running tasks, a task spinning on `yield_now` lets a task spawned after
    /// it run: nothing else could set the flag it waits for.
    fn yield_now_lets_others_run(flavor: Flavor) in [current_thread, multi_thread_1] {
        let rt = flavor.build();
        let yields = rt.block_on(async {
            let flag = Arc::new(AtomicBool::new(false));
            let spinner = weir_runtime::spawn({
                let flag = flag.clone();
                async move {
                    let mut yields = 0u64;
                    while !flag.load(Ordering::SeqCst) {
                        yield_now().await;
                        yields += 1;
                    }
                    yields
                }
            });
            weir_runtime::spawn(async move { flag.store(true, Ordering::SeqCst) })
                .await
                .unwrap();
            spinner.await.unwrap()
        });
        assert!(yields >= 1);
    }

    /// With one thread running tasks, two tasks that yield after each step strictly
    /// alternate: a yield puts the task behind the other runnable one.
    fn yield_now_interleaves_two_tasks(flavor: Flavor) in [current_thread, multi_thread_1] {
        const STEPS: usize = 6;
        let rt = flavor.build();
        let log = Arc::new(Mutex::new(Vec::new()));
        rt.block_on(rt.spawn({
            let log = log.clone();
            async move {
                let step = |name: char| {
                    let log = log.clone();
                    weir_runtime::spawn(async move {
                        for i in 0..STEPS {
                            log.lock().unwrap().push((name, i));
                            yield_now().await;
                        }
                    })
                };
                let (a, b) = (step('a'), step('b'));
                a.await.unwrap();
                b.await.unwrap();
            }
        }))
        .unwrap();
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2 * STEPS);
        for pair in log.chunks(2) {
            assert_ne!(pair[0].0, pair[1].0, "no task ran twice in a row: {log:?}");
            assert_eq!(pair[0].1, pair[1].1, "both advance in lockstep: {log:?}");
        }
    }
}

flavor_tests! {
    /// The first `Backoff::wait` yields when the worker has other runnable work (it wakes its
    /// task at once instead of arming a timer), and sleeps when there is none.
    fn backoff_yields_first_when_others_are_runnable(flavor: Flavor) {
        let rt = flavor.build();
        rt.block_on(rt.spawn(async move {
            // Another task queued on this worker (spawned from here, it is not polled before
            // this poll ends).
            let ran = Arc::new(AtomicBool::new(false));
            let other = weir_runtime::spawn({
                let ran = ran.clone();
                async move { ran.store(true, Ordering::SeqCst) }
            });
            // A base of an hour: had it slept, the test would hang.
            let mut backoff = Backoff::new(Duration::from_secs(3600));
            {
                let mut wait = pin!(backoff.wait());
                let (ready, woke_itself) = poll_fn(|cx| Poll::Ready(poll_and_watch(wait.as_mut(), cx))).await;
                assert!(!ready);
                assert!(woke_itself, "the first wait with runnable work must yield");
                wait.await;
            }
            assert_eq!(backoff.attempt(), 1);
            other.await.unwrap();
            assert!(ran.load(Ordering::SeqCst));

            // Nothing else runnable: the first wait arms a timer rather than yielding.
            let mut idle = Backoff::new(Duration::from_secs(3600));
            let mut wait = pin!(idle.wait());
            let (ready, woke_itself) = poll_fn(|cx| Poll::Ready(poll_and_watch(wait.as_mut(), cx))).await;
            assert!(!ready);
            assert!(!woke_itself, "with nothing else to run the first wait sleeps");
        }))
        .unwrap();
    }

    /// Each wait counts an attempt; the delay doubles per attempt up to `max_shift` doublings
    /// and the cap; `reset` starts over. Checked on the delays computed, not on wall time.
    fn backoff_delays_grow_to_the_cap(flavor: Flavor) {
        let rt = flavor.build();
        rt.block_on(rt.spawn(async {
            let ms = Duration::from_millis;
            assert_eq!(Backoff::default().delay(), ms(10));

            let mut b = Backoff::new(ms(1)).cap(ms(8));
            let mut seen = vec![b.delay()];
            for attempt in 1..=6 {
                b.wait().await;
                assert_eq!(b.attempt(), attempt);
                seen.push(b.delay());
            }
            assert_eq!(seen, [ms(1), ms(2), ms(4), ms(8), ms(8), ms(8), ms(8)]);
            b.reset();
            assert_eq!((b.attempt(), b.delay()), (0, ms(1)));

            let mut b = Backoff::new(ms(1)).max_shift(2);
            let mut seen = vec![b.delay()];
            for _ in 0..4 {
                b.wait().await;
                seen.push(b.delay());
            }
            assert_eq!(seen, [ms(1), ms(2), ms(4), ms(4), ms(4)]);
        }))
        .unwrap();
    }

    /// The block_on future has a budget too, and `Handle::metrics` sees the same counters
    /// from inside a task.
    fn block_on_future_is_budgeted(flavor: Flavor) {
        let rt = flavor.build();
        let polls = rt.block_on(async {
            let mut polls = 0usize;
            let mut fut = pin!(async {
                for _ in 0..3 * BUDGET as usize {
                    consume_budget().await;
                }
            });
            poll_fn(|cx| {
                polls += 1;
                fut.as_mut().poll(cx)
            })
            .await;
            polls
        });
        assert!(polls >= 3, "block_on's future yielded {polls} times");
        let inside = rt.block_on(rt.spawn(async { Handle::current().metrics().num_workers() }));
        assert_eq!(inside.unwrap(), flavor.workers());
    }
}
