//! Stress: tasks waking each other across workers, tasks woken from plain threads, spawns
//! from many threads, wakers racing with completion. Each checks that nothing is lost: every
//! round trip completes (a lost wake-up hangs, and the watchdog turns that into a failure).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;

use weir_runtime::task::{self, JoinHandle};
use weir_runtime::Runtime;

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::{Latch, Mailbox};
use crate::tracker::Tracker;

/// Pairs of tasks bouncing a counter: `ping` sends, `pong` answers, `rounds` times each.
fn ping_pong_pairs(rt: &Runtime, pairs: usize, rounds: u64) -> u64 {
    rt.block_on(async {
        let mut handles: Vec<JoinHandle<u64>> = Vec::new();
        for _ in 0..pairs {
            let to_pong = Arc::new(Mailbox::new());
            let to_ping = Arc::new(Mailbox::new());
            let (a, b) = (to_pong.clone(), to_ping.clone());
            handles.push(weir_runtime::spawn(async move {
                let mut n = 0;
                for _ in 0..rounds {
                    a.put(n);
                    n = b.take().await;
                }
                n
            }));
            handles.push(weir_runtime::spawn(async move {
                for _ in 0..rounds {
                    let n = to_pong.take().await;
                    to_ping.put(n + 1);
                }
                0
            }));
        }
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    })
}

flavor_tests! {
    /// 10,000 round trips in total over 8 ping-pong pairs, on every flavour (4 workers
    /// included): each pair ends with exactly its number of round trips.
    fn ping_pong_between_tasks(flavor: Flavor) {
        const PAIRS: usize = 8;
        const ROUNDS: u64 = 1_250;
        let rt = flavor.build();
        assert_eq!(ping_pong_pairs(&rt, PAIRS, ROUNDS), PAIRS as u64 * ROUNDS);
    }

    /// A token passed around a ring of tasks: every hop is a wake of a task that is most
    /// likely idle, on whichever worker last ran it.
    fn token_ring(flavor: Flavor) {
        const TASKS: usize = 32;
        const LAPS: usize = 300;
        let rt = flavor.build();
        let boxes: Vec<Arc<Mailbox<usize>>> = (0..TASKS).map(|_| Arc::new(Mailbox::new())).collect();
        let hops = rt.block_on(async {
            let handles: Vec<_> = (0..TASKS)
                .map(|i| {
                    let (inbox, next) = (boxes[i].clone(), boxes[(i + 1) % TASKS].clone());
                    weir_runtime::spawn(async move {
                        let mut seen = 0;
                        for lap in 0..LAPS {
                            let token = inbox.take().await;
                            assert_eq!(token, lap * TASKS + i);
                            seen += 1;
                            // The last task of the last lap keeps the token.
                            if !(i == TASKS - 1 && lap == LAPS - 1) {
                                next.put(token + 1);
                            }
                        }
                        seen
                    })
                })
                .collect();
            boxes[0].put(0);
            let mut hops = 0;
            for h in handles {
                hops += h.await.unwrap();
            }
            hops
        });
        assert_eq!(hops, TASKS * LAPS);
    }

    /// Plain threads ping-pong with tasks: every wake of a task comes from outside the
    /// runtime, every answer wakes a blocked thread.
    fn wakes_from_outside_threads(flavor: Flavor) {
        const THREADS: usize = 4;
        const ROUNDS: u64 = 1_000;
        let rt = flavor.build();
        // (to the task, to the thread) for each thread.
        type Pipe = (Arc<Mailbox<u64>>, Arc<Mailbox<u64>>);
        let channels: Vec<Pipe> = (0..THREADS)
            .map(|_| (Arc::new(Mailbox::new()), Arc::new(Mailbox::new())))
            .collect();
        let handles: Vec<_> = channels
            .iter()
            .map(|(to_task, to_thread)| {
                let (to_task, to_thread) = (to_task.clone(), to_thread.clone());
                rt.spawn(async move {
                    for _ in 0..ROUNDS {
                        let n = to_task.take().await;
                        to_thread.put(n + 1);
                    }
                })
            })
            .collect();
        std::thread::scope(|s| {
            for (to_task, to_thread) in &channels {
                s.spawn(move || {
                    let mut n = 0;
                    for _ in 0..ROUNDS {
                        to_task.put(n);
                        n = to_thread.take_blocking();
                    }
                    assert_eq!(n, ROUNDS);
                });
            }
            // The current-thread runtime runs its tasks only inside block_on.
            rt.block_on(async {
                for h in handles {
                    h.await.unwrap();
                }
            });
        });
    }

    /// Many threads spawn at once through handles; every task runs exactly once.
    fn spawns_from_many_threads(flavor: Flavor) {
        const THREADS: usize = 4;
        const PER_THREAD: usize = 5_000;
        let rt = flavor.build();
        let ran = Arc::new(AtomicUsize::new(0));
        let handles: Vec<JoinHandle<()>> = std::thread::scope(|s| {
            let spawners: Vec<_> = (0..THREADS)
                .map(|_| {
                    let handle = rt.handle().clone();
                    let ran = ran.clone();
                    s.spawn(move || {
                        (0..PER_THREAD)
                            .map(|_| {
                                let ran = ran.clone();
                                handle.spawn(async move {
                                    ran.fetch_add(1, Ordering::Relaxed);
                                })
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            spawners.into_iter().flat_map(|t| t.join().unwrap()).collect()
        });
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(ran.load(Ordering::Relaxed), THREADS * PER_THREAD);
        assert_eq!(rt.handle().metrics().num_alive_tasks(), 0);
    }

    /// Wakers cloned out of tasks are fired from other threads while the tasks run, finish
    /// and are joined: reference counts survive the races (no task freed early or leaked;
    /// each future dropped exactly once).
    fn wakers_racing_with_completion(flavor: Flavor) {
        const TASKS: usize = 500;
        let rt = flavor.build();
        let wakers: Arc<Mutex<Vec<Waker>>> = Arc::default();
        let registered = Latch::new();
        let trackers: Vec<Tracker> = (0..TASKS).map(|_| Tracker::new()).collect();
        let handles: Vec<_> = trackers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (wakers, registered) = (wakers.clone(), registered.clone());
                rt.spawn(t.track(async move {
                    std::future::poll_fn(|cx| {
                        wakers.lock().unwrap().push(cx.waker().clone());
                        std::task::Poll::Ready(())
                    })
                    .await;
                    registered.arrive();
                    for _ in 0..i % 5 {
                        task::yield_now().await;
                    }
                    i
                }))
            })
            .collect();
        std::thread::scope(|s| {
            for part in 0..2 {
                let (wakers, registered) = (wakers.clone(), registered.clone());
                s.spawn(move || {
                    registered.wait_for_blocking(TASKS);
                    let taken: Vec<Waker> = wakers.lock().unwrap().clone();
                    for (k, w) in taken.into_iter().enumerate() {
                        if k % 2 == part {
                            w.wake();
                        } else {
                            w.wake_by_ref();
                        }
                    }
                });
            }
            rt.block_on(async {
                for (i, h) in handles.into_iter().enumerate() {
                    assert_eq!(h.await.unwrap(), i);
                }
            });
        });
        drop(wakers);
        drop(rt);
        for t in &trackers {
            assert_eq!(t.drops(), 1);
        }
    }
}

flavor_tests! {
    /// Many tasks sleeping briefly over and over, so that timers are registered, fired and
    /// re-registered while workers park and unpark around them: no timer wake-up is lost.
    fn many_short_sleeps(flavor: Flavor) {
        const TASKS: usize = 64;
        const SLEEPS: usize = 20;
        let rt = flavor.build();
        let total = rt.block_on(async {
            let handles: Vec<_> = (0..TASKS)
                .map(|i| {
                    weir_runtime::spawn(async move {
                        for k in 0..SLEEPS {
                            let d = std::time::Duration::from_micros(((i * 7 + k * 13) % 3000) as u64);
                            let deadline = weir_runtime::time::Instant::now() + d;
                            weir_runtime::time::sleep(d).await;
                            assert!(weir_runtime::time::Instant::now() >= deadline);
                        }
                        SLEEPS
                    })
                })
                .collect();
            let mut total = 0;
            for h in handles {
                total += h.await.unwrap();
            }
            total
        });
        assert_eq!(total, TASKS * SLEEPS);
    }
}
