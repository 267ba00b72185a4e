//! Internal types for the loom models in `loom-tests/`.
//!
//! Compiled only under `--cfg loom` and hidden from the docs: this is not API. Each item wraps
//! the very type the runtime uses (no copy of its logic), so a model checks the shipped code:
//! - [`TaskState`]: the task state word and its transitions (`task/state.rs`);
//! - [`ParkThread`], [`Driver`], [`Parker`], [`Unparker`]: parking (`scheduler/park.rs`,
//!   `scheduler/driver.rs`);
//! - [`Idle`]: the sleeper/searcher accounting of the multi-thread scheduler
//!   (`scheduler/multi_thread/idle.rs`);
//! - [`LocalQueue`], [`Stealer`], [`Injector`]: a worker's local ring
//!   (`scheduler/multi_thread/queue.rs`) and the global injector (`scheduler/inject.rs`), fed
//!   with real (never polled) task allocations from a [`TaskFactory`].
//!
//! The task lifecycle as a whole (raw task, wakers, join handle, schedulers) needs no entry
//! here: the models drive it through the public runtime API, under loom.

use crate::scheduler::{driver, inject, multi_thread::idle, multi_thread::queue, park};
use crate::task::raw::RawTask;
use crate::task::{state, Id};

/// What the poller must do after [`TaskState::transition_to_running`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToRunning {
    /// Poll the future.
    Poll,
    /// Cancelled: drop the future and complete.
    Cancel,
    /// Running elsewhere or complete; the caller's reference was dropped.
    Skip,
    /// As `Skip`, and that was the last reference.
    Dealloc,
}

/// What the poller must do after [`TaskState::transition_to_idle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToIdle {
    /// A waker will re-submit; the poller's reference was dropped.
    Idle,
    /// Woken during the poll: the poller's reference goes back to a queue.
    Resubmit,
    /// The poller's reference was the last.
    Dealloc,
    /// Aborted during the poll: cancel and complete (the poller still holds RUNNING).
    Cancel,
}

/// What a waker must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToNotified {
    /// Nothing.
    Nothing,
    /// Queue the task: a queue reference was made (or handed over).
    Submit,
    /// The waker's reference was the last.
    Dealloc,
}

/// A copy of the state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// RUNNING.
    pub running: bool,
    /// COMPLETE.
    pub complete: bool,
    /// NOTIFIED.
    pub notified: bool,
    /// CANCELLED.
    pub cancelled: bool,
    /// JOIN_INTEREST.
    pub join_interested: bool,
    /// JOIN_WAKER.
    pub join_waker: bool,
    /// The reference count.
    pub refs: usize,
}

impl From<state::Snapshot> for Snapshot {
    fn from(s: state::Snapshot) -> Self {
        Snapshot {
            running: s.is_running(),
            complete: s.is_complete(),
            notified: s.is_notified(),
            cancelled: s.is_cancelled(),
            join_interested: s.is_join_interested(),
            join_waker: s.is_join_waker_set(),
            refs: s.ref_count(),
        }
    }
}

/// The task state word (`task::state::State`).
pub struct TaskState(state::State);

impl TaskState {
    /// A freshly spawned task: notified, join-interested, three references (owned list, queue,
    /// join handle) when `owned`, two otherwise.
    pub fn new(owned: bool) -> Self {
        TaskState(state::State::new(owned))
    }

    /// Loads the word.
    pub fn load(&self) -> Snapshot {
        self.0.load().into()
    }

    /// A worker took the task from a queue.
    pub fn transition_to_running(&self) -> ToRunning {
        match self.0.transition_to_running() {
            state::ToRunning::Poll => ToRunning::Poll,
            state::ToRunning::Cancel => ToRunning::Cancel,
            state::ToRunning::Skip => ToRunning::Skip,
            state::ToRunning::Dealloc => ToRunning::Dealloc,
        }
    }

    /// The poll returned `Pending`.
    pub fn transition_to_idle(&self) -> ToIdle {
        match self.0.transition_to_idle() {
            state::ToIdle::Idle => ToIdle::Idle,
            state::ToIdle::Resubmit => ToIdle::Resubmit,
            state::ToIdle::Dealloc => ToIdle::Dealloc,
            state::ToIdle::Cancel => ToIdle::Cancel,
        }
    }

    /// The future finished; returns the word after the change.
    pub fn transition_to_complete(&self) -> Snapshot {
        self.0.transition_to_complete().into()
    }

    /// Drops `count` references after completion; true when the task must be freed.
    pub fn transition_to_terminal(&self, count: usize) -> bool {
        self.0.transition_to_terminal(count)
    }

    /// `Waker::wake_by_ref`.
    pub fn transition_to_notified_by_ref(&self) -> ToNotified {
        map_notified(self.0.transition_to_notified_by_ref())
    }

    /// `Waker::wake`.
    pub fn transition_to_notified_by_val(&self) -> ToNotified {
        map_notified(self.0.transition_to_notified_by_val())
    }

    /// `JoinHandle::abort`: true when the caller must queue the task.
    pub fn transition_to_notified_and_cancel(&self) -> bool {
        self.0.transition_to_notified_and_cancel()
    }

    /// Runtime shutdown: true when the caller now owns the idle task.
    pub fn transition_to_shutdown(&self) -> bool {
        self.0.transition_to_shutdown()
    }

    /// The join handle is dropped (see `State::unset_join_interested`).
    #[allow(clippy::result_unit_err)]
    pub fn unset_join_interested(&self) -> Result<bool, ()> {
        self.0.unset_join_interested()
    }

    /// The join handle hands its waker slot to the runtime.
    #[allow(clippy::result_unit_err)]
    pub fn set_join_waker(&self) -> Result<(), ()> {
        self.0.set_join_waker()
    }

    /// The join handle takes its waker slot back.
    #[allow(clippy::result_unit_err)]
    pub fn unset_join_waker(&self) -> Result<(), ()> {
        self.0.unset_join_waker()
    }

    /// Counts a new reference (a waker clone).
    pub fn ref_inc(&self) {
        self.0.ref_inc()
    }

    /// Drops a reference; true when it was the last.
    pub fn ref_dec(&self) -> bool {
        self.0.ref_dec()
    }
}

fn map_notified(n: state::ToNotified) -> ToNotified {
    match n {
        state::ToNotified::Nothing => ToNotified::Nothing,
        state::ToNotified::Submit => ToNotified::Submit,
        state::ToNotified::Dealloc => ToNotified::Dealloc,
    }
}

/// The flag + mutex + condvar parker (`scheduler::park::ParkThread`).
pub struct ParkThread(park::ParkThread);

impl ParkThread {
    /// An un-notified parker.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        ParkThread(park::ParkThread::new())
    }

    /// Sleeps until unparked (no timeout: loom does not model time).
    pub fn park(&self) {
        self.0.park_timeout(None)
    }

    /// Consumes a pending notification, if any.
    pub fn take_notified(&self) -> bool {
        self.0.take_notified()
    }

    /// Wakes the parked thread, or makes its next park return at once.
    pub fn unpark(&self) {
        self.0.unpark()
    }
}

/// The scheduler's driver (`scheduler::driver::Driver`), without timers.
pub struct Driver(driver::Driver);

impl Driver {
    /// A driver with time disabled.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Driver(driver::Driver::new(false))
    }

    /// Cuts the sleep of whoever parks on the driver short.
    pub fn unpark(&self) {
        self.0.unpark()
    }
}

/// A worker's park handle (`scheduler::park::Parker`).
pub struct Parker(park::Parker);

/// Wakes a [`Parker`] (`scheduler::park::Unparker`).
#[derive(Clone)]
pub struct Unparker(park::Unparker);

impl Parker {
    /// A parker and its unparker.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> (Parker, Unparker) {
        let (p, u) = park::Parker::new();
        (Parker(p), Unparker(u))
    }

    /// Sleeps until unparked: on the driver if it is free, on the own thread parker otherwise.
    pub fn park(&self, driver: &Driver) {
        self.0.park(&driver.0, None)
    }
}

impl Unparker {
    /// Wakes the parker wherever it sleeps.
    pub fn unpark(&self, driver: &Driver) {
        self.0.unpark(&driver.0)
    }
}

/// Sleeper and searcher accounting of the multi-thread scheduler
/// (`scheduler::multi_thread::idle::Idle`).
pub struct Idle(idle::Idle);

impl Idle {
    /// All `workers` start unparked and not searching.
    pub fn new(workers: usize) -> Self {
        Idle(idle::Idle::new(workers))
    }

    /// New work: picks a sleeper to wake (counted as unparked and searching), if nobody
    /// searches.
    pub fn worker_to_notify(&self) -> Option<usize> {
        self.0.worker_to_notify()
    }

    /// A worker wants to steal; false when half the workers search already.
    pub fn transition_to_searching(&self) -> bool {
        self.0.transition_to_searching()
    }

    /// A searcher found work; true when it was the last searcher.
    pub fn transition_from_searching(&self) -> bool {
        self.0.transition_from_searching()
    }

    /// A worker goes to sleep; true when it was the last searcher (re-check the queues).
    pub fn transition_to_parked(&self, worker: usize, searching: bool) -> bool {
        self.0.transition_to_parked(worker, searching)
    }

    /// A worker woke on its own; true if it was still listed as a sleeper.
    pub fn unpark_self(&self, worker: usize) -> bool {
        self.0.unpark_self(worker)
    }

    /// Whether `worker` is still listed as a sleeper.
    pub fn is_parked(&self, worker: usize) -> bool {
        self.0.is_parked(worker)
    }
}

/// Makes tasks for the queue models: real task allocations, bound to a current-thread runtime
/// that never polls them.
pub struct TaskFactory {
    rt: crate::Runtime,
}

impl TaskFactory {
    /// A factory with its own current-thread runtime.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .expect("weir: a current-thread runtime with defaults builds");
        TaskFactory { rt }
    }

    /// A new task holding one reference: the one its [`Task`] owns, so that the allocation is
    /// freed exactly when that `Task` is dropped.
    pub fn task(&self) -> Task {
        let raw = RawTask::new(async {}, Id::next(), self.rt.handle().inner.clone(), false);
        // An unowned task starts with two references (queue and join handle): drop one.
        drop(raw.clone_uncounted());
        Task(raw)
    }
}

/// A task reference moved through the queues.
pub struct Task(RawTask);

impl Task {
    /// The task's id.
    pub fn id(&self) -> u64 {
        self.0.id().as_u64()
    }
}

/// Tasks a local queue holds (smaller under loom, so that the models reach a full ring).
pub const LOCAL_QUEUE_CAPACITY: usize = queue::CAPACITY;

/// A worker's local ring and the handle other workers steal from.
pub fn local_queue() -> (LocalQueue, Stealer) {
    let (local, stealer) = queue::new();
    (LocalQueue(local), Stealer(stealer))
}

/// The owner's end of a local ring (`queue::Local`).
pub struct LocalQueue(queue::Local);

impl LocalQueue {
    /// Pushes at the tail; a full ring moves half of itself and `task` to `overflow`.
    pub fn push_back(&mut self, task: Task, overflow: &Injector) {
        self.0.push_back(task.0, &overflow.0)
    }

    /// Pops the oldest task.
    pub fn pop(&mut self) -> Option<Task> {
        self.0.pop().map(Task)
    }

    /// Tasks queued.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no task is queued.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The thieves' end of a local ring (`queue::Stealer`).
#[derive(Clone)]
pub struct Stealer(queue::Stealer);

impl Stealer {
    /// Steals half into `dst` (the thief's own queue) and returns one task to run now, with
    /// the number taken in all.
    pub fn steal_into(&self, dst: &mut LocalQueue) -> Option<(Task, usize)> {
        self.0.steal_into(&mut dst.0).map(|(t, n)| (Task(t), n))
    }

    /// Whether the ring looks empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The global injector (`scheduler::inject::Inject`).
pub struct Injector(inject::Inject);

impl Injector {
    /// An empty injector.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Injector(inject::Inject::new())
    }

    /// Queues one task.
    pub fn push(&self, task: Task) {
        self.0.push(task.0)
    }

    /// Queues several tasks with one tail swap.
    pub fn push_batch(&self, tasks: Vec<Task>) {
        self.0.push_batch(tasks.into_iter().map(|t| t.0))
    }

    /// Tasks queued or being queued.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `len() == 0`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes the oldest task. `None` when empty, when another consumer holds the consuming
    /// end, or when the next task's producer has not finished linking it.
    pub fn pop(&self) -> Option<Task> {
        self.0.try_consume().and_then(|mut c| c.pop()).map(Task)
    }
}
