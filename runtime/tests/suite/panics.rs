//! Panics inside tasks: caught, returned as a `JoinError` carrying the payload, and the
//! workers keep running.

use std::future::pending;
use std::panic::panic_any;

use weir_runtime::task;

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::{Gate, Latch};
use crate::tracker::Tracker;
use crate::worker_hold::hold_all_workers;

flavor_tests! {
    /// The error says it is a panic, names the task, and hands back the payload.
    fn panic_is_returned_with_its_payload(flavor: Flavor) {
        let rt = flavor.build();
        rt.block_on(async {
            let h = weir_runtime::spawn(async {
                task::yield_now().await;
                panic!("boom {}", 7);
            });
            let id = h.id();
            let err = h.await.expect_err("a panicking task has no output");
            assert!(err.is_panic());
            assert!(!err.is_cancelled());
            assert_eq!(err.id(), id);
            assert!(err.to_string().contains("boom 7"), "{err}");
            assert!(format!("{err:?}").contains("boom 7"), "{err:?}");
            let payload = err.into_panic();
            // A formatted message is a String payload (a constant one may be a &str).
            let text = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied());
            assert_eq!(text, Some("boom 7"));

            let h = weir_runtime::spawn(async { panic_any(42u32) });
            let payload = h.await.unwrap_err().try_into_panic().expect("a panic payload");
            assert_eq!(payload.downcast_ref::<u32>(), Some(&42));
        });
    }

    /// A panic in the future's destructor while it is being cancelled is reported as the
    /// task's panic.
    fn panic_in_drop_during_abort_is_reported(flavor: Flavor) {
        struct PanicOnDrop;
        impl Drop for PanicOnDrop {
            fn drop(&mut self) {
                panic!("drop panicked");
            }
        }
        let rt = flavor.build();
        let started = Gate::new();
        let h = rt.spawn({
            let started = started.clone();
            async move {
                let _guard = PanicOnDrop;
                started.open();
                pending::<()>().await
            }
        });
        rt.block_on(started.wait());
        h.abort();
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_panic(), "{err:?}");
        assert_eq!(
            err.into_panic().downcast_ref::<&str>().copied(),
            Some("drop panicked")
        );
        // The runtime is unharmed.
        assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
    }

    /// Every worker takes a panic, and every worker still runs tasks afterwards: more
    /// panicking tasks than workers, then all workers held at once (which needs each of them
    /// alive), then ordinary work on the same workers.
    fn workers_survive_panics(flavor: Flavor) {
        let rt = flavor.build();
        // One panic on each worker for certain: every panicking task first holds a worker
        // (all of them started at once means one per worker), then they all panic.
        let n = flavor.workers();
        let (started, release) = (Latch::new(), Gate::new());
        if flavor.is_current_thread() {
            // The only worker is the block_on thread: nothing to hold it against.
            release.open();
        }
        let on_each: Vec<_> = (0..n)
            .map(|i| {
                let (started, release) = (started.clone(), release.clone());
                rt.spawn(async move {
                    started.arrive();
                    release.wait_blocking();
                    panic!("worker panic {i}");
                })
            })
            .collect();
        rt.block_on(started.wait_for(n));
        release.open();
        // And more panics than workers, spread however the scheduler likes.
        let many: Vec<_> = (0..4 * flavor.workers() + 3)
            .map(|i| rt.spawn(async move { panic!("task panic {i}") }))
            .collect();
        for h in on_each.into_iter().chain(many) {
            assert!(rt.block_on(h).unwrap_err().is_panic());
        }
        // Every worker is alive: all of them can be held at once.
        let held = hold_all_workers(&rt, flavor);
        for b in held.release() {
            rt.block_on(b).unwrap();
        }
        let tracker = Tracker::new();
        let sum = rt.block_on(async {
            let hs: Vec<_> = (0..100u32)
                .map(|i| weir_runtime::spawn(tracker.track(async move { i })))
                .collect();
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..100).sum::<u32>());
    }
}

flavor_tests! {
    /// A panic in the destructor of an output is contained, whether the output is dropped by
    /// the task (nobody joins) or by a join handle dropped after completion.
    fn panicking_output_destructors_are_contained(flavor: Flavor) {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("output destructor");
            }
        }
        let rt = flavor.build();
        let done = Latch::new();
        // Detached: the task drops its own output.
        for _ in 0..5 {
            let done = done.clone();
            drop(rt.spawn(async move {
                done.arrive();
                Bomb
            }));
        }
        // Completed, then the handle is dropped unjoined.
        let kept: Vec<_> = (0..5).map(|_| rt.spawn(async { Bomb })).collect();
        rt.block_on(async {
            done.wait_for(5).await;
            for h in &kept {
                while !h.is_finished() {
                    task::yield_now().await;
                }
            }
        });
        drop(kept);
        // Still fully working.
        assert_eq!(rt.block_on(rt.spawn(async { 11 })).unwrap(), 11);
        let held = hold_all_workers(&rt, flavor);
        for b in held.release() {
            rt.block_on(b).unwrap();
        }
    }
}
