//! Bounded MPMC channel: a lock-free ring of sequence-stamped slots.
//!
//! # Layout
//!
//! `head` and `tail` are positions `lap | index`: `index` (below `mark_bit`) picks a slot,
//! `lap` (multiples of `one_lap = 2 * mark_bit`) counts trips around the ring. The bit
//! `mark_bit` of `tail` is the closed mark; `head` never carries it.
//!
//! Each slot has a `stamp`:
//! * `stamp == tail` (same lap and index): the slot is free for the sender at `tail`;
//! * `stamp == head + 1`: the slot holds the value the receiver at `head` takes;
//! * after a receive the stamp becomes `head + one_lap`: free for the sender one lap later.
//!
//! Slot `i` stores its stamp minus `i` (wrapping), so the initial state (slot `i` free for
//! the sender of lap 0 at index `i`) is all zeros: a large ring is allocated zeroed and its
//! pages are only touched as the ring fills, instead of being written up front.
//!
//! # Invariants
//!
//! * A sender owns a slot between winning the `tail` CAS and its Release store of the stamp;
//!   a receiver owns it between winning the `head` CAS and its Release store of the next lap's
//!   stamp. The value cell is only touched by the owner.
//! * `head <= tail` (modulo laps) and `tail - head <= cap`.
//! * Once `tail` carries the mark, no send succeeds and `tail` never changes again (every
//!   `tail` CAS compares the whole word); receives drain to `head == tail` and then report
//!   `Closed`. A receiver that sees the marked `tail` equal to `head` may therefore report
//!   `Closed` without the fence below: that answer is final.
//!
//! # No lost wake-up
//!
//! A receiver that finds the ring empty registers (the queue's SeqCst `len` store), then tries
//! again; that retry decides "empty" only after a SeqCst fence and a load of `tail`. A sender
//! publishes with a SeqCst `tail` CAS and then reads the receivers' `len` with SeqCst. In the
//! single total order either the sender's load follows the registration (it sees a waiter and
//! wakes one) or the fence follows the sender's CAS (the retry sees the new `tail` and waits for
//! the slot's stamp instead of sleeping). Senders waiting for room mirror this with `head`.

use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use crossbeam_utils::CachePadded;

use crate::error::{BuildError, RecvError, SendError, TryRecvError, TrySendError};
use crate::sync::{fence, AtomicUsize, Backoff, Ordering, UnsafeCell};
use crate::waiters::{WaitQueue, WaitState, Waiter};

/// Largest capacity of a bounded channel: leaves room for the closed mark and a few lap bits.
pub(crate) const MAX_CAPACITY: usize = usize::MAX >> 4;

struct Slot<T> {
    /// The stamp minus the slot's index (wrapping); see the module docs.
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// `cap` slots in their initial state (every relative stamp 0, every value uninitialised).
#[cfg(not(loom))]
fn new_slots<T>(cap: usize) -> Option<Box<[Slot<T>]>> {
    let layout = std::alloc::Layout::array::<Slot<T>>(cap).ok()?;
    // SAFETY: `layout` has a non-zero size: `cap >= 1` and a slot holds an `AtomicUsize`.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<Slot<T>>();
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `ptr` is a live allocation of the global allocator with the layout of
    // `[Slot<T>; cap]`, which is the layout `Box<[Slot<T>]>` frees it with. All-zero bytes are
    // a valid `Slot<T>`: an `AtomicUsize` of 0 (relative stamp 0: free for lap 0) and an
    // `UnsafeCell<MaybeUninit<T>>`, which accepts any bytes. Nothing else points to it.
    Some(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, cap)) })
}

/// As above; loom's atomics cannot be made from zeroed memory, so they are built one by one.
#[cfg(loom)]
fn new_slots<T>(cap: usize) -> Option<Box<[Slot<T>]>> {
    let mut slots = Vec::new();
    slots.try_reserve_exact(cap).ok()?;
    slots.extend((0..cap).map(|_| Slot {
        stamp: AtomicUsize::new(0),
        value: UnsafeCell::new(MaybeUninit::uninit()),
    }));
    Some(slots.into_boxed_slice())
}

pub(crate) struct Array<T> {
    head: CachePadded<AtomicUsize>,
    tail: CachePadded<AtomicUsize>,
    buffer: Box<[Slot<T>]>,
    cap: usize,
    one_lap: usize,
    mark_bit: usize,
    /// Senders waiting for room.
    pub(crate) senders: WaitQueue<T>,
    /// Receivers waiting for a value.
    pub(crate) receivers: WaitQueue<T>,
}

// SAFETY: values move between threads through the slots, under the ownership protocol above.
unsafe impl<T: Send> Send for Array<T> {}
// SAFETY: as above; shared access is mediated by the stamps.
unsafe impl<T: Send> Sync for Array<T> {}

impl<T> Array<T> {
    /// A ring of `cap` slots (`1 <= cap <= MAX_CAPACITY`).
    pub(crate) fn try_new(cap: usize) -> Result<Self, BuildError> {
        debug_assert!(cap >= 1);
        if cap > MAX_CAPACITY {
            return Err(BuildError::CapacityTooLarge {
                requested: cap,
                max: MAX_CAPACITY,
            });
        }
        let mark_bit = (cap + 1).next_power_of_two();
        let one_lap = mark_bit * 2;
        // Slot i starts free for the sender of lap 0 at index i (relative stamp 0).
        let Some(buffer) = new_slots(cap) else {
            return Err(BuildError::OutOfMemory { requested: cap });
        };
        Ok(Array {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            buffer,
            cap,
            one_lap,
            mark_bit,
            senders: WaitQueue::new(),
            receivers: WaitQueue::new(),
        })
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// The position after `pos` (wrapping to the next lap after the last slot).
    #[inline]
    fn advance(&self, pos: usize) -> usize {
        let index = pos & (self.mark_bit - 1);
        if index + 1 < self.cap {
            pos + 1
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// Sends without waiting. Does not wake receivers; the caller does (`after_send`).
    #[inline]
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut backoff = Backoff::new();
        // Relaxed: only a hint; the CAS below validates it.
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                return Err(TrySendError::Closed(value));
            }
            let index = tail & (self.mark_bit - 1);
            let slot = &self.buffer[index];
            // Acquire: pairs with the receiver's Release stamp store, so its read of the old
            // value happened before we overwrite the cell.
            let stamp = slot.stamp.load(Ordering::Acquire).wrapping_add(index);
            if stamp == tail {
                let next = self.advance(tail);
                // SeqCst on success: the publication half of the no-lost-wake-up argument
                // (ordered before our SeqCst read of the receivers' `len`). Relaxed on
                // failure: we only retry with the fresh value.
                match self.tail.compare_exchange_weak(
                    tail,
                    next,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: winning the CAS made us the slot's only owner until the
                        // stamp store below; the slot is free (stamp == tail).
                        slot.value.with_mut(|p| unsafe { (*p).write(value) });
                        // Release: publishes the value to the receiver that sees this stamp.
                        slot.stamp
                            .store((tail + 1).wrapping_sub(index), Ordering::Release);
                        return Ok(());
                    }
                    Err(t) => {
                        tail = t;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds last lap's value: the ring may be full. SeqCst fence:
                // the decision half of the argument for senders waiting on `head`.
                fence(Ordering::SeqCst);
                // Relaxed: ordered by the fence.
                let head = self.head.load(Ordering::Relaxed);
                if head.wrapping_add(self.one_lap) == tail {
                    return Err(TrySendError::Full(value));
                }
                // A receiver took it but has not re-stamped the slot yet.
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
            } else {
                // Another sender moved `tail` on; catch up.
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Receives without waiting. Does not wake senders; the caller does.
    // Always inline: every receive form goes through here, and a call returns the result
    // through memory (see `Chan::try_recv`).
    #[inline(always)]
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut backoff = Backoff::new();
        // Relaxed: a hint validated by the CAS.
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let index = head & (self.mark_bit - 1);
            let slot = &self.buffer[index];
            // Acquire: pairs with the sender's Release stamp store, so the value is visible.
            let stamp = slot.stamp.load(Ordering::Acquire).wrapping_add(index);
            if stamp == head + 1 {
                let next = self.advance(head);
                // SeqCst on success: the publication half for waiting senders; Relaxed on
                // failure (retry only).
                match self.head.compare_exchange_weak(
                    head,
                    next,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS made us the owner; the stamp says it holds a value.
                        let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
                        // Release: our read of the cell happens before the next sender writes.
                        slot.stamp.store(
                            head.wrapping_add(self.one_lap).wrapping_sub(index),
                            Ordering::Release,
                        );
                        return Ok(value);
                    }
                    Err(h) => {
                        head = h;
                        backoff.spin();
                    }
                }
            } else if stamp == head {
                // Nothing written here this lap: maybe empty. Acquire: pairs with the close's
                // SeqCst `fetch_or`. The closed mark is final (no `tail` CAS succeeds against a
                // marked `tail`), so a marked `tail` at `head` means closed and drained for
                // good: no later send can change the answer, and no waiter can be lost, so
                // this needs no fence.
                let tail = self.tail.load(Ordering::Acquire);
                if tail == head | self.mark_bit {
                    return Err(TryRecvError::Closed);
                }
                // SeqCst fence: the decision half of the no-lost-wake-up argument.
                fence(Ordering::SeqCst);
                // Relaxed: ordered by the fence.
                let tail = self.tail.load(Ordering::Relaxed);
                if tail & !self.mark_bit == head {
                    return Err(if tail & self.mark_bit != 0 {
                        TryRecvError::Closed
                    } else {
                        TryRecvError::Empty
                    });
                }
                // A sender claimed the slot and is writing it.
                backoff.snooze();
                head = self.head.load(Ordering::Relaxed);
            } else {
                // Another receiver moved `head` on.
                backoff.snooze();
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// `head` and `tail`: every send, receive and close changes one of them, and neither
    /// ever returns to an earlier value (positions only grow), so two equal reads mean no
    /// operation completed in between (`select!`'s moment of decision).
    pub(crate) fn state_words(&self) -> [usize; 2] {
        // SeqCst: in the single order of the SeqCst `head`/`tail` RMWs that publish every
        // send, receive and close.
        [
            self.head.load(Ordering::SeqCst),
            self.tail.load(Ordering::SeqCst),
        ]
    }

    /// Sets the closed mark; `true` if this call set it.
    pub(crate) fn close(&self) -> bool {
        // SeqCst: ordered with every sender's CAS on `tail` and every receiver's fenced
        // emptiness check; waiters are then woken under the queue locks.
        self.tail.fetch_or(self.mark_bit, Ordering::SeqCst) & self.mark_bit == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        // SeqCst: a caller that saw `true` then sees every effect ordered before the close.
        self.tail.load(Ordering::SeqCst) & self.mark_bit != 0
    }

    fn len_between(&self, head: usize, tail: usize) -> usize {
        let hix = head & (self.mark_bit - 1);
        let tix = tail & (self.mark_bit - 1);
        if hix < tix {
            tix - hix
        } else if hix > tix {
            self.cap - hix + tix
        } else if tail & !self.mark_bit == head {
            0
        } else {
            self.cap
        }
    }

    pub(crate) fn len(&self) -> usize {
        loop {
            // SeqCst: a consistent snapshot of both ends (tail read twice around head).
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            if self.tail.load(Ordering::SeqCst) == tail {
                return self.len_between(head, tail);
            }
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        // SeqCst: as in `len`.
        let tail = self.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        head.wrapping_add(self.one_lap) == tail & !self.mark_bit
    }

    pub(crate) fn is_empty(&self) -> bool {
        // SeqCst: as in `len`.
        let head = self.head.load(Ordering::SeqCst);
        let tail = self.tail.load(Ordering::SeqCst);
        tail & !self.mark_bit == head
    }
}

impl<T> Drop for Array<T> {
    fn drop(&mut self) {
        // Relaxed: `&mut self` means no other thread can touch the ring.
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        let hix = head & (self.mark_bit - 1);
        for i in 0..self.len_between(head, tail) {
            let index = if hix + i < self.cap {
                hix + i
            } else {
                hix + i - self.cap
            };
            // SAFETY: slots from head up to tail hold initialised values nobody else owns.
            self.buffer[index]
                .value
                .with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }
}

/// The ring's wait protocol: the operations of the channel on a ring, each with its wake-ups.
/// `sent`/`received` is the channel's observer hook; it runs after the value went in (came
/// out) and before the other side is woken.
impl<T> Array<T> {
    /// A send that does not wait: the value goes in and a parked receiver is woken.
    #[inline(always)]
    pub(crate) fn send_now(&self, value: T, sent: impl FnOnce()) -> Result<(), TrySendError<T>> {
        self.try_send(value)?;
        sent();
        if self.receivers.has_waiters() {
            self.receivers.notify_one();
        }
        Ok(())
    }

    /// A receive that does not wait: a value comes out and a parked sender is woken.
    #[inline(always)]
    pub(crate) fn recv_now(&self, received: impl FnOnce()) -> Result<T, TryRecvError> {
        let v = self.try_recv()?;
        received();
        if self.senders.has_waiters() {
            self.senders.notify_one();
        }
        Ok(v)
    }

    /// Polls a send whose value is in `node`'s slot.
    pub(crate) fn poll_send(
        &self,
        node: Pin<&Waiter<T>>,
        cx: &mut Context<'_>,
        waited: &mut bool,
        sent: impl FnOnce(),
    ) -> Poll<Result<(), SendError<T>>> {
        if node.state() != WaitState::Idle && self.senders.poll_linked(node, cx.waker()) {
            return Poll::Pending;
        }
        loop {
            // SAFETY: the ring's notifiers never touch a waiter's slot, so its owner (us)
            // has it whether or not the node is linked.
            let value = match unsafe { node.take_value() } {
                Some(v) => v,
                None => return Poll::Ready(Ok(())),
            };
            match self.try_send(value) {
                Ok(()) => {
                    if node.state() != WaitState::Idle {
                        self.senders.deregister(node);
                    }
                    sent();
                    if self.receivers.has_waiters() {
                        self.receivers.notify_one();
                    }
                    // Room may be left that a wake-up meant for us or another sender
                    // announced: keep the chain going.
                    if *waited && self.senders.has_waiters() && !self.is_full() {
                        self.senders.notify_one();
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(TrySendError::Closed(v)) => {
                    if node.state() != WaitState::Idle {
                        self.senders.deregister(node);
                    }
                    return Poll::Ready(Err(SendError(v)));
                }
                Err(TrySendError::Full(v)) => {
                    // SAFETY: as above.
                    unsafe { node.put_value(v) };
                    match node.state() {
                        WaitState::Linked => return Poll::Pending,
                        WaitState::Notified => node.reset(),
                        WaitState::Idle | WaitState::Completed => {}
                    }
                    // Register, then try once more (the re-check of the no-lost-wake-up
                    // argument).
                    self.senders.register(node, cx.waker());
                    *waited = true;
                }
            }
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
            || {
                received();
                if self.senders.has_waiters() {
                    self.senders.notify_one();
                }
            },
        )
    }

    /// A send future is dropped (after or without completing).
    pub(crate) fn cancel_send(&self, node: Pin<&Waiter<T>>) {
        self.senders.cancel(node);
    }

    /// A receive future is dropped (after or without completing).
    pub(crate) fn cancel_recv(&self, node: Pin<&Waiter<T>>) {
        self.receivers.cancel(node);
    }

    /// Closes and wakes every parked sender and receiver: `Some(woken)` for the call that
    /// closed it.
    pub(crate) fn close_and_wake(&self) -> Option<usize> {
        if !self.close() {
            return None;
        }
        Some(self.senders.notify_all() + self.receivers.notify_all())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc as StdArc;

    #[test]
    fn wraps_around_many_laps_in_order() {
        let a = Array::try_new(3).unwrap();
        let mut next = 0u32;
        for round in 0..1_000u32 {
            let n = round % 4;
            for i in 0..n.min(3) {
                a.try_send(round * 10 + i).unwrap();
            }
            assert_eq!(a.len(), n.min(3) as usize);
            for i in 0..n.min(3) {
                assert_eq!(a.try_recv(), Ok(round * 10 + i));
                next += 1;
            }
            assert!(a.is_empty());
        }
        assert!(next > 0);
    }

    #[test]
    fn full_empty_and_closed() {
        let a = Array::try_new(2).unwrap();
        assert_eq!(a.try_recv(), Err(TryRecvError::Empty));
        a.try_send(1).unwrap();
        a.try_send(2).unwrap();
        assert!(a.is_full());
        assert_eq!(a.len(), 2);
        assert_eq!(a.try_send(3), Err(TrySendError::Full(3)));
        assert!(a.close());
        assert!(!a.close());
        assert_eq!(a.try_send(4), Err(TrySendError::Closed(4)));
        assert_eq!(a.try_recv(), Ok(1));
        assert_eq!(a.try_recv(), Ok(2));
        assert_eq!(a.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn closed_only_once_every_value_is_out() {
        let a = Array::try_new(2).unwrap();
        assert_eq!(a.try_recv(), Err(TryRecvError::Empty), "open and empty");
        a.try_send(1).unwrap();
        a.close();
        assert_eq!(a.try_recv(), Ok(1), "closed with a value left");
        assert_eq!(a.try_recv(), Err(TryRecvError::Closed));
        // After a few laps too (the closed answer compares the position, lap included).
        let b = Array::try_new(2).unwrap();
        for i in 0..7 {
            b.try_send(i).unwrap();
            assert_eq!(b.try_recv(), Ok(i));
        }
        assert_eq!(b.try_recv(), Err(TryRecvError::Empty));
        b.close();
        assert_eq!(b.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn values_left_in_the_ring_are_dropped_with_it() {
        let v = StdArc::new(());
        let a = Array::try_new(4).unwrap();
        // Move the head to index 3, then leave three values straddling the wrap point.
        for _ in 0..3 {
            a.try_send(v.clone()).unwrap();
            drop(a.try_recv().unwrap());
        }
        for _ in 0..3 {
            a.try_send(v.clone()).unwrap();
        }
        assert_eq!(StdArc::strong_count(&v), 1 + a.len());
        drop(a);
        assert_eq!(StdArc::strong_count(&v), 1);
    }

    #[test]
    fn capacity_limits_are_errors() {
        assert!(matches!(
            Array::<u8>::try_new(MAX_CAPACITY + 1),
            Err(BuildError::CapacityTooLarge { .. })
        ));
    }
}
