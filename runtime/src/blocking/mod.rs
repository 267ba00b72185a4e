//! The blocking pool: threads for closures that would block a worker.
//!
//! `spawn_blocking` queues a one-shot task; an idle pool thread takes it, or a new thread is
//! started while fewer than `max_blocking_threads` exist (beyond that, closures wait in the
//! queue). Idle threads leave after `thread_keep_alive`. The pool's queue is a mutex-guarded
//! `VecDeque`: blocking calls are expensive by nature, so the lock is not a hot path.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use crate::runtime::builder::Config;
use crate::runtime::context;
use crate::scheduler;
use crate::sync::{Arc, Condvar, Mutex, MutexGuard};
use crate::task::raw::RawTask;
use crate::task::{Id, JoinHandle};

/// Runs `f` on the current runtime's blocking pool and returns a handle to its result. A
/// panic in `f` comes back as a [`crate::task::JoinError`].
///
/// # Panics
/// When called outside a weir runtime (use `Handle::spawn_blocking` there).
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match context::with_handle(|h| spawn_on(h, f)) {
        Ok(handle) => handle,
        Err(err) => panic!("weir::task::spawn_blocking: {err}"),
    }
}

pub(crate) fn spawn_on<F, R>(handle: &scheduler::Handle, f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let task = RawTask::new(BlockingTask(Some(f)), Id::next(), handle.clone(), false);
    // Two counted references: the queue's (`task`) and the handle's.
    let join = JoinHandle::new(task.clone_uncounted());
    if let Err(task) = handle.blocking().push(task) {
        // Shut down: the closure never runs and the handle reports the task cancelled.
        task.shutdown();
    }
    join
}

/// A closure as a future that completes in its first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("weir: a blocking task is polled exactly once");
        Poll::Ready(run_as_blocking(f))
    }
}

/// Runs `f` marked as a blocking closure of the current task (restored on unwind too), so
/// that it may block, `Handle::block_on` included.
pub(crate) fn run_as_blocking<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(u64);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = BLOCKING_TASK.try_with(|t| t.set(self.0));
        }
    }
    let current = weir_probes::context::current_task();
    let _restore = Restore(BLOCKING_TASK.with(|t| t.replace(current)));
    f()
}

thread_local! {
    /// The id of the blocking closure running on this thread (`NO_TASK` if none).
    static BLOCKING_TASK: std::cell::Cell<u64> =
        const { std::cell::Cell::new(weir_probes::context::NO_TASK) };
}

/// True when the code running is a blocking closure itself: it has a task id like any task,
/// but blocking (`Runtime::block_on` included) is what its thread is for. Tasks polled by a
/// runtime that the closure drives are not blocking closures.
pub(crate) fn in_blocking_closure() -> bool {
    let current = weir_probes::context::current_task();
    current != weir_probes::context::NO_TASK
        && BLOCKING_TASK.try_with(|t| t.get()).ok() == Some(current)
}

pub(crate) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    work: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    config: Config,
}

struct State {
    queue: VecDeque<RawTask>,
    threads: Vec<thread::JoinHandle<()>>,
    num_threads: usize,
    num_idle: usize,
    /// Idle threads already signalled for queued work (so one push wakes one thread).
    num_notified: usize,
    /// Closures queued or running; a paused clock does not auto-advance past them.
    busy: usize,
    shutdown: bool,
}

impl Pool {
    pub(crate) fn new(config: &Config) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: Vec::new(),
                    num_threads: 0,
                    num_idle: 0,
                    num_notified: 0,
                    busy: 0,
                    shutdown: false,
                }),
                work: Condvar::new(),
                max_threads: config.max_blocking_threads,
                keep_alive: config.thread_keep_alive,
                config: config.clone(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock()
    }

    pub(crate) fn push(&self, task: RawTask) -> Result<(), RawTask> {
        let mut state = self.lock();
        if state.shutdown {
            return Err(task);
        }
        state.queue.push_back(task);
        state.busy += 1;
        if state.num_idle > state.num_notified {
            state.num_notified += 1;
            self.inner.work.notify_one();
        } else if state.num_threads < self.inner.max_threads {
            let inner = self.inner.clone();
            let mut builder = thread::Builder::new().name((self.inner.config.thread_name)());
            if let Some(size) = self.inner.config.thread_stack_size {
                builder = builder.stack_size(size);
            }
            // Counted before the thread starts so that concurrent pushes see it.
            state.num_threads += 1;
            match builder.spawn(move || inner.run()) {
                Ok(handle) => {
                    state.threads.retain(|t| !t.is_finished());
                    state.threads.push(handle);
                }
                Err(_) if state.num_threads > 1 => {
                    // The OS refused a thread; the existing ones will drain the queue.
                    state.num_threads -= 1;
                }
                Err(_) => {
                    state.num_threads -= 1;
                    state.busy -= 1;
                    let task = state.queue.pop_back().expect("just pushed");
                    return Err(task);
                }
            }
        }
        Ok(())
    }

    pub(crate) fn num_threads(&self) -> usize {
        self.lock().num_threads
    }

    pub(crate) fn num_idle_threads(&self) -> usize {
        self.lock().num_idle
    }

    /// Whether a closure is queued or running (counted until its completion was published).
    pub(crate) fn is_busy(&self) -> bool {
        self.lock().busy != 0
    }

    pub(crate) fn queue_depth(&self) -> usize {
        self.lock().queue.len()
    }

    /// Stops accepting closures, cancels the queued ones and joins the threads (up to
    /// `timeout`; the rest finish on their own).
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let (queued, threads) = {
            let mut state = self.lock();
            if state.shutdown {
                return;
            }
            state.shutdown = true;
            self.inner.work.notify_all();
            (
                std::mem::take(&mut state.queue),
                std::mem::take(&mut state.threads),
            )
        };
        for task in queued {
            task.shutdown();
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let me = thread::current().id();
        for t in threads {
            if t.thread().id() == me {
                continue;
            }
            match deadline {
                None => {
                    let _ = t.join();
                }
                Some(deadline) => {
                    while !t.is_finished() && Instant::now() < deadline {
                        thread::sleep(Duration::from_millis(1));
                    }
                    if t.is_finished() {
                        let _ = t.join();
                    }
                }
            }
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn run(&self) {
        if let Some(f) = &self.config.on_thread_start {
            f();
        }
        let mut state = self.lock();
        loop {
            while let Some(task) = state.queue.pop_front() {
                drop(state);
                let _enter = context::enter(task.header().scheduler.clone());
                task.poll();
                drop(_enter);
                state = self.lock();
                state.busy -= 1;
            }
            if state.shutdown {
                break;
            }
            state.num_idle += 1;
            let (guard, timeout) = self
                .work
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(|p| p.into_inner());
            state = guard;
            state.num_idle -= 1;
            if state.num_notified > 0 {
                state.num_notified -= 1;
            } else if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.num_threads -= 1;
        drop(state);
        if let Some(f) = &self.config.on_thread_stop {
            f();
        }
    }
}
