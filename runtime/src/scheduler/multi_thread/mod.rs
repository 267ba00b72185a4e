//! The multi-thread, work-stealing scheduler.
//!
//! Each worker owns a local FIFO ring (`queue.rs`) and a LIFO slot; tasks woken from outside
//! the runtime go to the global injector (`../inject.rs`). See `worker.rs` for the run loop and
//! `idle.rs` for who sleeps.

pub(crate) mod idle;
pub(crate) mod queue;
mod worker;

use std::io;

use crossbeam_utils::CachePadded;

use super::driver::Driver;
use super::inject::Inject;
use super::park::{Parker, Unparker};
use crate::blocking;
use crate::runtime::builder::Config;
use crate::runtime::metrics::Counters;
use crate::sync::{fence, thread, Arc, AtomicBool, AtomicUsize, Ordering};
use crate::task::owned::OwnedTasks;
use crate::task::raw::RawTask;
use idle::Idle;

pub(crate) use worker::{block_in_place, has_runnable_work_here, is_worker_of};

pub(crate) struct Shared {
    remotes: Box<[Remote]>,
    injector: Inject,
    /// Remote pushes in flight; shutdown waits for them so none lands after the final drain.
    remote_pushes: CachePadded<AtomicUsize>,
    idle: Idle,
    pub(crate) owned: OwnedTasks,
    pub(crate) driver: Driver,
    pub(crate) blocking: blocking::Pool,
    pub(crate) metrics: Counters,
    config: Config,
    shutdown: AtomicBool,
}

struct Remote {
    stealer: queue::Stealer,
    unparker: Unparker,
}

/// Worker threads of a running multi-thread scheduler.
pub(crate) struct Workers {
    pub(crate) threads: Vec<thread::JoinHandle<()>>,
}

impl Shared {
    /// Builds the scheduler and starts its worker threads.
    pub(crate) fn launch(config: Config) -> io::Result<(Arc<Shared>, Workers)> {
        let n = config.worker_threads;
        let mut cores = Vec::with_capacity(n);
        let mut remotes = Vec::with_capacity(n);
        for index in 0..n {
            let (local, stealer) = queue::new();
            let (parker, unparker) = Parker::new();
            remotes.push(Remote { stealer, unparker });
            cores.push((worker::Core::new(index, local), parker));
        }
        let shared = Arc::new(Shared {
            remotes: remotes.into_boxed_slice(),
            injector: Inject::new(),
            remote_pushes: CachePadded::new(AtomicUsize::new(0)),
            idle: Idle::new(n),
            owned: OwnedTasks::new(n),
            driver: Driver::from_config(&config)?,
            blocking: blocking::Pool::new(&config),
            metrics: Counters::new(n),
            config,
            shutdown: AtomicBool::new(false),
        });
        let mut threads = Vec::with_capacity(n);
        for (core, parker) in cores {
            let shared2 = shared.clone();
            let mut builder = thread::Builder::new().name((shared.config.thread_name)());
            if let Some(size) = shared.config.thread_stack_size {
                builder = builder.stack_size(size);
            }
            match builder.spawn(move || worker::run(shared2, core, parker)) {
                Ok(t) => threads.push(t),
                Err(err) => {
                    shared.begin_shutdown();
                    for t in threads {
                        let _ = t.join();
                    }
                    shared.finish_shutdown(None);
                    return Err(err);
                }
            }
        }
        Ok((shared, Workers { threads }))
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Queues a woken task: on this worker if the caller is one of ours, else the injector.
    pub(crate) fn schedule(&self, task: RawTask, is_yield: bool) {
        if let Err(task) = worker::schedule_local(self, task, is_yield) {
            self.push_remote(task);
        }
    }

    fn push_remote(&self, task: RawTask) {
        // SeqCst on the counter and the flag: shutdown sets the flag then waits for the counter
        // to reach zero, so a push either sees the flag or is waited for.
        self.remote_pushes.fetch_add(1, Ordering::SeqCst);
        if self.shutdown.load(Ordering::SeqCst) {
            self.remote_pushes.fetch_sub(1, Ordering::SeqCst);
            drop(task);
            return;
        }
        self.injector.push(task);
        self.metrics.remote_scheduled();
        self.remote_pushes.fetch_sub(1, Ordering::SeqCst);
        // SeqCst fence: the push must be visible before we read the idle state (see idle.rs).
        fence(Ordering::SeqCst);
        self.notify_parked();
    }

    /// Wakes one sleeping worker if nobody is searching.
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].unparker.unpark(&self.driver);
        }
    }

    fn notify_all(&self) {
        for remote in self.remotes.iter() {
            remote.unparker.unpark(&self.driver);
        }
        self.driver.unpark();
    }

    /// True if any stealable queue or the injector holds work.
    fn has_stealable_work(&self) -> bool {
        !self.injector.is_empty() || self.remotes.iter().any(|r| !r.stealer.is_empty())
    }

    pub(crate) fn has_runnable_work(&self) -> bool {
        has_runnable_work_here(self) || !self.injector.is_empty()
    }

    pub(crate) fn injector_depth(&self) -> usize {
        self.injector.len()
    }

    /// Tells workers to stop. They drop their queued tasks and exit.
    pub(crate) fn begin_shutdown(&self) {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        self.notify_all();
    }

    /// After the workers stopped (or were given up on): drop every task and drain the queues.
    pub(crate) fn finish_shutdown(&self, blocking_timeout: Option<std::time::Duration>) {
        self.shutdown.store(true, Ordering::SeqCst);
        self.owned.close_and_shutdown_all();
        while self.remote_pushes.load(Ordering::SeqCst) != 0 {
            crate::sync::spin_loop();
        }
        // Remote producers have finished (see above); stop at the first pass that finds
        // nothing, in case a worker left running by a timed-out shutdown still overflows.
        while let Some(mut consumer) = self.injector.try_consume() {
            let mut drained = 0;
            while let Some(task) = consumer.pop() {
                drop(task);
                drained += 1;
            }
            if drained == 0 {
                break;
            }
        }
        self.driver.shutdown();
        self.blocking.shutdown(blocking_timeout);
    }
}
