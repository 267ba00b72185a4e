//! The runtime context: `Handle::current` inside tasks, `try_current` outside, `enter`, and
//! the panic of `spawn` outside a runtime.

use std::any::Any;
use std::panic::catch_unwind;

use weir_runtime::runtime::{Handle, TryCurrentError};

use crate::flavors::{flavor_tests, Flavor};

fn message(payload: Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("a string panic payload")
}

#[test]
fn spawn_outside_a_runtime_panics_naming_the_problem() {
    let msg = message(catch_unwind(|| weir_runtime::spawn(async {})).unwrap_err());
    assert!(msg.contains("runtime"), "{msg}");
    let msg = message(catch_unwind(|| weir_runtime::task::spawn_blocking(|| ())).unwrap_err());
    assert!(msg.contains("runtime"), "{msg}");
    let msg = message(catch_unwind(Handle::current).unwrap_err());
    assert!(msg.contains("runtime"), "{msg}");
}

#[test]
fn try_current_outside_is_an_error() {
    let err = Handle::try_current().unwrap_err();
    assert_eq!(err, TryCurrentError::NoContext);
    assert!(err.to_string().contains("runtime"), "{err}");
}

flavor_tests! {
    /// Inside tasks, `block_on` and blocking closures `Handle::current` is this runtime;
    /// outside it is an error again.
    fn handle_current_inside_the_runtime(flavor: Flavor) {
        let rt = flavor.build();
        assert!(Handle::try_current().is_err());
        let before = rt.handle().metrics().spawned_tasks_count();
        let workers = rt.block_on(async {
            let h = Handle::current();
            // Spawning through the current handle lands on this runtime.
            let inner = weir_runtime::spawn(async {
                let h = Handle::current();
                h.spawn(async { 1 }).await.unwrap() + 1
            });
            assert_eq!(inner.await.unwrap(), 2);
            let in_blocking = weir_runtime::task::spawn_blocking(|| Handle::current().metrics().num_workers());
            assert_eq!(in_blocking.await.unwrap(), h.metrics().num_workers());
            h.metrics().num_workers()
        });
        assert_eq!(workers, flavor.workers());
        assert_eq!(rt.handle().metrics().spawned_tasks_count(), before + 2);
        assert!(Handle::try_current().is_err());
        let flavor_name = if flavor.is_current_thread() { "current_thread" } else { "multi_thread" };
        assert!(format!("{:?}", rt.handle()).contains(flavor_name));
    }

    /// `enter` makes the runtime current on this thread until the guard drops; nested
    /// guards restore the previous runtime.
    fn enter_sets_and_restores_the_context(flavor: Flavor) {
        let rt = flavor.build();
        let other = Flavor::CurrentThread.build();
        {
            let _guard = rt.enter();
            let h = weir_runtime::spawn(async { 5 });
            assert_eq!(Handle::current().metrics().num_workers(), flavor.workers());
            {
                let _inner = other.enter();
                assert_eq!(Handle::current().metrics().spawned_tasks_count(), 0);
            }
            assert_eq!(Handle::current().metrics().spawned_tasks_count(), 1);
            assert_eq!(rt.block_on(h).unwrap(), 5);
        }
        assert_eq!(Handle::try_current().unwrap_err(), TryCurrentError::NoContext);
    }

    /// `block_on` refuses to run inside a task (it would block a worker), with a message that
    /// says what to do instead.
    fn block_on_inside_a_task_panics(flavor: Flavor) {
        let rt = std::sync::Arc::new(flavor.build());
        let inner = std::sync::Arc::new(Flavor::CurrentThread.build());
        let err = rt
            .block_on(rt.spawn({
                let inner = inner.clone();
                async move { inner.block_on(async { 1 }) }
            }))
            .unwrap_err();
        let msg = message(err.into_panic());
        assert!(msg.contains("block_on"), "{msg}");
    }
}

flavor_tests! {
    /// `block_on` is the way out of async code from a blocking closure: it works there (a
    /// pool thread is no worker), on this runtime's handle as on another runtime.
    fn block_on_inside_spawn_blocking(flavor: Flavor) {
        let rt = std::sync::Arc::new(flavor.build());
        let other = std::sync::Arc::new(Flavor::MultiThread(1).build());
        let out = rt
            .block_on(rt.spawn_blocking({
                let other = other.clone();
                move || other.block_on(async { weir_runtime::spawn(async { 20 }).await.unwrap() + 1 })
            }))
            .unwrap();
        assert_eq!(out, 21);
        // On its own runtime too, while this thread's block_on drives it.
        let out = rt
            .block_on(rt.spawn_blocking({
                let rt = rt.clone();
                move || rt.block_on(async { weir_runtime::spawn(async { 30 }).await.unwrap() + 2 })
            }))
            .unwrap();
        assert_eq!(out, 32);
    }

    /// Several threads call `block_on` at once, each waiting for a task of the runtime, and
    /// leave in an order that does not match how they came: the tasks of the later ones
    /// still run after the first has left.
    fn block_on_from_several_threads(flavor: Flavor) {
        const THREADS: usize = 3;
        let rt = flavor.build();
        let gates: Vec<crate::signals::Gate> = (0..THREADS).map(|_| Default::default()).collect();
        let entered = crate::signals::Latch::new();
        std::thread::scope(|s| {
            let threads: Vec<_> = (0..THREADS)
                .map(|i| {
                    let (rt, gate, entered) = (&rt, gates[i].clone(), entered.clone());
                    // Enter one at a time, so the first thread is the one driving a
                    // current-thread runtime.
                    entered.wait_for_blocking(i);
                    s.spawn(move || {
                        rt.block_on(async move {
                            let h = weir_runtime::spawn(async move {
                                gate.wait().await;
                                i
                            });
                            entered.arrive();
                            h.await.unwrap()
                        })
                    })
                })
                .collect();
            entered.wait_for_blocking(THREADS);
            // The first to enter leaves first; the others' tasks must keep running.
            for (i, (gate, t)) in gates.iter().zip(threads).enumerate() {
                gate.open();
                assert_eq!(t.join().unwrap(), i);
            }
        });
    }
}
