//! The semaphore protocol every lock in this crate is built on: a permit counter with a
//! lock-free fast path and a fair FIFO of waiters that are handed permits directly.
//!
//! # State word
//!
//! `state = permits << SHIFT | QUEUED | CLOSED`.
//!
//! # Invariants
//!
//! 1. `QUEUED` is set exactly while the wait list is non-empty; it is set and cleared only
//!    by a thread that holds the list lock.
//! 2. While `QUEUED` is set the counter holds no permits: released permits go to the waiters
//!    at the front (each is handed what it still needs, in FIFO order), and only what is left
//!    once the list is empty returns to the counter. That makes the semaphore fair: a
//!    `try_acquire` or a new `acquire` never overtakes a waiter.
//! 3. A fast-path acquire or release changes the counter only by a CAS whose expected value
//!    has `QUEUED` clear. The waiter that sets `QUEUED` does so by a CAS too, so the two are
//!    ordered in the word's modification order: either the release comes first and the
//!    waiter's CAS sees (and takes) its permits, or the waiter comes first and the release
//!    sees `QUEUED` and takes the lock to hand its permits over. No permit is stranded in the
//!    counter while a waiter sleeps.
//! 4. A waiter's node is in its future; a waiter that is dropped unlinks itself under the lock
//!    and gives back what it had been handed (all of it if it was granted but never saw it),
//!    passing it on to the next waiters. No permit is lost to cancellation.
//! 5. `CLOSED` is set under the lock, once, and then every waiter is unlinked and woken.

use std::cell::UnsafeCell;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{ready, Context, Poll, Waker};

use crate::runtime_hooks::coop;
use crate::sync::{self, AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::wait_list::{Node, WaitList};
use crate::wake_list::WakeList;

const CLOSED: usize = 1;
const QUEUED: usize = 2;
const SHIFT: usize = 2;
const ONE: usize = 1 << SHIFT;

/// The most permits a semaphore holds; more are discarded (saturating).
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// Why a non-waiting acquire failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryAcquire {
    Closed,
    NoPermits,
}

/// A waiter's data in its node, touched only under the list lock.
pub(crate) struct Waiter {
    waker: Option<Waker>,
    /// Permits this waiter still needs.
    needed: usize,
    outcome: Outcome,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Waiting,
    Granted,
    Closed,
}

pub(crate) struct RawSemaphore {
    state: AtomicUsize,
    waiters: Mutex<WaitList<Waiter>>,
}

impl RawSemaphore {
    pub(crate) fn new(permits: usize) -> Self {
        RawSemaphore {
            state: AtomicUsize::new(permits.min(MAX_PERMITS) << SHIFT),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    pub(crate) fn available_permits(&self) -> usize {
        // Relaxed: a snapshot for display and heuristics; it orders nothing.
        self.state.load(Ordering::Relaxed) >> SHIFT
    }

    pub(crate) fn is_closed(&self) -> bool {
        // Acquire: pairs with the close's RMW so a caller that sees it also sees what the
        // closer did before closing.
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Takes `n` permits if the counter holds them and nobody waits.
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquire> {
        // Acquire (and on the CAS): taking permits synchronises with the release that put them
        // there, so the data a lock protects is seen as its last holder left it.
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquire::Closed);
            }
            if n == 0 {
                return Ok(());
            }
            if cur & QUEUED != 0 || cur >> SHIFT < n {
                return Err(TryAcquire::NoPermits);
            }
            match self.state.compare_exchange_weak(
                cur,
                cur - n * ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Adds `n` permits: to the counter if nobody waits, else to the waiters in order.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        // Release (AcqRel on the CAS): the next taker of these permits sees everything this
        // holder wrote. Invariant 3: only with QUEUED clear.
        let mut cur = self.state.load(Ordering::Acquire);
        while cur & QUEUED == 0 {
            let permits = ((cur >> SHIFT) + n).min(MAX_PERMITS);
            let new = (cur & (CLOSED | QUEUED)) | permits << SHIFT;
            match self
                .state
                .compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        let list = sync::lock(&self.waiters);
        self.hand_over(list, n);
    }

    /// Gives `n` permits to the waiters at the front, then what is left to the counter,
    /// releasing the lock before waking the granted waiters.
    fn hand_over(&self, mut list: MutexGuard<'_, WaitList<Waiter>>, mut n: usize) {
        let mut wakers = WakeList::new();
        while n > 0 {
            let Some(front) = list.front() else { break };
            // SAFETY: `front` is linked, so live (wait-list invariant), and we hold the lock.
            let waiter = unsafe { &mut (*front.as_ptr()).data };
            let given = waiter.needed.min(n);
            waiter.needed -= given;
            n -= given;
            if waiter.needed == 0 {
                waiter.outcome = Outcome::Granted;
                wakers.push(waiter.waker.take());
                list.pop_front();
            }
        }
        if list.is_empty() {
            // Invariant 1 and 2: the list is empty, so QUEUED goes and the rest is counted.
            // AcqRel: as a release (see `release`); nobody else changes the word meanwhile
            // (fast paths need QUEUED clear, slow paths need the lock), but CAS keeps it exact.
            let mut cur = self.state.load(Ordering::Acquire);
            loop {
                let permits = ((cur >> SHIFT) + n).min(MAX_PERMITS);
                let new = (cur & CLOSED) | permits << SHIFT;
                match self.state.compare_exchange_weak(
                    cur,
                    new,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => break,
                    Err(actual) => cur = actual,
                }
            }
        }
        drop(list);
        wakers.wake_all();
    }

    /// Removes up to `n` permits from the counter; returns how many went.
    pub(crate) fn forget_permits(&self, n: usize) -> usize {
        // AcqRel: like an acquire that never releases.
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            let taken = (cur >> SHIFT).min(n);
            match self.state.compare_exchange_weak(
                cur,
                cur - taken * ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return taken,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Closes the semaphore and wakes every waiter with an error. Idempotent.
    pub(crate) fn close(&self) {
        let mut list = sync::lock(&self.waiters);
        // AcqRel: waiters woken by this see the close; under the lock (invariant 5).
        self.state.fetch_or(CLOSED, Ordering::AcqRel);
        let mut wakers = WakeList::new();
        while let Some(node) = list.pop_front() {
            // SAFETY: the node was linked, so it is live; we hold the lock.
            let waiter = unsafe { &mut (*node.as_ptr()).data };
            waiter.outcome = Outcome::Closed;
            wakers.push(waiter.waker.take());
        }
        drop(list);
        wakers.wake_all();
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Queued,
    Done,
}

/// One pending acquisition of `requested` permits, with its wait-list node embedded.
///
/// The owner (a future) polls it with the semaphore it belongs to and must call
/// [`cancel`](Self::cancel) with the same semaphore from its `Drop`.
pub(crate) struct Acquisition {
    node: UnsafeCell<Node<Waiter>>,
    requested: usize,
    phase: Phase,
    _pin: PhantomPinned,
}

// SAFETY: the node's fields are reached by other threads only under the semaphore's lock, and
// they are `Send` (a waker and counters).
unsafe impl Send for Acquisition {}
// SAFETY: `&Acquisition` gives no access to anything (every method takes `Pin<&mut Self>`).
unsafe impl Sync for Acquisition {}

impl Acquisition {
    pub(crate) const fn new(requested: usize) -> Self {
        Acquisition {
            node: UnsafeCell::new(Node::new(Waiter {
                waker: None,
                needed: 0,
                outcome: Outcome::Waiting,
            })),
            requested,
            phase: Phase::Idle,
            _pin: PhantomPinned,
        }
    }

    /// Polls for the permits. `Ready(Ok)` hands them to the caller (who then owns them);
    /// `Ready(Err)` means the semaphore closed. Spends one unit of coop budget.
    ///
    /// # Panics
    /// If polled again after it returned `Ready` (the future contract's misuse).
    pub(crate) fn poll_acquire(
        self: Pin<&mut Self>,
        sem: &RawSemaphore,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ()>> {
        let coop = ready!(coop::poll_proceed(cx));
        // SAFETY: we never move out of `this`; the node stays where it is.
        let this = unsafe { self.get_unchecked_mut() };
        let result = match this.phase {
            Phase::Idle => this.first_poll(sem, cx),
            Phase::Queued => this.poll_queued(sem, cx),
            Phase::Done => panic!("a semaphore acquire future was polled after it completed"),
        };
        if result.is_ready() {
            coop.made_progress();
        }
        result
    }

    fn first_poll(&mut self, sem: &RawSemaphore, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let n = self.requested;
        // `n == 0` is answered here (never queued: a waiter needs at least one permit).
        match sem.try_acquire(n) {
            Ok(()) => {
                self.phase = Phase::Done;
                return Poll::Ready(Ok(()));
            }
            Err(TryAcquire::Closed) => {
                self.phase = Phase::Done;
                return Poll::Ready(Err(()));
            }
            Err(TryAcquire::NoPermits) => {}
        }
        let mut list = sync::lock(&sem.waiters);
        let mut cur = sem.state.load(Ordering::Acquire);
        loop {
            if cur & CLOSED != 0 {
                self.phase = Phase::Done;
                return Poll::Ready(Err(()));
            }
            let available = cur >> SHIFT;
            let (new, taken) = if cur & QUEUED == 0 && available >= n {
                (cur - n * ONE, n)
            } else {
                // Take what is there now (nothing, if others already wait: invariant 2) and
                // queue for the rest, setting QUEUED in the same CAS (invariant 3).
                let taken = available.min(n);
                ((cur - taken * ONE) | QUEUED, taken)
            };
            // AcqRel: taking permits acquires; setting QUEUED must be ordered against the
            // fast-path releases, which this CAS does by being an RMW on the same word.
            match sem
                .state
                .compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if taken == n => {
                    self.phase = Phase::Done;
                    return Poll::Ready(Ok(()));
                }
                Ok(_) => {
                    let node = self.node.get();
                    // SAFETY: the node is ours and not linked; the list is locked. The node is
                    // pinned (we are reached through `Pin<&mut Self>`) and `cancel` unlinks it
                    // before it goes, so it stays valid while linked.
                    unsafe {
                        (*node).data.needed = n - taken;
                        (*node).data.outcome = Outcome::Waiting;
                        (*node).data.waker = Some(cx.waker().clone());
                        list.push_back(NonNull::new_unchecked(node));
                    }
                    self.phase = Phase::Queued;
                    return Poll::Pending;
                }
                Err(actual) => cur = actual,
            }
        }
    }

    fn poll_queued(&mut self, sem: &RawSemaphore, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let list = sync::lock(&sem.waiters);
        // SAFETY: the node is ours; other threads touch it only under the lock we hold.
        let waiter = unsafe { &mut (*self.node.get()).data };
        match waiter.outcome {
            Outcome::Granted => {
                self.phase = Phase::Done;
                Poll::Ready(Ok(()))
            }
            Outcome::Closed => {
                self.phase = Phase::Done;
                // Give back what we had been handed before the close (invariant 4).
                let handed = self.requested - waiter.needed;
                sem.hand_over(list, handed);
                Poll::Ready(Err(()))
            }
            Outcome::Waiting => {
                match &mut waiter.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    /// Leaves the queue, giving back every permit handed to this waiter. Called from the
    /// owner's `Drop` (with the semaphore it polled) and harmless if it never waited.
    pub(crate) fn cancel(self: Pin<&mut Self>, sem: &RawSemaphore) {
        // SAFETY: we do not move out of `this`.
        let this = unsafe { self.get_unchecked_mut() };
        if this.phase != Phase::Queued {
            return;
        }
        this.phase = Phase::Done;
        let mut list = sync::lock(&sem.waiters);
        let node = this.node.get();
        // SAFETY: our node is live (we are in its owner's drop) and in this semaphore's list
        // or in none; we hold the lock.
        unsafe { list.remove(NonNull::new_unchecked(node)) };
        // SAFETY: as above: the lock is held, the node ours.
        let waiter = unsafe { &(*node).data };
        let handed = match waiter.outcome {
            Outcome::Granted => this.requested,
            Outcome::Waiting | Outcome::Closed => this.requested - waiter.needed,
        };
        // Even with nothing handed: if we were the last waiter, QUEUED goes with us
        // (invariant 1), which `hand_over` does for an empty list.
        sem.hand_over(list, handed);
    }
}

/// An acquire future borrowing its semaphore: the building block of every `async fn` lock.
pub(crate) struct RawAcquire<'a> {
    sem: &'a RawSemaphore,
    acquisition: Acquisition,
}

impl<'a> RawAcquire<'a> {
    pub(crate) fn new(sem: &'a RawSemaphore, n: usize) -> Self {
        RawAcquire {
            sem,
            acquisition: Acquisition::new(n),
        }
    }

    fn project(self: Pin<&mut Self>) -> (&'a RawSemaphore, Pin<&mut Acquisition>) {
        // SAFETY: `acquisition` is structurally pinned: never moved out, dropped in place.
        unsafe {
            let this = self.get_unchecked_mut();
            (this.sem, Pin::new_unchecked(&mut this.acquisition))
        }
    }
}

impl Future for RawAcquire<'_> {
    type Output = Result<(), ()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (sem, acquisition) = self.project();
        acquisition.poll_acquire(sem, cx)
    }
}

impl Drop for RawAcquire<'_> {
    fn drop(&mut self) {
        // SAFETY: `self` is dropped in place: the pin holds to the end.
        let this = unsafe { Pin::new_unchecked(self) };
        let (sem, acquisition) = this.project();
        acquisition.cancel(sem);
    }
}
