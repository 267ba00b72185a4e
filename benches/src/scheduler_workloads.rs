//! The multi-thread scheduler workloads, with the parameters of tokio's
//! `benches/rt_multi_threaded.rs` (4 workers, 10 000 spawns, 10 µs stalls, 1 000 pings,
//! 200 tasks x 1 000 yields, a 1 000-deep spawn chain).
//!
//! Each workload owns its runtime and whatever it needs across iterations (completion
//! channels, handle buffers, background load); [`Workload::run`] is one timed iteration.
//! Dropping a workload stops its background load before the runtime shuts down.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bench_runtime::BenchRuntime;
use crate::oneshot;

/// Tasks spawned per iteration by the spawn workloads.
pub const NUM_SPAWN: usize = 10_000;
/// Remote spawns per iteration in `spawn_many_remote_busy2` (tokio uses fewer there).
pub const NUM_SPAWN_BUSY2: usize = 1_000;
/// How long a busy background task burns the CPU between yields or spawns.
pub const STALL: Duration = Duration::from_micros(10);
/// Ping-pong round trips per iteration.
pub const NUM_PINGS: usize = 1_000;
/// Tasks in `yield_many`.
pub const YIELD_TASKS: usize = 200;
/// Yields per task in `yield_many`.
pub const YIELDS_PER_TASK: usize = 1_000;
/// Depth of the spawn chain in `chained_spawn`.
pub const CHAIN_DEPTH: usize = 1_000;

/// One benchmark scenario on one runtime.
pub trait Workload {
    /// The runtime's name, as criterion reports it.
    const RUNTIME: &'static str;
    /// Operations per iteration (criterion's throughput).
    const ELEMENTS: u64;
    /// Builds the runtime with `workers` workers and any background load.
    fn setup(workers: usize) -> Self;
    /// One timed iteration.
    fn run(&mut self);
}

/// Burns the CPU for [`STALL`], letting other threads in between (tokio's `stall`).
pub fn stall() {
    let start = Instant::now();
    while start.elapsed() < STALL {
        std::thread::yield_now();
    }
}

/// A countdown shared by the tasks of one iteration: the task that takes it to zero sends on
/// the completion channel.
struct Countdown {
    left: Arc<AtomicUsize>,
    done_tx: SyncSender<()>,
    done_rx: Receiver<()>,
}

impl Countdown {
    fn new() -> Self {
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        Self {
            left: Arc::new(AtomicUsize::new(0)),
            done_tx,
            done_rx,
        }
    }

    /// Arms the countdown for `n` tasks and returns what each task needs to count down.
    fn arm(&self, n: usize) -> CountdownTicket {
        // Relaxed: the previous iteration's tasks are all done (the one that reached zero
        // sent on the channel, which we received), and the spawns below publish this store.
        self.left.store(n, Relaxed);
        CountdownTicket {
            left: self.left.clone(),
            done_tx: self.done_tx.clone(),
        }
    }

    fn wait(&self) {
        self.done_rx
            .recv()
            .expect("weir-benches: the countdown's sender lives in the workload");
    }
}

#[derive(Clone)]
struct CountdownTicket {
    left: Arc<AtomicUsize>,
    done_tx: SyncSender<()>,
}

impl CountdownTicket {
    fn count_down(&self) {
        // Relaxed: the decrements form one modification order, so exactly one task sees 1.
        if self.left.fetch_sub(1, Relaxed) == 1 {
            self.done_tx
                .send(())
                .expect("weir-benches: the countdown's receiver lives in the workload");
        }
    }
}

/// `spawn_many_local`: a task spawns [`NUM_SPAWN`] tasks (worker-local spawns); each counts
/// down and the last one signals the `block_on` thread.
pub struct SpawnManyLocal<R> {
    rt: R,
    countdown: Countdown,
}

impl<R: BenchRuntime> Workload for SpawnManyLocal<R> {
    const RUNTIME: &'static str = R::NAME;
    const ELEMENTS: u64 = NUM_SPAWN as u64;

    fn setup(workers: usize) -> Self {
        Self {
            rt: R::multi_thread(workers),
            countdown: Countdown::new(),
        }
    }

    fn run(&mut self) {
        let ticket = self.countdown.arm(NUM_SPAWN);
        let countdown = &self.countdown;
        self.rt.block_on(async move {
            R::spawn_detached(async move {
                for _ in 0..NUM_SPAWN {
                    let ticket = ticket.clone();
                    R::spawn_detached(async move { ticket.count_down() });
                }
            });
            countdown.wait();
        });
    }
}

/// `spawn_many_block_on`: tokio's upstream `spawn_many_local` as written there: the
/// [`NUM_SPAWN`] spawns come from the `block_on` future, i.e. from a thread that is not a
/// worker, so they take the remote path.
pub struct SpawnManyBlockOn<R> {
    rt: R,
    countdown: Countdown,
}

impl<R: BenchRuntime> Workload for SpawnManyBlockOn<R> {
    const RUNTIME: &'static str = R::NAME;
    const ELEMENTS: u64 = NUM_SPAWN as u64;

    fn setup(workers: usize) -> Self {
        Self {
            rt: R::multi_thread(workers),
            countdown: Countdown::new(),
        }
    }

    fn run(&mut self) {
        let ticket = self.countdown.arm(NUM_SPAWN);
        let countdown = &self.countdown;
        self.rt.block_on(async move {
            for _ in 0..NUM_SPAWN {
                let ticket = ticket.clone();
                R::spawn_detached(async move { ticket.count_down() });
            }
            countdown.wait();
        });
    }
}

/// Spawns `n` empty tasks through the handle from this (non-worker) thread, then joins them
/// all from `block_on`.
fn spawn_remote_and_join<R: BenchRuntime>(rt: &R, handles: &mut Vec<R::JoinHandle<()>>, n: usize) {
    for _ in 0..n {
        handles.push(rt.spawn(async {}));
    }
    rt.block_on(async {
        for handle in handles.drain(..) {
            handle
                .await
                .expect("weir-benches: an empty task cannot fail");
        }
    });
}

/// `spawn_many_remote_idle`: [`NUM_SPAWN`] remote spawns onto an idle runtime.
pub struct SpawnManyRemoteIdle<R: BenchRuntime> {
    rt: R,
    handles: Vec<R::JoinHandle<()>>,
}

impl<R: BenchRuntime> Workload for SpawnManyRemoteIdle<R> {
    const RUNTIME: &'static str = R::NAME;
    const ELEMENTS: u64 = NUM_SPAWN as u64;

    fn setup(workers: usize) -> Self {
        Self {
            rt: R::multi_thread(workers),
            handles: Vec::with_capacity(NUM_SPAWN),
        }
    }

    fn run(&mut self) {
        spawn_remote_and_join(&self.rt, &mut self.handles, NUM_SPAWN);
    }
}

/// `spawn_many_remote_busy1`: [`NUM_SPAWN`] remote spawns while 2 tasks per worker loop on
/// `yield_now` + [`stall`] until the workload is dropped.
pub struct SpawnManyRemoteBusy1<R: BenchRuntime> {
    rt: R,
    handles: Vec<R::JoinHandle<()>>,
    busy: Arc<AtomicBool>,
}

impl<R: BenchRuntime> Workload for SpawnManyRemoteBusy1<R> {
    const RUNTIME: &'static str = R::NAME;
    const ELEMENTS: u64 = NUM_SPAWN as u64;

    fn setup(workers: usize) -> Self {
        let rt = R::multi_thread(workers);
        let busy = Arc::new(AtomicBool::new(true));
        for _ in 0..2 * workers {
            let busy = busy.clone();
            drop(rt.spawn(async move {
                // Relaxed: a stop flag; nothing else is published through it.
                while busy.load(Relaxed) {
                    R::yield_now().await;
                    stall();
                }
            }));
        }
        Self {
            rt,
            handles: Vec::with_capacity(NUM_SPAWN),
            busy,
        }
    }

    fn run(&mut self) {
        spawn_remote_and_join(&self.rt, &mut self.handles, NUM_SPAWN);
    }
}

impl<R: BenchRuntime> Drop for SpawnManyRemoteBusy1<R> {
    fn drop(&mut self) {
        self.busy.store(false, Relaxed);
    }
}

/// One link of a busy chain: stall, then spawn the next link, until `busy` clears.
fn busy_chain<R: BenchRuntime>(busy: Arc<AtomicBool>) {
    R::spawn_detached(async move {
        // Relaxed: a stop flag; nothing else is published through it.
        if busy.load(Relaxed) {
            stall();
            busy_chain::<R>(busy);
        }
    });
}

/// `spawn_many_remote_busy2`: [`NUM_SPAWN_BUSY2`] remote spawns while one chain per worker
/// keeps spawning tasks that [`stall`] (spawns, unlike yields, get the LIFO slot).
pub struct SpawnManyRemoteBusy2<R: BenchRuntime> {
    rt: R,
    handles: Vec<R::JoinHandle<()>>,
    busy: Arc<AtomicBool>,
}

impl<R: BenchRuntime> Workload for SpawnManyRemoteBusy2<R> {
    const RUNTIME: &'static str = R::NAME;
    const ELEMENTS: u64 = NUM_SPAWN_BUSY2 as u64;

    fn setup(workers: usize) -> Self {
        let rt = R::multi_thread(workers);
        let busy = Arc::new(AtomicBool::new(true));
        for _ in 0..workers {
            let busy = busy.clone();
            drop(rt.spawn(async move { busy_chain::<R>(busy) }));
        }
        Self {
            rt,
            handles: Vec::with_capacity(NUM_SPAWN_BUSY2),
            busy,
        }
    }

    fn run(&mut self) {
        spawn_remote_and_join(&self.rt, &mut self.handles, NUM_SPAWN_BUSY2);
    }
}

impl<R: BenchRuntime> Drop for SpawnManyRemoteBusy2<R> {
    fn drop(&mut self) {
        self.busy.store(false, Relaxed);
    }
}

/// `ping_pong`: a task spawns [`NUM_PINGS`] tasks; each spawns a partner, pings it over a
/// oneshot and waits for the pong over another; the last to finish signals.
pub struct PingPong<R> {
    rt: R,
    countdown: Countdown,
}

impl<R: BenchRuntime> Workload for PingPong<R> {
    const RUNTIME: &'static str = R::NAME;
    const ELEMENTS: u64 = NUM_PINGS as u64;

    fn setup(workers: usize) -> Self {
        Self {
            rt: R::multi_thread(workers),
            countdown: Countdown::new(),
        }
    }

    fn run(&mut self) {
        let ticket = self.countdown.arm(NUM_PINGS);
        let countdown = &self.countdown;
        self.rt.block_on(async move {
            R::spawn_detached(async move {
                for _ in 0..NUM_PINGS {
                    let ticket = ticket.clone();
                    R::spawn_detached(async move {
                        let (ping_tx, ping_rx) = oneshot::channel();
                        let (pong_tx, pong_rx) = oneshot::channel();
                        R::spawn_detached(async move {
                            ping_rx.await.expect("weir-benches: the pinger sends");
                            pong_tx
                                .send(())
                                .expect("weir-benches: the pinger waits for the pong");
                        });
                        ping_tx
                            .send(())
                            .expect("weir-benches: the ponger waits for the ping");
                        pong_rx.await.expect("weir-benches: the ponger sends");
                        ticket.count_down();
                    });
                }
            });
            countdown.wait();
        });
    }
}

/// `yield_many`: [`YIELD_TASKS`] tasks, spawned remotely, each yield [`YIELDS_PER_TASK`]
/// times and then report on a channel the benchmark thread drains.
pub struct YieldMany<R> {
    rt: R,
    done_tx: SyncSender<()>,
    done_rx: Receiver<()>,
}

impl<R: BenchRuntime> Workload for YieldMany<R> {
    const RUNTIME: &'static str = R::NAME;
    const ELEMENTS: u64 = (YIELD_TASKS * YIELDS_PER_TASK) as u64;

    fn setup(workers: usize) -> Self {
        let (done_tx, done_rx) = mpsc::sync_channel(YIELD_TASKS);
        Self {
            rt: R::multi_thread(workers),
            done_tx,
            done_rx,
        }
    }

    fn run(&mut self) {
        for _ in 0..YIELD_TASKS {
            let done_tx = self.done_tx.clone();
            drop(self.rt.spawn(async move {
                for _ in 0..YIELDS_PER_TASK {
                    R::yield_now().await;
                }
                done_tx
                    .send(())
                    .expect("weir-benches: the receiver lives in the workload");
            }));
        }
        for _ in 0..YIELD_TASKS {
            self.done_rx
                .recv()
                .expect("weir-benches: the sender lives in the workload");
        }
    }
}

/// One link of the spawn chain: spawn the next link, or signal at the end.
fn spawn_chain<R: BenchRuntime>(done_tx: SyncSender<()>, left: usize) {
    if left == 0 {
        done_tx
            .send(())
            .expect("weir-benches: the receiver lives in the workload");
    } else {
        R::spawn_detached(async move { spawn_chain::<R>(done_tx, left - 1) });
    }
}

/// `chained_spawn`: each task spawns the next, [`CHAIN_DEPTH`] deep; the last one signals.
pub struct ChainedSpawn<R> {
    rt: R,
    done_tx: SyncSender<()>,
    done_rx: Receiver<()>,
}

impl<R: BenchRuntime> Workload for ChainedSpawn<R> {
    const RUNTIME: &'static str = R::NAME;
    const ELEMENTS: u64 = CHAIN_DEPTH as u64;

    fn setup(workers: usize) -> Self {
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        Self {
            rt: R::multi_thread(workers),
            done_tx,
            done_rx,
        }
    }

    fn run(&mut self) {
        let done_tx = self.done_tx.clone();
        let done_rx = &self.done_rx;
        self.rt.block_on(async move {
            R::spawn_detached(async move { spawn_chain::<R>(done_tx, CHAIN_DEPTH) });
            done_rx
                .recv()
                .expect("weir-benches: the sender lives in the workload");
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each workload runs a few iterations on weir with 2 workers: every iteration must end
    // (a lost wake-up hangs the test) with all of its work done.
    const ITERATIONS: usize = 3;

    fn countdown_done(countdown: &Countdown) {
        assert_eq!(countdown.left.load(Relaxed), 0, "every task counted down");
        assert!(
            countdown.done_rx.try_recv().is_err(),
            "one signal per iteration"
        );
    }

    #[test]
    fn spawn_many_local_completes() {
        let mut w = SpawnManyLocal::<weir::Runtime>::setup(2);
        for _ in 0..ITERATIONS {
            w.run();
            countdown_done(&w.countdown);
        }
    }

    #[test]
    fn spawn_many_block_on_completes() {
        let mut w = SpawnManyBlockOn::<weir::Runtime>::setup(2);
        for _ in 0..ITERATIONS {
            w.run();
            countdown_done(&w.countdown);
        }
    }

    #[test]
    fn ping_pong_completes() {
        let mut w = PingPong::<weir::Runtime>::setup(2);
        for _ in 0..ITERATIONS {
            w.run();
            countdown_done(&w.countdown);
        }
    }

    #[test]
    fn remote_spawn_workloads_join_every_task() {
        let mut idle = SpawnManyRemoteIdle::<weir::Runtime>::setup(2);
        for _ in 0..ITERATIONS {
            idle.run();
            assert!(idle.handles.is_empty() && idle.handles.capacity() >= NUM_SPAWN);
        }
        drop(idle);
        let mut busy1 = SpawnManyRemoteBusy1::<weir::Runtime>::setup(2);
        for _ in 0..ITERATIONS {
            busy1.run();
            assert!(busy1.handles.is_empty());
        }
        drop(busy1);
        let mut busy2 = SpawnManyRemoteBusy2::<weir::Runtime>::setup(2);
        for _ in 0..ITERATIONS {
            busy2.run();
            assert!(busy2.handles.is_empty());
        }
    }

    #[test]
    fn yield_many_completes() {
        let mut w = YieldMany::<weir::Runtime>::setup(2);
        for _ in 0..ITERATIONS {
            w.run();
            assert!(w.done_rx.try_recv().is_err(), "exactly one report per task");
        }
    }

    #[test]
    fn chained_spawn_completes() {
        let mut w = ChainedSpawn::<weir::Runtime>::setup(2);
        for _ in 0..ITERATIONS {
            w.run();
            assert!(w.done_rx.try_recv().is_err(), "one signal per chain");
        }
    }

    #[test]
    fn countdown_signals_once_after_the_last_task() {
        let countdown = Countdown::new();
        let ticket = countdown.arm(3);
        ticket.count_down();
        ticket.count_down();
        assert!(countdown.done_rx.try_recv().is_err());
        ticket.count_down();
        assert!(countdown.done_rx.try_recv().is_ok());
        assert!(countdown.done_rx.try_recv().is_err());
    }
}
