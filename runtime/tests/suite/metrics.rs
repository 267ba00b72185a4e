//! Runtime metrics: spawn and alive counts, polls, workers, remote schedules.

use weir_runtime::task;

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::Gate;
use crate::worker_hold::hold_all_workers;

flavor_tests! {
    /// `spawned_tasks_count` counts every spawn, wherever it came from; `num_alive_tasks`
    /// counts the unfinished ones and is back to 0 once every task has been joined.
    fn spawn_and_alive_counts(flavor: Flavor) {
        const N: usize = 300;
        let rt = flavor.build();
        let m = rt.handle().metrics();
        assert_eq!(m.num_workers(), flavor.workers());
        assert_eq!((m.spawned_tasks_count(), m.num_alive_tasks()), (0, 0));
        let go = Gate::new();
        let outside: Vec<_> = (0..N)
            .map(|_| {
                let go = go.clone();
                rt.spawn(async move { go.wait().await })
            })
            .collect();
        assert_eq!(m.spawned_tasks_count(), N as u64);
        assert_eq!(m.num_alive_tasks(), N);
        rt.block_on({
            let m = m.clone();
            async move {
                let inside: Vec<_> = (0..N)
                    .map(|_| {
                        let go = go.clone();
                        weir_runtime::spawn(async move { go.wait().await })
                    })
                    .collect();
                assert_eq!(m.spawned_tasks_count(), 2 * N as u64);
                assert_eq!(m.num_alive_tasks(), 2 * N);
                go.open();
                for h in outside.into_iter().chain(inside) {
                    h.await.unwrap();
                    task::yield_now().await;
                }
            }
        });
        assert_eq!(m.num_alive_tasks(), 0, "every task was joined");
        // Blocking closures are not tasks of the scheduler.
        rt.block_on(rt.spawn_blocking(|| ())).unwrap();
        assert_eq!(m.spawned_tasks_count(), 2 * N as u64);
    }

    /// A joined task is no longer alive, checked after every single join.
    fn joined_task_is_not_alive(flavor: Flavor) {
        let rt = flavor.build();
        let m = rt.handle().metrics();
        rt.block_on(async {
            for i in 0..2_000u32 {
                let h = weir_runtime::spawn(async move { i });
                assert_eq!(h.await.unwrap(), i);
                assert_eq!(m.num_alive_tasks(), 0, "task {i} joined but still alive");
            }
        });
    }

    /// Polls are counted per worker and add up to at least one per task.
    fn worker_poll_counts_cover_every_task(flavor: Flavor) {
        const N: u64 = 500;
        let rt = flavor.build();
        let m = rt.handle().metrics();
        rt.block_on(async {
            let hs: Vec<_> = (0..N).map(|_| weir_runtime::spawn(async { task::yield_now().await })).collect();
            for h in hs {
                h.await.unwrap();
            }
        });
        // A worker counts a poll after it returns. Holding every worker means each has gone
        // back to its loop since its last poll, so the counts are complete.
        let held = hold_all_workers(&rt, flavor);
        let polls: u64 = (0..m.num_workers()).map(|i| m.worker_poll_count(i)).sum();
        assert!(polls >= 2 * N, "{polls} polls for {N} tasks that each yield once");
        for b in held.release() {
            rt.block_on(b).unwrap();
        }
    }

    /// Spawns from outside the runtime go through the global queue and are counted there,
    /// one each.
    fn remote_schedules_are_counted(flavor: Flavor) {
        let rt = flavor.build();
        let m = rt.handle().metrics();
        let before = m.remote_schedule_count();
        let hs: Vec<_> = (0..5).map(|i| rt.spawn(async move { i })).collect();
        assert_eq!(m.remote_schedule_count(), before + 5);
        for (i, h) in hs.into_iter().enumerate() {
            assert_eq!(rt.block_on(h).unwrap(), i);
        }
        assert_eq!(m.global_queue_depth(), 0);
    }
}
