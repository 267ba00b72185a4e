//! Small synchronisation cells the tests build scenarios from. Each can be awaited by a task
//! and waited on by a plain thread; blocking waits are bounded by the watchdog's limit and
//! panic with what they waited for, so a lost wake-up reads as a clear failure.
//!
//! They use a std `Mutex` and the tasks' own wakers: a wake-up here goes through exactly the
//! runtime code under test (waker clone, wake, schedule), nothing else.

use std::future::poll_fn;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::Instant;

use crate::watchdog::HANG_LIMIT;

/// A counter with waiters: the shared core of [`Gate`] and [`Latch`].
#[derive(Default)]
struct Counter {
    state: Mutex<CounterState>,
    changed: Condvar,
}

#[derive(Default)]
struct CounterState {
    count: usize,
    wakers: Vec<Waker>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Counter {
    fn add(&self) {
        let wakers = {
            let mut s = lock(&self.state);
            s.count += 1;
            std::mem::take(&mut s.wakers)
        };
        self.changed.notify_all();
        for w in wakers {
            w.wake();
        }
    }

    fn get(&self) -> usize {
        lock(&self.state).count
    }

    async fn reached(&self, n: usize) {
        poll_fn(|cx| {
            let mut s = lock(&self.state);
            if s.count >= n {
                return Poll::Ready(());
            }
            if !s.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                s.wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }

    fn reached_blocking(&self, n: usize, what: &str) {
        let deadline = Instant::now() + HANG_LIMIT;
        let mut s = lock(&self.state);
        while s.count < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "gave up waiting for {what}: count {} of {n}",
                s.count
            );
            s = self
                .changed
                .wait_timeout(s, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// A one-shot signal: closed until `open`, then open for good.
#[derive(Clone, Default)]
pub struct Gate(Arc<Counter>);

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    pub fn open(&self) {
        self.0.add();
    }

    pub async fn wait(&self) {
        self.0.reached(1).await
    }

    /// Blocks the calling thread (a worker, if called from a task) until the gate opens.
    pub fn wait_blocking(&self) {
        self.0.reached_blocking(1, "a gate to open")
    }
}

/// Counts arrivals; waiters wait for a number of them.
#[derive(Clone, Default)]
pub struct Latch(Arc<Counter>);

impl Latch {
    pub fn new() -> Latch {
        Latch::default()
    }

    pub fn arrive(&self) {
        self.0.add();
    }

    pub fn count(&self) -> usize {
        self.0.get()
    }

    pub async fn wait_for(&self, n: usize) {
        self.0.reached(n).await
    }

    pub fn wait_for_blocking(&self, n: usize) {
        self.0.reached_blocking(n, "latch arrivals")
    }
}

/// A one-slot mailbox for a single receiver: `put` stores a value and wakes the receiver.
pub struct Mailbox<T> {
    state: Mutex<MailboxState<T>>,
    changed: Condvar,
}

struct MailboxState<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Mailbox {
            state: Mutex::new(MailboxState {
                value: None,
                waker: None,
            }),
            changed: Condvar::new(),
        }
    }
}

impl<T> Mailbox<T> {
    pub fn new() -> Mailbox<T> {
        Mailbox::default()
    }

    /// Stores `value` (the slot must be empty) and wakes the receiver.
    pub fn put(&self, value: T) {
        let waker = {
            let mut s = lock(&self.state);
            assert!(s.value.is_none(), "mailbox already full");
            s.value = Some(value);
            s.waker.take()
        };
        self.changed.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }

    pub async fn take(&self) -> T {
        poll_fn(|cx| {
            let mut s = lock(&self.state);
            match s.value.take() {
                Some(v) => Poll::Ready(v),
                None => {
                    match &s.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => s.waker = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }

    pub fn take_blocking(&self) -> T {
        let deadline = Instant::now() + HANG_LIMIT;
        let mut s = lock(&self.state);
        loop {
            if let Some(v) = s.value.take() {
                return v;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "gave up waiting for a mailbox value");
            s = self
                .changed
                .wait_timeout(s, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// Waits (sleeping 1 ms between checks) until `cond` holds, for state that the runtime updates
/// just after it makes a result visible (e.g. a counter bumped after a poll returns). Bounded
/// by the hang limit; panics with `what` if it never holds.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG_LIMIT;
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
