//! Parking: how an idle thread sleeps without spinning and how another wakes it.
//!
//! [`ParkThread`] is the classic flag + mutex + condvar parker: an `unpark` that comes before
//! the `park` is remembered, so no wake-up is lost. A worker's [`Parker`] sleeps either on its
//! own `ParkThread` or, when it holds the driver, on the driver (which also fires timers); its
//! [`Unparker`] knows which.

use std::time::{Duration, Instant};

use super::driver::Driver;
use crate::sync::{fence, Arc, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

pub(crate) struct ParkThread {
    state: AtomicUsize,
    lock: Mutex<()>,
    condvar: Condvar,
}

impl ParkThread {
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicUsize::new(EMPTY),
            lock: Mutex::new(()),
            condvar: Condvar::new(),
        }
    }

    /// Consumes a pending notification, if any.
    pub(crate) fn take_notified(&self) -> bool {
        // SeqCst: pairs with the SeqCst swap in `unpark` (see `Parker::park`).
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Sleeps until unparked or until `timeout` passes (`None`: no timeout).
    pub(crate) fn park_timeout(&self, timeout: Option<Duration>) {
        if self.take_notified() || timeout == Some(Duration::ZERO) {
            return;
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut guard = lock(&self.lock);
        if let Err(actual) =
            self.state
                .compare_exchange(EMPTY, PARKED, Ordering::SeqCst, Ordering::SeqCst)
        {
            // Notified between the fast path and the lock. A swap, not a store: another
            // `unpark` may have come since the CAS read NOTIFIED, and reading its write is what
            // makes what it published before unparking visible to us.
            debug_assert_eq!(actual, NOTIFIED);
            self.state.swap(EMPTY, Ordering::SeqCst);
            return;
        }
        loop {
            guard = match deadline {
                None => self.condvar.wait(guard).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        // Timed out: leave the parked state (a racing notification is kept
                        // as consumed; the caller re-checks its queues anyway).
                        self.state.swap(EMPTY, Ordering::SeqCst);
                        return;
                    }
                    self.condvar
                        .wait_timeout(guard, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
            if self.take_notified() {
                return;
            }
            // Spurious wake-up: sleep again.
        }
    }

    pub(crate) fn unpark(&self) {
        // SeqCst: the swap and the parker's CAS form one total order, so either the parker
        // sees NOTIFIED or we see PARKED and signal.
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Taking the lock orders the signal after the parker started waiting.
                drop(lock(&self.lock));
                self.condvar.notify_one();
            }
            other => unreachable!("invalid park state {other}"),
        }
    }
}

fn lock(m: &Mutex<()>) -> crate::sync::MutexGuard<'_, ()> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Inner {
    thread: ParkThread,
    /// Whether the worker sleeps on the driver rather than on `thread`.
    on_driver: AtomicBool,
}

/// A worker's park handle.
pub(crate) struct Parker {
    inner: Arc<Inner>,
}

/// Wakes one worker's [`Parker`], wherever it sleeps.
#[derive(Clone)]
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

impl Parker {
    pub(crate) fn new() -> (Parker, Unparker) {
        let inner = Arc::new(Inner {
            thread: ParkThread::new(),
            on_driver: AtomicBool::new(false),
        });
        (
            Parker {
                inner: inner.clone(),
            },
            Unparker { inner },
        )
    }

    /// Sleeps until unparked (or `timeout`). If the driver is free this thread drives it
    /// while asleep: timers fire from here.
    pub(crate) fn park(&self, driver: &Driver, timeout: Option<Duration>) {
        match driver.try_lock() {
            Some(guard) => {
                // SeqCst: Dekker with `Unparker::unpark` (store flag, then read the
                // notification here; swap notification, then read the flag there). The fences
                // make the store-then-load order explicit on both sides; loom checks fences but
                // treats SeqCst accesses as AcqRel.
                self.inner.on_driver.store(true, Ordering::SeqCst);
                fence(Ordering::SeqCst);
                let timeout = if self.inner.thread.take_notified() {
                    Some(Duration::ZERO)
                } else {
                    timeout
                };
                guard.park(timeout);
                self.inner.on_driver.store(false, Ordering::SeqCst);
                self.inner.thread.take_notified();
            }
            None => self.inner.thread.park_timeout(timeout),
        }
    }
}

impl Unparker {
    pub(crate) fn unpark(&self, driver: &Driver) {
        self.inner.thread.unpark();
        // SeqCst fence: the other half of the Dekker in `Parker::park`.
        fence(Ordering::SeqCst);
        if self.inner.on_driver.load(Ordering::SeqCst) {
            driver.unpark();
        }
    }
}
