//! `JoinHandle`: the owned permission to await (or abort) a task.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::raw::RawTask;
use super::{Id, JoinError};
use crate::coop;

/// An owned permission to join a task: awaiting it yields the task's output, or a
/// [`JoinError`] when the task was cancelled or panicked. Dropping it detaches the task.
pub struct JoinHandle<T> {
    raw: Option<RawTask>,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves the task's output (`T: Send`) across threads; all shared
// access goes through the task's state word.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only allows `abort`, `is_finished` and `id`, which touch the state word.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(raw: RawTask) -> Self {
        Self {
            raw: Some(raw),
            _output: PhantomData,
        }
    }

    fn raw(&self) -> &RawTask {
        self.raw
            .as_ref()
            .expect("weir: the JoinHandle's task is present until drop")
    }

    /// Cancels the task. A task that is running finishes its current poll first; awaiting the
    /// handle then returns a cancelled [`JoinError`] (unless the task completed before).
    pub fn abort(&self) {
        abort_raw(self.raw());
    }

    /// True once the task has finished (completed, cancelled or panicked).
    pub fn is_finished(&self) -> bool {
        self.raw().header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.raw().id()
    }

    /// A handle that can abort the task without owning its output; it does not keep the
    /// task from being detached when this handle drops.
    pub fn abort_handle(&self) -> AbortHandle {
        let raw = self.raw();
        raw.header().state.ref_inc();
        AbortHandle {
            raw: raw.clone_uncounted(),
        }
    }
}

/// Aborts a task without owning its output (tokio's `AbortHandle`). Cloning it is cheap;
/// dropping it does nothing to the task.
pub struct AbortHandle {
    /// A counted reference: keeps the task's header alive, never reads its output.
    raw: RawTask,
}

impl AbortHandle {
    /// Cancels the task, as [`JoinHandle::abort`].
    pub fn abort(&self) {
        abort_raw(&self.raw);
    }

    /// True once the task has finished (completed, cancelled or panicked).
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.raw.id()
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        self.raw.header().state.ref_inc();
        AbortHandle {
            raw: self.raw.clone_uncounted(),
        }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

fn abort_raw(raw: &RawTask) {
    if raw.header().state.transition_to_notified_and_cancel() {
        // The transition counted a reference for the queue.
        raw.header().scheduler.schedule(raw.clone_uncounted());
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let restore = std::task::ready!(coop::poll_proceed(cx));
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: `out` has the task's output type and we are its join handle.
        unsafe {
            self.raw().try_read_output(
                &mut out as *mut Poll<Result<T, JoinError>> as *mut (),
                cx.waker(),
            )
        };
        if out.is_ready() {
            restore.made_progress();
        }
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(raw) = self.raw.take() {
            raw.drop_join_handle();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
