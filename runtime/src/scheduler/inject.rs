//! The injector: the global queue for tasks scheduled from outside a worker.
//!
//! An intrusive multi-producer queue (Vyukov's MPSC design): every task header carries a
//! [`Link`], so queueing a task allocates nothing. Producers are wait-free: one `swap` of the
//! tail and one store. Consumers take turns through a try-lock; a worker that finds it taken
//! simply looks elsewhere, so no thread ever blocks on it.
//!
//! Invariants:
//! - `tail` is the last link pushed; `head` (consumer-owned, guarded by `popping`) is the next
//!   link to pop, possibly the stub. Links are chained through `next` from `head` to `tail`.
//! - A producer between its `swap` and its `next` store has made the chain temporarily end
//!   early: consumers see the queue as empty past that point until the store lands.
//! - `len` is raised before a push links its task and lowered after a pop unlinks one, so
//!   `len == 0` (read with SeqCst) proves nothing is queued or being queued.

use std::ptr::{self, NonNull};

use crossbeam_utils::CachePadded;

use crate::sync::{AtomicBool, AtomicPtr, AtomicUsize, Ordering, UnsafeCell};
use crate::task::raw::{Header, RawTask};

/// The queue link inside every task header.
pub(crate) struct Link {
    next: AtomicPtr<Link>,
}

impl Link {
    pub(crate) fn new() -> Self {
        Self {
            next: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

pub(crate) struct Inject {
    tail: CachePadded<AtomicPtr<Link>>,
    head: UnsafeCell<*mut Link>,
    popping: AtomicBool,
    len: CachePadded<AtomicUsize>,
    /// A link that is never a task: lets the last task be popped while producers push.
    stub: Box<Link>,
}

// SAFETY: `head` is only touched by the holder of `popping`; links belong to tasks (`Send`)
// handed over through the atomics.
unsafe impl Send for Inject {}
// SAFETY: as above.
unsafe impl Sync for Inject {}

fn link_of(task: RawTask) -> *mut Link {
    let header = task.into_raw();
    // SAFETY: the header is live (we hold its reference, now owned by the queue).
    unsafe { ptr::addr_of!((*header.as_ptr()).queue_link) as *mut Link }
}

/// # Safety
/// `link` is the queue link of a task whose queue reference the caller takes over.
unsafe fn task_of(link: *mut Link) -> RawTask {
    let offset = std::mem::offset_of!(Header, queue_link);
    // SAFETY: the link is a field of a live header at `offset` (caller contract).
    unsafe {
        let header = (link as *mut u8).sub(offset) as *mut Header;
        RawTask::from_raw(NonNull::new_unchecked(header))
    }
}

impl Inject {
    pub(crate) fn new() -> Self {
        let stub = Box::new(Link::new());
        let stub_ptr = &*stub as *const Link as *mut Link;
        Self {
            tail: CachePadded::new(AtomicPtr::new(stub_ptr)),
            head: UnsafeCell::new(stub_ptr),
            popping: AtomicBool::new(false),
            len: CachePadded::new(AtomicUsize::new(0)),
            stub,
        }
    }

    fn stub(&self) -> *mut Link {
        &*self.stub as *const Link as *mut Link
    }

    /// Tasks queued (or being queued).
    pub(crate) fn len(&self) -> usize {
        // SeqCst: part of the notifier/parker total order (see `idle.rs`).
        self.len.load(Ordering::SeqCst)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn push(&self, task: RawTask) {
        // SeqCst: raised before linking, so a parker that reads 0 after its own SeqCst
        // update knows no push had started (see the module invariants).
        self.len.fetch_add(1, Ordering::SeqCst);
        let link = link_of(task);
        self.push_chain(link, link);
    }

    /// Pushes several tasks with one tail swap.
    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = RawTask>) {
        let mut first: *mut Link = ptr::null_mut();
        let mut last: *mut Link = ptr::null_mut();
        let mut count = 0;
        for task in tasks {
            let link = link_of(task);
            // SAFETY: `link` belongs to a task we own; nobody else sees it yet.
            unsafe { (*link).next.store(ptr::null_mut(), Ordering::Relaxed) };
            if last.is_null() {
                first = link;
            } else {
                // Relaxed: the chain is published by the Release store in `push_chain`.
                // SAFETY: `last` is ours, not yet published.
                unsafe { (*last).next.store(link, Ordering::Relaxed) };
            }
            last = link;
            count += 1;
        }
        if count == 0 {
            return;
        }
        self.len.fetch_add(count, Ordering::SeqCst);
        self.push_chain(first, last);
    }

    /// Appends the chain `first ..= last` (already linked among itself).
    fn push_chain(&self, first: *mut Link, last: *mut Link) {
        // Relaxed: published below by the Release store into the predecessor.
        // SAFETY: `last` is ours until the swap publishes it.
        unsafe { (*last).next.store(ptr::null_mut(), Ordering::Relaxed) };
        // AcqRel: Acquire to read the predecessor we link to; Release so the next producer's
        // link store follows ours.
        let prev = self.tail.swap(last, Ordering::AcqRel);
        // Release: the consumer that loads this `next` sees the task and its chain.
        // SAFETY: `prev` is either the stub or a queued task's link; neither is freed before
        // the consumer passes it, which needs this very store.
        unsafe { (*prev).next.store(first, Ordering::Release) };
    }

    /// Takes the consumer side, unless another worker holds it.
    pub(crate) fn try_consume(&self) -> Option<Consumer<'_>> {
        if self.is_empty() {
            return None;
        }
        // Acquire: see the previous consumer's `head`.
        self.popping
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Consumer { inject: self })
    }
}

/// Exclusive access to the consuming end.
pub(crate) struct Consumer<'a> {
    inject: &'a Inject,
}

impl Consumer<'_> {
    /// Takes the oldest task; `None` if empty, or if the next task's producer has not finished
    /// linking it yet (it will notify a worker when it has).
    pub(crate) fn pop(&mut self) -> Option<RawTask> {
        let q = self.inject;
        let stub = q.stub();
        // SAFETY: the try-lock gives us `head`.
        q.head.with_mut(|head_slot| unsafe {
            let mut head = *head_slot;
            // Acquire: pairs with the producer's Release store of `next`.
            let mut next = (*head).next.load(Ordering::Acquire);
            if head == stub {
                if next.is_null() {
                    return None;
                }
                *head_slot = next;
                head = next;
                next = (*next).next.load(Ordering::Acquire);
            }
            if !next.is_null() {
                *head_slot = next;
                q.len.fetch_sub(1, Ordering::SeqCst);
                return Some(task_of(head));
            }
            // `head` looks like the last link. If a producer swapped the tail past it, its
            // `next` store is on the way: come back later.
            if q.tail.load(Ordering::Acquire) != head {
                return None;
            }
            // Put the stub behind `head` so that `head` can leave while producers push.
            q.push_chain(stub, stub);
            next = (*head).next.load(Ordering::Acquire);
            if next.is_null() {
                return None;
            }
            *head_slot = next;
            q.len.fetch_sub(1, Ordering::SeqCst);
            Some(task_of(head))
        })
    }
}

impl Drop for Consumer<'_> {
    fn drop(&mut self) {
        // Release: hand `head` to the next consumer.
        self.inject.popping.store(false, Ordering::Release);
    }
}

impl Drop for Inject {
    fn drop(&mut self) {
        // No producers remain (we are dropped): every queued reference is released.
        let mut consumer = Consumer { inject: self };
        while consumer.pop().is_some() {}
        std::mem::forget(consumer);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::task::Id;

    fn with_handle(f: impl FnOnce(&crate::scheduler::Handle)) {
        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        f(&rt.handle().inner);
    }

    fn task(h: &crate::scheduler::Handle) -> RawTask {
        RawTask::new(async {}, Id::next(), h.clone(), false)
    }

    #[test]
    fn fifo_single_and_batch() {
        with_handle(|h| {
            let q = Inject::new();
            assert!(q.try_consume().is_none());
            let a: Vec<RawTask> = (0..3).map(|_| task(h)).collect();
            let ids: Vec<u64> = a.iter().map(|t| t.id().0).collect();
            let mut it = a.into_iter();
            q.push(it.next().unwrap());
            q.push_batch(it);
            assert_eq!(q.len(), 3);
            let mut c = q.try_consume().unwrap();
            assert!(q.try_consume().is_none(), "one consumer at a time");
            let got: Vec<u64> = std::iter::from_fn(|| c.pop()).map(|t| t.id().0).collect();
            assert_eq!(got, ids);
            drop(c);
            assert!(q.is_empty());
            // Reusable after draining to the stub.
            q.push(task(h));
            assert_eq!(q.try_consume().unwrap().pop().map(|_| ()), Some(()));
        });
    }

    #[test]
    fn dropping_the_queue_releases_queued_tasks() {
        with_handle(|h| {
            let q = Inject::new();
            let t = task(h);
            let probe = t.clone_uncounted();
            probe.header().state.ref_inc();
            q.push(t);
            assert_eq!(probe.header().state.load().ref_count(), 3);
            drop(q);
            assert_eq!(probe.header().state.load().ref_count(), 2);
        });
    }

    #[test]
    fn concurrent_producers_and_consumers() {
        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let h = rt.handle().inner.clone();
        let q = std::sync::Arc::new(Inject::new());
        let per = 5_000;
        let producers: Vec<_> = (0..3)
            .map(|_| {
                let q = q.clone();
                let h = h.clone();
                std::thread::spawn(move || {
                    let mut ids = Vec::with_capacity(per);
                    for i in 0..per {
                        let t = task(&h);
                        ids.push(t.id().0);
                        if i % 7 == 0 {
                            q.push_batch(std::iter::once(t));
                        } else {
                            q.push(t);
                        }
                    }
                    ids
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut idle = 0;
                    while idle < 200_000 {
                        match q.try_consume().and_then(|mut c| c.pop()) {
                            Some(t) => {
                                got.push(t.id().0);
                                idle = 0;
                            }
                            None => {
                                idle += 1;
                                std::hint::spin_loop();
                            }
                        }
                    }
                    got
                })
            })
            .collect();
        let mut pushed: Vec<u64> = producers
            .into_iter()
            .flat_map(|p| p.join().unwrap())
            .collect();
        let mut got: Vec<u64> = consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        // Whatever the consumers gave up on is still queued.
        let mut c = q.try_consume();
        while let Some(t) = c.as_mut().and_then(|c| c.pop()) {
            got.push(t.id().0);
        }
        pushed.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, pushed);
    }
}
