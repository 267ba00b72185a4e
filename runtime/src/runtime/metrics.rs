//! Runtime metrics: relaxed counters written by their owner, read by anyone.
//!
//! Each worker's counters sit on their own cache line and have one writer (that worker), so
//! an update is a plain load and store. Readers get a consistent-enough view for monitoring;
//! no counter is exact at any instant.

use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::scheduler;
use crate::sync::{AtomicU64, Ordering};

#[derive(Default)]
pub(crate) struct WorkerCounters {
    polls: AtomicU64,
    steals: AtomicU64,
    steal_operations: AtomicU64,
    parks: AtomicU64,
    unparks: AtomicU64,
    busy_ns: AtomicU64,
    local_queue_depth: AtomicU64,
    forced_yields: AtomicU64,
    /// Spawns made on this worker's thread (an atomic add: another runtime's worker with the
    /// same index may count here too).
    spawned: AtomicU64,
}

/// One-writer increment: cheaper than an atomic read-modify-write.
fn bump(counter: &AtomicU64, by: u64) {
    // Relaxed: a statistic; only the owning worker writes it.
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(by),
        Ordering::Relaxed,
    );
}

impl WorkerCounters {
    pub(crate) fn polled(&self) {
        bump(&self.polls, 1);
    }
    pub(crate) fn stolen(&self, tasks: u64) {
        bump(&self.steals, tasks);
        bump(&self.steal_operations, 1);
    }
    pub(crate) fn parked(&self, busy: Duration) {
        bump(&self.parks, 1);
        bump(&self.busy_ns, busy.as_nanos() as u64);
    }
    pub(crate) fn unparked(&self) {
        bump(&self.unparks, 1);
    }
    /// Busy time of a worker that has not parked (yet): folded in without counting a park, so
    /// a runtime that never runs out of work still reports the time it worked.
    pub(crate) fn busy(&self, busy: Duration) {
        bump(&self.busy_ns, busy.as_nanos() as u64);
    }
    pub(crate) fn forced_yields(&self, n: u64) {
        bump(&self.forced_yields, n);
    }
    pub(crate) fn set_local_queue_depth(&self, depth: u64) {
        self.local_queue_depth.store(depth, Ordering::Relaxed);
    }
}

pub(crate) struct Counters {
    workers: Box<[CachePadded<WorkerCounters>]>,
    /// Shared counters: many writers, so real atomic adds.
    spawned_elsewhere: CachePadded<AtomicU64>,
    remote_schedules: CachePadded<AtomicU64>,
}

impl Counters {
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            workers: (0..workers).map(|_| CachePadded::default()).collect(),
            spawned_elsewhere: CachePadded::new(AtomicU64::new(0)),
            remote_schedules: CachePadded::new(AtomicU64::new(0)),
        }
    }

    pub(crate) fn worker(&self, index: usize) -> &WorkerCounters {
        &self.workers[index]
    }

    /// Counts a spawn on the calling worker's line, so that workers spawning at once do not
    /// contend on one counter.
    pub(crate) fn task_spawned(&self) {
        let worker = weir_probes::context::current_worker() as usize;
        let counter = match self.workers.get(worker) {
            Some(w) => &w.spawned,
            None => &*self.spawned_elsewhere,
        };
        // Relaxed: a statistic.
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn remote_scheduled(&self) {
        self.remote_schedules.fetch_add(1, Ordering::Relaxed);
    }
}

/// A view of a runtime's counters (see `Handle::metrics`).
#[derive(Clone)]
pub struct RuntimeMetrics {
    handle: scheduler::Handle,
}

impl RuntimeMetrics {
    pub(crate) fn new(handle: scheduler::Handle) -> Self {
        Self { handle }
    }

    fn counters(&self) -> &Counters {
        self.handle.metrics()
    }

    fn worker(&self, index: usize) -> &WorkerCounters {
        &self.counters().workers[index]
    }

    /// Number of worker threads.
    pub fn num_workers(&self) -> usize {
        self.counters().workers.len()
    }

    /// Tasks spawned since the runtime started.
    pub fn spawned_tasks_count(&self) -> u64 {
        let c = self.counters();
        c.spawned_elsewhere.load(Ordering::Relaxed)
            + c.workers
                .iter()
                .map(|w| w.spawned.load(Ordering::Relaxed))
                .sum::<u64>()
    }

    /// Tasks alive now (spawned, not yet complete).
    pub fn num_alive_tasks(&self) -> usize {
        self.handle.owned().len()
    }

    /// Tasks scheduled from outside the workers (through the global queue).
    pub fn remote_schedule_count(&self) -> u64 {
        self.counters().remote_schedules.load(Ordering::Relaxed)
    }

    /// Tasks waiting in the global queue now.
    pub fn global_queue_depth(&self) -> usize {
        match &self.handle {
            scheduler::Handle::CurrentThread(s) => s.injector_depth(),
            scheduler::Handle::MultiThread(s) => s.injector_depth(),
            scheduler::Handle::Local(_) => 0,
        }
    }

    /// Polls made by worker `index`.
    pub fn worker_poll_count(&self, index: usize) -> u64 {
        self.worker(index).polls.load(Ordering::Relaxed)
    }

    /// Tasks worker `index` stole from others.
    pub fn worker_steal_count(&self, index: usize) -> u64 {
        self.worker(index).steals.load(Ordering::Relaxed)
    }

    /// Steal operations (each takes a batch) made by worker `index`.
    pub fn worker_steal_operations(&self, index: usize) -> u64 {
        self.worker(index).steal_operations.load(Ordering::Relaxed)
    }

    /// Times worker `index` parked.
    pub fn worker_park_count(&self, index: usize) -> u64 {
        self.worker(index).parks.load(Ordering::Relaxed)
    }

    /// Parks plus unparks of worker `index` (tokio's count): odd while the worker is parked.
    pub fn worker_park_unpark_count(&self, index: usize) -> u64 {
        let w = self.worker(index);
        w.parks.load(Ordering::Relaxed) + w.unparks.load(Ordering::Relaxed)
    }

    /// Time worker `index` spent awake, up to its last park or maintenance pass (or, for a
    /// current-thread runtime, the end of its last `block_on`).
    pub fn worker_total_busy_duration(&self, index: usize) -> Duration {
        Duration::from_nanos(self.worker(index).busy_ns.load(Ordering::Relaxed))
    }

    /// Tasks in worker `index`'s local queue at its last maintenance pass.
    pub fn worker_local_queue_depth(&self, index: usize) -> u64 {
        self.worker(index).local_queue_depth.load(Ordering::Relaxed)
    }

    /// Yields forced by the coop budget on worker `index`.
    pub fn worker_forced_yield_count(&self, index: usize) -> u64 {
        self.worker(index).forced_yields.load(Ordering::Relaxed)
    }

    /// Yields forced by the coop budget on all workers.
    pub fn forced_yield_count(&self) -> u64 {
        (0..self.num_workers())
            .map(|i| self.worker_forced_yield_count(i))
            .sum()
    }

    /// tokio's name for [`RuntimeMetrics::forced_yield_count`].
    pub fn budget_forced_yield_count(&self) -> u64 {
        self.forced_yield_count()
    }

    /// Threads in the blocking pool now.
    pub fn num_blocking_threads(&self) -> usize {
        self.handle.blocking().num_threads()
    }

    /// Idle threads in the blocking pool now.
    pub fn num_idle_blocking_threads(&self) -> usize {
        self.handle.blocking().num_idle_threads()
    }

    /// Closures waiting for a blocking thread.
    pub fn blocking_queue_depth(&self) -> usize {
        self.handle.blocking().queue_depth()
    }
}

impl std::fmt::Debug for RuntimeMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeMetrics")
            .field("num_workers", &self.num_workers())
            .field("spawned_tasks_count", &self.spawned_tasks_count())
            .field("num_alive_tasks", &self.num_alive_tasks())
            .finish_non_exhaustive()
    }
}
