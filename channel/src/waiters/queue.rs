//! The queue of waiters on one side of a lock-free channel flavour: an intrusive [`List`]
//! behind a mutex, plus a mirror of its length that the flavours' fast paths read without
//! the lock (see the module invariants in `waiters/mod.rs`).

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::list::{drain_batch, List, WaitState, Waiter};
use crate::error::{RecvError, TryRecvError};
use crate::sync::{AtomicUsize, Mutex, MutexGuard, Ordering};

/// How many wakers `notify_all` collects before it drops the lock to wake them.
pub(crate) const WAKE_BATCH: usize = 32;

/// The queue of waiters on one side of a channel (lock-free flavours).
pub(crate) struct WaitQueue<T> {
    list: Mutex<List<T>>,
    /// Number of linked waiters; see the module invariants.
    len: AtomicUsize,
}

impl<T> WaitQueue<T> {
    pub(crate) fn new() -> Self {
        WaitQueue {
            list: Mutex::new(List::new()),
            len: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, List<T>> {
        // A panic while holding this lock cannot leave the list half-linked (no user code
        // runs under it except `Waker::clone`), so a poisoned lock is still consistent.
        match self.list.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The mirrored length, stored under the lock. SeqCst: the write half of the flavours'
    /// Dekker pairs (see `has_waiters`).
    #[inline]
    fn publish_len(&self, list: &List<T>) {
        self.len.store(list.len(), Ordering::SeqCst);
    }

    /// How many waiters are parked now (a status read).
    pub(crate) fn waiting(&self) -> usize {
        // SeqCst: a snapshot of the mirrored length (see `has_waiters`).
        self.len.load(Ordering::SeqCst)
    }

    /// Whether any waiter is parked. SeqCst: this is the read half of the flavours' Dekker
    /// pairs (their operation's SeqCst RMW, then this load; the waiter's SeqCst `len` store,
    /// then a SeqCst fence, then its re-check of the channel).
    #[inline]
    pub(crate) fn has_waiters(&self) -> bool {
        crate::sync::notify_fence();
        self.len.load(Ordering::SeqCst) != 0
    }

    /// Links `node` at the back of the queue.
    pub(crate) fn register(&self, node: Pin<&Waiter<T>>, waker: &Waker) {
        let mut list = self.lock();
        // SAFETY: the node is pinned and unlinked (its owner calls this only from `Idle`)
        // and its future deregisters it before being dropped.
        unsafe { list.push_back(&*node, waker) };
        self.publish_len(&list);
    }

    /// A registered waiter is polled again: `true` if still linked (its waker is refreshed),
    /// `false` if it was notified meanwhile (its state is then back to `Idle`).
    pub(crate) fn poll_linked(&self, node: Pin<&Waiter<T>>, waker: &Waker) -> bool {
        if node.state() == WaitState::Linked {
            let _list = self.lock();
            if node.state_locked() == WaitState::Linked {
                // SAFETY: we hold the lock and the node is linked.
                unsafe { node.set_waker(waker) };
                return true;
            }
        }
        // Acquire (in `state`) so the notifier's accesses happen before we reuse the node.
        let _ = node.state();
        node.reset();
        false
    }

    /// Leaves the queue. Returns `true` if the waiter had been notified (and so holds a wake-up
    /// it may have to pass on).
    pub(crate) fn deregister(&self, node: Pin<&Waiter<T>>) -> bool {
        match node.state() {
            WaitState::Idle => false,
            WaitState::Linked => {
                let waker;
                let notified;
                {
                    let mut list = self.lock();
                    if node.state_locked() == WaitState::Linked {
                        // SAFETY: linked in this queue; lock held.
                        unsafe { list.unlink(&*node) };
                        // SAFETY: lock held, node now unlinked and ours.
                        waker = unsafe { node.take_waker() };
                        self.publish_len(&list);
                        notified = false;
                    } else {
                        waker = None;
                        notified = true;
                    }
                }
                // Dropped outside the lock: a waker's drop may run arbitrary code.
                drop(waker);
                node.reset();
                notified
            }
            WaitState::Notified | WaitState::Completed => {
                node.reset();
                true
            }
        }
    }

    /// The receive wait protocol of a lock-free buffer (the ring's and the list's): take a
    /// value with `try_recv`, or register and take once more (the re-check of the flavours'
    /// no-lost-wake-up argument), or wait. `received` (the channel's observer hook and the
    /// flavour's wake of a sender) runs once a value came out, before the wake-up chain goes
    /// on to the next receiver if `is_empty` says more is there.
    #[inline]
    pub(crate) fn poll_recv(
        &self,
        node: Pin<&Waiter<T>>,
        cx: &mut Context<'_>,
        waited: &mut bool,
        try_recv: impl Fn() -> Result<T, TryRecvError>,
        is_empty: impl Fn() -> bool,
        received: impl FnOnce(),
    ) -> Poll<Result<T, RecvError>> {
        if node.state() != WaitState::Idle && self.poll_linked(node, cx.waker()) {
            return Poll::Pending;
        }
        loop {
            match try_recv() {
                Ok(v) => {
                    if node.state() != WaitState::Idle {
                        self.deregister(node);
                    }
                    received();
                    // More values may be waiting for receivers whose wake-up went to us.
                    if *waited && self.has_waiters() && !is_empty() {
                        self.notify_one();
                    }
                    return Poll::Ready(Ok(v));
                }
                Err(TryRecvError::Closed) => {
                    if node.state() != WaitState::Idle {
                        self.deregister(node);
                    }
                    return Poll::Ready(Err(RecvError::Closed));
                }
                // Flavours never reject (only the breaker guard does).
                Err(TryRecvError::Empty | TryRecvError::Rejected { .. }) => {
                    match node.state() {
                        WaitState::Linked => return Poll::Pending,
                        WaitState::Notified => node.reset(),
                        WaitState::Idle | WaitState::Completed => {}
                    }
                    self.register(node, cx.waker());
                    *waited = true;
                }
            }
        }
    }

    /// A waiter's future is dropped: it leaves, and a wake-up it will not use goes to the
    /// next waiter.
    #[inline]
    pub(crate) fn cancel(&self, node: Pin<&Waiter<T>>) {
        if self.deregister(node) {
            self.notify_one();
        }
    }

    /// Wakes the first waiter, if any. Returns whether one was woken.
    pub(crate) fn notify_one(&self) -> bool {
        let waker = {
            let mut list = self.lock();
            let waker = list.pop_notify();
            self.publish_len(&list);
            waker
        };
        match waker {
            Some(w) => {
                if let Some(w) = w {
                    w.wake();
                }
                true
            }
            None => false,
        }
    }

    /// Wakes every waiter; returns how many. Wakers are called outside the lock, in batches,
    /// so this allocates nothing.
    pub(crate) fn notify_all(&self) -> usize {
        let mut woken = 0;
        loop {
            let mut batch: [Option<Waker>; WAKE_BATCH] = Default::default();
            let (n, more) = {
                let mut list = self.lock();
                let n = drain_batch(&mut list, &mut batch);
                self.publish_len(&list);
                (n, list.len() != 0)
            };
            for w in batch.iter_mut().take(n) {
                if let Some(w) = w.take() {
                    w.wake();
                }
            }
            woken += n;
            if !more {
                return woken;
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::task::Waker;

    use crate::waiters::WaitState;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::sync::Arc as StdArc;
    use std::task::Wake;

    struct Count(StdAtomicUsize);

    impl Wake for Count {
        fn wake(self: StdArc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (StdArc<Count>, Waker) {
        let c = StdArc::new(Count(StdAtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    #[test]
    fn fifo_notify_and_deregister() {
        let q = WaitQueue::<()>::new();
        let (c1, w1) = counter();
        let (c2, w2) = counter();
        let (c3, w3) = counter();
        let n1 = pin!(Waiter::new(None));
        let n2 = pin!(Waiter::new(None));
        let n3 = pin!(Waiter::new(None));
        q.register(n1.as_ref(), &w1);
        q.register(n2.as_ref(), &w2);
        q.register(n3.as_ref(), &w3);
        assert!(q.has_waiters());
        // The middle one leaves without having been notified.
        assert!(!q.deregister(n2.as_ref()));
        assert!(q.notify_one());
        assert_eq!(c1.0.load(Ordering::SeqCst), 1);
        assert_eq!(n1.state(), WaitState::Notified);
        // A notified waiter that leaves reports the wake-up it holds.
        assert!(q.deregister(n1.as_ref()));
        assert_eq!(q.notify_all(), 1);
        assert_eq!(c3.0.load(Ordering::SeqCst), 1);
        assert_eq!(c2.0.load(Ordering::SeqCst), 0);
        assert!(!q.has_waiters());
        assert!(!q.notify_one());
        assert!(!q.poll_linked(n3.as_ref(), &w3));
        assert_eq!(n3.state(), WaitState::Idle);
    }

    #[test]
    fn notify_all_wakes_more_than_a_batch() {
        let q = WaitQueue::<()>::new();
        let (c, w) = counter();
        let nodes: Vec<_> = (0..WAKE_BATCH * 2 + 3)
            .map(|_| Box::pin(Waiter::new(None)))
            .collect();
        for n in &nodes {
            q.register(n.as_ref(), &w);
        }
        assert_eq!(q.notify_all(), nodes.len());
        assert_eq!(c.0.load(Ordering::SeqCst), nodes.len());
        for n in &nodes {
            assert!(q.deregister(n.as_ref()));
        }
    }
}
