//! The waiter node a parked operation embeds in its future, and the intrusive list that links
//! such nodes. Not synchronised: the list's owner holds a lock (see the module invariants in
//! `waiters/mod.rs`).

use std::marker::PhantomPinned;
use std::ptr;
use std::task::Waker;

use crate::sync::{AtomicUsize, Ordering, UnsafeCell};

/// Where a waiter node stands. Stored in the node's `state` word as its discriminant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum WaitState {
    /// Not in any list; the owner has everything.
    Idle = 0,
    /// In a list, waiting.
    Linked = 1,
    /// Unlinked by a notifier (a value, a free slot, or close may be there): retry.
    Notified = 2,
    /// Unlinked by a rendezvous partner that finished the operation (took or gave the value).
    Completed = 3,
}

impl WaitState {
    #[inline(always)]
    fn from_word(word: usize) -> Self {
        match word {
            0 => WaitState::Idle,
            1 => WaitState::Linked,
            2 => WaitState::Notified,
            // Only the four discriminants are ever stored.
            _ => WaitState::Completed,
        }
    }
}

/// A rendezvous waiter's tie to the `select!` it waits in (see `select.rs`).
pub(crate) type Claim = crate::select::Claim;

/// A parked operation, embedded in its future.
pub(crate) struct Waiter<T> {
    prev: UnsafeCell<*const Waiter<T>>,
    next: UnsafeCell<*const Waiter<T>>,
    waker: UnsafeCell<Option<Waker>>,
    /// A [`WaitState`] discriminant.
    state: AtomicUsize,
    /// The value: a sender's until delivered, or the value a rendezvous receiver was given.
    pub(crate) slot: UnsafeCell<Option<T>>,
    /// Rendezvous only: the `select!` this operation waits in, if any.
    pub(crate) claim: UnsafeCell<Option<Claim>>,
    _pinned: PhantomPinned,
}

// SAFETY: the raw links are only followed under the list's lock; the value slot is handed
// between threads under the same lock, so a Waiter is as thread-safe as `T: Send` makes it.
unsafe impl<T: Send> Send for Waiter<T> {}
// SAFETY: shared access from other threads goes through the list's lock (see the invariants).
unsafe impl<T: Send> Sync for Waiter<T> {}

impl<T> Waiter<T> {
    pub(crate) fn new(value: Option<T>) -> Self {
        Waiter {
            prev: UnsafeCell::new(ptr::null()),
            next: UnsafeCell::new(ptr::null()),
            waker: UnsafeCell::new(None),
            state: AtomicUsize::new(WaitState::Idle as usize),
            slot: UnsafeCell::new(value),
            claim: UnsafeCell::new(None),
            _pinned: PhantomPinned,
        }
    }

    /// The owner's view of the state. Acquire: pairs with the notifier's Release store in
    /// [`List::release`], so everything the notifier did to the node is visible once
    /// `Notified`/`Completed` is seen.
    #[inline]
    pub(crate) fn state(&self) -> WaitState {
        WaitState::from_word(self.state.load(Ordering::Acquire))
    }

    /// The state read by a holder of the list's lock. Relaxed: every change to a linked
    /// node's state is made under that lock, which orders it before this read.
    #[inline]
    pub(crate) fn state_locked(&self) -> WaitState {
        WaitState::from_word(self.state.load(Ordering::Relaxed))
    }

    /// The owner takes the node back after seeing `Notified`/`Completed`. Relaxed: nobody
    /// else reads the state of an unlinked node, and the owner's next hand-off (a locked
    /// registration) publishes it.
    #[inline]
    pub(crate) fn reset(&self) {
        self.state
            .store(WaitState::Idle as usize, Ordering::Relaxed);
    }

    /// Takes the value out of the slot.
    ///
    /// # Safety
    /// The caller owns the slot: the node is not linked, or the list's lock is held.
    #[inline]
    pub(crate) unsafe fn take_value(&self) -> Option<T> {
        // SAFETY: exclusive access per the caller's contract.
        self.slot.with_mut(|p| unsafe { (*p).take() })
    }

    /// Puts a value in the slot.
    ///
    /// # Safety
    /// As for [`Waiter::take_value`].
    #[inline]
    pub(crate) unsafe fn put_value(&self, value: T) {
        // SAFETY: exclusive access per the caller's contract.
        self.slot.with_mut(|p| unsafe { *p = Some(value) })
    }

    /// Stores the waker unless the stored one already wakes the same task.
    ///
    /// # Safety
    /// The caller holds the list's lock or the node is not linked.
    pub(crate) unsafe fn set_waker(&self, waker: &Waker) {
        // SAFETY: exclusive access per the caller's contract.
        self.waker.with_mut(|p| unsafe {
            match &*p {
                Some(old) if old.will_wake(waker) => {}
                _ => *p = Some(waker.clone()),
            }
        })
    }

    /// # Safety
    /// The caller holds the list's lock (the node is linked) or owns the node.
    pub(crate) unsafe fn take_waker(&self) -> Option<Waker> {
        // SAFETY: exclusive access per the caller's contract.
        self.waker.with_mut(|p| unsafe { (*p).take() })
    }
}

/// An intrusive doubly linked list of waiters. Not synchronised: its owner holds a lock.
pub(crate) struct List<T> {
    head: *const Waiter<T>,
    tail: *const Waiter<T>,
    len: usize,
}

// SAFETY: the list only holds pointers to pinned waiters that are `Send`; every access to it
// happens under the lock that wraps it.
unsafe impl<T: Send> Send for List<T> {}

impl<T> List<T> {
    pub(crate) const fn new() -> Self {
        List {
            head: ptr::null(),
            tail: ptr::null(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn head(&self) -> *const Waiter<T> {
        self.head
    }

    /// The node after `node`.
    ///
    /// # Safety
    /// `node` is linked in this list and the caller holds its lock.
    pub(crate) unsafe fn next(&self, node: *const Waiter<T>) -> *const Waiter<T> {
        // SAFETY: linked nodes are alive (invariant) and the lock is held.
        unsafe { (*node).next.with(|p| *p) }
    }

    /// Links `node` at the back and marks it `Linked`.
    ///
    /// # Safety
    /// `node` is pinned, not linked anywhere, and outlives its membership; lock held.
    pub(crate) unsafe fn push_back(&mut self, node: *const Waiter<T>, waker: &Waker) {
        // SAFETY: per the contract, we have exclusive access to `node` and the list.
        unsafe {
            let n = &*node;
            n.set_waker(waker);
            n.prev.with_mut(|p| *p = self.tail);
            n.next.with_mut(|p| *p = ptr::null());
            if self.tail.is_null() {
                self.head = node;
            } else {
                (*self.tail).next.with_mut(|p| *p = node);
            }
            self.tail = node;
            // Relaxed: the owner reads it back (or a notifier overwrites it) under the lock or
            // after an Acquire of a later Release store.
            n.state.store(WaitState::Linked as usize, Ordering::Relaxed);
        }
        self.len += 1;
    }

    /// Unlinks `node`, leaving its state alone.
    ///
    /// # Safety
    /// `node` is linked in this list; lock held.
    pub(crate) unsafe fn unlink(&mut self, node: *const Waiter<T>) {
        // SAFETY: linked nodes are alive and we hold the lock.
        unsafe {
            let n = &*node;
            let prev = n.prev.with(|p| *p);
            let next = n.next.with(|p| *p);
            if prev.is_null() {
                self.head = next;
            } else {
                (*prev).next.with_mut(|p| *p = next);
            }
            if next.is_null() {
                self.tail = prev;
            } else {
                (*next).prev.with_mut(|p| *p = prev);
            }
            n.prev.with_mut(|p| *p = ptr::null());
            n.next.with_mut(|p| *p = ptr::null());
        }
        self.len -= 1;
    }

    /// Unlinks `node`, takes its waker and hands the node back to its owner with `state`
    /// (`Notified` or `Completed`). The node must not be touched after this.
    ///
    /// # Safety
    /// `node` is linked in this list; lock held.
    pub(crate) unsafe fn release(
        &mut self,
        node: *const Waiter<T>,
        state: WaitState,
    ) -> Option<Waker> {
        debug_assert!(matches!(state, WaitState::Notified | WaitState::Completed));
        // SAFETY: per the contract.
        unsafe {
            self.unlink(node);
            let waker = (*node).take_waker();
            // Release: the unlinking, the waker's removal and any value handed over happen
            // before the owner, reading this with Acquire, takes the node back.
            (*node).state.store(state as usize, Ordering::Release);
            waker
        }
    }

    /// Unlinks the first node with `Notified`; `Some(waker)` if there was one (the waker
    /// itself is always there for a linked node).
    pub(crate) fn pop_notify(&mut self) -> Option<Option<Waker>> {
        let head = self.head;
        if head.is_null() {
            return None;
        }
        // SAFETY: `head` is linked here and the caller holds the lock.
        Some(unsafe { self.release(head, WaitState::Notified) })
    }
}

/// Unlinks up to `batch.len()` waiters with `Notified`, collecting their wakers to be woken
/// after the caller drops its lock. Returns how many were unlinked.
pub(crate) fn drain_batch<T>(list: &mut List<T>, batch: &mut [Option<Waker>]) -> usize {
    let mut n = 0;
    while n < batch.len() {
        match list.pop_notify() {
            Some(w) => {
                batch[n] = w;
                n += 1;
            }
            None => break,
        }
    }
    n
}
