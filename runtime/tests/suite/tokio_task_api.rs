//! The task and runtime names a tokio program reaches for: `block_in_place`, `AbortHandle`,
//! the `JoinSet` extras, the park/unpark hooks and `Handle::id`.

use std::future::pending;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use weir_runtime::runtime::Handle;
use weir_runtime::task::{self, JoinSet, LocalSet};

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::Gate;
use crate::tracker::Tracker;

flavor_tests! {
    /// A task spawned just before its spawner blocks in `block_in_place` runs on another
    /// worker meanwhile: the blocked worker's queued tasks are handed off. (Without the
    /// hand-off the spawned task sits in the blocked worker's LIFO slot, which nobody steals,
    /// and the closure waits forever.)
    fn block_in_place_hands_queued_tasks_off(flavor: Flavor) in [multi_thread_2, multi_thread_4] {
        let rt = flavor.build();
        let out = rt.block_on(async {
            weir_runtime::spawn(async {
                let gate = Gate::new();
                let g = gate.clone();
                let child = weir_runtime::spawn(async move { g.open() });
                task::block_in_place(|| gate.wait_blocking());
                child.await.unwrap();
                7
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 7);
    }

    /// A task woken by the closure inside `block_in_place` runs elsewhere while the closure
    /// still blocks: with the worker's core set aside, the wake goes to the shared queue.
    fn block_in_place_wakes_go_to_other_workers(flavor: Flavor) in [multi_thread_2, multi_thread_4] {
        let rt = flavor.build();
        rt.block_on(async {
            let (ping, pong) = (Gate::new(), Gate::new());
            let (pi, po) = (ping.clone(), pong.clone());
            let waiter = weir_runtime::spawn(async move {
                pi.wait().await;
                po.open();
            });
            weir_runtime::spawn(async move {
                // Let the waiter start waiting first.
                task::yield_now().await;
                task::block_in_place(|| {
                    ping.open();
                    pong.wait_blocking();
                });
            })
            .await
            .unwrap();
            waiter.await.unwrap();
        });
    }

    /// Inside `block_in_place` on a worker the thread may block on a future with
    /// `Handle::block_on`, while other workers run what it spawns.
    fn block_in_place_allows_block_on(flavor: Flavor) in [multi_thread_2, multi_thread_4] {
        let rt = flavor.build();
        let got = rt.block_on(async {
            weir_runtime::spawn(async {
                task::block_in_place(|| {
                    Handle::current().block_on(async { weir_runtime::spawn(async { 5 }).await })
                })
            })
            .await
        });
        assert_eq!(got.unwrap().unwrap(), 5);
    }

    /// An `AbortHandle` cancels the task, outlives the `JoinHandle`, and reports the same id.
    fn abort_handle_cancels(flavor: Flavor) {
        let rt = flavor.build();
        let tracker = Tracker::new();
        rt.block_on(async {
            let task = weir_runtime::spawn(tracker.track(pending::<()>()));
            let abort = task.abort_handle();
            let second = abort.clone();
            assert_eq!(abort.id(), task.id());
            assert!(!second.is_finished());
            drop(task);
            abort.abort();
            while !second.is_finished() {
                task::yield_now().await;
            }
        });
        assert_eq!(tracker.drops(), 1);
    }

    /// `JoinSet`: `join_all`, `try_join_next`, `*_with_id`, `spawn_blocking`, `Extend`,
    /// `FromIterator`, and `detach_all`, which leaves the tasks running.
    fn join_set_extras(flavor: Flavor) {
        let rt = flavor.build();
        rt.block_on(async {
            let mut set: JoinSet<u32> = (0..4u32).map(|i| async move { i }).collect();
            set.extend([async { 10 }]);
            set.spawn_blocking(|| 20);
            let mut all = set.join_all().await;
            all.sort_unstable();
            assert_eq!(all, vec![0, 1, 2, 3, 10, 20]);

            let mut set = JoinSet::new();
            let abort = set.spawn(async { 1u8 });
            let (id, v) = set.join_next_with_id().await.unwrap().unwrap();
            assert_eq!((id, v), (abort.id(), 1));

            let mut set = JoinSet::new();
            assert!(set.try_join_next().is_none());
            set.spawn(async { 2u8 });
            let got = loop {
                match set.try_join_next() {
                    Some(r) => break r.unwrap(),
                    None => task::yield_now().await,
                }
            };
            assert_eq!(got, 2);

            let gate = Gate::new();
            let ran = Arc::new(AtomicUsize::new(0));
            let mut set = JoinSet::new();
            for _ in 0..3 {
                let (gate, ran) = (gate.clone(), ran.clone());
                set.spawn(async move {
                    gate.wait().await;
                    ran.fetch_add(1, Ordering::SeqCst);
                });
            }
            set.detach_all();
            assert!(set.is_empty());
            drop(set);
            gate.open();
            while ran.load(Ordering::SeqCst) < 3 {
                task::yield_now().await;
            }
        });
    }

    /// A task that panics makes `join_all` resume the panic.
    fn join_set_join_all_resumes_a_panic(flavor: Flavor) {
        let rt = flavor.build();
        let caught = rt.block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { panic!("boom in a set") });
            futures_catch(set.join_all()).await
        });
        let payload = caught.expect_err("join_all panicked");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in a set"));
    }

    /// The park and unpark hooks run, paired, and the tokio-named counters agree.
    fn park_hooks_run(flavor: Flavor) {
        let parks = Arc::new(AtomicUsize::new(0));
        let unparks = Arc::new(AtomicUsize::new(0));
        let (p, u) = (parks.clone(), unparks.clone());
        let rt = flavor
            .builder()
            .on_thread_park(move || {
                p.fetch_add(1, Ordering::SeqCst);
            })
            .on_thread_unpark(move || {
                u.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        rt.block_on(async {
            for _ in 0..3 {
                weir_runtime::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        });
        let metrics = rt.metrics();
        drop(rt);
        let (p, u) = (parks.load(Ordering::SeqCst), unparks.load(Ordering::SeqCst));
        assert!(p > 0, "no park hook ran");
        assert!(p == u || p == u + 1, "parks {p} and unparks {u} do not pair");
        let counted: u64 = (0..metrics.num_workers()).map(|w| metrics.worker_park_count(w)).sum();
        let both: u64 = (0..metrics.num_workers())
            .map(|w| metrics.worker_park_unpark_count(w))
            .sum();
        assert!(both >= counted && both <= 2 * counted, "{both} vs {counted}");
        assert_eq!(metrics.budget_forced_yield_count(), metrics.forced_yield_count());
    }

    /// `Handle::id` is the runtime's: equal across handles, different between runtimes.
    fn handle_ids(flavor: Flavor) {
        let a = flavor.build();
        let b = flavor.build();
        assert_eq!(a.handle().id(), a.handle().clone().id());
        assert_ne!(a.handle().id(), b.handle().id());
        assert_eq!(a.block_on(async { Handle::current().id() }), a.handle().id());
    }
}

/// On a current-thread runtime `block_in_place` just runs the closure; a `block_on` in it from
/// a task is refused (it would wait on the only thread) rather than hanging. Outside a
/// runtime the closure runs too.
#[test]
fn block_in_place_on_current_thread() {
    let rt = Flavor::CurrentThread.build();
    let (plain, nested) = rt.block_on(async {
        let plain = weir_runtime::spawn(async { task::block_in_place(|| 4) }).await;
        let nested = weir_runtime::spawn(async {
            task::block_in_place(|| Handle::current().block_on(async { 1 }))
        })
        .await;
        (plain, nested)
    });
    assert_eq!(plain.unwrap(), 4);
    assert!(nested.unwrap_err().is_panic());
    assert_eq!(task::block_in_place(|| 3), 3);
}

/// `JoinSet::spawn_local` and `spawn_local_on` take `!Send` futures.
#[test]
fn join_set_spawn_local() {
    let rt = Flavor::CurrentThread.build();
    let local = LocalSet::new();
    let out = local.block_on(&rt, async {
        let shared = std::rc::Rc::new(3u32);
        let mut set = JoinSet::new();
        let s = shared.clone();
        set.spawn_local(async move { *s });
        let s = shared.clone();
        let on = LocalSet::new();
        set.spawn_local_on(async move { *s + 1 }, &on);
        let first = set.join_next().await.unwrap().unwrap();
        let second = on.run_until(set.join_next()).await.unwrap().unwrap();
        first + second
    });
    assert_eq!(out, 7);
}

/// Catches a panic in `fut`, polling it in place.
async fn futures_catch<F: std::future::Future>(
    fut: F,
) -> Result<F::Output, Box<dyn std::any::Any + Send>> {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(payload) => std::task::Poll::Ready(Err(payload)),
        },
    )
    .await
}
