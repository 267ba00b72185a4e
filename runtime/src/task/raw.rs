//! The raw task: one allocation holding header, future-or-output and join waker.
//!
//! ```text
//! Cell<F> (#[repr(C)], one Box)
//! ├── Header     state word, vtable, id, scheduler handle, owned-list key
//! ├── stage      Running(F) | Finished(Result<F::Output, JoinError>) | Consumed
//! └── join_waker Option<Waker>, guarded by the JOIN_WAKER bit (see `state.rs`)
//! ```
//!
//! A `Waker` is a pointer to the header plus one reference count; the vtable is static per
//! future type, so waking allocates nothing.

use std::any::Any;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use super::state::{State, ToIdle, ToNotified, ToRunning};
use super::{Id, JoinError};
use crate::coop;
use crate::scheduler;
use crate::scheduler::inject::Link;
use crate::sync::UnsafeCell;
use weir_probes::{context as probe_cx, probe, Event};

/// Static per-future-type operations.
pub(crate) struct Vtable {
    poll: unsafe fn(NonNull<Header>),
    dealloc: unsafe fn(NonNull<Header>),
    /// Writes `Poll<Result<T, JoinError>>` to `dst` if the output is ready, else registers the
    /// waker.
    try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    drop_join_handle: unsafe fn(NonNull<Header>),
    shutdown: unsafe fn(NonNull<Header>),
}

#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    vtable: &'static Vtable,
    pub(crate) id: Id,
    pub(crate) scheduler: scheduler::Handle,
    /// Key in the owned-tasks list; written once under the list's lock before the task is
    /// shared, read under the same lock.
    pub(crate) owned_key: UnsafeCell<usize>,
    /// Link for the injector (a task queued from outside a worker costs no allocation).
    pub(crate) queue_link: Link,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
struct Cell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
    join_waker: UnsafeCell<Option<Waker>>,
}

/// A counted reference to a task: the type queues and lists hold.
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: the task's shared parts (state, header) are synchronised by the state word; the
// stage is only touched by the holder of RUNNING or, after completion, by the join handle,
// and `spawn` requires `F: Send, F::Output: Send`.
unsafe impl Send for RawTask {}
// SAFETY: as above; `&RawTask` only reaches the header.
unsafe impl Sync for RawTask {}

impl RawTask {
    /// Allocates a task. The caller receives the `Notified`, the `JoinHandle`'s reference and
    /// (when `owned`) the owned list's reference, as `State::new` counts them.
    pub(crate) fn new<F>(future: F, id: Id, scheduler: scheduler::Handle, owned: bool) -> Self
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // SAFETY: the future and its output are Send: any thread may poll or drop them.
        unsafe { Self::new_unchecked(future, id, scheduler, owned) }
    }

    /// As [`RawTask::new`], for a future that need not be `Send` (a `LocalSet`'s task).
    ///
    /// # Safety
    /// The future must be polled and dropped only on the thread that owns `scheduler` (a
    /// `LocalSet`'s queue and owned list, both drained on that thread), and the output read
    /// or dropped there too (its `JoinHandle` is `!Send` when the output is).
    pub(crate) unsafe fn new_unchecked<F>(
        future: F,
        id: Id,
        scheduler: scheduler::Handle,
        owned: bool,
    ) -> Self
    where
        F: Future + 'static,
    {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(owned),
                vtable: vtable::<F>(),
                id,
                scheduler,
                owned_key: UnsafeCell::new(usize::MAX),
                queue_link: Link::new(),
            },
            stage: UnsafeCell::new(Stage::Running(future)),
            join_waker: UnsafeCell::new(None),
        });
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }

    /// Takes over a reference the caller already counted.
    ///
    /// # Safety
    /// `ptr` points to a live task and the caller gives up one counted reference.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        RawTask { ptr }
    }

    /// Gives up this counted reference as a pointer (see `from_raw`).
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        ManuallyDrop::new(self).ptr
    }

    /// Duplicates the pointer without counting. The caller must count it (e.g. the state
    /// transition that created the reference did).
    pub(crate) fn clone_uncounted(&self) -> Self {
        RawTask { ptr: self.ptr }
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a RawTask holds a counted reference, so the allocation is live.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn ptr(&self) -> NonNull<Header> {
        self.ptr
    }

    pub(crate) fn id(&self) -> Id {
        self.header().id
    }

    /// Polls the task, consuming this (queue) reference.
    pub(crate) fn poll(self) {
        let ptr = ManuallyDrop::new(self).ptr;
        // SAFETY: we hand our counted reference to `poll`, which accounts for it.
        unsafe { (ptr.as_ref().vtable.poll)(ptr) }
    }

    /// Cancels the task at runtime shutdown, consuming this (owned-list) reference.
    pub(crate) fn shutdown(self) {
        let ptr = ManuallyDrop::new(self).ptr;
        // SAFETY: we hand our counted reference to `shutdown`, which accounts for it.
        unsafe { (ptr.as_ref().vtable.shutdown)(ptr) }
    }

    /// # Safety
    /// `dst` must point to a `Poll<Result<T, JoinError>>` with `T` the task's output type, and
    /// the caller must be the task's join handle.
    pub(crate) unsafe fn try_read_output(&self, dst: *mut (), waker: &Waker) {
        // SAFETY: forwarded from the caller's contract.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    /// Drops the join handle's interest and its reference.
    pub(crate) fn drop_join_handle(self) {
        let ptr = ManuallyDrop::new(self).ptr;
        // SAFETY: the join handle gives up its counted reference.
        unsafe { (ptr.as_ref().vtable.drop_join_handle)(ptr) }
    }
}

impl Drop for RawTask {
    fn drop(&mut self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference; nobody else can reach the task.
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }
}

fn vtable<F>() -> &'static Vtable
where
    F: Future + 'static,
{
    &Vtable {
        poll: poll::<F>,
        dealloc: dealloc::<F>,
        try_read_output: try_read_output::<F>,
        drop_join_handle: drop_join_handle::<F>,
        shutdown: shutdown::<F>,
    }
}

/// # Safety
/// `ptr` must be the header of a `Cell<F>`.
unsafe fn cell<'a, F: Future>(ptr: NonNull<Header>) -> &'a Cell<F> {
    // SAFETY: `Cell` is repr(C) with the header first, so the pointers coincide; the caller
    // guarantees the type.
    unsafe { ptr.cast::<Cell<F>>().as_ref() }
}

unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // Under loom, write the task's cells as the freeing thread: loom does not track frees,
    // so this is what reports a free that is not ordered after every other owner's last use
    // (a too-weak ordering on the final reference drop).
    #[cfg(loom)]
    {
        // SAFETY: the last reference is gone: nobody else reaches the cell.
        let cell = unsafe { cell::<F>(ptr) };
        cell.stage.with_mut(|_| ());
        cell.join_waker.with_mut(|_| ());
    }
    // SAFETY: the last reference is gone; the Box came from `RawTask::new` with this type.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F>>().as_ptr()) });
}

unsafe fn poll<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the vtable is `F`'s, so the cell is a `Cell<F>`.
    let cell = unsafe { cell::<F>(ptr) };
    let header = &cell.header;
    match header.state.transition_to_running() {
        ToRunning::Poll => {}
        ToRunning::Cancel => {
            cancel_and_complete(cell, 1);
            return;
        }
        ToRunning::Skip => return,
        ToRunning::Dealloc => {
            // SAFETY: the transition dropped the last reference.
            unsafe { dealloc::<F>(ptr) };
            return;
        }
    }

    let waker = ManuallyDrop::new(borrowed_waker(ptr));
    let mut cx = Context::from_waker(&waker);
    let prev_task = probe_cx::set_current_task(header.id.0);
    probe!(Event::PollStart);
    let polled = panic::catch_unwind(AssertUnwindSafe(|| {
        // A future that panics is dropped during the unwind, as the panic leaves the poll:
        // its destructors see `thread::panicking()`, as they would in a plain call stack.
        let drop_on_unwind = DropFutureOnUnwind(cell);
        let polled = cell.stage.with_mut(|stage| {
            // SAFETY: RUNNING is ours, which grants exclusive access to the stage; the cell is
            // heap-allocated and never moved, so pinning the future in place is sound.
            let Stage::Running(future) = (unsafe { &mut *stage }) else {
                unreachable!("a running task holds its future")
            };
            let future = unsafe { Pin::new_unchecked(future) };
            coop::with_budget(|| future.poll(&mut cx))
        });
        std::mem::forget(drop_on_unwind);
        polled
    }));
    probe!(Event::PollEnd {
        complete: !matches!(polled, Ok(Poll::Pending))
    });
    probe_cx::set_current_task(prev_task);

    match polled {
        Ok(Poll::Pending) => match header.state.transition_to_idle() {
            ToIdle::Idle => {}
            ToIdle::Resubmit => {
                // SAFETY: the transition kept the poller's reference for the queue.
                let task = unsafe { RawTask::from_raw(ptr) };
                header.scheduler.schedule_yield(task);
            }
            // SAFETY: the transition dropped the last reference.
            ToIdle::Dealloc => unsafe { dealloc::<F>(ptr) },
            ToIdle::Cancel => cancel_and_complete(cell, 1),
        },
        Ok(Poll::Ready(output)) => {
            // The future goes first, on its own: a panic in its Drop is the task's panic
            // (and must not escape to the worker, which would leave the task unfinished).
            let result = match drop_future_catching(cell) {
                None => Ok(output),
                Some(payload) => {
                    // The output is never read; a panic in its own Drop adds nothing.
                    let _ = with_task_id(header.id, || {
                        panic::catch_unwind(AssertUnwindSafe(|| drop(output)))
                    });
                    Err(JoinError::panicked(header.id, payload))
                }
            };
            set_stage(cell, Stage::Finished(result));
            complete(cell, 1);
        }
        Err(payload) => {
            // `DropFutureOnUnwind` already dropped the future during the unwind.
            set_stage(
                cell,
                Stage::Finished(Err(JoinError::panicked(header.id, payload))),
            );
            complete(cell, 1);
        }
    }
}

/// Drops the future if the poll unwinds (see `poll`).
struct DropFutureOnUnwind<'a, F: Future>(&'a Cell<F>);

impl<F: Future> Drop for DropFutureOnUnwind<'_, F> {
    fn drop(&mut self) {
        // Still inside the poll: the task id is set. RUNNING is ours (exclusive stage).
        set_stage(self.0, Stage::Consumed);
    }
}

/// Runs `f` (a destructor of the task's future or output) as the task `id`, so that
/// `task::current_id()` and probes name the task there too, wherever the drop happens.
fn with_task_id<R>(id: Id, f: impl FnOnce() -> R) -> R {
    struct Restore(u64);
    impl Drop for Restore {
        fn drop(&mut self) {
            probe_cx::set_current_task(self.0);
        }
    }
    let _restore = Restore(probe_cx::set_current_task(id.0));
    f()
}

/// Replaces the stage, dropping the old one inside `catch_unwind` and as the task. Returns the
/// payload of a panic raised by that drop.
fn replace_stage_catching<F: Future>(
    cell: &Cell<F>,
    next: Stage<F>,
) -> Option<Box<dyn Any + Send>> {
    with_task_id(cell.header.id, || {
        panic::catch_unwind(AssertUnwindSafe(|| set_stage(cell, next))).err()
    })
}

fn drop_future_catching<F: Future>(cell: &Cell<F>) -> Option<Box<dyn Any + Send>> {
    replace_stage_catching(cell, Stage::Consumed)
}

fn set_stage<F: Future>(cell: &Cell<F>, next: Stage<F>) {
    // SAFETY: only called by the holder of RUNNING (exclusive access to the stage).
    cell.stage.with_mut(|stage| unsafe { *stage = next });
}

/// Drops the future of a task this thread holds RUNNING for and completes it as cancelled.
fn cancel_and_complete<F: Future>(cell: &Cell<F>, refs: usize) {
    let id = cell.header.id;
    let result = match drop_future_catching(cell) {
        None => JoinError::cancelled(id),
        Some(payload) => JoinError::panicked(id, payload),
    };
    set_stage(cell, Stage::Finished(Err(result)));
    complete(cell, refs);
}

/// Leaves the owned list, publishes the finished stage, wakes the join handle and drops
/// `refs` references held by the caller.
fn complete<F: Future>(cell: &Cell<F>, refs: usize) {
    let header = &cell.header;
    // Leave the owned list before the completion is published: a joiner that sees the output
    // must no longer count this task as alive (`RuntimeMetrics::num_alive_tasks`). Shutdown
    // racing with this finds the task either listed (and only flags it, as it is running) or
    // gone; both are fine.
    let listed = match header.scheduler.release(header) {
        Some(owned_ref) => {
            // The owned list's reference is counted in `refs` below; forget the handle.
            std::mem::forget(owned_ref);
            true
        }
        None => false,
    };
    let snapshot = header.state.transition_to_complete();
    if !snapshot.is_join_interested() {
        // Nobody will read the output: drop it here (a panic in its Drop is contained).
        let _ = replace_stage_catching(cell, Stage::Consumed);
    } else if snapshot.is_join_waker_set() {
        // SAFETY: JOIN_WAKER is set and the task is complete, so the slot is the runtime's to
        // read and the join handle will not write it any more.
        cell.join_waker.with(|w| {
            if let Some(waker) = unsafe { &*w } {
                waker.wake_by_ref();
            }
        });
    }
    probe!(Event::TaskComplete { task: header.id.0 });
    let refs = refs + usize::from(listed);
    if header.state.transition_to_terminal(refs) {
        // SAFETY: that was the last reference.
        unsafe { dealloc::<F>(NonNull::from(header)) };
    }
}

unsafe fn shutdown<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the vtable is `F`'s.
    let cell = unsafe { cell::<F>(ptr) };
    if cell.header.state.transition_to_shutdown() {
        cancel_and_complete(cell, 1);
    } else if cell.header.state.ref_dec() {
        // SAFETY: the last reference is gone.
        unsafe { dealloc::<F>(ptr) };
    }
}

unsafe fn try_read_output<F: Future>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: the vtable is `F`'s; the caller is the join handle and `dst` has the right type.
    let cell = unsafe { cell::<F>(ptr) };
    let dst = dst.cast::<Poll<Result<F::Output, JoinError>>>();
    if can_read_output(cell, waker) {
        // SAFETY: the task is complete and JOIN_INTEREST is ours: the stage is ours to take.
        let stage = cell
            .stage
            .with_mut(|stage| unsafe { std::mem::replace(&mut *stage, Stage::Consumed) });
        let Stage::Finished(output) = stage else {
            panic!("weir: JoinHandle polled after it returned the output");
        };
        // SAFETY: `dst` is valid for writes of this type (caller contract).
        unsafe { *dst = Poll::Ready(output) };
    }
}

/// The join-waker handshake: true when the output can be read now; otherwise `waker` is
/// registered and will be woken at completion.
fn can_read_output<F: Future>(cell: &Cell<F>, waker: &Waker) -> bool {
    let state = &cell.header.state;
    let snapshot = state.load();
    if snapshot.is_complete() {
        return true;
    }
    if snapshot.is_join_waker_set() {
        // SAFETY: the slot is the runtime's while JOIN_WAKER is set, but the runtime only
        // reads it; reading it here too is a shared read.
        let same = cell
            .join_waker
            .with(|w| unsafe { (*w).as_ref() }.is_some_and(|w| w.will_wake(waker)));
        if same {
            return false;
        }
        if state.unset_join_waker().is_err() {
            return true;
        }
    }
    // SAFETY: JOIN_WAKER is clear, so the join handle owns the slot.
    cell.join_waker
        .with_mut(|w| unsafe { *w = Some(waker.clone()) });
    if state.set_join_waker().is_err() {
        // Completed meanwhile: the slot stays ours; clear it and read.
        // SAFETY: as above, the slot is still the handle's.
        cell.join_waker.with_mut(|w| unsafe { *w = None });
        return true;
    }
    false
}

unsafe fn drop_join_handle<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the vtable is `F`'s.
    let cell = unsafe { cell::<F>(ptr) };
    match cell.header.state.unset_join_interested() {
        Err(()) => {
            // Complete: the output is ours to drop. A panic in its Drop must not unwind out of
            // the handle's Drop while the reference is still held.
            let _ = replace_stage_catching(cell, Stage::Consumed);
        }
        Ok(true) => {
            // SAFETY: the transition handed the waker slot back to us.
            cell.join_waker.with_mut(|w| unsafe { *w = None });
        }
        Ok(false) => {}
    }
    if cell.header.state.ref_dec() {
        // SAFETY: the last reference is gone.
        unsafe { dealloc::<F>(ptr) };
    }
}

// ----- wakers -----

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

/// A waker for the poll, borrowing the poller's reference (the caller must not drop it).
fn borrowed_waker(ptr: NonNull<Header>) -> Waker {
    // SAFETY: the vtable functions uphold the RawWaker contract for a task header pointer.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &WAKER_VTABLE)) }
}

unsafe fn waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` is a live task header (the waker holds a reference).
    let header = unsafe { &*(data as *const Header) };
    header.state.ref_inc();
    RawWaker::new(data, &WAKER_VTABLE)
}

unsafe fn waker_wake(data: *const ()) {
    // SAFETY: the waker owns one reference to this live task.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    let header = unsafe { ptr.as_ref() };
    probe!(Event::TaskWake { task: header.id.0 });
    match header.state.transition_to_notified_by_val() {
        ToNotified::Nothing => {}
        // SAFETY: the waker's reference became the queue's.
        ToNotified::Submit => header.scheduler.schedule(unsafe { RawTask::from_raw(ptr) }),
        // SAFETY: the last reference is gone.
        ToNotified::Dealloc => unsafe { (header.vtable.dealloc)(ptr) },
    }
}

unsafe fn waker_wake_by_ref(data: *const ()) {
    // SAFETY: the waker holds a reference to this live task.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    let header = unsafe { ptr.as_ref() };
    probe!(Event::TaskWake { task: header.id.0 });
    if header.state.transition_to_notified_by_ref() == ToNotified::Submit {
        // SAFETY: the transition counted a new reference for the queue.
        header.scheduler.schedule(unsafe { RawTask::from_raw(ptr) });
    }
}

unsafe fn waker_drop(data: *const ()) {
    // SAFETY: the waker owns one reference; `RawTask`'s Drop releases it.
    drop(unsafe { RawTask::from_raw(NonNull::new_unchecked(data as *mut Header)) });
}
