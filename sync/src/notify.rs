//! `Notify`: wake one waiter or all of them, with tokio's semantics.
//!
//! * [`notify_one`](Notify::notify_one) wakes the first waiter; with none waiting it stores
//!   one permit (at most one), which the next `notified().await` consumes at once.
//! * [`notify_waiters`](Notify::notify_waiters) wakes every waiter that exists at the call:
//!   every [`Notified`] future created before it, polled yet or not. It stores no permit.
//!
//! # State word
//!
//! `state = generation << 2 | mode`, mode one of `EMPTY`, `WAITING` (the list has waiters),
//! `NOTIFIED` (a permit is stored).
//!
//! # Invariants
//!
//! 1. `WAITING` is the mode exactly while the wait list is non-empty; it is entered and left
//!    only under the list lock. `EMPTY <-> NOTIFIED` may change without the lock (CAS).
//! 2. The generation changes only under the lock, by `notify_waiters`, which in the same
//!    critical section marks and unlinks every queued waiter.
//! 3. A `Notified` records the generation when it is created. Polling it first compares the
//!    generation (changed: it was created before a `notify_waiters`, so it completes), then
//!    tries to consume a stored permit, and only then, under the lock, re-checks both and
//!    queues itself (switching the mode to `WAITING`). `notify_one` either finds `WAITING`
//!    (and then, under the lock, a waiter to wake) or stores the permit by a CAS on the same
//!    word the waiter's CAS reads, so no notification falls between.
//! 4. A waiter handed a `notify_one` that is dropped before it saw it passes it on (to the
//!    next waiter, or as the stored permit), so cancellation loses no notification.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use crate::runtime_hooks::coop;
use crate::sync::{self, AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::wait_list::{Node, WaitList};
use crate::wake_list::WakeList;

const EMPTY: usize = 0;
const WAITING: usize = 1;
const NOTIFIED: usize = 2;
const MODE: usize = 3;
const GENERATION_ONE: usize = 4;

fn mode(state: usize) -> usize {
    state & MODE
}

fn with_mode(state: usize, mode: usize) -> usize {
    (state & !MODE) | mode
}

fn generation(state: usize) -> usize {
    state >> 2
}

/// How a queued waiter was woken (under the lock).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Woken {
    No,
    One,
    All,
}

struct Waiter {
    waker: Option<Waker>,
    woken: Woken,
}

/// Notifies one task or all waiting tasks; see the [module docs](self).
///
/// ```
/// # weir_runtime::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use weir_sync::Notify;
/// let notify = Notify::new();
/// notify.notify_one(); // nobody waits: a permit is stored
/// notify.notified().await; // consumes it at once
/// # });
/// ```
pub struct Notify {
    state: AtomicUsize,
    waiters: Mutex<WaitList<Waiter>>,
}

impl Notify {
    /// A `Notify` with no permit stored.
    pub fn new() -> Self {
        Notify {
            state: AtomicUsize::new(EMPTY),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// A future that completes on the next notification. It counts as waiting for
    /// [`notify_waiters`](Self::notify_waiters) from the moment it is created.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            // SeqCst: one order with notify_waiters' generation bump (invariant 3); a waiter
            // created after the bump must not be completed by it, one created before must.
            generation: generation(self.state.load(Ordering::SeqCst)),
            phase: Phase::Init,
            node: UnsafeCell::new(Node::new(Waiter {
                waker: None,
                woken: Woken::No,
            })),
            _pin: PhantomPinned,
        }
    }

    /// Wakes the first waiting task, or stores a permit if none waits.
    pub fn notify_one(&self) {
        // SeqCst: the stored permit and the waiter's queueing meet in one order (invariant 3).
        let mut cur = self.state.load(Ordering::SeqCst);
        while mode(cur) != WAITING {
            match self.state.compare_exchange(
                cur,
                with_mode(cur, NOTIFIED),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        let list = sync::lock(&self.waiters);
        let waker = self.notify_one_locked(list);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// `notify_one` under the lock: wake the first waiter, or store the permit. Returns the
    /// waker to wake once the lock is released (it is released here).
    fn notify_one_locked(&self, mut list: MutexGuard<'_, WaitList<Waiter>>) -> Option<Waker> {
        // Under the lock the mode can still move EMPTY <-> NOTIFIED, but not to or from
        // WAITING (invariant 1).
        let mut cur = self.state.load(Ordering::SeqCst);
        if mode(cur) != WAITING {
            loop {
                match self.state.compare_exchange(
                    cur,
                    with_mode(cur, NOTIFIED),
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                ) {
                    Ok(_) => return None,
                    Err(actual) => cur = actual,
                }
            }
        }
        let node = list.pop_front()?;
        // SAFETY: the node was linked, so it is live; we hold the lock.
        let waiter = unsafe { &mut (*node.as_ptr()).data };
        waiter.woken = Woken::One;
        let waker = waiter.waker.take();
        if list.is_empty() {
            // SeqCst: leaving WAITING, under the lock (invariant 1).
            self.state.store(with_mode(cur, EMPTY), Ordering::SeqCst);
        }
        drop(list);
        waker
    }

    /// Wakes every task waiting now (every `Notified` created before this call). Stores no
    /// permit.
    pub fn notify_waiters(&self) {
        let mut list = sync::lock(&self.waiters);
        let mut wakers = WakeList::new();
        // Invariant 2: bump the generation and empty the list in one critical section.
        let mut cur = self.state.load(Ordering::SeqCst);
        loop {
            let mode = if mode(cur) == WAITING {
                EMPTY
            } else {
                mode(cur)
            };
            let new = with_mode(cur.wrapping_add(GENERATION_ONE), mode);
            // SeqCst: see `notified`.
            match self
                .state
                .compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        while let Some(node) = list.pop_front() {
            // SAFETY: the node was linked, so it is live; we hold the lock.
            let waiter = unsafe { &mut (*node.as_ptr()).data };
            waiter.woken = Woken::All;
            wakers.push(waiter.waker.take());
        }
        drop(list);
        wakers.wake_all();
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Notify")
            .field("permit_stored", &(mode(state) == NOTIFIED))
            .finish()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Init,
    Queued,
    Done,
}

/// The future of [`Notify::notified`]. Waiting allocates nothing: its wait-list node is inside.
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    generation: usize,
    phase: Phase,
    node: UnsafeCell<Node<Waiter>>,
    _pin: PhantomPinned,
}

// SAFETY: the node's fields are reached by other threads only under the notify's lock, and
// they are `Send` (a waker and a flag).
unsafe impl Send for Notified<'_> {}
// SAFETY: `&Notified` gives access to nothing (every method takes `Pin<&mut Self>`).
unsafe impl Sync for Notified<'_> {}

impl Notified<'_> {
    /// Registers this future as a waiter without polling it, so a later `notify_one` reaches
    /// it. Returns whether it has been notified already (then `.await` completes at once).
    pub fn enable(self: Pin<&mut Self>) -> bool {
        // SAFETY: we never move out of `this`.
        let this = unsafe { self.get_unchecked_mut() };
        this.poll_notified(None).is_ready()
    }

    /// The protocol of invariant 3. `waker` is `None` for `enable`.
    fn poll_notified(&mut self, waker: Option<&Waker>) -> Poll<()> {
        let notify = self.notify;
        match self.phase {
            Phase::Done => Poll::Ready(()),
            Phase::Init => {
                let mut cur = notify.state.load(Ordering::SeqCst);
                if generation(cur) != self.generation {
                    self.phase = Phase::Done;
                    return Poll::Ready(());
                }
                if mode(cur) == NOTIFIED
                    && notify
                        .state
                        .compare_exchange(
                            cur,
                            with_mode(cur, EMPTY),
                            Ordering::SeqCst,
                            Ordering::SeqCst,
                        )
                        .is_ok()
                {
                    self.phase = Phase::Done;
                    return Poll::Ready(());
                }
                let mut list = sync::lock(&notify.waiters);
                cur = notify.state.load(Ordering::SeqCst);
                loop {
                    if generation(cur) != self.generation {
                        self.phase = Phase::Done;
                        return Poll::Ready(());
                    }
                    let next = match mode(cur) {
                        NOTIFIED => EMPTY,
                        _ => WAITING,
                    };
                    if mode(cur) == WAITING {
                        break;
                    }
                    // SeqCst: consuming the permit or entering WAITING, in one order with
                    // notify_one's CAS (invariant 3).
                    match notify.state.compare_exchange(
                        cur,
                        with_mode(cur, next),
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    ) {
                        Ok(_) if next == EMPTY => {
                            self.phase = Phase::Done;
                            return Poll::Ready(());
                        }
                        Ok(_) => break,
                        Err(actual) => cur = actual,
                    }
                }
                let node = self.node.get();
                // SAFETY: our node is unlinked and the list locked; it is pinned (reached through
                // `Pin<&mut Self>`) and `Drop` unlinks it, so it stays valid while linked.
                unsafe {
                    (*node).data.waker = waker.cloned();
                    (*node).data.woken = Woken::No;
                    list.push_back(NonNull::new_unchecked(node));
                }
                self.phase = Phase::Queued;
                Poll::Pending
            }
            Phase::Queued => {
                let _list = sync::lock(&notify.waiters);
                // SAFETY: our node; others touch it only under the lock we hold.
                let waiter = unsafe { &mut (*self.node.get()).data };
                if waiter.woken != Woken::No {
                    self.phase = Phase::Done;
                    return Poll::Ready(());
                }
                if let Some(waker) = waker {
                    match &mut waiter.waker {
                        Some(w) if w.will_wake(waker) => {}
                        slot => *slot = Some(waker.clone()),
                    }
                }
                Poll::Pending
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = std::task::ready!(coop::poll_proceed(cx));
        // SAFETY: we never move out of `this`.
        let this = unsafe { self.get_unchecked_mut() };
        let result = this.poll_notified(Some(cx.waker()));
        if result.is_ready() {
            coop.made_progress();
        }
        result
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if self.phase != Phase::Queued {
            return;
        }
        let notify = self.notify;
        let mut list = sync::lock(&notify.waiters);
        let node = self.node.get();
        // SAFETY: our node is live (we are in its drop) and in this notify's list or in none;
        // we hold the lock.
        let was_queued = unsafe { list.remove(NonNull::new_unchecked(node)) };
        if was_queued {
            if list.is_empty() {
                let cur = notify.state.load(Ordering::SeqCst);
                if mode(cur) == WAITING {
                    // SeqCst: leaving WAITING under the lock (invariant 1).
                    notify.state.store(with_mode(cur, EMPTY), Ordering::SeqCst);
                }
            }
            return;
        }
        // SAFETY: the lock is held; the node is ours.
        if unsafe { (*node).data.woken } == Woken::One {
            // Invariant 4: pass the unseen notify_one on.
            if let Some(waker) = notify.notify_one_locked(list) {
                waker.wake();
            }
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
#[path = "notify_tests.rs"]
mod tests;
