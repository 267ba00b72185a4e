//! Aborting tasks: before the first poll, during a poll (from another thread and by the task
//! itself), while idle, and after completion; `JoinError::is_cancelled`; `is_finished`.

use std::future::pending;
use std::sync::{Arc, OnceLock};

use weir_runtime::task::{self, JoinHandle};

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::{Gate, Latch};
use crate::tracker::Tracker;
use crate::worker_hold::hold_all_workers;

flavor_tests! {
    /// Aborted before any worker could poll it: the future is dropped unpolled, exactly once,
    /// and the handle reports a cancelled error that names the task.
    fn abort_before_first_poll(flavor: Flavor) {
        let rt = flavor.build();
        let tracker = Tracker::new();
        let held = hold_all_workers(&rt, flavor);
        let h = rt.spawn(tracker.track(async { 1 }));
        let id = h.id();
        assert!(!h.is_finished());
        h.abort();
        for blocker in held.release() {
            rt.block_on(blocker).unwrap();
        }
        let err = rt.block_on(h).expect_err("an aborted task has no output");
        assert!(err.is_cancelled());
        assert!(!err.is_panic());
        assert_eq!(err.id(), id);
        assert!(err.to_string().contains("cancelled"), "{err}");
        assert!(err.try_into_panic().is_err(), "a cancelled task has no panic payload");
        assert_eq!(tracker.polls(), 0);
        assert_eq!(tracker.drops(), 1);
    }

    /// Aborted from another thread while its poll is in progress: the poll finishes, then the
    /// future is dropped (once) and the handle reports cancelled.
    fn abort_during_poll_from_another_thread(flavor: Flavor) {
        let rt = flavor.build();
        let tracker = Tracker::new();
        let (running, proceed) = (Latch::new(), Gate::new());
        let h = rt.spawn(tracker.track({
            let (running, proceed) = (running.clone(), proceed.clone());
            async move {
                running.arrive();
                // Hold this poll open until the abort has been requested.
                proceed.wait_blocking();
                pending::<()>().await
            }
        }));
        std::thread::scope(|s| {
            s.spawn(|| {
                running.wait_for_blocking(1);
                h.abort();
                assert!(!h.is_finished(), "the poll in progress is not interrupted");
                proceed.open();
            });
            // On the current-thread runtime this is what runs the task.
            rt.block_on(tracker.dropped());
        });
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert_eq!(tracker.polls(), 1);
        assert_eq!(tracker.drops(), 1);
    }

    /// A task aborts itself and then waits: it is cancelled after the poll in which it asked.
    fn task_aborts_itself(flavor: Flavor) {
        let rt = flavor.build();
        let tracker = Tracker::new();
        let own_handle: Arc<OnceLock<JoinHandle<()>>> = Arc::new(OnceLock::new());
        let h = rt.spawn(tracker.track({
            let own_handle = own_handle.clone();
            async move {
                let me = loop {
                    match own_handle.get() {
                        Some(h) => break h,
                        None => task::yield_now().await,
                    }
                };
                assert_eq!(task::current_id(), Some(me.id()));
                me.abort();
                pending::<()>().await
            }
        }));
        assert!(own_handle.set(h).is_ok());
        rt.block_on(tracker.dropped());
        // The future (and its clone of the cell) is gone: the handle is ours alone again.
        let h = Arc::into_inner(own_handle).unwrap().into_inner().unwrap();
        assert!(rt.block_on(h).unwrap_err().is_cancelled());
        assert_eq!(tracker.drops(), 1);
    }

    /// A task that aborts itself but completes in the same poll keeps its output: the abort
    /// only takes effect at the next point where the task would wait.
    fn abort_in_the_completing_poll_keeps_the_output(flavor: Flavor) {
        let rt = flavor.build();
        let own_handle: Arc<OnceLock<JoinHandle<u32>>> = Arc::new(OnceLock::new());
        let h = rt.spawn({
            let own_handle = own_handle.clone();
            async move {
                loop {
                    match own_handle.get() {
                        Some(h) => break h.abort(),
                        None => task::yield_now().await,
                    }
                }
                7
            }
        });
        assert!(own_handle.set(h).is_ok());
        let cell = own_handle.clone();
        rt.block_on(async move {
            let h = cell.get().unwrap();
            while !h.is_finished() {
                task::yield_now().await;
            }
        });
        let h = Arc::into_inner(own_handle).unwrap().into_inner().unwrap();
        assert_eq!(rt.block_on(h).unwrap(), 7);
    }

    /// An idle task (polled, waiting) is woken by the abort, dropped once, reported cancelled.
    fn abort_idle_task(flavor: Flavor) {
        let rt = flavor.build();
        let trackers: Vec<Tracker> = (0..20).map(|_| Tracker::new()).collect();
        let started = Latch::new();
        let never = Gate::new();
        let handles: Vec<_> = trackers
            .iter()
            .map(|t| {
                let (started, never) = (started.clone(), never.clone());
                rt.spawn(t.track(async move {
                    started.arrive();
                    never.wait().await;
                }))
            })
            .collect();
        rt.block_on(started.wait_for(20));
        for h in &handles {
            assert!(!h.is_finished());
            h.abort();
            h.abort(); // idempotent
        }
        for h in handles {
            assert!(rt.block_on(h).unwrap_err().is_cancelled());
        }
        for t in &trackers {
            assert_eq!(t.polls(), 1);
            assert_eq!(t.drops(), 1);
        }
    }

    /// Aborting a finished task changes nothing: the handle still yields the output.
    fn abort_after_completion_returns_output(flavor: Flavor) {
        let rt = flavor.build();
        let tracker = Tracker::new();
        let h = rt.spawn(tracker.track(async { String::from("done") }));
        rt.block_on(async {
            while !h.is_finished() {
                task::yield_now().await;
            }
        });
        h.abort();
        assert!(h.is_finished());
        assert_eq!(rt.block_on(h).unwrap(), "done");
        assert_eq!(tracker.polls(), 1);
        assert_eq!(tracker.drops(), 1);
    }

    /// `is_finished` is false while the task waits and turns true once it completes, without
    /// anyone joining it.
    fn is_finished_tracks_completion(flavor: Flavor) {
        let rt = flavor.build();
        let go = Gate::new();
        let h = rt.spawn({
            let go = go.clone();
            async move { go.wait().await }
        });
        rt.block_on(async {
            for _ in 0..10 {
                task::yield_now().await;
            }
        });
        assert!(!h.is_finished());
        go.open();
        rt.block_on(async {
            while !h.is_finished() {
                task::yield_now().await;
            }
        });
        rt.block_on(h).unwrap();
    }

    /// Many tasks aborted at arbitrary points of their lives, from inside and outside the
    /// runtime: each ends exactly once, with its output or cancelled, and its future is
    /// dropped exactly once.
    fn abort_races(flavor: Flavor) {
        const TASKS: usize = 400;
        let rt = flavor.build();
        let trackers: Vec<Tracker> = (0..TASKS).map(|_| Tracker::new()).collect();
        let handles: Vec<JoinHandle<usize>> = trackers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                rt.spawn(t.track(async move {
                    for _ in 0..i % 7 {
                        task::yield_now().await;
                    }
                    i
                }))
            })
            .collect();
        let handles = Arc::new(handles);
        std::thread::scope(|s| {
            let outside = handles.clone();
            s.spawn(move || {
                for h in outside.iter().step_by(2) {
                    h.abort();
                }
            });
            let inside = handles.clone();
            rt.block_on(async move {
                for h in inside.iter().skip(1).step_by(2) {
                    h.abort();
                    task::yield_now().await;
                }
            });
        });
        let handles = Arc::into_inner(handles).unwrap();
        let (mut done, mut cancelled) = (0, 0);
        for (i, h) in handles.into_iter().enumerate() {
            match rt.block_on(h) {
                Ok(v) => {
                    assert_eq!(v, i);
                    done += 1;
                }
                Err(e) => {
                    assert!(e.is_cancelled(), "{e:?}");
                    cancelled += 1;
                }
            }
        }
        assert_eq!(done + cancelled, TASKS);
        for t in &trackers {
            assert_eq!(t.drops(), 1);
        }
    }
}

flavor_tests! {
    /// Aborted by another task while its poll runs on another worker: the abort lands
    /// mid-poll, and the task is cancelled when that poll ends.
    fn abort_during_poll_from_another_task(flavor: Flavor) in [multi_thread_2, multi_thread_4] {
        let rt = flavor.build();
        let tracker = Tracker::new();
        let (running, proceed) = (Latch::new(), Gate::new());
        let target = Arc::new(rt.spawn(tracker.track({
            let (running, proceed) = (running.clone(), proceed.clone());
            async move {
                running.arrive();
                // Holds this worker until the aborter has aborted us.
                proceed.wait_blocking();
                pending::<()>().await
            }
        })));
        let aborter = rt.spawn({
            let target = target.clone();
            async move {
                running.wait_for(1).await;
                target.abort();
                let mid_poll = !target.is_finished();
                proceed.open();
                mid_poll
            }
        });
        assert!(rt.block_on(aborter).unwrap(), "the abort landed while the target ran");
        let target = Arc::into_inner(target).expect("the aborter is done with the handle");
        assert!(rt.block_on(target).unwrap_err().is_cancelled());
        assert_eq!((tracker.polls(), tracker.drops()), (1, 1));
    }
}
