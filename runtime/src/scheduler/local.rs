//! The scheduler side of a `LocalSet` (`task/local_set.rs`): a queue of woken tasks that only
//! the set's own thread runs, and the set's owned list.
//!
//! Wakers may fire on any thread (a timer, a socket, another task), so the queue is a mutex
//! around a `VecDeque` plus the waker of whoever drives the set: no lock-free protocol. The
//! set's tasks are never in a runtime's owned list: their futures may not be `Send`, so only
//! the set (on its thread) drops them.

use std::collections::VecDeque;
use std::future::Future;
use std::task::Waker;

use super::Handle;
use crate::sync::{Arc, Mutex, MutexGuard};
use crate::task::owned::OwnedTasks;
use crate::task::raw::RawTask;
use crate::task::{Id, JoinHandle};
use weir_probes::Event;

pub(crate) struct Shared {
    queue: Mutex<Queue>,
    pub(crate) owned: OwnedTasks,
    owner: std::thread::ThreadId,
}

struct Queue {
    tasks: VecDeque<RawTask>,
    /// Woken when a task is queued: the task (or `block_on`) that drives the set.
    driver: Option<Waker>,
    closed: bool,
}

impl Shared {
    pub(crate) fn new() -> Arc<Shared> {
        Arc::new(Shared {
            queue: Mutex::new(Queue {
                tasks: VecDeque::new(),
                driver: None,
                closed: false,
            }),
            owned: OwnedTasks::new(1),
            owner: std::thread::current().id(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn is_owner_thread(&self) -> bool {
        std::thread::current().id() == self.owner
    }

    /// Spawns a task that runs on this set's thread only.
    ///
    /// The caller must be on the owner thread (`LocalSet` is `!Send`, and `spawn_local` finds
    /// the set through a thread-local).
    pub(crate) fn spawn<F>(
        this: &Arc<Self>,
        future: F,
        location: &'static std::panic::Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        debug_assert!(this.is_owner_thread());
        let id = Id::next();
        // SAFETY: the task is polled only by `run`, and dropped only by `close` or by a
        // completion inside `run`, all on the owner thread; its join handle is `!Send` when
        // the output is.
        let task = unsafe { RawTask::new_unchecked(future, id, Handle::Local(this.clone()), true) };
        let notified = task.clone_uncounted();
        let join = JoinHandle::new(task.clone_uncounted());
        weir_probes::probe!(Event::TaskSpawn {
            task: id.0,
            location
        });
        match this.owned.insert(task) {
            Ok(()) => this.schedule(notified),
            Err(task) => {
                // The set is gone: the task never runs and reports itself cancelled.
                task.shutdown();
                drop(notified);
            }
        }
        join
    }

    /// Queues a woken task (from any thread) and wakes the set's driver.
    pub(crate) fn schedule(&self, task: RawTask) {
        let mut queue = self.lock();
        if queue.closed {
            drop(queue);
            // Only a queue reference: the set already shut every task down.
            drop(task);
            return;
        }
        queue.tasks.push_back(task);
        let driver = queue.driver.take();
        drop(queue);
        if let Some(waker) = driver {
            waker.wake();
        }
    }

    /// The next queued task, or `None` after registering `waker` for the next one.
    pub(crate) fn next_task(&self, waker: &Waker) -> Option<RawTask> {
        let mut queue = self.lock();
        match queue.tasks.pop_front() {
            Some(task) => Some(task),
            None => {
                match &queue.driver {
                    Some(w) if w.will_wake(waker) => {}
                    _ => queue.driver = Some(waker.clone()),
                }
                None
            }
        }
    }

    pub(crate) fn has_queued(&self) -> bool {
        !self.lock().tasks.is_empty()
    }

    /// Whether every task has finished.
    pub(crate) fn is_empty(&self) -> bool {
        self.owned.len() == 0
    }

    /// Drops every task (on the owner thread) and refuses new ones.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.owned.close_and_shutdown_all();
        let queued: Vec<RawTask> = self.lock().tasks.drain(..).collect();
        drop(queued);
        drop(self.lock().driver.take());
    }
}
