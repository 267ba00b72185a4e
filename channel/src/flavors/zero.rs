//! Rendezvous channel (capacity 0): a send completes only when a receiver takes the value.
//!
//! # Why a lock
//!
//! A rendezvous pairs two waiting operations, either of which may sit in a `select!` or be
//! cancelled at any moment. Pairing must atomically (a) find a partner that can still commit,
//! (b) commit its `select!` to that branch, (c) move the value and (d) unlink both waiters.
//! One short mutex over both waiter lists makes these steps a single critical section that
//! no cancellation can split, which is what makes the cancellation guarantees below simple to
//! check. There is no buffer whose fast path a lock would slow down: every rendezvous hands a
//! value from one thread to another and wakes one of them, which costs more than the lock.
//!
//! # Protocol
//!
//! * The *active* side is the operation being polled (or a `try_` call). It looks for a
//!   waiting partner in the other list; a partner that waits inside a `select!` is taken only
//!   if its select can be committed to that branch ([`crate::select::Claim::try_commit`]), and
//!   never one from the active side's own select (so a select does not pair with itself).
//! * If it finds one, it moves the value (out of a waiting sender's node, or into a waiting
//!   receiver's node), marks the partner `Completed`, and both complete. Otherwise it links its
//!   own node and waits; a sender's value stays in its own future the whole time.
//!
//! # Cancellation
//!
//! * A dropped send future that was not `Completed` unlinks itself; its value is dropped with
//!   it and no receiver ever saw it. One that was `Completed` had its value taken: the send
//!   happened. Inside weir's `select!` that cannot happen to a losing branch (the partner
//!   must commit the select first); a plain send dropped by another combinator (such as
//!   `time::timeout`) after a receiver took its value did send it.
//! * A dropped receive future that was `Completed` (given a value it never returned — only
//!   possible when the future is dropped by something other than weir's `select!`, such as a
//!   task abort) puts the value into `stash`, which receivers drain before meeting senders, so
//!   the value is not lost. Senders wait while the stash holds values, so per-producer order is
//!   kept except across such an abort.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::error::{RecvError, SendError, TryRecvError, TrySendError};
use crate::select;
use crate::sync::{AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::waiters::{drain_batch, List, WaitState, Waiter};

struct Inner<T> {
    senders: List<T>,
    receivers: List<T>,
    /// Values given to receivers that were dropped before returning them.
    stash: VecDeque<T>,
    closed: bool,
}

pub(crate) struct Zero<T> {
    inner: Mutex<Inner<T>>,
    /// Mirror of `inner.closed` for lock-free `is_closed`.
    closed: AtomicUsize,
    /// Bumped under the lock whenever a waiter is linked, paired or unlinked, the stash
    /// changes or the channel closes: every change of any operation's readiness (`select!`'s
    /// moment of decision reads it; see `state_words`).
    version: AtomicUsize,
}

impl<T> Zero<T> {
    pub(crate) fn new() -> Self {
        Zero {
            inner: Mutex::new(Inner {
                senders: List::new(),
                receivers: List::new(),
                stash: VecDeque::new(),
                closed: false,
            }),
            closed: AtomicUsize::new(0),
            version: AtomicUsize::new(0),
        }
    }

    /// Records a change of readiness; called with the lock held.
    fn moved(&self) {
        // Relaxed: written only under the lock, whose release/acquire orders it with every
        // other critical section (see `state_words`).
        self.version.fetch_add(1, Ordering::Relaxed);
    }

    /// The readiness version. Two equal reads around a critical section of ours mean no
    /// critical section that changed readiness ran in between: one that ran before ours (in
    /// lock order) but after the first read is ordered before the second read by the lock,
    /// so the second read would see its bump; one after ours is, for the decision, after the
    /// second read.
    pub(crate) fn state_words(&self) -> [usize; 2] {
        // Acquire: pairs with the lock's release through the bump's critical section.
        [self.version.load(Ordering::Acquire), 0]
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // No user code runs under the lock except waker clones, so a poisoned lock still
        // guards consistent lists.
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The first waiter in `list` that may be paired with the current operation, committing
    /// its select if it waits in one.
    fn find_partner(list: &List<T>, me: *const select::Token) -> Option<*const Waiter<T>> {
        let mut node = list.head();
        while !node.is_null() {
            // SAFETY: `node` is linked in `list` and the caller holds the lock, so the node is
            // alive and its claim is only touched under this lock.
            let ok = unsafe {
                (*node).claim.with(|c| match &*c {
                    None => true,
                    Some(claim) => claim.token_ptr() != me && claim.try_commit(),
                })
            };
            if ok {
                return Some(node);
            }
            // SAFETY: as above.
            node = unsafe { list.next(node) };
        }
        None
    }

    /// Links `node` (or refreshes its waker and select tie if it is linked already).
    fn park(list: &mut List<T>, node: Pin<&Waiter<T>>, waker: &Waker, linked: bool) {
        let in_select = select::in_select();
        let me = select::current_root();
        // SAFETY: we hold the lock; the node is either ours and unlinked, or linked here (its
        // claim and waker are then only touched under this lock).
        unsafe {
            // Inside a select the node must carry a claim on its token (allocated now if this
            // is the select's first rendezvous wait); outside, none.
            let stale = node.claim.with(|c| match &*c {
                None => in_select,
                Some(claim) => !in_select || claim.token_ptr() != me,
            });
            if stale {
                let claim = select::current_claim();
                node.claim.with_mut(|c| *c = claim);
            }
            if linked {
                node.set_waker(waker);
            } else {
                list.push_back(&*node, waker);
            }
        }
    }

    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(TrySendError::Closed(value));
        }
        if !inner.stash.is_empty() {
            return Err(TrySendError::Full(value));
        }
        match Self::find_partner(&inner.receivers, select::current_root()) {
            Some(r) => {
                // SAFETY: `r` is linked in `receivers` and we hold the lock.
                let waker = unsafe {
                    (*r).put_value(value);
                    inner.receivers.release(r, WaitState::Completed)
                };
                self.moved();
                drop(inner);
                if let Some(w) = waker {
                    w.wake();
                }
                Ok(())
            }
            None => Err(TrySendError::Full(value)),
        }
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut inner = self.lock();
        if let Some(v) = inner.stash.pop_front() {
            self.moved();
            return Ok(v);
        }
        match Self::find_partner(&inner.senders, select::current_root()) {
            Some(s) => {
                // SAFETY: `s` is linked in `senders` and we hold the lock.
                let (value, waker) = unsafe {
                    let v = (*s).take_value();
                    (v, inner.senders.release(s, WaitState::Completed))
                };
                self.moved();
                drop(inner);
                if let Some(w) = waker {
                    w.wake();
                }
                match value {
                    Some(v) => Ok(v),
                    // A linked sender always holds its value; treat a broken node as empty.
                    None => Err(TryRecvError::Empty),
                }
            }
            None if inner.closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Polls a send whose value sits in `node`.
    pub(crate) fn poll_send(
        &self,
        node: Pin<&Waiter<T>>,
        cx: &mut Context<'_>,
        waited: &mut bool,
    ) -> Poll<Result<(), SendError<T>>> {
        if node.state() == WaitState::Completed {
            node.reset();
            return Poll::Ready(Ok(()));
        }
        let mut inner = self.lock();
        let linked = match node.state() {
            WaitState::Linked => true,
            WaitState::Completed => {
                node.reset();
                return Poll::Ready(Ok(()));
            }
            WaitState::Notified => {
                node.reset();
                false
            }
            _ => false,
        };
        if inner.closed {
            // SAFETY: lock held; if linked the node is in `senders`.
            let value = unsafe {
                if linked {
                    inner.senders.unlink(&*node);
                    self.moved();
                }
                node.reset();
                node.take_value()
            };
            return match value {
                Some(v) => Poll::Ready(Err(SendError(v))),
                // The value was delivered before the close; the send happened.
                None => Poll::Ready(Ok(())),
            };
        }
        if inner.stash.is_empty() {
            if let Some(r) = Self::find_partner(&inner.receivers, select::current_root()) {
                // SAFETY: lock held; `r` is linked in `receivers`; our node is ours or linked
                // in `senders`.
                let waker = unsafe {
                    if linked {
                        inner.senders.unlink(&*node);
                    }
                    node.reset();
                    if let Some(v) = node.take_value() {
                        (*r).put_value(v);
                    }
                    inner.receivers.release(r, WaitState::Completed)
                };
                self.moved();
                drop(inner);
                if let Some(w) = waker {
                    w.wake();
                }
                return Poll::Ready(Ok(()));
            }
        }
        if !linked {
            self.moved();
        }
        Self::park(&mut inner.senders, node, cx.waker(), linked);
        *waited = true;
        Poll::Pending
    }

    /// Polls a receive; a value given by a sender lands in `node`'s slot.
    pub(crate) fn poll_recv(
        &self,
        node: Pin<&Waiter<T>>,
        cx: &mut Context<'_>,
        waited: &mut bool,
    ) -> Poll<Result<T, RecvError>> {
        if node.state() == WaitState::Completed {
            node.reset();
            // SAFETY: Completed (Acquire) hands the node, value included, back to us.
            if let Some(v) = unsafe { node.take_value() } {
                return Poll::Ready(Ok(v));
            }
        }
        let mut inner = self.lock();
        let linked = match node.state() {
            WaitState::Linked => true,
            WaitState::Completed => {
                node.reset();
                // SAFETY: as above.
                if let Some(v) = unsafe { node.take_value() } {
                    return Poll::Ready(Ok(v));
                }
                false
            }
            WaitState::Notified => {
                node.reset();
                false
            }
            _ => false,
        };
        let unlink_self = |inner: &mut Inner<T>| {
            if linked {
                // SAFETY: lock held; the node is linked in `receivers`.
                unsafe { inner.receivers.unlink(&*node) };
            }
            node.reset();
        };
        if let Some(v) = inner.stash.pop_front() {
            unlink_self(&mut inner);
            self.moved();
            return Poll::Ready(Ok(v));
        }
        if let Some(s) = Self::find_partner(&inner.senders, select::current_root()) {
            unlink_self(&mut inner);
            // SAFETY: lock held; `s` is linked in `senders`.
            let (value, waker) = unsafe {
                let v = (*s).take_value();
                (v, inner.senders.release(s, WaitState::Completed))
            };
            self.moved();
            drop(inner);
            if let Some(w) = waker {
                w.wake();
            }
            if let Some(v) = value {
                return Poll::Ready(Ok(v));
            }
            // A linked sender always holds its value; poll again rather than fail.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if inner.closed {
            unlink_self(&mut inner);
            if linked {
                self.moved();
            }
            return Poll::Ready(Err(RecvError::Closed));
        }
        if !linked {
            self.moved();
        }
        Self::park(&mut inner.receivers, node, cx.waker(), linked);
        *waited = true;
        Poll::Pending
    }

    /// A send future is dropped.
    pub(crate) fn cancel_send(&self, node: Pin<&Waiter<T>>) {
        if node.state() != WaitState::Linked {
            node.reset();
            return;
        }
        let mut inner = self.lock();
        if node.state() == WaitState::Linked {
            // SAFETY: lock held; linked in `senders`.
            unsafe { inner.senders.unlink(&*node) };
            self.moved();
        }
        node.reset();
        // The value, if still there, is dropped with the future: nobody saw it.
    }

    /// A receive future is dropped.
    pub(crate) fn cancel_recv(&self, node: Pin<&Waiter<T>>) {
        let state = node.state();
        if state == WaitState::Idle {
            return;
        }
        let mut inner = self.lock();
        let state = match node.state() {
            WaitState::Linked => {
                // SAFETY: lock held; linked in `receivers`.
                unsafe { inner.receivers.unlink(&*node) };
                self.moved();
                WaitState::Idle
            }
            s => s,
        };
        node.reset();
        let mut wake = None;
        if state == WaitState::Completed {
            // Given a value it will never return: keep it for the next receiver.
            // SAFETY: Completed (Acquire) gave us the node.
            if let Some(v) = unsafe { node.take_value() } {
                inner.stash.push_back(v);
                self.moved();
            }
        }
        if (state == WaitState::Completed || state == WaitState::Notified)
            && !inner.stash.is_empty()
        {
            // Pass the wake-up on to a receiver that will take the stashed value.
            wake = inner.receivers.pop_notify().flatten();
        }
        drop(inner);
        if let Some(w) = wake {
            w.wake();
        }
    }

    /// Closes; returns whether this call closed it and how many waiters it woke.
    pub(crate) fn close(&self) -> (bool, usize) {
        let mut woken = 0;
        {
            let mut inner = self.lock();
            if inner.closed {
                return (false, 0);
            }
            inner.closed = true;
            self.moved();
            // SeqCst: `is_closed` readers see it in the same order as the queue effects.
            self.closed.store(1, Ordering::SeqCst);
        }
        loop {
            let mut batch: [Option<Waker>; 32] = Default::default();
            let (n, more) = {
                let mut inner = self.lock();
                let mut n = drain_batch(&mut inner.senders, &mut batch);
                n += drain_batch(&mut inner.receivers, &mut batch[n..]);
                (n, inner.senders.len() + inner.receivers.len() != 0)
            };
            for w in batch.iter_mut().take(n) {
                if let Some(w) = w.take() {
                    w.wake();
                }
            }
            woken += n;
            if !more {
                return (true, woken);
            }
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        // SeqCst: pairs with the store in `close`.
        self.closed.load(Ordering::SeqCst) != 0
    }

    /// Receivers parked waiting for a sender.
    pub(crate) fn waiting_receivers(&self) -> usize {
        self.lock().receivers.len()
    }

    /// Values stashed from cancelled receivers (normally 0).
    pub(crate) fn len(&self) -> usize {
        self.lock().stash.len()
    }
}
