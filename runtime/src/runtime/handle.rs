//! `Handle`: a clonable reference to a running runtime.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use super::context;
use super::metrics::RuntimeMetrics;
use super::TryCurrentError;
use crate::scheduler;
use crate::sync::Arc;
use crate::task::JoinHandle;

/// A clonable handle to a runtime: spawn onto it, enter it, read its metrics.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: scheduler::Handle,
}

/// Keeps the runtime context entered on this thread; leaves it when dropped.
#[must_use = "the context is left when the guard is dropped"]
pub struct EnterGuard<'a> {
    _guard: context::SetGuard,
    _handle: PhantomData<&'a Handle>,
}

impl Handle {
    /// The runtime of the current thread.
    ///
    /// # Panics
    /// Outside a runtime context; see [`Handle::try_current`].
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(h) => h,
            Err(err) => panic!("weir::runtime::Handle::current: {err}"),
        }
    }

    /// The runtime of the current thread, or why there is none.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::current().map(|inner| Handle { inner })
    }

    /// Spawns a task on this runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future, std::panic::Location::caller())
    }

    /// Runs a closure on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        crate::blocking::spawn_on(&self.inner, f)
    }

    /// Runs `future` to completion on this thread, inside the runtime's context (as
    /// [`Runtime::block_on`](super::Runtime::block_on), from anywhere the handle was sent).
    /// On a current-thread runtime this thread also runs the spawned tasks meanwhile, unless
    /// another thread is driving them already.
    ///
    /// # Panics
    /// When called from inside a task of a weir runtime (it would block a worker). A
    /// `spawn_blocking` closure may call it.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if weir_probes::context::current_task() != weir_probes::context::NO_TASK
            && !crate::blocking::in_blocking_closure()
        {
            panic!(
                "weir: block_on called from inside a task; \
                 await the future instead, or use spawn_blocking"
            );
        }
        match &self.inner {
            scheduler::Handle::CurrentThread(shared) => {
                scheduler::current_thread::Shared::block_on(shared, future)
            }
            scheduler::Handle::MultiThread(_) => {
                let _enter = context::enter(self.inner.clone());
                super::park_block_on(future)
            }
            scheduler::Handle::Local(_) => scheduler::not_a_runtime(),
        }
    }

    /// Enters this runtime's context on the current thread.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _guard: context::enter(self.inner.clone()),
            _handle: PhantomData,
        }
    }

    /// The runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics::new(self.inner.clone())
    }

    /// Which scheduler the runtime runs.
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match self.inner {
            scheduler::Handle::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            scheduler::Handle::MultiThread(_) => RuntimeFlavor::MultiThread,
            scheduler::Handle::Local(_) => scheduler::not_a_runtime(),
        }
    }

    /// An id of the runtime, equal for every handle of the same runtime and unique among the
    /// runtimes alive in the process.
    pub fn id(&self) -> Id {
        let addr = match &self.inner {
            scheduler::Handle::CurrentThread(shared) => Arc::as_ptr(shared) as *const (),
            scheduler::Handle::MultiThread(shared) => Arc::as_ptr(shared) as *const (),
            scheduler::Handle::Local(shared) => Arc::as_ptr(shared) as *const (),
        } as usize;
        Id(addr as u64)
    }
}

/// The scheduler a runtime runs (see [`Handle::runtime_flavor`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// `Builder::new_current_thread`.
    CurrentThread,
    /// `Builder::new_multi_thread`.
    MultiThread,
}

/// A runtime's id (see [`Handle::id`]): its shared state's address, so it stays the same for
/// the runtime's life and may be reused once the runtime is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u64);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flavor = match self.inner {
            scheduler::Handle::CurrentThread(_) => "current_thread",
            scheduler::Handle::MultiThread(_) => "multi_thread",
            scheduler::Handle::Local(_) => "local",
        };
        f.debug_struct("Handle").field("flavor", &flavor).finish()
    }
}
