//! Regressions a tokio port found (issue 12): each test failed before its fix.

use std::future::{pending, poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use weir_runtime::runtime::{Builder, Handle};
use weir_runtime::task::{self, Id};
use weir_runtime::time::{self, Instant};

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::Gate;

/// A future that completes at once with `output`, and whose own Drop runs `on_drop`.
struct ReadyThenDrop<T, D: FnMut()> {
    output: Option<T>,
    on_drop: D,
}

impl<T: Unpin, D: FnMut() + Unpin> Future for ReadyThenDrop<T, D> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        Poll::Ready(self.output.take().expect("polled after completion"))
    }
}

impl<T, D: FnMut()> Drop for ReadyThenDrop<T, D> {
    fn drop(&mut self) {
        (self.on_drop)()
    }
}

/// Runs `record` when dropped.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

type Seen<T> = Arc<Mutex<Vec<T>>>;

fn seen<T>() -> Seen<T> {
    Arc::new(Mutex::new(Vec::new()))
}

flavor_tests! {
    /// Bug 1: a panic in the Drop of a future that completed is the task's panic; the handle
    /// resolves (it hung on multi-thread, and the panic escaped `block_on` on current-thread).
    fn panic_in_a_completed_futures_drop_is_a_join_error(flavor: Flavor) {
        let rt = flavor.build();
        let h = rt.spawn(ReadyThenDrop {
            output: Some(5u32),
            on_drop: || panic!("future destructor"),
        });
        let err = rt.block_on(h).expect_err("the destructor panicked");
        assert!(err.is_panic(), "{err:?}");
        assert!(err.to_string().contains("future destructor"), "{err}");
        // The runtime is unharmed.
        assert_eq!(rt.block_on(rt.spawn(async { 6 })).unwrap(), 6);
    }

    /// Bug 9: `task::current_id()` names the task inside its future's and its output's
    /// destructors, wherever they run (completion, abort, a join handle dropped late).
    fn current_id_is_the_task_inside_its_destructors(flavor: Flavor) {
        let rt = flavor.build();
        let record = |seen: &Seen<Option<Id>>| {
            let seen = seen.clone();
            move || seen.lock().unwrap().push(task::current_id())
        };

        // The future, dropped when it completes.
        let future_drops = seen();
        let h = rt.spawn(ReadyThenDrop {
            output: Some(()),
            on_drop: record(&future_drops),
        });
        let id = h.id();
        rt.block_on(h).unwrap();
        assert_eq!(*future_drops.lock().unwrap(), [Some(id)]);

        // The future, dropped when the task is aborted.
        let abort_drops = seen();
        let started = Gate::new();
        let h = rt.spawn({
            let (guard, started) = (OnDrop(record(&abort_drops)), started.clone());
            async move {
                let _guard = guard;
                started.open();
                pending::<()>().await
            }
        });
        let id = h.id();
        rt.block_on(started.wait());
        h.abort();
        assert!(rt.block_on(h).unwrap_err().is_cancelled());
        assert_eq!(*abort_drops.lock().unwrap(), [Some(id)]);

        // The output, dropped with a join handle that never read it.
        let output_drops = seen();
        let h = rt.spawn({
            let guard = OnDrop(record(&output_drops));
            async move { guard }
        });
        let id = h.id();
        rt.block_on(async {
            while !h.is_finished() {
                task::yield_now().await;
            }
        });
        drop(h);
        assert_eq!(*output_drops.lock().unwrap(), [Some(id)]);
        assert_eq!(task::current_id(), None, "restored after the drop");
    }

    /// Bug 9: a task that panics has its future dropped during the unwind, so destructors
    /// see `thread::panicking()` as they would in a plain call stack.
    fn a_panicking_tasks_future_is_dropped_while_panicking(flavor: Flavor) {
        let rt = flavor.build();
        let panicking = seen();
        // A hand-written future: an async block drops its own locals as the panic leaves
        // it, but the fields of a future type are the runtime's to drop.
        struct PanicInPoll<F: FnMut()>(OnDrop<F>);
        impl<F: FnMut()> Future for PanicInPoll<F> {
            type Output = ();
            fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
                panic!("task body")
            }
        }
        let h = rt.spawn({
            let panicking = panicking.clone();
            PanicInPoll(OnDrop(move || {
                panicking.lock().unwrap().push(std::thread::panicking())
            }))
        });
        assert!(rt.block_on(h).unwrap_err().is_panic());
        assert_eq!(*panicking.lock().unwrap(), [true]);
    }

    /// Bug 5: shutdown drops the unfinished tasks inside the runtime's context, so their
    /// destructors can read `Handle::current` and spawn (the new task is cancelled at once).
    fn shutdown_drops_tasks_inside_the_runtime_context(flavor: Flavor) {
        let rt = flavor.build();
        let seen_in_drop = seen();
        let started = Gate::new();
        let _task = rt.spawn({
            let seen_in_drop = seen_in_drop.clone();
            let started = started.clone();
            let guard = OnDrop(move || {
                let has_context = Handle::try_current().is_ok();
                let spawned = has_context
                    .then(|| weir_runtime::spawn(async { 1 }).id())
                    .is_some();
                seen_in_drop.lock().unwrap().push((has_context, spawned));
            });
            async move {
                let _guard = guard;
                started.open();
                pending::<()>().await
            }
        });
        rt.block_on(started.wait());
        drop(rt);
        assert_eq!(*seen_in_drop.lock().unwrap(), [(true, true)]);
        assert!(Handle::try_current().is_err(), "the context is left after shutdown");
    }
}

/// Bug 3: an interval of `Duration::MAX` ticks once at once, then never (it panicked with an
/// overflow on its first tick).
#[test]
fn an_interval_of_duration_max_ticks_once() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut iv = time::interval(Duration::MAX);
        iv.tick().await;
        assert!(time::timeout(Duration::from_millis(5), iv.tick())
            .await
            .is_err());
        // And for the other missed-tick behaviours, which compute their next tick apart.
        for behavior in [
            time::MissedTickBehavior::Delay,
            time::MissedTickBehavior::Skip,
        ] {
            let start = Instant::now() - Duration::from_millis(50);
            let mut iv = time::interval_at(start, Duration::MAX);
            iv.set_missed_tick_behavior(behavior);
            iv.tick().await;
            assert!(time::timeout(Duration::from_millis(5), iv.tick())
                .await
                .is_err());
        }
    });
}

/// Bug 4: dropping runtime context guards out of order panics, naming the mistake (the
/// context used to survive both drops, pointing at whichever runtime was entered first).
#[test]
fn enter_guards_dropped_out_of_order_panic() {
    let a = Builder::new_current_thread().build().unwrap();
    let b = Builder::new_current_thread().build().unwrap();
    let outer = a.enter();
    let inner = b.enter();
    let err = catch_unwind(AssertUnwindSafe(|| drop(outer))).expect_err("out of order");
    let msg = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(msg.contains("out of order"), "{msg}");
    drop(inner);
    // In order, they nest and unwind as expected.
    {
        let _a = a.enter();
        {
            let _b = b.enter();
        }
        assert!(Handle::try_current().is_ok());
    }
}

/// Bug 7: a current-thread runtime that never parks still reports its busy time.
#[test]
fn busy_time_of_a_current_thread_runtime_that_never_parks() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let spin = Duration::from_millis(5);
    rt.block_on(async {
        let start = std::time::Instant::now();
        while start.elapsed() < spin {
            std::hint::spin_loop();
        }
    });
    let m = rt.metrics();
    assert_eq!(m.worker_park_count(0), 0, "the runtime never parked");
    assert!(m.worker_total_busy_duration(0) >= spin);
}

/// Bug 8: a task that yields while it waits for a connection lets the reactor see it at the
/// first yield (it needed 61 yields: one maintenance interval).
#[test]
fn yield_now_gives_the_reactor_a_turn() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let listener = weir_runtime::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let accept = weir_runtime::spawn(async move { listener.accept().await.map(|_| ()) });
        // The accept registers its interest and waits.
        task::yield_now().await;
        assert!(!accept.is_finished());
        // Connected: the kernel has it queued once `connect` returns.
        let _client = std::net::TcpStream::connect(addr).unwrap();
        let mut yields = 0;
        while !accept.is_finished() {
            task::yield_now().await;
            yields += 1;
            assert!(yields < 1000, "the accept never completed");
        }
        assert!(yields <= 2, "{yields} yields before the reactor ran");
        accept.await.unwrap().unwrap();
    });
}

/// Bug 9: `Sleep::reset` to a deadline that has passed completes on the next poll.
#[test]
fn sleep_reset_to_the_past_completes_on_the_next_poll() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut sleep = pin!(time::sleep(Duration::from_secs(3600)));
        poll_fn(|cx| {
            assert!(sleep.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        for deadline in [Instant::now(), Instant::now() - Duration::from_millis(20)] {
            sleep.as_mut().reset(deadline);
            poll_fn(|cx| {
                assert!(sleep.as_mut().poll(cx).is_ready(), "reset to {deadline:?}");
                Poll::Ready(())
            })
            .await;
            assert!(sleep.is_elapsed());
        }
        // And back to the future: pending again.
        sleep
            .as_mut()
            .reset(Instant::now() + Duration::from_secs(3600));
        poll_fn(|cx| {
            assert!(sleep.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
    });
}
