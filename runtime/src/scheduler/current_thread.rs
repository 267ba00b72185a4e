//! The current-thread scheduler: every task runs on the thread that calls `block_on`.
//!
//! For tests and embedded use. Tasks woken on the `block_on` thread go to its local queue;
//! tasks woken elsewhere go to a locked injector and unpark the driver. When nothing is
//! runnable the thread sleeps on the driver, which fires timers.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use weir_probes::{probe, Event};

use super::driver::Driver;
use super::park::ParkThread;
use super::Handle;
use crate::blocking;
use crate::runtime::builder::Config;
use crate::runtime::metrics::Counters;
use crate::sync::{Arc, AtomicBool, Mutex, Ordering};
use crate::task::owned::OwnedTasks;
use crate::task::raw::RawTask;

pub(crate) struct Shared {
    injector: Mutex<VecDeque<RawTask>>,
    /// The `block_on` future was woken.
    woken: AtomicBool,
    core: Mutex<Option<Box<Core>>>,
    /// `block_on` callers waiting for the core while another thread drives.
    core_waiters: Mutex<Vec<Waker>>,
    pub(crate) owned: OwnedTasks,
    pub(crate) driver: Driver,
    pub(crate) blocking: blocking::Pool,
    pub(crate) metrics: Counters,
    config: Config,
    shutdown: AtomicBool,
}

pub(crate) struct Core {
    local: VecDeque<RawTask>,
    tick: u32,
}

struct Context {
    shared: Arc<Shared>,
    core: RefCell<Option<Box<Core>>>,
}

crate::sync::thread_local! {
    static CURRENT: Cell<*const Context> = const { Cell::new(std::ptr::null()) };
}

fn with_current<R>(f: impl FnOnce(Option<&Context>) -> R) -> R {
    let ptr = CURRENT.try_with(Cell::get).unwrap_or(std::ptr::null());
    // SAFETY: set by `block_on` to a Context on its stack frame and cleared (restored) before
    // that frame ends; only read on the same thread.
    f(unsafe { ptr.as_ref() })
}

/// Wakes a `block_on` caller that waits for the core on another thread.
struct ParkWaker(ParkThread);

impl Wake for ParkWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

struct MainWaker {
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        // Release: pairs with the Acquire swap in `block_on`. A swap rather than a store only
        // for the loom models: loom 0.7 lets a plain store slip between the read and the write
        // of a concurrent RMW on the same atomic (tokio-rs/loom#254), a false lost wake-up.
        self.shared.woken.swap(true, Ordering::Release);
        self.shared.driver.unpark();
    }
}

impl Shared {
    pub(crate) fn new(config: Config) -> std::io::Result<Arc<Shared>> {
        Ok(Arc::new(Shared {
            injector: Mutex::new(VecDeque::new()),
            woken: AtomicBool::new(false),
            core: Mutex::new(Some(Box::new(Core {
                local: VecDeque::new(),
                tick: 0,
            }))),
            core_waiters: Mutex::new(Vec::new()),
            owned: OwnedTasks::new(1),
            driver: Driver::from_config(&config)?,
            blocking: blocking::Pool::new(&config),
            metrics: Counters::new(1),
            config,
            shutdown: AtomicBool::new(false),
        }))
    }

    fn injector(&self) -> crate::sync::MutexGuard<'_, VecDeque<RawTask>> {
        self.injector.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn schedule(&self, task: RawTask) {
        let task = with_current(|cx| {
            let Some(cx) = cx.filter(|cx| std::ptr::eq(&*cx.shared, self)) else {
                return Some(task);
            };
            match cx.core.try_borrow_mut() {
                Ok(mut core) => match core.as_mut() {
                    Some(core) => {
                        core.local.push_back(task);
                        None
                    }
                    None => Some(task),
                },
                Err(_) => Some(task),
            }
        });
        if let Some(task) = task {
            let mut injector = self.injector();
            // Checked under the lock: shutdown drains the injector under it too.
            if self.shutdown.load(Ordering::Acquire) {
                drop(injector);
                drop(task);
                return;
            }
            injector.push_back(task);
            drop(injector);
            self.metrics.remote_scheduled();
            self.driver.unpark();
        }
    }

    /// Whether the calling thread is the one driving this runtime (inside its `block_on`).
    pub(crate) fn is_driving_thread(&self) -> bool {
        with_current(|cx| cx.is_some_and(|cx| std::ptr::eq(&*cx.shared, self)))
    }

    pub(crate) fn has_runnable_work(&self) -> bool {
        let local = with_current(|cx| {
            cx.filter(|cx| std::ptr::eq(&*cx.shared, self))
                .and_then(|cx| {
                    cx.core
                        .try_borrow()
                        .ok()
                        .map(|c| c.as_ref().is_some_and(|c| !c.local.is_empty()))
                })
                .unwrap_or(false)
        });
        local || !self.injector().is_empty()
    }

    pub(crate) fn injector_depth(&self) -> usize {
        self.injector().len()
    }

    /// Runs the runtime on this thread until `future` completes.
    pub(crate) fn block_on<F: Future>(this: &Arc<Self>, future: F) -> F::Output {
        let _enter = crate::runtime::context::enter(Handle::CurrentThread(this.clone()));
        let mut future = pin!(future);
        loop {
            let core = this.core.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(core) = core {
                return Self::drive(this, core, future.as_mut());
            }
            // Another thread is driving this runtime: wait for our future (its tasks run over
            // there) or for the core to be handed back, then drive it ourselves. Without the
            // hand-over, our tasks would stall once that thread's block_on returns.
            if let Some(out) = this.wait_for_core(future.as_mut()) {
                return out;
            }
        }
    }

    /// Polls `future` on this thread while another thread holds the core. Returns its output,
    /// or `None` once the core is back (the caller then takes it).
    fn wait_for_core<F: Future>(&self, mut future: Pin<&mut F>) -> Option<F::Output> {
        let park = std::sync::Arc::new(ParkWaker(ParkThread::new()));
        let waker = Waker::from(park.clone());
        let mut task_cx = TaskContext::from_waker(&waker);
        loop {
            if let Poll::Ready(out) =
                crate::coop::with_budget(|| future.as_mut().poll(&mut task_cx))
            {
                return Some(out);
            }
            {
                // Checked and registered under the core lock, which the hand-back takes before
                // it wakes the waiters: a core returned after this check wakes us.
                let core = self.core.lock().unwrap_or_else(|p| p.into_inner());
                if core.is_some() {
                    return None;
                }
                let mut waiters = self.core_waiters.lock().unwrap_or_else(|p| p.into_inner());
                if !waiters.iter().any(|w| w.will_wake(&waker)) {
                    waiters.push(waker.clone());
                }
            }
            park.0.park_timeout(None);
        }
    }

    /// Drives the runtime with `core` until `future` completes; hands the core back after.
    fn drive<F: Future>(this: &Arc<Self>, core: Box<Core>, mut future: Pin<&mut F>) -> F::Output {
        let cx = Context {
            shared: this.clone(),
            core: RefCell::new(Some(core)),
        };
        let prev = CURRENT.with(|c| c.replace(&cx));
        struct Restore<'a>(*const Context, &'a Context);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.0));
                // Hand the core back, and wake the block_on callers waiting for it.
                let core = self.1.core.borrow_mut().take();
                let shared = &self.1.shared;
                *shared.core.lock().unwrap_or_else(|p| p.into_inner()) = core;
                let waiters = std::mem::take(
                    &mut *shared
                        .core_waiters
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()),
                );
                for w in waiters {
                    w.wake();
                }
            }
        }
        let _restore = Restore(prev, &cx);

        let waker = Waker::from(std::sync::Arc::new(MainWaker {
            shared: this.clone(),
        }));
        let mut task_cx = TaskContext::from_waker(&waker);
        this.woken.store(true, Ordering::Relaxed);
        let event_interval = this.config.event_interval;
        let mut busy_since = std::time::Instant::now();
        loop {
            // Acquire: see what the waker's thread did before waking us.
            if this.woken.swap(false, Ordering::Acquire) {
                if let Poll::Ready(out) =
                    crate::coop::with_budget(|| future.as_mut().poll(&mut task_cx))
                {
                    this.metrics.worker(0).busy(busy_since.elapsed());
                    return out;
                }
            }
            let mut ran = 0;
            while ran < event_interval {
                let Some(task) = this.next_task(&cx) else {
                    break;
                };
                task.poll();
                this.metrics.worker(0).polled();
                ran += 1;
            }
            let forced = crate::coop::take_forced_yields();
            if forced != 0 {
                this.metrics.worker(0).forced_yields(forced);
            }
            if this.woken.load(Ordering::Acquire) {
                continue;
            }
            if ran == 0 {
                if this.auto_advance_paused_clock(&cx) {
                    continue;
                }
                probe!(Event::WorkerPark { worker: 0 });
                this.metrics.worker(0).parked(busy_since.elapsed());
                if let Some(f) = &this.config.on_thread_park {
                    f();
                }
                if let Some(driver) = this.driver.try_lock() {
                    driver.park(None);
                }
                this.metrics.worker(0).unparked();
                if let Some(f) = &this.config.on_thread_unpark {
                    f();
                }
                busy_since = std::time::Instant::now();
                probe!(Event::WorkerUnpark { worker: 0 });
            } else {
                this.driver.poll_timers();
                // The maintenance pass of a busy thread (one per batch of polls): fold in its
                // busy time, so a runtime that never parks does not report zero.
                let now = std::time::Instant::now();
                this.metrics.worker(0).busy(now - busy_since);
                busy_since = now;
            }
        }
    }

    /// With a paused clock and nothing to run, moves the clock to the next timer instead of
    /// sleeping (see `time/clock.rs`). True when the caller should look for work again.
    fn auto_advance_paused_clock(&self, cx: &Context) -> bool {
        let Some(time) = self.driver.time() else {
            return false;
        };
        if !time.clock().is_paused() || self.blocking.is_busy() {
            return false;
        }
        // IO and due timers get a turn first: only a runtime with nothing at all to do skips
        // ahead.
        let Some(driver) = self.driver.try_lock() else {
            return false;
        };
        driver.park(Some(std::time::Duration::ZERO));
        drop(driver);
        let queued = cx
            .core
            .borrow()
            .as_ref()
            .is_some_and(|core| !core.local.is_empty());
        if queued || self.woken.load(Ordering::Acquire) || !self.injector().is_empty() {
            return true;
        }
        match time.next_timeout() {
            Some(wait) => {
                time.clock().advance(wait);
                time.process();
                true
            }
            None => false,
        }
    }

    fn next_task(&self, cx: &Context) -> Option<RawTask> {
        let mut core = cx.core.borrow_mut();
        let core = core.as_mut()?;
        core.tick = core.tick.wrapping_add(1);
        if core.tick % self.config.global_queue_interval == 0 {
            if let Some(task) = self.injector().pop_front() {
                return Some(task);
            }
        }
        core.local
            .pop_front()
            .or_else(|| self.injector().pop_front())
    }

    /// Drops every task, then the queues.
    pub(crate) fn shutdown(&self, blocking_timeout: Option<std::time::Duration>) {
        if self.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        let core = self.core.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.owned.close_and_shutdown_all();
        if let Some(mut core) = core {
            core.local.clear();
        }
        let drained: Vec<RawTask> = self.injector().drain(..).collect();
        drop(drained);
        self.driver.shutdown();
        self.blocking.shutdown(blocking_timeout);
    }
}
