//! `Sender` and `Receiver`: the two handles of a channel.

use std::fmt;
#[cfg(not(loom))]
use std::time::Duration;

use crate::channel::Chan;
#[cfg(not(loom))]
use crate::error::RecvTimeoutError;
use crate::error::{RecvError, SendError, TryRecvError, TrySendError};
#[cfg(not(loom))]
use crate::futures::RecvTimeoutFuture;
use crate::futures::{ClosedFuture, RecvFuture, SendFuture};
use crate::sync::{Arc, Ordering};
use crate::waiters::block_on;

/// The sending half of a channel. Clone it for more producers; the channel closes when the
/// last sender (or the last receiver) is dropped, or when either side calls `close`.
pub struct Sender<T> {
    pub(crate) chan: Arc<Chan<T>>,
}

/// The receiving half of a channel. Clone it for more consumers (each value goes to one).
pub struct Receiver<T> {
    pub(crate) chan: Arc<Chan<T>>,
}

macro_rules! shared_methods {
    () => {
        /// Closes the channel. Idempotent: returns `true` only for the call that closed it.
        ///
        /// After the close, sends fail and return their value; receives drain what is
        /// buffered and then fail with `Closed` at once. Every parked sender and receiver
        /// is woken.
        pub fn close(&self) -> bool {
            self.chan.close()
        }

        /// True once the channel is closed.
        pub fn is_closed(&self) -> bool {
            self.chan.is_closed()
        }

        /// Waits until the channel is closed.
        pub fn closed(&self) -> ClosedFuture<'_, T> {
            ClosedFuture::new(&self.chan)
        }

        /// Number of live senders.
        pub fn sender_count(&self) -> usize {
            self.chan.sender_count()
        }

        /// Number of live receivers.
        pub fn receiver_count(&self) -> usize {
            self.chan.receiver_count()
        }

        /// Values buffered now. A rendezvous channel buffers nothing (it may briefly hold a
        /// value given to a receiver that was cancelled before returning it).
        pub fn len(&self) -> usize {
            self.chan.len()
        }

        /// The buffer's capacity: `Some(0)` for a rendezvous, `None` for unbounded.
        pub fn capacity(&self) -> Option<usize> {
            self.chan.capacity()
        }

        /// True when no value is buffered.
        pub fn is_empty(&self) -> bool {
            self.chan.is_empty()
        }

        /// True when a send would have to wait: the buffer is full. Always true for a
        /// rendezvous channel (it has no room; a send waits for a receiver), never for an
        /// unbounded one.
        pub fn is_full(&self) -> bool {
            self.chan.is_full()
        }

        /// The channel's id: stable for its life, unique in the process, the one probes
        /// report.
        pub fn id(&self) -> u64 {
            self.chan.id
        }

        /// The name given with [`Builder::name`](crate::Builder::name).
        pub fn name(&self) -> Option<&str> {
            self.chan.name.as_deref()
        }

        /// True if `self` and `other` belong to the same channel.
        pub fn same_channel(&self, other: &Self) -> bool {
            Arc::ptr_eq(&self.chan, &other.chan)
        }
    };
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room (or, on a rendezvous, for a receiver to take it).
    ///
    /// Fails with the value if the channel is or becomes closed first.
    ///
    /// Cancel-safe: dropping the future before it completes leaves no waiter behind, and on
    /// a buffered channel the value was not sent (it is dropped with the future). On a
    /// rendezvous a waiting sender's value is taken by an arriving receiver, so a send that
    /// is dropped *after* a receiver took its value did happen; a losing `select!` branch is
    /// the exception — the select commits atomically with its partner, so a send branch that
    /// loses delivered nothing. To bound a rendezvous send in time exactly, race it against a
    /// sleep in [`select!`](crate::select!) rather than wrapping it in `time::timeout`.
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture::new(&self.chan, value, true)
    }

    /// Sends `value`, blocking this thread while the channel is full. Usable from any thread;
    /// inside an async task prefer [`Sender::send`].
    pub fn send_blocking(&self, value: T) -> Result<(), SendError<T>> {
        match self.chan.try_send(value) {
            Ok(()) => Ok(()),
            Err(TrySendError::Closed(v)) => Err(SendError(v)),
            Err(TrySendError::Full(v)) => block_on(SendFuture::new(&self.chan, v, false)),
        }
    }

    /// Sends without waiting: fails with `Full` (no room, or no receiver waiting on a
    /// rendezvous) or `Closed`, returning the value.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    shared_methods!();
}

impl<T> Receiver<T> {
    /// Receives a value, waiting for one.
    ///
    /// Once the channel is closed, buffered values are still received; after them this
    /// returns `Err(RecvError::Closed)` at once, without waiting or allocating. Cancel-safe:
    /// dropping the future never loses a value.
    pub fn recv(&self) -> RecvFuture<'_, T> {
        RecvFuture::new(&self.chan, true)
    }

    /// Receives a value, blocking this thread while the channel is empty. Usable from any
    /// thread; inside an async task prefer [`Receiver::recv`].
    pub fn recv_blocking(&self) -> Result<T, RecvError> {
        match self.chan.try_recv() {
            Ok(v) => Ok(v),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Empty) => block_on(RecvFuture::new(&self.chan, false)),
        }
    }

    /// Like [`Receiver::recv_blocking`], giving up after `timeout`.
    #[cfg(not(loom))]
    pub fn recv_blocking_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let deadline = std::time::Instant::now().checked_add(timeout);
        self.recv_blocking_until(deadline)
    }

    /// Like [`Receiver::recv_blocking`], giving up at `deadline`.
    #[cfg(not(loom))]
    pub fn recv_blocking_deadline(
        &self,
        deadline: std::time::Instant,
    ) -> Result<T, RecvTimeoutError> {
        self.recv_blocking_until(Some(deadline))
    }

    #[cfg(not(loom))]
    fn recv_blocking_until(
        &self,
        deadline: Option<std::time::Instant>,
    ) -> Result<T, RecvTimeoutError> {
        match self.chan.try_recv() {
            Ok(v) => Ok(v),
            Err(TryRecvError::Closed) => Err(RecvTimeoutError::Closed),
            Err(TryRecvError::Empty) => {
                match crate::waiters::block_on_until(RecvFuture::new(&self.chan, false), deadline) {
                    Some(out) => out.map_err(RecvTimeoutError::from),
                    None => Err(RecvTimeoutError::Timeout),
                }
            }
        }
    }

    /// Receives without waiting: `Empty` if nothing is there (and, on a rendezvous, no sender
    /// waits), `Closed` if the channel is closed and drained.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Receives a value, waiting at most `timeout` on the runtime's timers.
    ///
    /// (Not built under `--cfg loom`, where the channel is built without the runtime.)
    ///
    /// Returns `Err(RecvTimeoutError::Timeout)` if the time runs out first and
    /// `Err(RecvTimeoutError::Closed)` once the channel is closed and drained.
    ///
    /// # Panics
    /// When it has to wait outside a weir runtime with timers enabled (as `time::sleep`).
    #[cfg(not(loom))]
    pub fn recv_timeout(&self, timeout: Duration) -> RecvTimeoutFuture<'_, T> {
        let now = weir_runtime::time::Instant::now();
        // `Instant::saturating_add` is crate-private in the runtime: saturate here at a
        // deadline decades away.
        let deadline = now
            .checked_add(timeout)
            .or_else(|| now.checked_add(Duration::from_secs(60 * 60 * 24 * 365 * 30)))
            .unwrap_or(now);
        RecvTimeoutFuture::new(&self.chan, deadline)
    }

    /// Receives a value, waiting until `deadline` at most. See [`Receiver::recv_timeout`].
    #[cfg(not(loom))]
    pub fn recv_deadline(&self, deadline: weir_runtime::time::Instant) -> RecvTimeoutFuture<'_, T> {
        RecvTimeoutFuture::new(&self.chan, deadline)
    }

    shared_methods!();
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        // Relaxed: the new handle is derived from a live one, so the count cannot be zero.
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        // Relaxed: as for `Sender`.
        self.chan.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // AcqRel: the last sender's close happens after every other sender's operations.
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close();
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // AcqRel: as for `Sender`.
        if self.chan.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("id", &self.chan.id)
            .field("name", &self.chan.name)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("id", &self.chan.id)
            .field("name", &self.chan.name)
            .field("closed", &self.is_closed())
            .finish()
    }
}
