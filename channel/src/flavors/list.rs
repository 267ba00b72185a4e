//! Unbounded MPMC channel: a lock-free queue of linked blocks.
//!
//! # Layout
//!
//! Positions count up forever, shifted left by one bit (`SHIFT`); bit 0 is a flag: on `tail`
//! it is the closed mark (`CLOSED`), on `head` it says "the head block is not the last one"
//! (`HAS_NEXT`), which lets a receiver skip the emptiness check. Each block has `BLOCK_CAP`
//! slots and spans `LAP = BLOCK_CAP + 1` positions: the extra position (offset `BLOCK_CAP`) is
//! where `tail` or `head` briefly rests while the thread that took a block's last slot links
//! or enters the next block; others wait for it to move on.
//!
//! # Invariants
//!
//! * A sender owns the slot at the position it won with the `tail` CAS until it sets `WRITE`
//!   (Release); the receiver that won that position with the `head` CAS reads it after seeing
//!   `WRITE` (Acquire) and then sets `READ`.
//! * The sender of a block's last slot pre-allocates the next block *before* its CAS, then
//!   links it (`tail.block`, then past the boundary, then `block.next`), so a block is never
//!   linked twice and sends never fail for want of memory mid-protocol.
//! * A block is freed exactly once, when every slot in it has been read: the reader of the
//!   last slot walks the others; a slot whose reader has not finished gets `DESTROY`, and that
//!   reader continues the walk when it sets `READ`.
//! * `head` and `tail` are read together only as hints; every decision is validated by a CAS
//!   on the index, which moves forward only.
//!
//! # No lost wake-up
//!
//! As for the bounded ring: senders publish with a SeqCst CAS on `tail` and then read the
//! receivers' queue length with SeqCst; a receiver registers (SeqCst store) and decides
//! "empty" only after a SeqCst fence followed by a load of `tail`.

use std::mem::MaybeUninit;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};

use crossbeam_utils::CachePadded;

use crate::error::{RecvError, SendError, TryRecvError, TrySendError};
use crate::sync::{fence, AtomicPtr, AtomicUsize, Backoff, Ordering, UnsafeCell};
use crate::waiters::{WaitQueue, Waiter};

const WRITE: usize = 1;
const READ: usize = 2;
const DESTROY: usize = 4;

/// Positions per block. Small under loom so the models cross block boundaries.
const LAP: usize = if cfg!(loom) { 3 } else { 32 };
const BLOCK_CAP: usize = LAP - 1;
const SHIFT: usize = 1;
/// On `tail`: the channel is closed.
const CLOSED: usize = 1;
/// On `head`: the head block has a successor, so the slot at `head` is taken by a sender.
const HAS_NEXT: usize = 1;

struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    state: AtomicUsize,
}

impl<T> Slot<T> {
    /// Waits until the sender that owns this slot has written it.
    fn wait_write(&self) {
        let mut backoff = Backoff::new();
        // Acquire: pairs with the sender's Release `WRITE`, making the value visible.
        while self.state.load(Ordering::Acquire) & WRITE == 0 {
            backoff.snooze();
        }
    }
}

struct Block<T> {
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    fn new() -> Box<Block<T>> {
        Box::new(Block {
            next: AtomicPtr::new(ptr::null_mut()),
            slots: std::array::from_fn(|_| Slot {
                value: UnsafeCell::new(MaybeUninit::uninit()),
                state: AtomicUsize::new(0),
            }),
        })
    }

    /// Waits until the next block is linked and returns it.
    fn wait_next(&self) -> *mut Block<T> {
        let mut backoff = Backoff::new();
        loop {
            // Acquire: pairs with the Release store that linked it.
            let next = self.next.load(Ordering::Acquire);
            if !next.is_null() {
                return next;
            }
            backoff.snooze();
        }
    }

    /// Frees `this` once the slots from `start` on are read, or hands the job to the first
    /// reader still busy.
    ///
    /// # Safety
    /// `this` is a live block whose slots before `start` (and its last slot) are read, and
    /// the caller is the one thread currently charged with freeing it.
    unsafe fn destroy(this: *mut Block<T>, start: usize) {
        // The last slot's reader started the walk; it is done with the block.
        for i in start..BLOCK_CAP - 1 {
            // SAFETY: the block is alive until this walk frees it.
            let slot = unsafe { &(*this).slots[i] };
            // Acquire: if READ is set, the reader is done with the block. AcqRel on the RMW:
            // Release hands the walk over, Acquire syncs with a reader that just finished.
            if slot.state.load(Ordering::Acquire) & READ == 0
                && slot.state.fetch_or(DESTROY, Ordering::AcqRel) & READ == 0
            {
                // That reader frees the block when it sets READ.
                return;
            }
        }
        // SAFETY: every slot is read; no thread holds a reference to the block any more.
        drop(unsafe { Box::from_raw(this) });
    }
}

struct Position<T> {
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

pub(crate) struct List<T> {
    head: CachePadded<Position<T>>,
    tail: CachePadded<Position<T>>,
    /// Receivers waiting for a value (senders never wait).
    pub(crate) receivers: WaitQueue<T>,
}

// SAFETY: values move between threads through the slots under the protocol above.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for List<T> {}

impl<T> List<T> {
    pub(crate) fn new() -> Self {
        List {
            head: CachePadded::new(Position {
                index: AtomicUsize::new(0),
                block: AtomicPtr::new(ptr::null_mut()),
            }),
            tail: CachePadded::new(Position {
                index: AtomicUsize::new(0),
                block: AtomicPtr::new(ptr::null_mut()),
            }),
            receivers: WaitQueue::new(),
        }
    }

    /// Sends; fails only when the channel is closed. Does not wake receivers.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut backoff = Backoff::new();
        // Acquire on both: the block pointer must be at least as new as the index we act on.
        let mut tail = self.tail.index.load(Ordering::Acquire);
        let mut block = self.tail.block.load(Ordering::Acquire);
        let mut next_block: Option<Box<Block<T>>> = None;
        loop {
            if tail & CLOSED != 0 {
                return Err(TrySendError::Closed(value));
            }
            let offset = (tail >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another sender is linking the next block.
                backoff.snooze();
                tail = self.tail.index.load(Ordering::Acquire);
                block = self.tail.block.load(Ordering::Acquire);
                continue;
            }
            if offset + 1 == BLOCK_CAP && next_block.is_none() {
                // We may take the last slot: have the successor ready before claiming it.
                next_block = Some(Block::new());
            }
            if block.is_null() {
                // The very first send installs the first block.
                let first = Box::into_raw(next_block.take().unwrap_or_else(Block::new));
                // Release: publishes the fresh block to whoever loads the pointer.
                match self.tail.block.compare_exchange(
                    ptr::null_mut(),
                    first,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // Release: receivers waiting on a null head block see it.
                        self.head.block.store(first, Ordering::Release);
                        block = first;
                    }
                    Err(_) => {
                        // SAFETY: `first` never became visible to anyone else.
                        next_block = Some(unsafe { Box::from_raw(first) });
                        tail = self.tail.index.load(Ordering::Acquire);
                        block = self.tail.block.load(Ordering::Acquire);
                        continue;
                    }
                }
            }
            let new_tail = tail + (1 << SHIFT);
            // SeqCst on success: the publication half of the no-lost-wake-up argument.
            // Acquire on failure: we reload the block pointer that goes with the new index.
            match self.tail.index.compare_exchange_weak(
                tail,
                new_tail,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: the CAS gave us the slot at `offset` of `block`, which stays alive
                    // until that slot is read.
                    unsafe {
                        if offset + 1 == BLOCK_CAP {
                            // We took the last slot: link the successor and step `tail` over
                            // the boundary position.
                            let next = Box::into_raw(next_block.take().unwrap_or_else(Block::new));
                            // Release: senders that see the new index find this block.
                            self.tail.block.store(next, Ordering::Release);
                            // Release: as above; the CLOSED bit, if set meanwhile, is kept.
                            self.tail.index.fetch_add(1 << SHIFT, Ordering::Release);
                            // Release: the receiver that crosses the boundary reads it.
                            (*block).next.store(next, Ordering::Release);
                        }
                        let slot = &(*block).slots[offset];
                        slot.value.with_mut(|p| (*p).write(value));
                        // Release: publishes the value to the receiver of this slot.
                        slot.state.fetch_or(WRITE, Ordering::Release);
                    }
                    return Ok(());
                }
                Err(t) => {
                    tail = t;
                    block = self.tail.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// Receives without waiting.
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut backoff = Backoff::new();
        // Acquire on both: as for `tail` in `try_send`.
        let mut head = self.head.index.load(Ordering::Acquire);
        let mut block = self.head.block.load(Ordering::Acquire);
        loop {
            let offset = (head >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another receiver is stepping into the next block.
                backoff.snooze();
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            let mut new_head = head + (1 << SHIFT);
            if new_head & HAS_NEXT == 0 {
                // The head block may be the last: check emptiness. Acquire: pairs with the
                // close's SeqCst `fetch_or`. The closed mark is final (sends CAS the whole
                // word, and the boundary step cannot apply here: `head` is not on a boundary,
                // so a `tail` equal to it is not either), so a marked `tail` at `head` means
                // closed and drained for good, with no fence needed.
                let tail = self.tail.index.load(Ordering::Acquire);
                if tail == head | CLOSED {
                    return Err(TryRecvError::Closed);
                }
                // SeqCst fence: the decision half of the no-lost-wake-up argument.
                fence(Ordering::SeqCst);
                // Relaxed: ordered by the fence.
                let tail = self.tail.index.load(Ordering::Relaxed);
                if head >> SHIFT == tail >> SHIFT {
                    return Err(if tail & CLOSED != 0 {
                        TryRecvError::Closed
                    } else {
                        TryRecvError::Empty
                    });
                }
                if (head >> SHIFT) / LAP != (tail >> SHIFT) / LAP {
                    new_head |= HAS_NEXT;
                }
            }
            if block.is_null() {
                // The first send is installing the first block.
                backoff.snooze();
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            // SeqCst on success: the publication half for... nobody waits for room here, but
            // the order keeps `len` snapshots coherent. Acquire on failure: reload the block.
            match self.head.index.compare_exchange_weak(
                head,
                new_head,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: the CAS gave us the slot at `offset`; the block lives until we
                    // mark it read.
                    unsafe {
                        if offset + 1 == BLOCK_CAP {
                            // We took the last slot: move `head` into the next block.
                            let next = (*block).wait_next();
                            let mut next_index = (new_head & !HAS_NEXT).wrapping_add(1 << SHIFT);
                            // Acquire: whether the successor has a successor of its own.
                            if !(*next).next.load(Ordering::Acquire).is_null() {
                                next_index |= HAS_NEXT;
                            }
                            // Release (both): receivers that see the index see the block.
                            self.head.block.store(next, Ordering::Release);
                            self.head.index.store(next_index, Ordering::Release);
                        }
                        let slot = &(*block).slots[offset];
                        slot.wait_write();
                        let value = slot.value.with(|p| (*p).assume_init_read());
                        if offset + 1 == BLOCK_CAP {
                            Block::destroy(block, 0);
                        } else if slot.state.fetch_or(READ, Ordering::AcqRel) & DESTROY != 0 {
                            // AcqRel: Acquire takes over the walk handed to us with DESTROY.
                            Block::destroy(block, offset + 1);
                        }
                        return Ok(value);
                    }
                }
                Err(h) => {
                    head = h;
                    block = self.head.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    pub(crate) fn close(&self) -> bool {
        // SeqCst: ordered with senders' CAS and receivers' fenced emptiness checks.
        self.tail.index.fetch_or(CLOSED, Ordering::SeqCst) & CLOSED == 0
    }

    /// `head` and `tail` indices: see the bounded ring's `state_words`.
    pub(crate) fn state_words(&self) -> [usize; 2] {
        // SeqCst: as for the bounded ring.
        [
            self.head.index.load(Ordering::SeqCst),
            self.tail.index.load(Ordering::SeqCst),
        ]
    }

    pub(crate) fn is_closed(&self) -> bool {
        // SeqCst: as for the bounded ring.
        self.tail.index.load(Ordering::SeqCst) & CLOSED != 0
    }

    /// Values between two positions, not counting block boundaries.
    fn count(head: usize, tail: usize) -> usize {
        let mut h = head >> SHIFT;
        let mut t = tail >> SHIFT;
        if h % LAP == BLOCK_CAP {
            h = h.wrapping_add(1);
        }
        if t % LAP == BLOCK_CAP {
            t = t.wrapping_add(1);
        }
        let boundaries = (t / LAP).wrapping_sub(h / LAP);
        t.wrapping_sub(h).wrapping_sub(boundaries)
    }

    pub(crate) fn len(&self) -> usize {
        loop {
            // SeqCst: a consistent snapshot (tail read twice around head).
            let tail = self.tail.index.load(Ordering::SeqCst);
            let head = self.head.index.load(Ordering::SeqCst);
            if self.tail.index.load(Ordering::SeqCst) == tail {
                return Self::count(head, tail);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        // SeqCst: as in `len`.
        let head = self.head.index.load(Ordering::SeqCst);
        let tail = self.tail.index.load(Ordering::SeqCst);
        head >> SHIFT == tail >> SHIFT
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        // Relaxed: `&mut self`, no other thread is here.
        let mut head = self.head.index.load(Ordering::Relaxed) & !HAS_NEXT;
        let tail = self.tail.index.load(Ordering::Relaxed) & !CLOSED;
        let mut block = self.head.block.load(Ordering::Relaxed);
        // SAFETY: exclusive access; slots between head and tail hold written values, and
        // blocks from the head block on are still allocated.
        unsafe {
            while head != tail {
                let offset = (head >> SHIFT) % LAP;
                if offset < BLOCK_CAP {
                    (*block).slots[offset]
                        .value
                        .with_mut(|p| (*p).assume_init_drop());
                } else {
                    let next = (*block).next.load(Ordering::Relaxed);
                    drop(Box::from_raw(block));
                    block = next;
                }
                head = head.wrapping_add(1 << SHIFT);
            }
            if !block.is_null() {
                drop(Box::from_raw(block));
            }
        }
    }
}

/// The list's wait protocol: the operations of the channel on an unbounded list, each with
/// its wake-ups (sends never wait, so only receivers park). `sent`/`received` is the
/// channel's observer hook; it runs after the value went in (came out) and before anyone is
/// woken.
impl<T> List<T> {
    /// A send (never waits): the value goes in and a parked receiver is woken.
    #[inline(always)]
    pub(crate) fn send_now(&self, value: T, sent: impl FnOnce()) -> Result<(), TrySendError<T>> {
        self.try_send(value)?;
        sent();
        if self.receivers.has_waiters() {
            self.receivers.notify_one();
        }
        Ok(())
    }

    /// A receive that does not wait.
    #[inline(always)]
    pub(crate) fn recv_now(&self, received: impl FnOnce()) -> Result<T, TryRecvError> {
        let v = self.try_recv()?;
        received();
        Ok(v)
    }

    /// Polls a send whose value is in `node`'s slot (it completes at once: the list has room
    /// until it is closed).
    pub(crate) fn poll_send(
        &self,
        node: Pin<&Waiter<T>>,
        sent: impl FnOnce(),
    ) -> Poll<Result<(), SendError<T>>> {
        // SAFETY: list senders never link their node; the owner has the slot.
        match unsafe { node.take_value() } {
            None => Poll::Ready(Ok(())),
            Some(v) => Poll::Ready(
                self.send_now(v, sent)
                    .map_err(|e| SendError(e.into_inner())),
            ),
        }
    }

    /// Polls a receive.
    pub(crate) fn poll_recv(
        &self,
        node: Pin<&Waiter<T>>,
        cx: &mut Context<'_>,
        waited: &mut bool,
        received: impl FnOnce(),
    ) -> Poll<Result<T, RecvError>> {
        self.receivers.poll_recv(
            node,
            cx,
            waited,
            || self.try_recv(),
            || self.is_empty(),
            received,
        )
    }

    /// A receive future is dropped (after or without completing).
    pub(crate) fn cancel_recv(&self, node: Pin<&Waiter<T>>) {
        self.receivers.cancel(node);
    }

    /// Closes and wakes every parked receiver: `Some(woken)` for the call that closed it.
    pub(crate) fn close_and_wake(&self) -> Option<usize> {
        if !self.close() {
            return None;
        }
        Some(self.receivers.notify_all())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc as StdArc;

    #[test]
    fn crosses_blocks_in_order_and_counts() {
        let l = List::new();
        for i in 0..200u32 {
            l.try_send(i).unwrap();
            assert_eq!(l.len(), i as usize + 1);
        }
        for i in 0..200u32 {
            assert_eq!(l.try_recv(), Ok(i));
            assert_eq!(l.len(), 199 - i as usize);
        }
        assert!(l.is_empty());
        assert_eq!(l.try_recv(), Err(TryRecvError::Empty));
        assert!(l.close());
        assert_eq!(l.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(l.try_send(1), Err(TrySendError::Closed(1)));
    }

    #[test]
    fn values_left_are_dropped_with_the_list() {
        let v = StdArc::new(());
        let l = List::new();
        for _ in 0..100 {
            l.try_send(v.clone()).unwrap();
        }
        for _ in 0..40 {
            drop(l.try_recv().unwrap());
        }
        assert_eq!(StdArc::strong_count(&v), 61);
        drop(l);
        assert_eq!(StdArc::strong_count(&v), 1);
    }

    #[test]
    fn concurrent_senders_and_receivers() {
        let l = StdArc::new(List::new());
        let senders: Vec<_> = (0..3u64)
            .map(|p| {
                let l = l.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        l.try_send(p * 100_000 + i).unwrap();
                    }
                })
            })
            .collect();
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    while got.len() < 7_500 {
                        if let Ok(v) = l.try_recv() {
                            got.push(v);
                        }
                    }
                    got
                })
            })
            .collect();
        for s in senders {
            s.join().unwrap();
        }
        let mut all: Vec<u64> = receivers
            .into_iter()
            .flat_map(|r| r.join().unwrap())
            .collect();
        all.sort_unstable();
        let mut expected: Vec<u64> = (0..3u64)
            .flat_map(|p| (0..5_000).map(move |i| p * 100_000 + i))
            .collect();
        expected.sort_unstable();
        assert_eq!(all, expected);
    }
}
