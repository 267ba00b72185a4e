//! A model of crossbeam-deque for the loom builds (`--cfg loom` only).
//!
//! crossbeam-deque synchronises with std atomics, which loom cannot see: a task handed from one
//! worker to another through it would carry no happens-before edge in a model, and loom would
//! report every later access to the task as a race. This module has the subset of
//! crossbeam-deque's API that the scheduler uses, with the same observable behaviour (each
//! operation takes effect atomically; FIFO order; a batch steal moves about half of the queue
//! and returns its first task), built on loom's `Mutex` so that loom sees the hand-offs.
//!
//! So the models check the protocol around the deques (LIFO slot, spilling to the local queue,
//! waking a sleeper, stealing, parking), not crossbeam-deque's internals: those are checked by
//! crossbeam's own tests. `Steal::Retry` never happens here (it is crossbeam's lost race).

use std::collections::VecDeque;

use super::{Arc, Mutex, MutexGuard};

/// Most tasks moved by one batch steal, as in crossbeam-deque.
const MAX_BATCH: usize = 32;

/// The result of a steal.
pub(crate) enum Steal<T> {
    Empty,
    Success(T),
    #[allow(dead_code)]
    Retry,
}

fn lock<T>(m: &Mutex<VecDeque<T>>) -> MutexGuard<'_, VecDeque<T>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Moves about half of `src` (at most `MAX_BATCH`) to the back of `dest`, returning the first.
fn steal_half<T>(src: &Mutex<VecDeque<T>>, dest: &Worker<T>) -> Steal<T> {
    let mut batch = {
        let mut src = lock(src);
        let n = src.len().div_ceil(2).min(MAX_BATCH);
        src.drain(..n).collect::<VecDeque<T>>()
    };
    let Some(first) = batch.pop_front() else {
        return Steal::Empty;
    };
    if !batch.is_empty() {
        lock(&dest.queue).extend(batch);
    }
    Steal::Success(first)
}

/// The owner's end of a FIFO work queue.
pub(crate) struct Worker<T> {
    queue: Arc<Mutex<VecDeque<T>>>,
}

impl<T> Worker<T> {
    pub(crate) fn new_fifo() -> Self {
        Worker {
            queue: Arc::new(Mutex::new(VecDeque::new())),
        }
    }

    pub(crate) fn stealer(&self) -> Stealer<T> {
        Stealer {
            queue: self.queue.clone(),
        }
    }

    pub(crate) fn push(&self, task: T) {
        lock(&self.queue).push_back(task);
    }

    pub(crate) fn pop(&self) -> Option<T> {
        lock(&self.queue).pop_front()
    }

    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.queue).is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.queue).len()
    }
}

/// Another worker's end of a work queue.
pub(crate) struct Stealer<T> {
    queue: Arc<Mutex<VecDeque<T>>>,
}

impl<T> Stealer<T> {
    pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
        steal_half(&self.queue, dest)
    }

    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.queue).is_empty()
    }
}

/// The global queue.
pub(crate) struct Injector<T> {
    queue: Mutex<VecDeque<T>>,
}

impl<T> Injector<T> {
    pub(crate) fn new() -> Self {
        Injector {
            queue: Mutex::new(VecDeque::new()),
        }
    }

    pub(crate) fn push(&self, task: T) {
        lock(&self.queue).push_back(task);
    }

    pub(crate) fn steal(&self) -> Steal<T> {
        match lock(&self.queue).pop_front() {
            Some(task) => Steal::Success(task),
            None => Steal::Empty,
        }
    }

    pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
        steal_half(&self.queue, dest)
    }

    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.queue).is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.queue).len()
    }
}
