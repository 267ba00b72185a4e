//! `JoinSet`: a collection of tasks awaited in completion order.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use slab::Slab;

use super::{AbortHandle, Id, JoinError, JoinHandle};

/// A set of spawned tasks, joined in the order they finish. Dropping the set aborts every
/// task still in it.
///
/// Each task gets a small waker that puts its slot on a ready list, so `join_next` looks only
/// at finished tasks, never scans the whole set.
pub struct JoinSet<T> {
    tasks: Slab<Entry<T>>,
    ready: Arc<Ready>,
}

struct Entry<T> {
    handle: JoinHandle<T>,
    waker: Waker,
}

#[derive(Default)]
struct Ready {
    inner: Mutex<ReadyInner>,
}

#[derive(Default)]
struct ReadyInner {
    keys: Vec<usize>,
    waker: Option<Waker>,
}

struct EntryWaker {
    key: usize,
    ready: Arc<Ready>,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let waker = {
            let mut inner = self.ready.inner.lock().unwrap_or_else(|p| p.into_inner());
            inner.keys.push(self.key);
            inner.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            tasks: Slab::new(),
            ready: Arc::new(Ready::default()),
        }
    }

    /// Tasks in the set (finished ones not yet joined included).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True when the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Aborts every task in the set; they stay until joined.
    pub fn abort_all(&self) {
        for (_, entry) in self.tasks.iter() {
            entry.handle.abort();
        }
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime and adds it to the set.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(super::spawn(future))
    }

    /// Spawns `future` on `handle`'s runtime and adds it to the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &crate::runtime::Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Runs `f` on the current runtime's blocking pool and adds it to the set.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(crate::blocking::spawn_blocking(f))
    }

    /// Runs `f` on `handle`'s blocking pool and adds it to the set.
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &crate::runtime::Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(handle.spawn_blocking(f))
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns `future`, which need not be `Send`, on the `LocalSet` driven on this thread
    /// (see [`super::spawn_local`]) and adds it to the set.
    ///
    /// # Panics
    /// Outside a `LocalSet`.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(super::spawn_local(future))
    }

    /// Spawns `future` on `local` and adds it to the set.
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, future: F, local: &super::LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(local.spawn_local(future))
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let entry = self.tasks.vacant_entry();
        let key = entry.key();
        let waker = Waker::from(Arc::new(EntryWaker {
            key,
            ready: self.ready.clone(),
        }));
        entry.insert(Entry { handle, waker });
        // New tasks start on the ready list so the first join polls them once and registers
        // their wakers.
        self.ready
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys
            .push(key);
        abort
    }

    /// Waits for the next task to finish; `None` when the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// As [`JoinSet::join_next`], with the finished task's id.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// A task that has already finished, without waiting; `None` when none has (or the set
    /// is empty).
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id().map(|r| r.map(|(_, out)| out))
    }

    /// As [`JoinSet::try_join_next`], with the finished task's id.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        let mut cx = Context::from_waker(Waker::noop());
        // Unconstrained: a spent budget must not hide a finished task from a look that
        // cannot wait.
        match crate::coop::unconstrained(|| self.poll_join_next_with_id(&mut cx)) {
            Poll::Ready(out) => out,
            Poll::Pending => None,
        }
    }

    /// Polls for the next finished task.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|r| r.map(|(_, out)| out)))
    }

    /// Polls for the next finished task, with its id.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if self.tasks.is_empty() {
            return Poll::Ready(None);
        }
        loop {
            let key = {
                let mut inner = self.ready.inner.lock().unwrap_or_else(|p| p.into_inner());
                match inner.keys.pop() {
                    Some(key) => key,
                    None => {
                        inner.waker = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                }
            };
            let Some(entry) = self.tasks.get_mut(key) else {
                continue; // Stale wake of an already joined slot.
            };
            let mut entry_cx = Context::from_waker(&entry.waker);
            if let Poll::Ready(out) = Pin::new(&mut entry.handle).poll(&mut entry_cx) {
                let id = entry.handle.id();
                self.tasks.remove(key);
                return Poll::Ready(Some(out.map(|out| (id, out))));
            }
            if !crate::coop::has_budget_remaining() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// # Panics
    /// When a task failed: a task's panic is resumed here, and a cancelled task panics with
    /// its [`JoinError`]. The remaining tasks are aborted as the set drops.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(next) = self.join_next().await {
            match next {
                Ok(value) => out.push(value),
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Err(err) => panic!("weir::task::JoinSet::join_all: {err}"),
            }
        }
        out
    }

    /// Aborts every task and waits until all of them are gone.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }
}

impl<T> JoinSet<T> {
    /// Removes every task from the set without aborting it: each runs on, detached.
    pub fn detach_all(&mut self) {
        // Dropping a JoinHandle detaches its task.
        self.tasks.clear();
        self.ready
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys
            .clear();
    }
}

impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    /// Spawns each future on the current runtime.
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}

impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    /// Spawns each future on the current runtime.
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}
