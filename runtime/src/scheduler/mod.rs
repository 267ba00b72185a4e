//! Schedulers: where tasks wait to run and which thread runs them.
//!
//! [`Handle`] is what every task header carries: wakers call [`Handle::schedule`], a task woken
//! during its own poll goes back through [`Handle::schedule_yield`], and a completing task
//! leaves the owned list through [`Handle::release`].

pub(crate) mod current_thread;
pub(crate) mod driver;
pub(crate) mod inject;
pub(crate) mod local;
pub(crate) mod multi_thread;
pub(crate) mod park;

use std::future::Future;
use std::panic::Location;

use crate::sync::Arc;
use crate::task::owned::OwnedTasks;
use crate::task::raw::{Header, RawTask};
use crate::task::{Id, JoinHandle};
use weir_probes::{probe, Event};

/// A cheap, clonable reference to a runtime's scheduler.
#[derive(Clone)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
    /// A `LocalSet`'s queue. Only its tasks' headers hold one; it is never a runtime context
    /// (nothing enters it), so the runtime-facing methods below never see it.
    Local(Arc<local::Shared>),
}

/// The runtime-facing methods' answer for a `LocalSet`'s handle, which never reaches them.
#[cold]
pub(crate) fn not_a_runtime() -> ! {
    unreachable!("weir: a LocalSet's task handle was used as a runtime handle")
}

impl Handle {
    /// Queues a task woken by a waker (from any thread).
    pub(crate) fn schedule(&self, task: RawTask) {
        match self {
            Handle::CurrentThread(s) => s.schedule(task),
            Handle::MultiThread(s) => s.schedule(task, false),
            Handle::Local(s) => s.schedule(task),
        }
    }

    /// Queues a task that was woken during its own poll (a yield): to the back of the queue,
    /// never the LIFO slot.
    pub(crate) fn schedule_yield(&self, task: RawTask) {
        match self {
            Handle::CurrentThread(s) => s.schedule(task),
            Handle::MultiThread(s) => s.schedule(task, true),
            Handle::Local(s) => s.schedule(task),
        }
    }

    pub(crate) fn owned(&self) -> &OwnedTasks {
        match self {
            Handle::CurrentThread(s) => &s.owned,
            Handle::MultiThread(s) => &s.owned,
            Handle::Local(s) => &s.owned,
        }
    }

    pub(crate) fn driver(&self) -> &driver::Driver {
        match self {
            Handle::CurrentThread(s) => &s.driver,
            Handle::MultiThread(s) => &s.driver,
            Handle::Local(_) => not_a_runtime(),
        }
    }

    pub(crate) fn blocking(&self) -> &crate::blocking::Pool {
        match self {
            Handle::CurrentThread(s) => &s.blocking,
            Handle::MultiThread(s) => &s.blocking,
            Handle::Local(_) => not_a_runtime(),
        }
    }

    pub(crate) fn metrics(&self) -> &crate::runtime::metrics::Counters {
        match self {
            Handle::CurrentThread(s) => &s.metrics,
            Handle::MultiThread(s) => &s.metrics,
            Handle::Local(_) => not_a_runtime(),
        }
    }

    /// A completing task leaves the owned list; returns the list's reference if it was there.
    pub(crate) fn release(&self, header: &Header) -> Option<RawTask> {
        self.owned().remove(header)
    }

    pub(crate) fn spawn<F>(
        &self,
        future: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = Id::next();
        let task = RawTask::new(future, id, self.clone(), true);
        // Three counted references (see `State::new`): the list's, the queue's, the handle's.
        let notified = task.clone_uncounted();
        let join = JoinHandle::new(task.clone_uncounted());
        probe!(Event::TaskSpawn {
            task: id.0,
            location
        });
        self.metrics().task_spawned();
        match self.owned().insert(task) {
            Ok(()) => match self {
                Handle::CurrentThread(s) => s.schedule(notified),
                Handle::MultiThread(s) => s.schedule(notified, false),
                Handle::Local(_) => not_a_runtime(),
            },
            Err(task) => {
                // The runtime is shutting down: the task never runs; its handle reports it
                // cancelled.
                task.shutdown();
                drop(notified);
            }
        }
        join
    }

    /// Polls IO and timers without sleeping if this thread drives the runtime (a worker, or
    /// the current-thread runtime's `block_on` thread) and has nothing else queued. Another
    /// thread must not take the driver: a worker finding it taken sleeps without a timeout,
    /// trusting the holder to drive the timers, which an outside thread would not do.
    pub(crate) fn turn_driver_if_idle_here(&self) {
        let drives = match self {
            Handle::CurrentThread(s) => s.is_driving_thread(),
            Handle::MultiThread(s) => multi_thread::is_worker_of(s),
            Handle::Local(_) => false,
        };
        if drives && !self.has_runnable_work() {
            self.driver().poll_timers();
        }
    }

    /// True when the current worker (if this thread is one) has other tasks ready to run.
    pub(crate) fn has_runnable_work(&self) -> bool {
        match self {
            Handle::CurrentThread(s) => s.has_runnable_work(),
            Handle::MultiThread(s) => s.has_runnable_work(),
            Handle::Local(_) => not_a_runtime(),
        }
    }
}
