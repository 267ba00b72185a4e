//! A multi-producer, multi-consumer broadcast channel with tokio's API: every receiver sees
//! every value sent after it subscribed, as long as it keeps up.
//!
//! The buffer is a ring of `capacity` slots (rounded up to a power of two, as tokio does;
//! the capacity is a lower bound). A value stays until every receiver that existed when it
//! was sent has received it, or until the ring wraps onto it. A receiver that fell behind by
//! more than the ring holds gets `Lagged(n)` (the `n` values it missed) and then continues
//! from the oldest value still held.
//!
//! The ring is guarded by a mutex (sends and receives are short critical sections that
//! clone one value); waiting is a [`Notify`], with its no-lost-wake-up argument: a receiver
//! creates its `Notified` before it looks at the ring, and a sender writes the ring before
//! `notify_waiters`.

use std::fmt;

use crate::notify::Notify;
use crate::runtime_hooks::spend_budget;
use crate::sync::{self, Arc, Mutex};

/// The errors of a broadcast channel.
pub mod error {
    use std::fmt;

    /// No receiver is alive; the value comes back.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    /// Why [`recv`](super::Receiver::recv) returned no value.
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum RecvError {
        /// Every sender is gone and every value was received.
        Closed,
        /// The receiver fell behind; this many values were skipped.
        Lagged(u64),
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("channel closed"),
                RecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for RecvError {}

    /// Why [`try_recv`](super::Receiver::try_recv) returned no value.
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum TryRecvError {
        /// Nothing new yet.
        Empty,
        /// Every sender is gone and every value was received.
        Closed,
        /// The receiver fell behind; this many values were skipped.
        Lagged(u64),
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
                TryRecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, SendError, TryRecvError};

struct Slot<T> {
    /// The position of the value in the stream (valid while `value` is or was set).
    pos: u64,
    /// Receivers that still have to receive it.
    remaining: usize,
    value: Option<T>,
}

struct Ring<T> {
    slots: Box<[Slot<T>]>,
    /// Position of the next value to be sent.
    tail: u64,
    senders: usize,
    receivers: usize,
}

impl<T> Ring<T> {
    fn capacity(&self) -> u64 {
        self.slots.len() as u64
    }

    fn slot(&mut self, pos: u64) -> &mut Slot<T> {
        let mask = self.capacity() - 1;
        &mut self.slots[(pos & mask) as usize]
    }

    /// The oldest position still in the ring.
    fn oldest(&self) -> u64 {
        self.tail.saturating_sub(self.capacity())
    }

    /// `from` (a receiver's next position) no longer reads `from..tail`: releases its claim
    /// on those values, returning the ones nobody needs now (to drop outside the lock).
    fn release_claims(&mut self, from: u64, dropped: &mut Vec<T>) {
        for pos in from.max(self.oldest())..self.tail {
            let slot = self.slot(pos);
            slot.remaining = slot.remaining.saturating_sub(1);
            if slot.remaining == 0 {
                if let Some(value) = slot.value.take() {
                    dropped.push(value);
                }
            }
        }
    }
}

struct Shared<T> {
    ring: Mutex<Ring<T>>,
    /// Receivers wait here for a value or for the last sender to go.
    sent: Notify,
    /// Senders wait here (`closed()`) for the last receiver to go.
    receivers_gone: Notify,
}

/// Creates a broadcast channel retaining at least `capacity` values.
///
/// # Panics
/// If `capacity` is 0 or above `usize::MAX / 2` (as tokio).
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "broadcast channel capacity cannot be zero");
    assert!(
        capacity <= usize::MAX >> 1,
        "broadcast channel capacity exceeded `usize::MAX / 2`"
    );
    let slots = (0..capacity.next_power_of_two())
        .map(|_| Slot {
            pos: 0,
            remaining: 0,
            value: None,
        })
        .collect();
    let shared = Arc::new(Shared {
        ring: Mutex::new(Ring {
            slots,
            tail: 0,
            senders: 1,
            receivers: 1,
        }),
        sent: Notify::new(),
        receivers_gone: Notify::new(),
    });
    let rx = Receiver {
        shared: shared.clone(),
        next: 0,
    };
    (Sender { shared }, rx)
}

/// Sends values to every receiver. `Clone`.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Receives every value sent after it subscribed.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    next: u64,
}

impl<T> Sender<T> {
    /// Sends `value` to every receiver alive now; returns how many. Fails, returning the
    /// value, if there is none. Never waits: a full ring overwrites its oldest value.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let overwritten;
        let receivers;
        {
            let mut ring = sync::lock(&self.shared.ring);
            receivers = ring.receivers;
            if receivers == 0 {
                return Err(SendError(value));
            }
            let tail = ring.tail;
            let slot = ring.slot(tail);
            slot.pos = tail;
            slot.remaining = receivers;
            overwritten = slot.value.replace(value);
            ring.tail = tail + 1;
        }
        // Dropped outside the lock: a value's destructor may take time or panic.
        drop(overwritten);
        self.shared.sent.notify_waiters();
        Ok(receivers)
    }

    /// A new receiver that gets the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        let mut ring = sync::lock(&self.shared.ring);
        ring.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: ring.tail,
        }
    }

    /// Receivers alive now.
    pub fn receiver_count(&self) -> usize {
        sync::lock(&self.shared.ring).receivers
    }

    /// Values held that some receiver has yet to receive.
    pub fn len(&self) -> usize {
        let ring = sync::lock(&self.shared.ring);
        ring.slots.iter().filter(|s| s.value.is_some()).count()
    }

    /// Whether every receiver has received every value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until every receiver is gone.
    pub async fn closed(&self) {
        spend_budget().await;
        loop {
            let gone = self.shared.receivers_gone.notified();
            if self.receiver_count() == 0 {
                return;
            }
            gone.await;
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        sync::lock(&self.shared.ring).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut ring = sync::lock(&self.shared.ring);
            ring.senders -= 1;
            ring.senders == 0
        };
        if last {
            self.shared.sent.notify_waiters();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

impl<T: Clone> Receiver<T> {
    /// Takes the next value if there is one now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut ring = sync::lock(&self.shared.ring);
        if self.next == ring.tail {
            return Err(if ring.senders == 0 {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        let oldest = ring.oldest();
        if self.next < oldest {
            let missed = oldest - self.next;
            self.next = oldest;
            return Err(TryRecvError::Lagged(missed));
        }
        let next = self.next;
        let slot = ring.slot(next);
        debug_assert_eq!(slot.pos, next);
        slot.remaining = slot.remaining.saturating_sub(1);
        // The last receiver of a value moves it out; the others clone it.
        let value = if slot.remaining == 0 {
            slot.value.take()
        } else {
            slot.value.clone()
        };
        self.next += 1;
        // Every receiver alive at the send holds a claim, so the value is there.
        value.ok_or(TryRecvError::Empty)
    }

    /// Waits for the next value. Cancel-safe: a dropped `recv()` loses no value.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        spend_budget().await;
        // Our own handle on the shared state, so the `Notified` does not borrow `self`.
        let shared = self.shared.clone();
        loop {
            let sent = shared.sent.notified();
            match self.try_recv() {
                Ok(value) => return Ok(value),
                Err(TryRecvError::Closed) => return Err(RecvError::Closed),
                Err(TryRecvError::Lagged(n)) => return Err(RecvError::Lagged(n)),
                Err(TryRecvError::Empty) => sent.await,
            }
        }
    }
}

impl<T> Receiver<T> {
    /// A new receiver on the same channel, starting at the values sent from now on.
    pub fn resubscribe(&self) -> Self {
        let mut ring = sync::lock(&self.shared.ring);
        ring.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: ring.tail,
        }
    }

    /// Values this receiver has yet to receive (at most the ring's capacity).
    pub fn len(&self) -> usize {
        let ring = sync::lock(&self.shared.ring);
        (ring.tail - self.next.max(ring.oldest())) as usize
    }

    /// Whether nothing new is there for this receiver.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        sync::lock(&self.shared.ring).senders == 0
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut dropped = Vec::new();
        let last = {
            let mut ring = sync::lock(&self.shared.ring);
            ring.release_claims(self.next, &mut dropped);
            ring.receivers -= 1;
            ring.receivers == 0
        };
        drop(dropped);
        if last {
            self.shared.receivers_gone.notify_waiters();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}
