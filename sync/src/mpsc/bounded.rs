//! The bounded `mpsc` face: a fair semaphore of `capacity` permits in front of a weir
//! unbounded channel (see the module docs of [`mpsc`](super)).
//!
//! # Invariant
//!
//! Permits taken + values buffered never exceed `capacity`: a send takes a permit and turns
//! it into a buffered value (the semaphore never sees that permit again until the value is
//! received, and then the receiver gives it back); a [`Permit`] dropped unused gives it back.

use std::fmt;
use std::sync::Arc;

use super::error::{try_recv_error, SendError, TryRecvError, TrySendError};
use crate::semaphore::{Semaphore, TryAcquireError};

/// Creates a bounded channel holding at most `buffer` values (reserved permits count).
///
/// # Panics
/// If `buffer` is 0 (as tokio; a rendezvous is `weir::channel::rendezvous`).
#[track_caller]
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(buffer > 0, "mpsc bounded channel requires buffer > 0");
    let (tx, rx) = weir_channel::unbounded();
    let capacity = buffer.min(Semaphore::MAX_PERMITS);
    let sem = Arc::new(Semaphore::new(capacity));
    (
        Sender {
            chan: tx,
            sem: sem.clone(),
            capacity,
        },
        Receiver {
            chan: rx,
            sem,
            capacity,
        },
    )
}

/// Sends on a bounded channel, waiting for capacity. `Clone`.
pub struct Sender<T> {
    chan: weir_channel::Sender<T>,
    sem: Arc<Semaphore>,
    capacity: usize,
}

/// Receives from a bounded channel.
pub struct Receiver<T> {
    chan: weir_channel::Receiver<T>,
    sem: Arc<Semaphore>,
    capacity: usize,
}

impl<T> Sender<T> {
    /// Waits for capacity, then sends. Fails, returning the value, if the receiver is gone
    /// or closed. Cancel-safe: dropped before it completes, it sent nothing and holds no
    /// place in the queue of waiting senders.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.reserve().await {
            Ok(permit) => permit.send_or_return(value),
            Err(_) => Err(SendError(value)),
        }
    }

    /// Sends if there is capacity now.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.try_reserve() {
            Ok(permit) => permit.send_or_return(value).map_err(|e| e.into()),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(value)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(value)),
        }
    }

    /// Waits for capacity and holds it: [`Permit::send`] then cannot fail for lack of room.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.sem.acquire().await {
            Ok(permit) => {
                // The permit's accounting moves to the `Permit` (see the invariant).
                permit.forget();
                Ok(Permit { sender: self })
            }
            Err(_) => Err(SendError(())),
        }
    }

    /// Holds capacity if there is some now.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.sem.try_acquire() {
            Ok(permit) => {
                permit.forget();
                Ok(Permit { sender: self })
            }
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(())),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
        }
    }

    /// [`reserve`](Self::reserve) with a permit that owns the sender.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        // The permit's accounting moves to the `OwnedPermit` (see the invariant).
        let acquired = self.sem.acquire().await.map(|permit| permit.forget());
        match acquired {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(_) => Err(SendError(())),
        }
    }

    /// [`try_reserve`](Self::try_reserve) with a permit that owns the sender; the sender
    /// comes back on failure.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        let acquired = self.sem.try_acquire().map(|permit| permit.forget());
        match acquired {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(self)),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(self)),
        }
    }

    /// Waits until the receiver is gone or closed.
    pub async fn closed(&self) {
        self.chan.closed().await
    }

    /// Whether the receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Room left now (capacity minus buffered values and held permits).
    pub fn capacity(&self) -> usize {
        self.sem.available_permits()
    }

    /// The capacity the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.capacity
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.chan.same_channel(&other.chan)
    }

    /// The weir channel underneath (for its probes, id and name).
    pub fn as_weir(&self) -> &weir_channel::Sender<T> {
        &self.chan
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            chan: self.chan.clone(),
            sem: self.sem.clone(),
            capacity: self.capacity,
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("chan", &self.chan)
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// One reserved slot of a bounded channel.
#[must_use = "dropping the permit gives the slot back"]
pub struct Permit<'a, T> {
    sender: &'a Sender<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot. If the receiver went away meanwhile, the value
    /// is dropped (as with tokio).
    pub fn send(self, value: T) {
        let _ = self.send_or_return(value);
    }

    fn send_or_return(self, value: T) -> Result<(), SendError<T>> {
        let sender = self.sender;
        // The slot now belongs to the buffered value (or is given back below).
        std::mem::forget(self);
        match sender.chan.try_send(value) {
            Ok(()) => Ok(()),
            Err(e) => {
                sender.sem.add_permits(1);
                Err(SendError(e.into_inner()))
            }
        }
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.sender.sem.add_permits(1);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// One reserved slot of a bounded channel, owning its sender.
#[must_use = "dropping the permit gives the slot back"]
pub struct OwnedPermit<T> {
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the reserved slot and gives the sender back. If the receiver went
    /// away meanwhile, the value is dropped.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self
            .sender
            .take()
            .expect("an OwnedPermit holds its sender until used");
        if let Err(e) = sender.chan.try_send(value) {
            drop(e);
            sender.sem.add_permits(1);
        }
        sender
    }

    /// Gives the slot back unused, and the sender with it.
    pub fn release(mut self) -> Sender<T> {
        let sender = self
            .sender
            .take()
            .expect("an OwnedPermit holds its sender until used");
        sender.sem.add_permits(1);
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = &self.sender {
            sender.sem.add_permits(1);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// Waits for a value; `None` once every sender is gone (or the channel was closed) and
    /// the buffer is drained. Cancel-safe: a dropped `recv()` loses no value.
    pub async fn recv(&mut self) -> Option<T> {
        let value = self.chan.recv().await.ok()?;
        self.sem.add_permits(1);
        Some(value)
    }

    /// Waits for at least one value, then moves up to `limit` into `buffer`; returns how many
    /// (0 only when the channel is closed and drained, or `limit` is 0).
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        if limit == 0 {
            return 0;
        }
        let Some(first) = self.recv().await else {
            return 0;
        };
        buffer.push(first);
        let mut n = 1;
        while n < limit {
            match self.try_recv() {
                Ok(value) => buffer.push(value),
                Err(_) => break,
            }
            n += 1;
        }
        n
    }

    /// A value if one is buffered now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let value = self.chan.try_recv().map_err(try_recv_error)?;
        self.sem.add_permits(1);
        Ok(value)
    }

    /// Waits for a value from a thread outside the runtime.
    pub fn blocking_recv(&mut self) -> Option<T> {
        let value = self.chan.recv_blocking().ok()?;
        self.sem.add_permits(1);
        Some(value)
    }

    /// Closes the channel: sends and reserves fail from now on (waiting ones too); what is
    /// buffered can still be received. Unlike tokio, a [`Permit`] held at the close cannot
    /// send any more (weir's close: the value is refused, `Sender::send` returns it).
    pub fn close(&mut self) {
        self.sem.close();
        self.chan.close();
    }

    /// Whether the channel is closed (every sender gone, or `close` called).
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.chan.is_empty()
    }

    /// Room left now.
    pub fn capacity(&self) -> usize {
        self.sem.available_permits()
    }

    /// The capacity the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.capacity
    }

    /// The weir channel underneath (for its probes, id and name).
    pub fn as_weir(&self) -> &weir_channel::Receiver<T> {
        &self.chan
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Waiting senders fail at once instead of waiting for room that never comes.
        self.sem.close();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("chan", &self.chan)
            .field("capacity", &self.capacity())
            .finish()
    }
}
