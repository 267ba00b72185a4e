//! `spawn_blocking`: returns the closure's value, reports its panic, never runs on a worker,
//! respects `max_blocking_threads`, and can be aborted while queued.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};

use weir_runtime::task;

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::{wait_until, Gate, Latch};

flavor_tests! {
    /// Every entry point returns the closure's value; a panic comes back as a JoinError with
    /// the payload; the closure runs inside the runtime's context.
    fn spawn_blocking_returns_value_and_panics(flavor: Flavor) {
        let rt = flavor.build();
        assert_eq!(rt.block_on(rt.spawn_blocking(|| 40 + 2)).unwrap(), 42);
        assert_eq!(rt.block_on(rt.handle().spawn_blocking(|| "handle")).unwrap(), "handle");
        rt.block_on(async {
            let v = task::spawn_blocking(|| vec![1, 2, 3]).await.unwrap();
            assert_eq!(v, [1, 2, 3]);
            let in_context = task::spawn_blocking(|| weir_runtime::Handle::try_current().is_ok());
            assert!(in_context.await.unwrap());

            let err = task::spawn_blocking(|| -> u8 { panic!("blocking boom") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            assert_eq!(err.into_panic().downcast_ref::<&str>().copied(), Some("blocking boom"));
            // The pool survives its closures' panics.
            assert_eq!(task::spawn_blocking(|| 7).await.unwrap(), 7);
        });
    }

    /// Closures run on pool threads, never on a worker: the closure's thread is none of the
    /// workers (known from `on_thread_start` before any closure was spawned), and a closure
    /// that waits for an async task to run does not stall the runtime.
    fn spawn_blocking_runs_off_the_workers(flavor: Flavor) {
        let threads: Arc<Mutex<HashSet<ThreadId>>> = Arc::default();
        let mut b = flavor.builder();
        let t = threads.clone();
        b.on_thread_start(move || {
            t.lock().unwrap().insert(thread::current().id());
        });
        let rt = b.build().unwrap();
        let workers: HashSet<ThreadId> = if flavor.is_current_thread() {
            [thread::current().id()].into()
        } else {
            wait_until("every worker to start", || {
                threads.lock().unwrap().len() == flavor.workers()
            });
            threads.lock().unwrap().clone()
        };
        let gate = Gate::new();
        let blocking = rt.spawn_blocking({
            let gate = gate.clone();
            move || {
                // Wait for an async task to run meanwhile.
                gate.wait_blocking();
                thread::current().id()
            }
        });
        let opener = rt.spawn(async move { gate.open() });
        rt.block_on(opener).unwrap();
        let ran_on = rt.block_on(blocking).unwrap();
        assert!(!workers.contains(&ran_on), "a blocking closure ran on a worker");
    }

    /// With `max_blocking_threads(2)`, four closures never run more than two at once: while
    /// the first two hold both threads, the pool has started no third thread and the other
    /// two closures wait in its queue.
    fn spawn_blocking_respects_max_blocking_threads(flavor: Flavor) {
        let mut b = flavor.builder();
        b.max_blocking_threads(2);
        let rt = b.build().unwrap();
        let m = rt.handle().metrics();
        let active = Arc::new(AtomicUsize::new(0));
        let high_water = Arc::new(AtomicUsize::new(0));
        let (started, release) = (Latch::new(), Gate::new());
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (active, high_water) = (active.clone(), high_water.clone());
                let (started, release) = (started.clone(), release.clone());
                rt.spawn_blocking(move || {
                    let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                    high_water.fetch_max(now, Ordering::SeqCst);
                    if i < 2 {
                        started.arrive();
                        release.wait_blocking();
                    }
                    active.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        // Both threads are taken by the first two closures (FIFO).
        started.wait_for_blocking(2);
        assert_eq!(m.num_blocking_threads(), 2, "the pool started more threads than allowed");
        assert_eq!(m.blocking_queue_depth(), 2, "the other closures wait in the queue");
        release.open();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(rt.block_on(h).unwrap(), i);
        }
        assert_eq!(high_water.load(Ordering::SeqCst), 2);
        assert!(m.num_blocking_threads() <= 2);
    }

    /// A queued closure that is aborted never runs and reports cancelled; a running one
    /// finishes with its value despite the abort.
    fn spawn_blocking_abort(flavor: Flavor) {
        let mut b = flavor.builder();
        b.max_blocking_threads(1);
        let rt = b.build().unwrap();
        let (started, release) = (Latch::new(), Gate::new());
        let running = rt.spawn_blocking({
            let (started, release) = (started.clone(), release.clone());
            move || {
                started.arrive();
                release.wait_blocking();
                "ran"
            }
        });
        started.wait_for_blocking(1);
        let ran = Arc::new(AtomicBool::new(false));
        let queued = rt.spawn_blocking({
            let ran = ran.clone();
            move || ran.store(true, Ordering::SeqCst)
        });
        queued.abort();
        running.abort();
        release.open();
        assert_eq!(rt.block_on(running).unwrap(), "ran");
        assert!(rt.block_on(queued).unwrap_err().is_cancelled());
        assert!(!ran.load(Ordering::SeqCst));
    }
}
