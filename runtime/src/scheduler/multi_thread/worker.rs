//! A worker of the multi-thread scheduler: its core and its run loop.
//!
//! Each tick takes one task, in this order:
//! 1. every `global_queue_interval` ticks, the injector first (so remote work cannot starve);
//! 2. the LIFO slot, at most `MAX_LIFO_POLLS` times in a row (message-passing locality without
//!    starving the queue);
//! 3. the local queue, then a batch from the injector;
//! 4. otherwise steal half of a random victim's queue, if fewer than half the workers search;
//! 5. otherwise park, driving timers if the driver is free.
//!
//! While a task is polled the core sits in the thread's worker context, so a waker running on
//! this thread can put the woken task straight into this worker's LIFO slot or queue.

use std::cell::{Cell, RefCell};
use std::time::Instant;

use weir_probes::{context as probe_cx, probe, Event};

use super::queue::Local as LocalQueue;
use super::Shared;
use crate::scheduler::park::Parker;
use crate::scheduler::Handle;
use crate::sync::Arc;
use crate::task::raw::RawTask;

/// Consecutive polls from the LIFO slot before the local queue gets a turn.
const MAX_LIFO_POLLS: u32 = 3;

pub(crate) struct Core {
    index: usize,
    /// Ticks left until the next maintenance pass and the next injector-first tick (count
    /// downs: no division on the hot path).
    until_maintenance: u32,
    until_global: u32,
    lifo: Option<RawTask>,
    lifo_polls: u32,
    local: LocalQueue,
    searching: bool,
    rng: u32,
    /// When this worker last woke up (for busy time).
    busy_since: Instant,
}

impl Core {
    pub(crate) fn new(index: usize, local: LocalQueue) -> Box<Core> {
        Box::new(Core {
            index,
            until_maintenance: 0,
            until_global: 0,
            lifo: None,
            lifo_polls: 0,
            local,
            searching: false,
            rng: 0x9E37_79B9 ^ (index as u32 + 1).wrapping_mul(0x85EB_CA6B),
            busy_since: Instant::now(),
        })
    }

    fn next_random(&mut self, n: usize) -> usize {
        // xorshift32: a cheap victim picker.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        (self.rng as usize) % n
    }

    fn has_local_work(&self) -> bool {
        self.lifo.is_some() || !self.local.is_empty()
    }
}

/// The worker's thread-local context.
struct Context {
    shared: Arc<Shared>,
    core: RefCell<Option<Box<Core>>>,
    parker: Parker,
}

crate::sync::thread_local! {
    static CURRENT: Cell<*const Context> = const { Cell::new(std::ptr::null()) };
}

fn with_current<R>(f: impl FnOnce(Option<&Context>) -> R) -> R {
    let ptr = CURRENT.try_with(Cell::get).unwrap_or(std::ptr::null());
    // SAFETY: the pointer is set by `run` to a Context on its stack frame and cleared before
    // that frame ends; it is only read on the same thread.
    f(unsafe { ptr.as_ref() })
}

/// Puts `task` on the calling worker's own queues, if the caller is a worker of `shared` with
/// its core at hand. Gives the task back otherwise.
pub(super) fn schedule_local(
    shared: &Shared,
    task: RawTask,
    is_yield: bool,
) -> Result<(), RawTask> {
    with_current(|cx| {
        let Some(cx) = cx.filter(|cx| std::ptr::eq(&*cx.shared, shared)) else {
            return Err(task);
        };
        let Ok(mut slot) = cx.core.try_borrow_mut() else {
            return Err(task);
        };
        let Some(core) = slot.as_mut() else {
            return Err(task);
        };
        let spilled = if is_yield {
            core.local.push_back(task, &shared.injector);
            true
        } else if let Some(prev) = core.lifo.replace(task) {
            core.local.push_back(prev, &shared.injector);
            true
        } else {
            false
        };
        drop(slot);
        if spilled {
            // Stealable work appeared: a sleeper may take it.
            shared.notify_parked();
        }
        Ok(())
    })
}

/// Runs `f` on the calling worker with its core set aside: the worker's queued tasks (LIFO
/// slot and local queue) go to the injector first and a sleeper is woken to take them, and
/// while `f` runs, tasks woken on this thread go to the injector too (no core to hold them).
/// On a worker `f` runs marked as a blocking closure (it may `Handle::block_on`); it runs
/// plainly when the caller is not a worker with its core at hand.
pub(crate) fn block_in_place<R>(f: impl FnOnce() -> R) -> R {
    let taken = with_current(|cx| {
        let cx = cx?;
        let mut core = cx.core.try_borrow_mut().ok()?.take()?;
        let shared = &*cx.shared;
        let lifo = core.lifo.take();
        let mut moved = lifo.is_some();
        shared.injector.push_batch(lifo.into_iter());
        while let Some(task) = core.local.pop() {
            shared.injector.push(task);
            moved = true;
        }
        if moved {
            shared.notify_parked();
        }
        Some(core)
    });
    /// Puts the core back when `f` returns or unwinds.
    struct Restore(Option<Box<Core>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(core) = self.0.take() {
                with_current(|cx| {
                    if let Some(cx) = cx {
                        *cx.core.borrow_mut() = Some(core);
                    }
                });
            }
        }
    }
    let on_worker = taken.is_some();
    let _restore = Restore(taken);
    if on_worker {
        crate::blocking::run_as_blocking(f)
    } else {
        f()
    }
}

/// Whether the calling thread is a worker of `shared`.
pub(crate) fn is_worker_of(shared: &Shared) -> bool {
    with_current(|cx| cx.is_some_and(|cx| std::ptr::eq(&*cx.shared, shared)))
}

/// Whether the calling thread is a worker of `shared` with queued work.
pub(crate) fn has_runnable_work_here(shared: &Shared) -> bool {
    with_current(|cx| {
        cx.filter(|cx| std::ptr::eq(&*cx.shared, shared))
            .and_then(|cx| {
                cx.core
                    .try_borrow()
                    .ok()
                    .map(|c| c.as_ref().is_some_and(|c| c.has_local_work()))
            })
            .unwrap_or(false)
    })
}

pub(super) fn run(shared: Arc<Shared>, core: Box<Core>, parker: Parker) {
    let index = core.index;
    probe_cx::set_current_worker(index as u32);
    if let Some(f) = &shared.config().on_thread_start {
        f();
    }
    let cx = Context {
        shared: shared.clone(),
        core: RefCell::new(None),
        parker,
    };
    CURRENT.with(|c| c.set(&cx));
    let _enter = crate::runtime::context::enter(Handle::MultiThread(shared.clone()));

    let mut core = run_loop(&cx, core);
    shutdown_core(&cx, &mut core);

    drop(_enter);
    CURRENT.with(|c| c.set(std::ptr::null()));
    if let Some(f) = &shared.config().on_thread_stop {
        f();
    }
    probe_cx::set_current_worker(probe_cx::NO_WORKER);
}

fn run_loop(cx: &Context, mut core: Box<Core>) -> Box<Core> {
    let shared = &*cx.shared;
    let event_interval = shared.config().event_interval;
    let global_interval = shared.config().global_queue_interval;
    core.busy_since = Instant::now();
    while !shared.is_shutdown() {
        if core.until_maintenance == 0 {
            core.until_maintenance = event_interval;
            core = maintenance(cx, core);
        }
        core.until_maintenance -= 1;
        let task =
            next_task(shared, &mut core, global_interval).or_else(|| steal(shared, &mut core));
        match task {
            Some(task) => core = run_task(cx, core, task),
            None => core = park(cx, core),
        }
    }
    core
}

fn next_task(shared: &Shared, core: &mut Core, global_interval: u32) -> Option<RawTask> {
    if core.until_global == 0 {
        core.until_global = global_interval;
        if let Some(task) = steal_injector(shared, core) {
            return Some(task);
        }
    }
    core.until_global -= 1;
    if core.lifo_polls < MAX_LIFO_POLLS {
        if let Some(task) = core.lifo.take() {
            core.lifo_polls += 1;
            return Some(task);
        }
    }
    core.lifo_polls = 0;
    if let Some(task) = core.local.pop() {
        return Some(task);
    }
    if let Some(task) = core.lifo.take() {
        core.lifo_polls = 1;
        return Some(task);
    }
    steal_injector(shared, core)
}

/// Takes a task from the injector, and a fair share more into the local queue.
fn steal_injector(shared: &Shared, core: &mut Core) -> Option<RawTask> {
    let mut consumer = shared.injector.try_consume()?;
    let first = consumer.pop()?;
    // A share of the backlog, so that other workers find some too; bounded by local room.
    let share = shared.injector.len() / shared.remotes.len() + 1;
    let batch = share
        .min(core.local.remaining())
        .min(super::queue::CAPACITY / 2);
    for _ in 0..batch {
        match consumer.pop() {
            Some(task) => core.local.push_back(task, &shared.injector),
            None => break,
        }
    }
    Some(first)
}

fn steal(shared: &Shared, core: &mut Core) -> Option<RawTask> {
    if !core.searching {
        if !shared.idle.transition_to_searching() {
            return None;
        }
        core.searching = true;
    }
    let n = shared.remotes.len();
    let start = core.next_random(n);
    for i in 0..n {
        let victim = (start + i) % n;
        if victim == core.index {
            continue;
        }
        if let Some((task, taken)) = shared.remotes[victim].stealer.steal_into(&mut core.local) {
            probe!(Event::WorkerSteal {
                worker: core.index as u32,
                victim: victim as u32
            });
            shared.metrics.worker(core.index).stolen(taken as u64);
            return Some(task);
        }
    }
    steal_injector(shared, core)
}

fn run_task(cx: &Context, mut core: Box<Core>, task: RawTask) -> Box<Core> {
    let shared = &*cx.shared;
    if core.searching {
        core.searching = false;
        if shared.idle.transition_from_searching() {
            // The last searcher found work: there may be more, let another worker look.
            shared.notify_parked();
        }
    }
    let index = core.index;
    *cx.core.borrow_mut() = Some(core);
    task.poll();
    let forced = crate::coop::take_forced_yields();
    let core = cx
        .core
        .borrow_mut()
        .take()
        .expect("weir: the worker core is back after a poll");
    let m = shared.metrics.worker(index);
    m.polled();
    if forced != 0 {
        m.forced_yields(forced);
    }
    core
}

/// Periodic housekeeping for a busy worker: fire due timers, refresh the coarse clock, publish
/// queue depth.
fn maintenance(cx: &Context, mut core: Box<Core>) -> Box<Core> {
    let shared = &*cx.shared;
    let m = shared.metrics.worker(core.index);
    m.set_local_queue_depth(core.local.len() as u64 + u64::from(core.lifo.is_some()));
    // A worker that never parks still reports its busy time (one clock read per pass).
    let now = Instant::now();
    m.busy(now - core.busy_since);
    core.busy_since = now;
    *cx.core.borrow_mut() = Some(core);
    shared.driver.poll_timers();
    crate::time::refresh_coarse();
    cx.core
        .borrow_mut()
        .take()
        .expect("weir: the worker core is back after maintenance")
}

fn park(cx: &Context, mut core: Box<Core>) -> Box<Core> {
    let shared = &*cx.shared;
    let index = core.index;
    if core.has_local_work() {
        return core;
    }
    let was_searching = std::mem::take(&mut core.searching);
    if shared.idle.transition_to_parked(index, was_searching) && shared.has_stealable_work() {
        // We were the last searcher and work arrived meanwhile: make sure someone takes it.
        // It may be work we just failed to take (a push still linking it, the injector's
        // consumer busy), and then we wake ourselves and come back here until that other
        // thread moves on: a spin, so say so (under loom, a yield that lets it run).
        crate::sync::spin_loop();
        shared.notify_parked();
    }
    let m = shared.metrics.worker(index);
    m.parked(core.busy_since.elapsed());
    probe!(Event::WorkerPark {
        worker: index as u32
    });
    if let Some(f) = &shared.config().on_thread_park {
        f();
    }

    loop {
        // Timers fired while parked wake tasks onto this worker: the core must be reachable.
        *cx.core.borrow_mut() = Some(core);
        cx.parker.park(&shared.driver, None);
        core = cx
            .core
            .borrow_mut()
            .take()
            .expect("weir: the worker core is back after parking");
        if shared.is_shutdown() || core.has_local_work() || !shared.idle.is_parked(index) {
            break;
        }
    }
    // Leave the sleeper list. If someone else already took us off it, they counted us as a
    // searcher (see `Idle::worker_to_notify`).
    core.searching = !shared.idle.unpark_self(index);
    if core.lifo.is_some() && !core.local.is_empty() {
        // Timers fired while we drove the driver filled more than our LIFO slot; while we were
        // still listed as a sleeper a notification could have picked us. Wake someone else.
        shared.notify_parked();
    }
    probe!(Event::WorkerUnpark {
        worker: index as u32
    });
    m.unparked();
    if let Some(f) = &shared.config().on_thread_unpark {
        f();
    }
    core.busy_since = Instant::now();
    core
}

fn shutdown_core(cx: &Context, core: &mut Core) {
    let shared = &*cx.shared;
    if core.searching {
        shared.idle.transition_from_searching();
    }
    // Queued references are dropped; the tasks themselves are shut down through the owned list.
    drop(core.lifo.take());
    while let Some(task) = core.local.pop() {
        drop(task);
    }
}
