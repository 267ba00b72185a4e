//! The multi-thread scheduler itself, with its two workers as loom threads: the real run loop
//! (`runtime/src/scheduler/multi_thread/worker.rs`), the LIFO slot and its spill to the local
//! queue in `schedule_local`, `next_task`, stealing by the other worker, the injector,
//! `notify_parked`, the sleeper accounting (`idle.rs`) and parking on the driver or the
//! worker's own parker (`park.rs`), plus the tasks' state word, wakers and join handles.
//!
//! What the models cover and what they cannot:
//! - The local ring (`queue.rs`) and the injector (`inject.rs`) are the runtime's own,
//!   built on the `sync` facade, so loom sees every hand-off of a task between workers.
//! - Time is not modelled: the runtime is built without timers, and the driver parks with no
//!   timeout.
//! - The main thread waits with `loom::future::block_on`, not `Runtime::block_on`: the
//!   latter asks weir-probes' thread-local "current task" whether it is inside a task, and
//!   that thread-local is std's, shared by all loom threads (they run on one OS thread).
//!
//! Each execution checks: every task completes and its join handle is woken (a lost
//! wake-up is a loom deadlock), each future is dropped exactly once, and after the runtime is
//! dropped every task has been freed (loom reports any leaked `Arc`, and each task holds
//! one until it is freed).
//!
//! These models take far more steps per execution than the others (every atomic of the run
//! loop, the local ring, the injector, the idle word, the parkers and the tasks), and the
//! number of executions grows by two to three orders of magnitude per preemption allowed: at
//! bound 1 `remote_wake_reaches_a_worker` takes about 500 000 executions (a minute), the
//! others more. So `remote_wake_reaches_a_worker` runs at bound 1 and the rest at bound 0
//! (every order of the blocking points: parks, unparks, lock hand-offs, thread starts and
//! exits). The lock-free pieces they use are modelled separately at higher bounds:
//! `sched_queue.rs` (local ring and injector), `sched_idle.rs`, `sched_park.rs`, `task_*.rs`.
#![cfg(loom)]

use weir_loom_tests::{model_with, DropCount, Signal};
use weir_runtime::runtime::Builder;
use weir_runtime::Runtime;

fn two_workers() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a two-worker runtime builds")
}

/// A task spawns two children from its worker: the first goes to the LIFO slot, the second
/// takes the slot and spills the first to the local queue (which wakes a sleeper that may
/// steal it). The children's completions wake the parent through its join wakers, from
/// whichever worker ran them.
#[test]
fn lifo_spill_steal_and_join() {
    model_with(Some(0), || {
        let rt = two_workers();
        let drops = DropCount::new();
        let (ta, tb) = (drops.tag(), drops.tag());
        let parent = rt.spawn(async move {
            let a = weir_runtime::spawn(async move {
                drop(ta);
                1
            });
            let b = weir_runtime::spawn(async move {
                drop(tb);
                2
            });
            a.await.expect("child a completes") + b.await.expect("child b completes")
        });
        assert_eq!(loom::future::block_on(parent).expect("parent completes"), 3);
        assert_eq!(drops.get(), 2);
        drop(rt);
    });
}

/// A task waits on a signal that the main thread, outside the runtime, sets while the task
/// is queued, being polled or waiting: the wake goes through the injector and must reach a
/// worker, busy, parked or about to park.
#[test]
fn remote_wake_reaches_a_worker() {
    model_with(Some(1), || {
        let rt = two_workers();
        let gate = Signal::new();
        let drops = DropCount::new();
        let (g, tag) = (gate.clone(), drops.tag());
        let task = rt.spawn(async move {
            let _tag = tag;
            g.wait().await;
            5
        });
        gate.set();
        assert_eq!(loom::future::block_on(task).expect("the task completes"), 5);
        drop(rt);
        assert_eq!(drops.get(), 1);
    });
}

/// One task wakes another from a worker: the woken task goes to the waking worker's LIFO
/// slot (or, if it is being polled elsewhere, is re-submitted by its poller).
#[test]
fn wake_from_worker_uses_lifo_slot() {
    model_with(Some(0), || {
        let rt = two_workers();
        let gate = Signal::new();
        let g = gate.clone();
        let waiter = rt.spawn(async move {
            g.wait().await;
            7
        });
        let setter = rt.spawn(async move { gate.set() });
        assert_eq!(
            loom::future::block_on(waiter).expect("the waiter completes"),
            7
        );
        loom::future::block_on(setter).expect("the setter completes");
        drop(rt);
    });
}

/// Shutdown while a task sits in a worker's queue, never to be woken: the workers stop, the
/// queued reference and the owned list's reference are both dropped, the future is dropped
/// exactly once and the task is freed.
#[test]
fn shutdown_drops_queued_and_idle_tasks_once() {
    model_with(Some(0), || {
        let rt = two_workers();
        let never = Signal::new();
        let drops = DropCount::new();
        let (n, tag) = (never.clone(), drops.tag());
        let parent = rt.spawn(async move {
            // Queued on this worker (LIFO slot) when the parent returns.
            drop(weir_runtime::spawn(async move {
                let _tag = tag;
                n.wait().await;
            }));
        });
        loom::future::block_on(parent).expect("the parent completes");
        drop(rt);
        assert_eq!(drops.get(), 1);
    });
}
