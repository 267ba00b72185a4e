//! The runtime: a scheduler, its drivers and its blocking pool, started by a [`Builder`].

pub(crate) mod builder;
pub(crate) mod context;
mod handle;
pub(crate) mod metrics;

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

pub use builder::{BuildError, Builder};
pub use context::TryCurrentError;
pub use handle::{EnterGuard, Handle, Id, RuntimeFlavor};
pub use metrics::RuntimeMetrics;

use crate::scheduler::{self, current_thread, multi_thread, park::ParkThread};

use crate::sync::thread;
use crate::task::JoinHandle;

/// An async runtime: spawn tasks on it and block on a future.
///
/// Dropping it shuts it down: workers stop after their current poll, every task is dropped
/// exactly once, and every thread is joined (blocking threads up to no limit; use
/// [`Runtime::shutdown_timeout`] to bound that).
pub struct Runtime {
    handle: Handle,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Runtime {
    /// A multi-thread runtime with timers and IO enabled and default settings.
    pub fn new() -> Result<Runtime, BuildError> {
        Builder::new_multi_thread().enable_all().build()
    }

    pub(crate) fn new_current_thread(config: builder::Config) -> std::io::Result<Runtime> {
        let start_paused = config.start_paused;
        let shared = current_thread::Shared::new(config)?;
        if start_paused {
            if let Some(time) = shared.driver.time() {
                time.clock().pause();
            }
        }
        Ok(Runtime {
            handle: Handle {
                inner: scheduler::Handle::CurrentThread(shared),
            },
            threads: Vec::new(),
        })
    }

    pub(crate) fn new_multi_thread(config: builder::Config) -> std::io::Result<Runtime> {
        let (shared, workers) = multi_thread::Shared::launch(config)?;
        Ok(Runtime {
            handle: Handle {
                inner: scheduler::Handle::MultiThread(shared),
            },
            threads: workers.threads,
        })
    }

    /// A handle to this runtime, which can spawn from any thread.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The runtime's counters (the same view as [`Handle::metrics`]).
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// Spawns a task.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a closure on the blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// Runs `future` to completion on this thread, inside the runtime's context. On a
    /// current-thread runtime this thread also runs the spawned tasks meanwhile.
    ///
    /// # Panics
    /// When called from inside a task of a weir runtime (it would block a worker). A
    /// `spawn_blocking` closure may call it.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Enters the runtime's context so that `weir::spawn` and timers work on this thread.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shuts down, waiting at most `timeout` for worker and blocking threads to finish.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts down without waiting for threads.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        // Tasks are dropped inside the runtime's context: a destructor may spawn (the task is
        // then cancelled at once) or read `Handle::current`, as it could while running.
        let _enter = context::enter(self.handle.inner.clone());
        match &self.handle.inner {
            scheduler::Handle::CurrentThread(shared) => shared.shutdown(timeout),
            scheduler::Handle::MultiThread(shared) => {
                shared.begin_shutdown();
                let deadline = timeout.map(|t| std::time::Instant::now() + t);
                let me = thread::current().id();
                for t in self.threads.drain(..) {
                    // Dropped from inside one of its own tasks: a worker cannot join itself
                    // (the OS refuses, and std panics); it stops after its current poll.
                    if t.thread().id() == me {
                        continue;
                    }
                    join_until(t, deadline);
                }
                let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
                shared.finish_shutdown(left);
            }
            scheduler::Handle::Local(_) => scheduler::not_a_runtime(),
        }
    }
}

/// Joins `thread` unless `deadline` passes first (then the thread is left to finish alone).
#[cfg(not(loom))]
fn join_until(thread: thread::JoinHandle<()>, deadline: Option<std::time::Instant>) {
    match deadline {
        None => {
            let _ = thread.join();
        }
        Some(deadline) => {
            while !thread.is_finished() {
                if std::time::Instant::now() >= deadline {
                    return;
                }
                thread::sleep(Duration::from_millis(1));
            }
            let _ = thread.join();
        }
    }
}

/// Under loom, which models no time and whose join handles cannot be polled: always join.
#[cfg(loom)]
fn join_until(thread: thread::JoinHandle<()>, _deadline: Option<std::time::Instant>) {
    let _ = thread.join();
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}

/// Blocks this thread on `future`, sleeping while it is pending.
pub(crate) fn park_block_on<F: Future>(future: F) -> F::Output {
    struct ThreadWaker(ParkThread);
    impl Wake for ThreadWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let park = std::sync::Arc::new(ThreadWaker(ParkThread::new()));
    let waker = Waker::from(park.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = crate::coop::with_budget(|| future.as_mut().poll(&mut cx)) {
            return out;
        }
        park.0.park_timeout(None);
    }
}

const _: () = {
    const fn check<T: Send + Sync>() {}
    check::<Runtime>();
    check::<Handle>();
};
