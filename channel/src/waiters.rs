//! Wait queues for parked senders and receivers, async tasks and blocking threads alike.
//!
//! A waiter is a node embedded in the operation's own future ([`Waiter`]); the future is
//! pinned, so the node has a stable address and the queue links it in place. Registering,
//! waking and leaving therefore allocate nothing: the only allocation a waiter ever causes is
//! the waker's, which for a runtime task is a reference count and for a blocking thread is
//! made once per thread ([`block_on`]).
//!
//! # Invariants
//!
//! * A node's links, waker, and (rendezvous) value slot and claim are touched by anyone but
//!   the node's owner only while the queue's lock is held and the node is linked.
//! * `state` is written under the lock (`LINKED` on registration, `NOTIFIED`/`COMPLETED` when a
//!   waker unlinks it) and read by the owner without the lock. A notifier takes the waker and
//!   unlinks the node *before* its Release store of `NOTIFIED`; after that store it never
//!   touches the node again, so an owner that reads `NOTIFIED` with Acquire owns the node
//!   outright and may drop it.
//! * A node is unlinked before its future's memory is released: the future's `Drop` calls
//!   [`WaitQueue::deregister`] (pinning guarantees `Drop` runs before the memory is reused).
//! * A notification handed to a waiter that will not act on it (its future is dropped while
//!   `NOTIFIED`) is passed on to the next waiter by the owner, so no message or free slot is
//!   stranded behind a cancelled waiter.
//! * `len` mirrors the list length; it is stored under the lock with SeqCst and read on the
//!   channels' fast paths with SeqCst (see the flavours for the no-lost-wake-up argument).

use std::future::Future;
use std::marker::PhantomPinned;
#[cfg(not(loom))]
use std::pin::pin;
use std::pin::Pin;
use std::ptr;
use std::task::Waker;
#[cfg(not(loom))]
use std::task::{Context, Poll};

use crate::sync::{AtomicUsize, Mutex, MutexGuard, Ordering, UnsafeCell};

/// Not in any queue; the owner has everything.
pub(crate) const IDLE: usize = 0;
/// In a queue, waiting.
pub(crate) const LINKED: usize = 1;
/// Unlinked by a notifier (a value, a free slot, or close may be there): retry.
pub(crate) const NOTIFIED: usize = 2;
/// Unlinked by a rendezvous partner that finished the operation (took or gave the value).
pub(crate) const COMPLETED: usize = 3;

/// A rendezvous waiter's tie to the `select!` it waits in (see `select.rs`).
pub(crate) type Claim = crate::select::Claim;

/// A parked operation, embedded in its future.
pub(crate) struct Waiter<T> {
    prev: UnsafeCell<*const Waiter<T>>,
    next: UnsafeCell<*const Waiter<T>>,
    waker: UnsafeCell<Option<Waker>>,
    state: AtomicUsize,
    /// The value: a sender's until delivered, or the value a rendezvous receiver was given.
    pub(crate) slot: UnsafeCell<Option<T>>,
    /// Rendezvous only: the `select!` this operation waits in, if any.
    pub(crate) claim: UnsafeCell<Option<Claim>>,
    _pinned: PhantomPinned,
}

// SAFETY: the raw links are only followed under the queue lock; the value slot is handed
// between threads under the same lock, so a Waiter is as thread-safe as `T: Send` makes it.
unsafe impl<T: Send> Send for Waiter<T> {}
// SAFETY: shared access from other threads goes through the queue lock (see the invariants).
unsafe impl<T: Send> Sync for Waiter<T> {}

impl<T> Waiter<T> {
    pub(crate) fn new(value: Option<T>) -> Self {
        Waiter {
            prev: UnsafeCell::new(ptr::null()),
            next: UnsafeCell::new(ptr::null()),
            waker: UnsafeCell::new(None),
            state: AtomicUsize::new(IDLE),
            slot: UnsafeCell::new(value),
            claim: UnsafeCell::new(None),
            _pinned: PhantomPinned,
        }
    }

    /// The owner's view of the state. Acquire: pairs with the notifier's Release store, so
    /// everything the notifier did to the node is visible once `NOTIFIED`/`COMPLETED` is seen.
    #[inline]
    pub(crate) fn state(&self) -> usize {
        self.state.load(Ordering::Acquire)
    }

    /// The owner takes the node back after seeing `NOTIFIED`/`COMPLETED`. Relaxed: nobody else
    /// reads the state of an unlinked node.
    #[inline]
    pub(crate) fn reset(&self) {
        self.state.store(IDLE, Ordering::Relaxed);
    }

    /// Takes the value out of the slot.
    ///
    /// # Safety
    /// The caller owns the slot: the node is not linked, or the queue lock is held.
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
    /// The caller holds the queue lock or the node is not linked.
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
    /// The caller holds the queue lock (the node is linked) or owns the node.
    unsafe fn take_waker(&self) -> Option<Waker> {
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

    /// Links `node` at the back and marks it `LINKED`.
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
            n.state.store(LINKED, Ordering::Relaxed);
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
    /// (`NOTIFIED` or `COMPLETED`). The node must not be touched after this.
    ///
    /// # Safety
    /// `node` is linked in this list; lock held.
    pub(crate) unsafe fn release(&mut self, node: *const Waiter<T>, state: usize) -> Option<Waker> {
        // SAFETY: per the contract.
        unsafe {
            self.unlink(node);
            let waker = (*node).take_waker();
            // Release: the unlinking, the waker's removal and any value handed over happen
            // before the owner, reading this with Acquire, takes the node back.
            (*node).state.store(state, Ordering::Release);
            waker
        }
    }

    /// Unlinks the first node with `NOTIFIED`; `Some(waker)` if there was one (the waker
    /// itself is always there for a linked node).
    pub(crate) fn pop_notify(&mut self) -> Option<Option<Waker>> {
        let head = self.head;
        if head.is_null() {
            return None;
        }
        // SAFETY: `head` is linked here and the caller holds the lock.
        Some(unsafe { self.release(head, NOTIFIED) })
    }
}

/// How many wakers `notify_all` collects before it drops the lock to wake them.
const WAKE_BATCH: usize = 32;

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
        // SAFETY: the node is pinned and unlinked (its owner calls this only from IDLE) and
        // its future deregisters it before being dropped.
        unsafe { list.push_back(&*node, waker) };
        // SeqCst store: see `has_waiters`.
        self.len.store(list.len(), Ordering::SeqCst);
    }

    /// A registered waiter is polled again: `true` if still linked (its waker is refreshed),
    /// `false` if it was notified meanwhile (its state is then back to `IDLE`).
    pub(crate) fn poll_linked(&self, node: Pin<&Waiter<T>>, waker: &Waker) -> bool {
        if node.state() == LINKED {
            let _list = self.lock();
            // Relaxed under the lock: notifiers change it only while holding the lock.
            if node.state.load(Ordering::Relaxed) == LINKED {
                // SAFETY: we hold the lock and the node is linked.
                unsafe { node.set_waker(waker) };
                return true;
            }
        }
        // Acquire so the notifier's accesses happen before we reuse the node.
        let _ = node.state();
        node.reset();
        false
    }

    /// Leaves the queue. Returns `true` if the waiter had been notified (and so holds a wake-up
    /// it may have to pass on).
    pub(crate) fn deregister(&self, node: Pin<&Waiter<T>>) -> bool {
        match node.state() {
            IDLE => false,
            LINKED => {
                let waker;
                let notified;
                {
                    let mut list = self.lock();
                    if node.state.load(Ordering::Relaxed) == LINKED {
                        // SAFETY: linked in this queue; lock held.
                        unsafe { list.unlink(&*node) };
                        // SAFETY: lock held, node now unlinked and ours.
                        waker = unsafe { node.take_waker() };
                        self.len.store(list.len(), Ordering::SeqCst);
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
            _ => {
                node.reset();
                true
            }
        }
    }

    /// Wakes the first waiter, if any. Returns whether one was woken.
    pub(crate) fn notify_one(&self) -> bool {
        let waker = {
            let mut list = self.lock();
            let waker = list.pop_notify();
            self.len.store(list.len(), Ordering::SeqCst);
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
                self.len.store(list.len(), Ordering::SeqCst);
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

/// Unlinks up to `batch.len()` waiters with `NOTIFIED`, collecting their wakers to be woken
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

/// Runs `future` to completion on this thread, parking it while the future is pending.
///
/// Used by the blocking forms: they poll the same operation futures as the async forms, with
/// a waker that unparks this thread. The waker is made once per thread, so a blocking wait
/// allocates nothing in steady state. The future is polled without a coop budget.
#[cfg(not(loom))]
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    match block_on_until(future, None) {
        Some(out) => out,
        // Unreachable: without a deadline `block_on_until` only returns `Some`.
        None => unreachable_without_deadline(),
    }
}

#[cfg(not(loom))]
#[cold]
fn unreachable_without_deadline() -> ! {
    unreachable!("block_on_until returned without a deadline")
}

/// Like [`block_on`], giving up at `deadline` (the future is then dropped, which leaves any
/// queue it waited in).
#[cfg(not(loom))]
pub(crate) fn block_on_until<F: Future>(
    future: F,
    deadline: Option<std::time::Instant>,
) -> Option<F::Output> {
    let mut future = pin!(future);
    thread_waker::with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return Some(out);
            }
            match deadline {
                None => std::thread::park(),
                Some(deadline) => {
                    let now = std::time::Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    std::thread::park_timeout(deadline - now);
                }
            }
        }
    })
}

/// Under loom the blocking forms run on loom's executor, which parks loom threads.
#[cfg(loom)]
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    loom::future::block_on(future)
}

#[cfg(not(loom))]
mod thread_waker {
    use std::sync::Arc;
    use std::task::{Wake, Waker};
    use std::thread::Thread;

    struct Unparker(Thread);

    impl Wake for Unparker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }

    thread_local! {
        static WAKER: Waker = Waker::from(Arc::new(Unparker(std::thread::current())));
    }

    /// Runs `f` with this thread's unparking waker.
    pub(super) fn with<R>(f: impl FnOnce(&Waker) -> R) -> R {
        let mut f = Some(f);
        let out = WAKER.try_with(|w| (f.take().expect("called once"))(w));
        match out {
            Ok(r) => r,
            // Thread-local storage is being torn down: make a one-off waker.
            Err(_) => {
                let waker = Waker::from(Arc::new(Unparker(std::thread::current())));
                (f.take().expect("not called yet"))(&waker)
            }
        }
    }
}

/// A single waker slot that one registrant and many wakers share without a lock.
///
/// The registrant stores its waker while holding the `REGISTERING` bit; a waker sets `WAKING`
/// and takes the waker only when no registration is in progress. A wake that arrives during a
/// registration is seen by the registrant when it clears `REGISTERING`, and it wakes itself.
pub(crate) struct AtomicWaker {
    state: AtomicUsize,
    waker: UnsafeCell<Option<Waker>>,
}

const AW_IDLE: usize = 0;
const AW_REGISTERING: usize = 1;
const AW_WAKING: usize = 2;

// SAFETY: the waker cell is only accessed by whoever holds REGISTERING or WAKING (exclusive by
// the state machine); `Waker` is Send + Sync.
unsafe impl Send for AtomicWaker {}
// SAFETY: as above.
unsafe impl Sync for AtomicWaker {}

impl AtomicWaker {
    pub(crate) fn new() -> Self {
        AtomicWaker {
            state: AtomicUsize::new(AW_IDLE),
            waker: UnsafeCell::new(None),
        }
    }

    /// Stores `waker` to be woken by the next [`AtomicWaker::wake`].
    pub(crate) fn register(&self, waker: &Waker) {
        // Acquire: we read the cell that a previous registrant or waker wrote.
        match self.state.compare_exchange(
            AW_IDLE,
            AW_REGISTERING,
            Ordering::Acquire,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                // SAFETY: REGISTERING gives us the cell; wakers keep off while it is set.
                self.waker.with_mut(|p| unsafe {
                    match &*p {
                        Some(old) if old.will_wake(waker) => {}
                        _ => *p = Some(waker.clone()),
                    }
                });
                // AcqRel: Release publishes the stored waker to the next waker; Acquire on
                // failure orders the take below after the concurrent waker's bit.
                match self.state.compare_exchange(
                    AW_REGISTERING,
                    AW_IDLE,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {}
                    Err(_) => {
                        // A wake arrived while we registered (state is REGISTERING|WAKING) and
                        // left the waker to us: take it, reset, and wake.
                        // SAFETY: we still hold REGISTERING.
                        let w = self.waker.with_mut(|p| unsafe { (*p).take() });
                        // AcqRel: release our cell access to the next registrant.
                        self.state.swap(AW_IDLE, Ordering::AcqRel);
                        if let Some(w) = w {
                            w.wake();
                        }
                    }
                }
            }
            // A wake is in progress: have the registrant polled again.
            Err(AW_WAKING) => waker.wake_by_ref(),
            // Another registration is in progress; the single-registrant contract is broken,
            // but waking ourselves keeps the caller live.
            Err(_) => waker.wake_by_ref(),
        }
    }

    /// Wakes the registered waker, if any.
    pub(crate) fn wake(&self) {
        // AcqRel: Acquire pairs with the registrant's Release so we see the stored waker.
        if self.state.fetch_or(AW_WAKING, Ordering::AcqRel) == AW_IDLE {
            // SAFETY: WAKING without REGISTERING gives us the cell.
            let w = self.waker.with_mut(|p| unsafe { (*p).take() });
            // Release: hand the cell back.
            self.state.fetch_and(!AW_WAKING, Ordering::Release);
            if let Some(w) = w {
                w.wake();
            }
        }
    }

    /// Drops the registered waker (the registrant is going away).
    pub(crate) fn clear(&self) {
        if self
            .state
            .compare_exchange(
                AW_IDLE,
                AW_REGISTERING,
                Ordering::Acquire,
                Ordering::Acquire,
            )
            .is_ok()
        {
            // SAFETY: REGISTERING gives us the cell.
            let w = self.waker.with_mut(|p| unsafe { (*p).take() });
            self.state.swap(AW_IDLE, Ordering::AcqRel);
            drop(w);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::pin::pin;
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
        assert_eq!(n1.state(), NOTIFIED);
        // A notified waiter that leaves reports the wake-up it holds.
        assert!(q.deregister(n1.as_ref()));
        assert_eq!(q.notify_all(), 1);
        assert_eq!(c3.0.load(Ordering::SeqCst), 1);
        assert_eq!(c2.0.load(Ordering::SeqCst), 0);
        assert!(!q.has_waiters());
        assert!(!q.notify_one());
        assert!(!q.poll_linked(n3.as_ref(), &w3));
        assert_eq!(n3.state(), IDLE);
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

    #[test]
    fn atomic_waker_wakes_the_registered_waker_once() {
        let aw = AtomicWaker::new();
        let (c, w) = counter();
        aw.wake(); // nothing registered: no effect
        aw.register(&w);
        aw.wake();
        aw.wake();
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
        aw.register(&w);
        aw.clear();
        aw.wake();
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn block_on_parks_until_woken() {
        let (tx, rx) = std::sync::mpsc::channel::<Waker>();
        let t = std::thread::spawn(move || {
            let w = rx.recv().unwrap();
            w.wake();
        });
        let mut sent = Some(tx);
        let out = block_on(std::future::poll_fn(|cx| match sent.take() {
            Some(tx) => {
                tx.send(cx.waker().clone()).unwrap();
                Poll::Pending
            }
            None => Poll::Ready(5),
        }));
        assert_eq!(out, 5);
        t.join().unwrap();
        let timed_out = block_on_until(
            std::future::pending::<()>(),
            Some(std::time::Instant::now() + std::time::Duration::from_millis(2)),
        );
        assert!(timed_out.is_none());
    }
}
