//! Spawning and joining: outputs come back, from every spawn entry point; a million tiny tasks
//! run to completion.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use weir_runtime::task::{self, JoinHandle};

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::Latch;

flavor_tests! {
    /// Every entry point returns the task's output: `weir_runtime::spawn` in a task,
    /// `Runtime::spawn` and `Handle::spawn` from outside, awaited in and out of `block_on`.
    fn spawn_returns_outputs(flavor: Flavor) {
        let rt = flavor.build();
        let sum = rt.block_on(async {
            let handles: Vec<JoinHandle<u64>> =
                (0..200u64).map(|i| weir_runtime::spawn(async move { i * 3 })).collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.expect("task output");
            }
            sum
        });
        assert_eq!(sum, 3 * (0..200u64).sum::<u64>());

        let from_runtime = rt.spawn(async { "runtime" });
        let from_handle = rt.handle().spawn(async { String::from("handle") });
        assert_eq!(rt.block_on(from_runtime).unwrap(), "runtime");
        assert_eq!(rt.block_on(from_handle).unwrap(), "handle");
    }

    /// Tasks spawn tasks, several levels deep, and every output reaches the root.
    fn nested_spawns_join(flavor: Flavor) {
        fn tree(depth: u32) -> JoinHandle<u64> {
            weir_runtime::spawn(async move {
                if depth == 0 {
                    return 1;
                }
                let (a, b) = (tree(depth - 1), tree(depth - 1));
                a.await.unwrap() + b.await.unwrap()
            })
        }
        let rt = flavor.build();
        assert_eq!(rt.block_on(async { tree(10).await.unwrap() }), 1024);
    }

    /// A task's output is dropped exactly once whether or not anyone joins it.
    fn outputs_are_dropped_once_joined_or_not(flavor: Flavor) {
        struct Output(Arc<AtomicUsize>);
        impl Drop for Output {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let done = Latch::new();
        let rt = flavor.build();
        rt.block_on(async {
            // Joined: the output moves to the joiner, which drops it.
            let joined: Vec<_> = (0..50)
                .map(|_| {
                    let d = drops.clone();
                    weir_runtime::spawn(async move { Output(d) })
                })
                .collect();
            for h in joined {
                drop(h.await.unwrap());
            }
            // Detached before completion: the task drops its own output.
            for _ in 0..50 {
                let (d, done) = (drops.clone(), done.clone());
                drop(weir_runtime::spawn(async move {
                    let out = Output(d);
                    done.arrive();
                    out
                }));
            }
            done.wait_for(50).await;
        });
        // Completed but never joined: the handle drops the output.
        let kept: Vec<_> = (0..50).map(|_| rt.spawn(std::future::ready(Output(drops.clone())))).collect();
        let finished = Latch::new();
        rt.block_on(async {
            for h in &kept {
                while !h.is_finished() {
                    task::yield_now().await;
                }
                finished.arrive();
            }
        });
        assert_eq!(finished.count(), 50);
        drop(kept);
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 150);
    }

    /// `task::current_id` is the id of the polled task: the same as its `JoinHandle::id`,
    /// stable across polls, unique, and `None` outside tasks (including in `block_on`).
    fn current_id_is_the_join_handle_id(flavor: Flavor) {
        assert_eq!(task::current_id(), None);
        let rt = flavor.build();
        rt.block_on(async {
            assert_eq!(task::current_id(), None, "block_on's future is not a task");
            let handles: Vec<_> = (0..100)
                .map(|_| {
                    weir_runtime::spawn(async {
                        let first = task::current_id();
                        task::yield_now().await;
                        (first, task::current_id())
                    })
                })
                .collect();
            let mut seen = std::collections::HashSet::new();
            for h in handles {
                let id = h.id();
                assert!(seen.insert(id), "ids are unique");
                assert_ne!(id.as_u64(), 0);
                let (first, second) = h.await.unwrap();
                assert_eq!(first, Some(id));
                assert_eq!(second, Some(id));
            }
            let blocking = task::spawn_blocking(task::current_id);
            let id = blocking.id();
            assert_eq!(blocking.await.unwrap(), Some(id));
            assert_eq!(task::current_id(), None);
        });
        assert_eq!(task::current_id(), None);
    }

    /// A JoinHandle's Debug names the id; JoinHandle is Send + Sync for Send outputs.
    fn join_handle_debug_and_auto_traits(flavor: Flavor) {
        fn send_sync<T: Send + Sync>(_: &T) {}
        let rt = flavor.build();
        let h = rt.spawn(async { 1 });
        send_sync(&h);
        let text = format!("{h:?}");
        assert!(text.contains(&format!("{:?}", h.id())), "{text}");
        assert_eq!(rt.block_on(h).unwrap(), 1);
    }
}

flavor_tests! {
    /// One million tiny tasks, spawned from inside the runtime and joined. JoinHandles are kept
    /// in batches so that memory stays bounded; a counter checks that every task ran once.
    fn one_million_tasks(flavor: Flavor) in [current_thread, multi_thread_2, multi_thread_4] {
        const TASKS: usize = 1_000_000;
        const BATCH: usize = 50_000;
        let ran = Arc::new(AtomicUsize::new(0));
        let rt = flavor.build();
        let sum = rt.block_on({
            let ran = ran.clone();
            async move {
                weir_runtime::spawn(async move {
                    let mut sum = 0u64;
                    let mut handles = Vec::with_capacity(BATCH);
                    for start in (0..TASKS).step_by(BATCH) {
                        for i in start..start + BATCH {
                            let ran = ran.clone();
                            handles.push(weir_runtime::spawn(async move {
                                ran.fetch_add(1, Ordering::Relaxed);
                                i as u64
                            }));
                        }
                        for h in handles.drain(..) {
                            sum += h.await.unwrap();
                        }
                    }
                    sum
                })
                .await
                .unwrap()
            }
        });
        assert_eq!(ran.load(Ordering::Relaxed), TASKS);
        assert_eq!(sum, (TASKS as u64 - 1) * TASKS as u64 / 2);
        assert_eq!(rt.handle().metrics().spawned_tasks_count(), TASKS as u64 + 1);
    }
}

flavor_tests! {
    /// A task of one runtime awaits a task of another: the join wake-up crosses runtimes.
    fn join_across_runtimes(flavor: Flavor) {
        let rt = flavor.build();
        let other = Flavor::MultiThread(2).build();
        let gate = crate::signals::Gate::new();
        let remote = other.spawn({
            let gate = gate.clone();
            async move {
                gate.wait().await;
                "from the other runtime"
            }
        });
        let local = rt.spawn(async move { remote.await.unwrap() });
        gate.open();
        assert_eq!(rt.block_on(local).unwrap(), "from the other runtime");
    }
}
