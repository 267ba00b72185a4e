//! The unbounded `mpsc` face: a weir unbounded channel with tokio's signatures.

use std::fmt;

use super::error::{try_recv_error, SendError, TryRecvError};

/// Creates an unbounded channel: sends never wait.
#[track_caller]
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let (tx, rx) = weir_channel::unbounded();
    (UnboundedSender { chan: tx }, UnboundedReceiver { chan: rx })
}

/// Sends on an unbounded channel. `Clone`.
pub struct UnboundedSender<T> {
    chan: weir_channel::Sender<T>,
}

/// Receives from an unbounded channel.
pub struct UnboundedReceiver<T> {
    chan: weir_channel::Receiver<T>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` without waiting; fails, returning it, if the receiver is gone or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan
            .try_send(value)
            .map_err(|e| SendError(e.into_inner()))
    }

    /// Waits until the receiver is gone or closed.
    pub async fn closed(&self) {
        self.chan.closed().await
    }

    /// Whether the receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
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

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("chan", &self.chan)
            .finish()
    }
}

impl<T> UnboundedReceiver<T> {
    /// Waits for a value; `None` once every sender is gone (or the channel was closed) and
    /// the buffer is drained. Cancel-safe.
    pub async fn recv(&mut self) -> Option<T> {
        self.chan.recv().await.ok()
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
            match self.chan.try_recv() {
                Ok(value) => buffer.push(value),
                Err(_) => break,
            }
            n += 1;
        }
        n
    }

    /// A value if one is buffered now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv().map_err(try_recv_error)
    }

    /// Waits for a value from a thread outside the runtime.
    pub fn blocking_recv(&mut self) -> Option<T> {
        self.chan.recv_blocking().ok()
    }

    /// Closes the channel: sends fail from now on; what is buffered can still be received.
    pub fn close(&mut self) {
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

    /// The weir channel underneath (for its probes, id and name).
    pub fn as_weir(&self) -> &weir_channel::Receiver<T> {
        &self.chan
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver")
            .field("chan", &self.chan)
            .finish()
    }
}
