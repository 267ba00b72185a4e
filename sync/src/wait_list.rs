//! An intrusive, doubly linked FIFO of waiter nodes.
//!
//! The nodes live inside the futures that wait (so waiting allocates nothing); the list only
//! links them. The list has no lock of its own: it always sits inside the `Mutex` of the
//! primitive that owns it, and `&mut WaitList` is the proof that the lock is held. Every
//! field of a linked node is read and written only under that lock.
//!
//! # Invariants
//!
//! * A node is in at most one list; `queued` is true exactly while it is linked.
//! * A linked node does not move and is not freed: the future that holds it is pinned and
//!   unlinks it (under the lock) in its `Drop` before its memory goes.

use std::marker::PhantomPinned;
use std::ptr::{self, NonNull};

/// One waiter: links, the `queued` flag and the primitive's own waiter data.
pub(crate) struct Node<T> {
    prev: *mut Node<T>,
    next: *mut Node<T>,
    queued: bool,
    pub(crate) data: T,
    /// The list holds raw pointers to the node: it must not move once linked.
    _pin: PhantomPinned,
}

impl<T> Node<T> {
    pub(crate) const fn new(data: T) -> Self {
        Node {
            prev: ptr::null_mut(),
            next: ptr::null_mut(),
            queued: false,
            data,
            _pin: PhantomPinned,
        }
    }

    /// Whether the node is linked in a list.
    #[cfg(test)]
    pub(crate) fn is_queued(&self) -> bool {
        self.queued
    }
}

/// The list head. Lives inside the owning primitive's mutex.
pub(crate) struct WaitList<T> {
    head: *mut Node<T>,
    tail: *mut Node<T>,
}

// SAFETY: the list is only reached through the mutex that contains it, and the nodes it links
// hold `T` values that cross threads with it (wakers and counters, which are `Send`).
unsafe impl<T: Send> Send for WaitList<T> {}

impl<T> WaitList<T> {
    pub(crate) const fn new() -> Self {
        WaitList {
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_null()
    }

    /// Links `node` at the back.
    ///
    /// # Safety
    /// `node` points to a live node that is in no list and will not move or be freed until it
    /// is unlinked (by [`pop_front`](Self::pop_front) or [`remove`](Self::remove)) under the
    /// same lock.
    pub(crate) unsafe fn push_back(&mut self, node: NonNull<Node<T>>) {
        let n = node.as_ptr();
        // SAFETY: the caller guarantees `n` is live and unlinked; `self.tail`, when not null,
        // is a linked node, live by the list's invariant; we hold the lock (`&mut self`).
        unsafe {
            debug_assert!(!(*n).queued);
            (*n).prev = self.tail;
            (*n).next = ptr::null_mut();
            (*n).queued = true;
            if self.tail.is_null() {
                self.head = n;
            } else {
                (*self.tail).next = n;
            }
        }
        self.tail = n;
    }

    /// The first node, still linked.
    pub(crate) fn front(&mut self) -> Option<NonNull<Node<T>>> {
        NonNull::new(self.head)
    }

    /// Unlinks and returns the first node.
    pub(crate) fn pop_front(&mut self) -> Option<NonNull<Node<T>>> {
        let head = NonNull::new(self.head)?;
        // SAFETY: `head` is linked, so live (list invariant), and it is in this list.
        unsafe { self.unlink(head) };
        Some(head)
    }

    /// Unlinks `node` if it is linked; returns whether it was.
    ///
    /// # Safety
    /// `node` points to a live node that is either in no list or in this one.
    pub(crate) unsafe fn remove(&mut self, node: NonNull<Node<T>>) -> bool {
        // SAFETY: the caller guarantees `node` is live; we hold the lock.
        if !unsafe { (*node.as_ptr()).queued } {
            return false;
        }
        // SAFETY: it is queued, and by the caller's guarantee in this list.
        unsafe { self.unlink(node) };
        true
    }

    /// # Safety
    /// `node` is linked in this list.
    unsafe fn unlink(&mut self, node: NonNull<Node<T>>) {
        let n = node.as_ptr();
        // SAFETY: `n` and its neighbours are linked in this list, so live; we hold the lock.
        unsafe {
            let (prev, next) = ((*n).prev, (*n).next);
            if prev.is_null() {
                self.head = next;
            } else {
                (*prev).next = next;
            }
            if next.is_null() {
                self.tail = prev;
            } else {
                (*next).prev = prev;
            }
            (*n).prev = ptr::null_mut();
            (*n).next = ptr::null_mut();
            (*n).queued = false;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn ptr_of(node: &mut Node<u32>) -> NonNull<Node<u32>> {
        NonNull::from(node)
    }

    #[test]
    fn fifo_order_and_removal_from_the_middle() {
        let (mut a, mut b, mut c) = (Node::new(1), Node::new(2), Node::new(3));
        let (pa, pb, pc) = (ptr_of(&mut a), ptr_of(&mut b), ptr_of(&mut c));
        let mut list = WaitList::new();
        // SAFETY: the nodes outlive the list's use of them and do not move.
        unsafe {
            list.push_back(pa);
            list.push_back(pb);
            list.push_back(pc);
            assert!(list.remove(pb));
            assert!(!list.remove(pb), "a removed node is not removed twice");
        }
        let first = list.pop_front().unwrap();
        // SAFETY: `first` is `a`, alive on this stack frame.
        assert_eq!(unsafe { first.as_ref().data }, 1);
        let second = list.pop_front().unwrap();
        // SAFETY: as above, `c`.
        assert_eq!(unsafe { second.as_ref().data }, 3);
        assert!(list.is_empty());
        assert!(!a.is_queued() && !b.is_queued() && !c.is_queued());
    }
}
