//! `JoinSet`: joins in completion order, `len`, `abort_all`, abort on drop, `shutdown`.

use std::future::pending;

use weir_runtime::task::JoinSet;

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::Gate;
use crate::tracker::Tracker;

flavor_tests! {
    /// Tasks are joined in the order they finish, not the order they were spawned; `len`
    /// counts what is left; an empty set yields `None`.
    fn join_next_in_completion_order(flavor: Flavor) {
        let rt = flavor.build();
        rt.block_on(async {
            let gates: Vec<Gate> = (0..5).map(|_| Gate::new()).collect();
            let mut set = JoinSet::new();
            assert!(set.is_empty());
            for (i, g) in gates.iter().enumerate() {
                let g = g.clone();
                set.spawn(async move {
                    g.wait().await;
                    i
                });
            }
            assert_eq!(set.len(), 5);
            for (n, &i) in [3, 1, 4, 0, 2].iter().enumerate() {
                gates[i].open();
                assert_eq!(set.join_next().await.unwrap().unwrap(), i);
                assert_eq!(set.len(), 4 - n);
            }
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
        });
    }

    /// `abort_all` cancels every task; each is joined as cancelled and dropped once.
    fn abort_all_cancels_every_task(flavor: Flavor) {
        let rt = flavor.build();
        let trackers: Vec<Tracker> = (0..10).map(|_| Tracker::new()).collect();
        rt.block_on(async {
            let mut set = JoinSet::new();
            for t in &trackers {
                set.spawn(t.track(pending::<()>()));
            }
            set.abort_all();
            assert_eq!(set.len(), 10, "aborted tasks stay until joined");
            let mut cancelled = 0;
            while let Some(r) = set.join_next().await {
                assert!(r.unwrap_err().is_cancelled());
                cancelled += 1;
            }
            assert_eq!(cancelled, 10);
            assert!(set.is_empty());
        });
        for t in &trackers {
            assert_eq!(t.drops(), 1);
        }
    }

    /// Dropping the set aborts its tasks: every future is dropped (once) without anyone
    /// joining them.
    fn dropping_the_set_aborts_its_tasks(flavor: Flavor) {
        let rt = flavor.build();
        let trackers: Vec<Tracker> = (0..10).map(|_| Tracker::new()).collect();
        rt.block_on(async {
            let mut set = JoinSet::new();
            for t in &trackers {
                set.spawn(t.track(pending::<()>()));
            }
            drop(set);
            for t in &trackers {
                t.dropped().await;
            }
        });
        for t in &trackers {
            assert_eq!(t.drops(), 1);
        }
    }

    /// Outputs, panics and cancellations all come out of `join_next`; `spawn_on` puts a task
    /// on a given runtime; `shutdown` aborts what is left and empties the set.
    fn join_set_mixed_results_spawn_on_and_shutdown(flavor: Flavor) {
        let rt = flavor.build();
        let handle = rt.handle().clone();
        let mut set = JoinSet::new();
        set.spawn_on(async { Ok::<u8, ()>(1) }, &handle);
        set.spawn_on(async { panic!("in a set") }, &handle);
        let (mut ok, mut panicked) = (0, 0);
        rt.block_on(async {
            while let Some(r) = set.join_next().await {
                match r {
                    Ok(v) => {
                        assert_eq!(v, Ok(1));
                        ok += 1;
                    }
                    Err(e) => {
                        assert!(e.is_panic());
                        panicked += 1;
                    }
                }
            }
            assert_eq!((ok, panicked), (1, 1));

            let trackers: Vec<Tracker> = (0..5).map(|_| Tracker::new()).collect();
            for t in &trackers {
                set.spawn(t.track(pending::<Result<u8, ()>>()));
            }
            set.shutdown().await;
            assert!(set.is_empty());
            for t in &trackers {
                assert_eq!(t.drops(), 1);
            }
        });
    }

    /// A set far larger than one coop budget is joined completely.
    fn large_join_set(flavor: Flavor) {
        let rt = flavor.build();
        let sum = rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..2_000u64 {
                set.spawn(async move { i });
            }
            let mut sum = 0;
            while let Some(r) = set.join_next().await {
                sum += r.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..2_000u64).sum::<u64>());
    }
}
