//! Shutdown drops every task exactly once, wherever the task was: waiting on a future that is
//! never woken, sleeping on a timer, queued and never polled, in a waker cycle with another
//! task, in the middle of a poll. Join handles held outside report cancelled afterwards, and
//! the runtime's shared state is freed (no task leaked a reference to it).
//!
//! The "freed" check: a canary `Arc` captured by an `on_thread_start` callback lives in the
//! runtime's configuration, so its count falls back to 1 only when the runtime's shared state
//! is dropped, which needs every task to have been freed.

use std::future::{pending, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use weir_runtime::runtime::{Builder, Handle};
use weir_runtime::task::{self, JoinHandle};
use weir_runtime::time::sleep;
use weir_runtime::Runtime;

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::{wait_until, Gate, Latch};
use crate::thread_executor::block_on_thread;
use crate::tracker::Tracker;
use crate::worker_hold::hold_all_workers;

/// A builder whose runtime holds a clone of the returned canary until it is freed.
fn builder_with_canary(flavor: Flavor) -> (Builder, Arc<()>) {
    let canary = Arc::new(());
    let mut b = flavor.builder();
    let c = canary.clone();
    b.on_thread_start(move || {
        let _ = &c;
    });
    (b, canary)
}

fn build_with_canary(flavor: Flavor) -> (Runtime, Arc<()>) {
    let (mut b, canary) = builder_with_canary(flavor);
    let rt = b.build().unwrap();
    (rt, canary)
}

/// Asserts that a handle whose task was dropped by shutdown reports cancelled.
fn assert_cancelled<T: std::fmt::Debug>(h: JoinHandle<T>) {
    assert!(h.is_finished(), "shutdown completed every task");
    let err = block_on_thread(h).expect_err("a task dropped by shutdown has no output");
    assert!(err.is_cancelled(), "{err:?}");
}

type WakerCell = Arc<Mutex<Option<Waker>>>;

/// Half of a waker cycle: publishes its own waker, takes the peer's and keeps it, and then
/// waits forever. Two of them make tasks A and B each hold a waker (a reference) of the other.
struct HoldPeerWaker {
    mine: WakerCell,
    peer: WakerCell,
    published: bool,
    held: Option<Waker>,
    paired: Latch,
}

impl Future for HoldPeerWaker {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if !self.published {
            *self.mine.lock().unwrap() = Some(cx.waker().clone());
            self.published = true;
        }
        if self.held.is_none() {
            let peer = self.peer.lock().unwrap().take();
            if let Some(w) = peer {
                // Let the peer take ours too, if it has not yet.
                w.wake_by_ref();
                self.held = Some(w);
                self.paired.arrive();
            }
        }
        Poll::Pending
    }
}

fn waker_cycle(paired: &Latch) -> (HoldPeerWaker, HoldPeerWaker) {
    let (a, b): (WakerCell, WakerCell) = Default::default();
    let half = |mine: &WakerCell, peer: &WakerCell| HoldPeerWaker {
        mine: mine.clone(),
        peer: peer.clone(),
        published: false,
        held: None,
        paired: paired.clone(),
    };
    (half(&a, &b), half(&b, &a))
}

flavor_tests! {
    /// Dropping the runtime drops every kind of unfinished task exactly once.
    fn drop_drops_every_task_exactly_once(flavor: Flavor) {
        const K: usize = 8;
        let (rt, canary) = build_with_canary(flavor);
        let started = Latch::new();
        let paired = Latch::new();
        let mut handles = Vec::new();
        let mut trackers = Vec::new();
        let mut polled = Vec::new();

        // (a) Waiting on a future nobody will ever wake.
        for _ in 0..K {
            let (t, started) = (Tracker::new(), started.clone());
            handles.push(rt.spawn(t.track(async move {
                started.arrive();
                pending::<()>().await
            })));
            trackers.push(t.clone());
            polled.push(t);
        }
        // (b) Sleeping on a timer that will not fire before shutdown.
        for _ in 0..K {
            let (t, started) = (Tracker::new(), started.clone());
            handles.push(rt.spawn(t.track(async move {
                started.arrive();
                sleep(Duration::from_secs(3600)).await
            })));
            trackers.push(t.clone());
            polled.push(t);
        }
        // (d) Pairs of tasks each holding the other's waker.
        for _ in 0..K / 2 {
            let (x, y) = waker_cycle(&paired);
            for half in [x, y] {
                let t = Tracker::new();
                handles.push(rt.spawn(t.track(half)));
                trackers.push(t);
            }
        }
        rt.block_on(async {
            started.wait_for(2 * K).await;
            paired.wait_for(K).await;
        });
        // (c) Queued and, on the current-thread runtime, never polled: nothing drives it
        // outside block_on. On multi-thread they race with shutdown; polled or not, each
        // must be dropped once.
        let mut queued = Vec::new();
        for _ in 0..K {
            let t = Tracker::new();
            handles.push(rt.spawn(t.track(async { pending::<()>().await })));
            trackers.push(t.clone());
            queued.push(t);
        }

        drop(rt);

        for t in &trackers {
            assert_eq!(t.drops(), 1);
        }
        for t in &polled {
            assert!(t.polls() >= 1);
        }
        if flavor.is_current_thread() {
            for t in &queued {
                assert_eq!(t.polls(), 0);
            }
        }
        for h in handles {
            assert_cancelled(h);
        }
        assert_eq!(Arc::strong_count(&canary), 1, "the runtime's state was not freed");
    }

    /// As above with the join handles dropped before shutdown: the waker cycles are then the
    /// only references the tasks have, and shutdown must still free them.
    fn drop_frees_detached_waker_cycles(flavor: Flavor) {
        let (rt, canary) = build_with_canary(flavor);
        let paired = Latch::new();
        let mut trackers = Vec::new();
        for _ in 0..16 {
            let (x, y) = waker_cycle(&paired);
            for half in [x, y] {
                let t = Tracker::new();
                drop(rt.spawn(t.track(half)));
                trackers.push(t);
            }
        }
        rt.block_on(paired.wait_for(32));
        drop(rt);
        for t in &trackers {
            assert_eq!(t.drops(), 1);
        }
        assert_eq!(Arc::strong_count(&canary), 1, "a task in a waker cycle leaked");
    }

    /// `shutdown_background` returns while workers are still busy; every idle and queued task
    /// is dropped before it returns, queued ones never polled. The busy tasks finish their
    /// poll later and the runtime's state is freed once the workers exit.
    fn shutdown_background_drops_queued_tasks_unpolled(flavor: Flavor) {
        let (rt, canary) = build_with_canary(flavor);
        let held = hold_all_workers(&rt, flavor);
        let trackers: Vec<Tracker> = (0..32).map(|_| Tracker::new()).collect();
        let queued: Vec<_> = trackers.iter().map(|t| rt.spawn(t.track(async { 1 }))).collect();

        rt.shutdown_background();

        for t in &trackers {
            assert_eq!(t.polls(), 0, "a queued task ran after shutdown began");
            assert_eq!(t.drops(), 1);
        }
        for h in queued {
            assert_cancelled(h);
        }
        for blocker in held.release() {
            // The blockers were mid-poll at shutdown; their poll completes normally.
            block_on_thread(blocker).unwrap();
        }
        wait_until("the runtime's state to be freed", || Arc::strong_count(&canary) == 1);
    }

    /// `shutdown_timeout` gives up on a blocking closure that does not finish, drops the
    /// tasks, and refuses new work; the closure finishes later on its own.
    fn shutdown_timeout_gives_up_on_a_stuck_blocking_closure(flavor: Flavor) {
        let rt = flavor.build();
        let (started, release) = (Gate::new(), Gate::new());
        let stuck = rt.spawn_blocking({
            let (started, release) = (started.clone(), release.clone());
            move || {
                started.open();
                release.wait_blocking();
                "finished late"
            }
        });
        started.wait_blocking();
        let waiting = Tracker::new();
        let h = rt.spawn(waiting.track(pending::<()>()));
        rt.block_on(async {
            while waiting.polls() == 0 {
                task::yield_now().await;
            }
        });
        let handle = rt.handle().clone();

        rt.shutdown_timeout(Duration::from_millis(20));

        assert_eq!(waiting.drops(), 1);
        assert_cancelled(h);

        // New work is refused: a task is dropped unpolled, a closure never runs.
        let late = Tracker::new();
        assert_cancelled(handle.spawn(late.track(async {})));
        assert_eq!((late.polls(), late.drops()), (0, 1));
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r = ran.clone();
        assert_cancelled(handle.spawn_blocking(move || r.store(true, std::sync::atomic::Ordering::SeqCst)));
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));

        release.open();
        assert_eq!(block_on_thread(stuck).unwrap(), "finished late");
    }

    /// Wakers that outlive their runtime stay valid: waking them after shutdown does
    /// nothing harmful, and the runtime is freed once the last of them is dropped.
    fn wakers_outliving_the_runtime(flavor: Flavor) {
        let (rt, canary) = build_with_canary(flavor);
        let wakers: Arc<Mutex<Vec<Waker>>> = Arc::default();
        let registered = Latch::new();
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let (wakers, registered) = (wakers.clone(), registered.clone());
                rt.spawn(std::future::poll_fn(move |cx| {
                    wakers.lock().unwrap().push(cx.waker().clone());
                    registered.arrive();
                    // Half finish, half wait forever.
                    if i % 2 == 0 {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                }))
            })
            .collect();
        rt.block_on(registered.wait_for(10));
        drop(rt);
        for (i, h) in handles.into_iter().enumerate() {
            if i % 2 == 0 {
                block_on_thread(h).unwrap();
            } else {
                assert_cancelled(h);
            }
        }
        assert!(Arc::strong_count(&canary) > 1, "live wakers keep their tasks");
        let wakers = std::mem::take(&mut *wakers.lock().unwrap());
        for (k, w) in wakers.into_iter().enumerate() {
            if k % 2 == 0 {
                let clone = w.clone();
                w.wake_by_ref();
                clone.wake();
            } else {
                w.wake();
            }
        }
        assert_eq!(Arc::strong_count(&canary), 1, "the last waker freed the runtime");
    }

    /// A future whose destructor spawns a task while shutdown drops it: the new task is
    /// dropped unpolled and reports cancelled.
    fn spawn_from_a_destructor_during_shutdown(flavor: Flavor) {
        type Slot = Arc<Mutex<Option<JoinHandle<()>>>>;
        struct SpawnOnDrop {
            handle: Handle,
            late: Tracker,
            slot: Slot,
        }
        impl Drop for SpawnOnDrop {
            fn drop(&mut self) {
                let h = self.handle.spawn(self.late.track(async {}));
                *self.slot.lock().unwrap() = Some(h);
            }
        }
        let (rt, canary) = build_with_canary(flavor);
        let late = Tracker::new();
        let slot: Slot = Arc::default();
        let started = Gate::new();
        let h = rt.spawn({
            let guard = SpawnOnDrop {
                handle: rt.handle().clone(),
                late: late.clone(),
                slot: slot.clone(),
            };
            let started = started.clone();
            async move {
                let _guard = guard;
                started.open();
                pending::<()>().await
            }
        });
        rt.block_on(started.wait());
        drop(rt);
        assert_cancelled(h);
        let spawned = slot.lock().unwrap().take().expect("the destructor ran");
        assert_cancelled(spawned);
        assert_eq!((late.polls(), late.drops()), (0, 1));
        assert_eq!(Arc::strong_count(&canary), 1);
    }
}

flavor_tests! {
    /// Dropping the runtime while a task is in the middle of a poll: shutdown waits for the
    /// poll to end, then the task is dropped once and reports cancelled.
    fn drop_while_a_task_is_mid_poll(flavor: Flavor) in [multi_thread_1, multi_thread_2, multi_thread_4] {
        let (rt, canary) = build_with_canary(flavor);
        let tracker = Tracker::new();
        let (running, release) = (Gate::new(), Gate::new());
        let h = rt.spawn(tracker.track({
            let (running, release) = (running.clone(), release.clone());
            async move {
                running.open();
                release.wait_blocking();
                pending::<()>().await
            }
        }));
        running.wait_blocking();
        std::thread::scope(|s| {
            s.spawn(move || drop(rt));
            release.open();
        });
        assert_eq!(tracker.polls(), 1);
        assert_eq!(tracker.drops(), 1);
        assert_cancelled(h);
        assert_eq!(Arc::strong_count(&canary), 1);
    }

    /// A task owns its runtime and drops it: the worker cannot join itself, so shutdown
    /// goes on without it; the other tasks are dropped once, the dropping task finishes its
    /// poll with its output, and the runtime is freed once the workers exit.
    fn drop_the_runtime_inside_its_own_task(flavor: Flavor) in [multi_thread_1, multi_thread_2, multi_thread_4] {
        let (rt, canary) = build_with_canary(flavor);
        let others: Vec<Tracker> = (0..16).map(|_| Tracker::new()).collect();
        let started = Latch::new();
        let other_handles: Vec<_> = others
            .iter()
            .map(|t| {
                let started = started.clone();
                rt.spawn(t.track(async move {
                    started.arrive();
                    pending::<()>().await
                }))
            })
            .collect();
        rt.block_on(started.wait_for(16));
        let slot = Arc::new(Mutex::new(Some(rt)));
        let handle = slot.lock().unwrap().as_ref().unwrap().handle().clone();
        let dropper = handle.spawn({
            let slot = slot.clone();
            async move {
                drop(slot.lock().unwrap().take());
                "dropped from inside"
            }
        });
        assert_eq!(block_on_thread(dropper).unwrap(), "dropped from inside");
        for t in &others {
            assert_eq!(t.drops(), 1);
        }
        for h in other_handles {
            assert_cancelled(h);
        }
        drop(handle);
        drop(slot);
        wait_until("the runtime's state to be freed", || Arc::strong_count(&canary) == 1);
    }

    /// A task owns its runtime and calls `shutdown_background` on it from inside: the other
    /// tasks are dropped once, the calling task finishes its poll, nothing hangs, and the
    /// runtime is freed once its workers exit.
    fn shutdown_background_from_inside_a_task(flavor: Flavor) in [multi_thread_1, multi_thread_2, multi_thread_4] {
        let (rt, canary) = build_with_canary(flavor);
        let others: Vec<Tracker> = (0..16).map(|_| Tracker::new()).collect();
        let started = Latch::new();
        let other_handles: Vec<_> = others
            .iter()
            .map(|t| {
                let started = started.clone();
                rt.spawn(t.track(async move {
                    started.arrive();
                    pending::<()>().await
                }))
            })
            .collect();
        rt.block_on(started.wait_for(16));
        let slot = Arc::new(Mutex::new(Some(rt)));
        let handle = slot.lock().unwrap().as_ref().unwrap().handle().clone();
        let shutter = handle.spawn({
            let slot = slot.clone();
            async move {
                let rt = slot.lock().unwrap().take().expect("the runtime is in the slot");
                rt.shutdown_background();
                "shut down from inside"
            }
        });
        assert_eq!(block_on_thread(shutter).unwrap(), "shut down from inside");
        for t in &others {
            assert_eq!(t.drops(), 1);
        }
        for h in other_handles {
            assert_cancelled(h);
        }
        drop(handle);
        drop(slot);
        wait_until("the runtime's state to be freed", || Arc::strong_count(&canary) == 1);
    }
}
