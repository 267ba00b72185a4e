//! `LocalSet` and `spawn_local`: tasks that are not `Send`, on the thread that drives them.

use std::cell::{Cell, RefCell};
use std::future::pending;
use std::rc::Rc;
use std::time::Duration;

use weir_runtime::task::{self, LocalSet};
use weir_runtime::time;

use crate::flavors::{flavor_tests, Flavor};

flavor_tests! {
    /// `Rc` and `RefCell` held across awaits, on every flavour; the tasks run on the thread
    /// that drives the set, interleaved with it.
    fn local_tasks_share_rc_state_on_the_driving_thread(flavor: Flavor) {
        let rt = flavor.build();
        let local = LocalSet::new();
        let me = std::thread::current().id();
        let log = Rc::new(RefCell::new(Vec::new()));
        let total = local.block_on(&rt, {
            let log = log.clone();
            async move {
                let handles: Vec<_> = (0..10u32)
                    .map(|i| {
                        let log = log.clone();
                        task::spawn_local(async move {
                            assert_eq!(std::thread::current().id(), me);
                            assert_eq!(task::try_id(), Some(task::id()));
                            log.borrow_mut().push(i);
                            task::yield_now().await;
                            time::sleep(Duration::from_millis(1)).await;
                            i
                        })
                    })
                    .collect();
                let mut total = 0;
                for h in handles {
                    total += h.await.unwrap();
                }
                total
            }
        });
        assert_eq!(total, 45);
        assert_eq!(log.borrow().len(), 10);
    }

    /// Woken from other threads (spawned tasks and blocking closures), a local task still
    /// runs on the set's thread.
    fn local_tasks_woken_from_other_threads(flavor: Flavor) {
        let rt = flavor.build();
        let local = LocalSet::new();
        let me = std::thread::current().id();
        let counter = Rc::new(Cell::new(0));
        local.block_on(&rt, {
            let counter = counter.clone();
            async move {
                let h = task::spawn_local(async move {
                    for i in 0..5 {
                        let v = task::spawn_blocking(move || i * 2).await.unwrap();
                        assert_eq!(std::thread::current().id(), me);
                        counter.set(counter.get() + v);
                    }
                });
                h.await.unwrap();
            }
        });
        assert_eq!(counter.get(), 20);
    }

    /// Abort, panics and dropping the set behave as for ordinary tasks.
    fn local_tasks_abort_panic_and_drop_with_the_set(flavor: Flavor) {
        let rt = flavor.build();
        let local = LocalSet::new();
        let dropped = Rc::new(Cell::new(0));
        struct Count(Rc<Cell<u32>>);
        impl Drop for Count {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let leftover = local.block_on(&rt, async {
            let guard = Count(dropped.clone());
            let h = task::spawn_local(async move {
                let _guard = guard;
                pending::<()>().await
            });
            task::yield_now().await;
            h.abort();
            assert!(h.await.unwrap_err().is_cancelled());

            let err = task::spawn_local(async { panic!("local panic") })
                .await
                .unwrap_err();
            assert!(err.is_panic());

            // Left running when the drive ends.
            let guard = Count(dropped.clone());
            let leftover = task::spawn_local(async move {
                let _guard = guard;
                pending::<()>().await
            });
            Some(leftover)
        });
        let leftover = leftover.expect("the handle of the unfinished task");
        assert_eq!(dropped.get(), 1);
        assert!(!leftover.is_finished());
        drop(local);
        assert_eq!(dropped.get(), 2, "dropping the set drops its tasks");
        assert!(rt.block_on(leftover).unwrap_err().is_cancelled());
    }

    /// Awaiting the set runs it until its last task finished; tasks spawned on it before it
    /// runs wait for it.
    fn awaiting_the_set_runs_every_task(flavor: Flavor) {
        let rt = flavor.build();
        let local = LocalSet::new();
        let done = Rc::new(Cell::new(0));
        for i in 0..3u64 {
            let done = done.clone();
            local.spawn_local(async move {
                time::sleep(Duration::from_millis(i)).await;
                done.set(done.get() + 1);
            });
        }
        assert_eq!(done.get(), 0);
        rt.block_on(local);
        assert_eq!(done.get(), 3);
    }
}

#[test]
fn spawn_local_outside_a_set_panics_naming_the_fix() {
    let err = std::panic::catch_unwind(|| task::spawn_local(async {})).unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("outside a LocalSet"), "{msg}");
}
