//! A tokio-shaped oneshot channel, a thin face on weir's own oneshot (`weir::channel::oneshot`):
//! `Sender::send` returns `Result<(), T>`, the `Receiver` is a future of
//! `Result<T, RecvError>`, and waiting spends the coop budget and allocates nothing.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The errors of a oneshot channel.
pub mod error {
    use std::fmt;

    /// The sender went away without sending.
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub struct RecvError(pub(crate) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}

    /// Why [`try_recv`](super::Receiver::try_recv) returned no value.
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub enum TryRecvError {
        /// The value has not been sent yet.
        Empty,
        /// The sender went away without sending, or the value was already taken.
        Closed,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, TryRecvError};

/// Creates a oneshot channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = weir_channel::oneshot();
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// Sends the channel's one value.
pub struct Sender<T> {
    inner: weir_channel::oneshot::Sender<T>,
}

/// Receives the channel's one value; `.await` it.
pub struct Receiver<T> {
    inner: weir_channel::oneshot::Receiver<T>,
}

impl<T> Sender<T> {
    /// Sends `value`; fails, returning it, if the receiver closed or went away.
    pub fn send(self, value: T) -> Result<(), T> {
        self.inner.send(value).map_err(|e| e.0)
    }

    /// Waits until the receiver closes or goes away.
    pub async fn closed(&mut self) {
        self.inner.closed().await
    }

    /// Whether the receiver closed or went away.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<T> Receiver<T> {
    /// The value if it was sent; does not wait.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.inner.try_recv().map_err(|e| match e {
            weir_channel::TryRecvError::Empty => TryRecvError::Empty,
            _ => TryRecvError::Closed,
        })
    }

    /// Closes the channel: a later send fails (a value already sent can still be taken).
    pub fn close(&mut self) {
        self.inner.close();
    }

    /// Waits for the value from a thread outside the runtime.
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        self.inner.recv_blocking().map_err(|_| RecvError(()))
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner)
            .poll(cx)
            .map(|r| r.map_err(|_| RecvError(())))
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver")
            .field("inner", &self.inner)
            .finish()
    }
}
