//! `JoinSet`: a collection of tasks awaited in completion order.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use slab::Slab;

use super::{JoinError, JoinHandle};

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
    pub fn spawn<F>(&mut self, future: F) -> super::Id
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(super::spawn(future))
    }

    /// Spawns `future` on `handle`'s runtime and adds it to the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &crate::runtime::Handle) -> super::Id
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> super::Id {
        let id = handle.id();
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
        id
    }

    /// Waits for the next task to finish; `None` when the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Polls for the next finished task.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
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
                self.tasks.remove(key);
                return Poll::Ready(Some(out));
            }
            if !crate::coop::has_budget_remaining() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }

    /// Aborts every task and waits until all of them are gone.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
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
