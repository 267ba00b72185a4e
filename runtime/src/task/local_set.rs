//! `LocalSet` and `spawn_local`: tasks whose futures need not be `Send`, run on one thread.
//!
//! The set is driven by whoever awaits it (or [`LocalSet::run_until`]): each poll of the driver
//! runs the set's woken tasks, a bounded batch at a time, on the driver's thread. The tasks are
//! ordinary weir tasks (one allocation, the same state word, `JoinHandle`, `JoinError`, abort);
//! only their queue and their owned list are the set's (`scheduler/local.rs`).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::JoinHandle;
use crate::scheduler::local::Shared;
use crate::sync::Arc;

/// Local tasks polled per turn of the driver before it yields to the runtime (a runtime's
/// other tasks and IO get a turn even while the set is busy).
const TASKS_PER_TURN: usize = 61;

thread_local! {
    /// The set being driven (or entered) on this thread: where `spawn_local` puts tasks.
    static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

/// A set of tasks that run on the thread that drives the set, so their futures need not be
/// `Send` (an `Rc`, a `RefCell` held across an `.await`).
///
/// Drive it by awaiting [`LocalSet::run_until`] (or the set itself, which completes once all
/// its tasks have), or with [`LocalSet::block_on`]. Inside, [`spawn_local`] adds tasks. Dropping
/// the set drops its unfinished tasks; their handles then report them cancelled.
///
/// ```
/// use std::rc::Rc;
/// let rt = weir_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// let local = weir_runtime::task::LocalSet::new();
/// let shared = Rc::new(5);
/// let out = local.block_on(&rt, async move {
///     weir_runtime::task::spawn_local(async move { *shared + 1 }).await.unwrap()
/// });
/// assert_eq!(out, 6);
/// ```
pub struct LocalSet {
    shared: Arc<Shared>,
    /// `!Send`: the tasks belong to this thread.
    _not_send: PhantomData<*const ()>,
}

impl Default for LocalSet {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalSet {
    /// An empty set, owned by this thread.
    pub fn new() -> LocalSet {
        LocalSet {
            shared: Shared::new(),
            _not_send: PhantomData,
        }
    }

    /// Adds a task to the set; it runs when the set is driven.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Shared::spawn(&self.shared, future, std::panic::Location::caller())
    }

    /// Runs `future` to completion on `rt`, driving the set's tasks meanwhile.
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &crate::Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }

    /// Drives the set's tasks until `future` completes (then stops, leaving unfinished tasks
    /// in the set for a later drive).
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        RunUntil { set: self, future }.await
    }

    /// Makes this set the target of [`spawn_local`] on this thread until the guard drops.
    pub fn enter(&self) -> LocalEnterGuard<'_> {
        LocalEnterGuard {
            prev: enter(&self.shared),
            _set: PhantomData,
        }
    }

    /// Polls up to a turn's worth of woken tasks. True when more are queued.
    fn run_tasks(&self, cx: &mut Context<'_>) -> bool {
        for _ in 0..TASKS_PER_TURN {
            match self.shared.next_task(cx.waker()) {
                Some(task) => task.poll(),
                None => return false,
            }
        }
        self.shared.has_queued()
    }
}

/// Sets `shared` as this thread's current set; returns the previous one.
fn enter(shared: &Arc<Shared>) -> Option<Arc<Shared>> {
    CURRENT.with(|c| c.borrow_mut().replace(shared.clone()))
}

fn leave(prev: Option<Arc<Shared>>) {
    let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
}

/// Keeps a [`LocalSet`] current for [`spawn_local`]; see [`LocalSet::enter`].
#[must_use = "the set stops being current when the guard is dropped"]
pub struct LocalEnterGuard<'a> {
    prev: Option<Arc<Shared>>,
    _set: PhantomData<&'a LocalSet>,
}

impl Drop for LocalEnterGuard<'_> {
    fn drop(&mut self) {
        leave(self.prev.take());
    }
}

impl fmt::Debug for LocalEnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalEnterGuard { .. }")
    }
}

struct RunUntil<'a, F> {
    set: &'a LocalSet,
    future: F,
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned and never moved; `set` is a plain reference.
        let this = unsafe { self.get_unchecked_mut() };
        let set = this.set;
        let _current = set.enter();
        // SAFETY: see above.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(out) = future.poll(cx) {
            return Poll::Ready(out);
        }
        if set.run_tasks(cx) {
            // More tasks are queued: come back after the runtime's other work.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

/// Awaiting the set runs it until every task in it has finished.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let set = &*self;
        let _current = set.enter();
        if set.run_tasks(cx) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if set.shared.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // Tasks dropped now may spawn_local in their destructors: into this set, refused.
        let prev = enter(&self.shared);
        self.shared.close();
        leave(prev);
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("tasks", &self.shared.owned.len())
            .finish()
    }
}

/// Spawns a task that need not be `Send` on the [`LocalSet`] being driven on this thread.
///
/// # Panics
/// Outside a `LocalSet` (inside `run_until`, `block_on`, an awaited set, or `enter`).
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let location = std::panic::Location::caller();
    let shared = CURRENT.try_with(|c| c.borrow().clone()).ok().flatten();
    match shared {
        Some(shared) => Shared::spawn(&shared, future, location),
        None => panic!(
            "weir::task::spawn_local called outside a LocalSet: drive one with \
             LocalSet::run_until or LocalSet::block_on, or use #[weir::main(flavor = \"local\")]"
        ),
    }
}
