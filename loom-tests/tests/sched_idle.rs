//! The sleeper/searcher protocol of the multi-thread scheduler
//! (`runtime/src/scheduler/multi_thread/idle.rs`): new work is never left in a queue while
//! every worker sleeps.
//!
//! The `Idle`, the `ParkThread`s and the injector are the runtime's own; the worker loop below
//! is a model of the steps `worker.rs` takes around them (look for work, become a searcher,
//! give up and park, re-check the queues when the last searcher parks, leave the sleeper
//! list), with the injector as the only queue. `sched_lifo.rs` runs the real worker loop but
//! affords only a small preemption bound; this model, with far fewer steps per execution,
//! explores the protocol itself more widely: the notifier's push, SeqCst fence and read of the
//! idle word against the last searcher's decrement, SeqCst fence and re-check of the
//! injector.
//!
//! Both models run at preemption bound 1: with the injector's atomics in play, bound 2 takes
//! 0.5 and 1.7 million executions (over three minutes); bound 1 already finds a missing fence
//! on either side of the protocol.
//!
//! A lost wake-up shows as a deadlock: the main thread waits for the task to be taken while
//! both workers sleep.
#![cfg(loom)]

use loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use weir_loom_tests::{model_with, Signal};
use weir_runtime::loom_api::{Idle, Injector, ParkThread, Task, TaskFactory};

const WORKERS: usize = 2;

struct Shared {
    idle: Idle,
    parkers: [ParkThread; WORKERS],
    injector: Injector,
    shutdown: AtomicBool,
    /// Tasks not yet taken; `all_taken` is set when it reaches zero.
    remaining: AtomicUsize,
    all_taken: Signal,
}

impl Shared {
    fn new(tasks: usize) -> Arc<Shared> {
        Arc::new(Shared {
            idle: Idle::new(WORKERS),
            parkers: [ParkThread::new(), ParkThread::new()],
            injector: Injector::new(),
            shutdown: AtomicBool::new(false),
            remaining: AtomicUsize::new(tasks),
            all_taken: Signal::new(),
        })
    }

    /// `Shared::notify_parked`: wake one sleeper if nobody searches.
    fn notify_parked(&self) {
        if let Some(worker) = self.idle.worker_to_notify() {
            self.parkers[worker].unpark();
        }
    }

    /// `Shared::push_remote`: queue, SeqCst fence, notify.
    fn push_remote(&self, task: Task) {
        self.injector.push(task);
        fence(Ordering::SeqCst);
        self.notify_parked();
    }

    fn pop(&self) -> Option<Task> {
        self.injector.pop()
    }

    fn has_work(&self) -> bool {
        !self.injector.is_empty()
    }

    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }
}

/// The steps of `worker::run_loop` that touch `Idle`, in the same order.
fn worker(shared: Arc<Shared>, index: usize) {
    let mut searching = false;
    while !shared.is_shutdown() {
        // next_task, then steal (only as a searcher).
        let mut task = shared.pop();
        if task.is_none() {
            if !searching {
                searching = shared.idle.transition_to_searching();
            }
            if searching {
                task = shared.pop();
            }
        }
        if task.is_some() {
            // run_task: the last searcher to find work wakes another worker.
            if std::mem::take(&mut searching) && shared.idle.transition_from_searching() {
                shared.notify_parked();
            }
            // AcqRel: model bookkeeping; the signal carries the wake-up.
            if shared.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                shared.all_taken.set();
            }
            continue;
        }
        // park: the last searcher re-checks the queues before sleeping. The work it sees may
        // be a push still linking, which it cannot take yet: `worker.rs` spins here (a yield
        // under loom) and wakes a worker, possibly itself.
        if shared
            .idle
            .transition_to_parked(index, std::mem::take(&mut searching))
            && shared.has_work()
        {
            thread::yield_now();
            shared.notify_parked();
        }
        loop {
            shared.parkers[index].park();
            if shared.is_shutdown() || !shared.idle.is_parked(index) {
                break;
            }
        }
        // Taken off the sleeper list by a notifier: counted as searching.
        searching = !shared.idle.unpark_self(index);
    }
    if searching {
        shared.idle.transition_from_searching();
    }
}

fn start(shared: &Arc<Shared>) -> Vec<thread::JoinHandle<()>> {
    (0..WORKERS)
        .map(|i| {
            let s = shared.clone();
            thread::spawn(move || worker(s, i))
        })
        .collect()
}

fn shutdown(shared: &Shared, workers: Vec<thread::JoinHandle<()>>) {
    shared.shutdown.store(true, Ordering::Release);
    for p in &shared.parkers {
        p.unpark();
    }
    for w in workers {
        w.join().unwrap();
    }
}

/// A task pushed from outside while the workers look for work, give up and park: a worker
/// takes it.
#[test]
fn remote_push_wakes_a_worker() {
    model_with(Some(1), || {
        let factory = TaskFactory::new();
        let shared = Shared::new(1);
        let workers = start(&shared);
        shared.push_remote(factory.task());
        loom::future::block_on(shared.all_taken.wait());
        shutdown(&shared, workers);
    });
}

/// Two tasks pushed back to back: the first wakes a worker, which counts as searching, so the
/// second push wakes nobody; the searcher that takes the first task must then wake another
/// worker (or find the second itself). Both tasks are taken.
#[test]
fn searcher_that_finds_work_passes_the_baton() {
    model_with(Some(1), || {
        let factory = TaskFactory::new();
        let shared = Shared::new(2);
        let workers = start(&shared);
        shared.push_remote(factory.task());
        shared.push_remote(factory.task());
        loom::future::block_on(shared.all_taken.wait());
        shutdown(&shared, workers);
    });
}
