//! Errors of channel operations. Each says what happened; the ones that carry a value give it
//! back, so that nothing sent on a closed or full channel is lost.

use std::fmt;
use std::time::Duration;

use weir_breaker::ConfigError;

/// The channel was closed: the value could not be sent and is returned.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a closed channel; the value is returned")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// A non-blocking send failed; the value is returned.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The buffer is full (or, on a rendezvous channel, no receiver is waiting).
    Full(T),
    /// The channel is closed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }

    /// True for [`TrySendError::Full`].
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// True for [`TrySendError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(err: SendError<T>) -> Self {
        TrySendError::Closed(err.0)
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => {
                f.write_str("sending on a full channel (or a rendezvous with no receiver waiting)")
            }
            TrySendError::Closed(_) => f.write_str("sending on a closed channel"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

/// A receive found the channel closed and drained.
///
/// Non-exhaustive: the channel's breaker adds its own outcomes (a rejected receive, a timeout).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
#[non_exhaustive]
pub enum RecvError {
    /// The channel is closed and every buffered value has been received.
    Closed,
    /// The channel's circuit breaker (L1) is open, or half-open with every probe in flight:
    /// the receive was refused at once, without waiting. Try again after `retry_after`.
    Rejected {
        /// When trying again makes sense.
        retry_after: Duration,
    },
}

impl RecvError {
    /// True for [`RecvError::Rejected`].
    pub fn is_rejected(&self) -> bool {
        matches!(self, RecvError::Rejected { .. })
    }
}

fn rejected(f: &mut fmt::Formatter<'_>, retry_after: Duration) -> fmt::Result {
    write!(
        f,
        "receive rejected by the channel's open circuit breaker; retry after {retry_after:?}"
    )
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("receiving on a closed and empty channel"),
            RecvError::Rejected { retry_after } => rejected(f, *retry_after),
        }
    }
}

impl std::error::Error for RecvError {}

/// A non-blocking receive found nothing.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// The channel is open but holds no value (and, on a rendezvous, no sender is waiting).
    Empty,
    /// The channel is closed and drained.
    Closed,
    /// The circuit breaker refused the receive (see [`RecvError::Rejected`]).
    Rejected {
        /// When trying again makes sense.
        retry_after: Duration,
    },
}

impl TryRecvError {
    /// True for [`TryRecvError::Empty`].
    pub fn is_empty(&self) -> bool {
        matches!(self, TryRecvError::Empty)
    }

    /// True for [`TryRecvError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, TryRecvError::Closed)
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty channel"),
            TryRecvError::Closed => f.write_str("receiving on a closed and empty channel"),
            TryRecvError::Rejected { retry_after } => rejected(f, *retry_after),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl From<RecvError> for TryRecvError {
    fn from(err: RecvError) -> Self {
        match err {
            RecvError::Closed => TryRecvError::Closed,
            RecvError::Rejected { retry_after } => TryRecvError::Rejected { retry_after },
        }
    }
}

/// A receive with a deadline did not get a value.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RecvTimeoutError {
    /// The deadline passed with the channel open and empty.
    Timeout,
    /// The channel is closed and drained.
    Closed,
    /// The circuit breaker refused the receive (see [`RecvError::Rejected`]).
    Rejected {
        /// When trying again makes sense.
        retry_after: Duration,
    },
}

impl RecvTimeoutError {
    /// True for [`RecvTimeoutError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, RecvTimeoutError::Timeout)
    }

    /// True for [`RecvTimeoutError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, RecvTimeoutError::Closed)
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out receiving on an empty channel"),
            RecvTimeoutError::Closed => f.write_str("receiving on a closed and empty channel"),
            RecvTimeoutError::Rejected { retry_after } => rejected(f, *retry_after),
        }
    }
}

impl std::error::Error for RecvTimeoutError {}

impl From<RecvError> for RecvTimeoutError {
    fn from(err: RecvError) -> Self {
        match err {
            RecvError::Closed => RecvTimeoutError::Closed,
            RecvError::Rejected { retry_after } => RecvTimeoutError::Rejected { retry_after },
        }
    }
}

/// A channel could not be built.
#[derive(Debug, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum BuildError {
    /// The requested capacity is larger than a channel can index.
    CapacityTooLarge {
        /// What was asked for.
        requested: usize,
        /// The largest capacity a bounded channel supports.
        max: usize,
    },
    /// The buffer for the requested capacity could not be allocated.
    OutOfMemory {
        /// What was asked for.
        requested: usize,
    },
    /// The breaker or SLO configuration was refused; the error names the field.
    Breaker(ConfigError),
}

impl From<ConfigError> for BuildError {
    fn from(err: ConfigError) -> Self {
        BuildError::Breaker(err)
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::CapacityTooLarge { requested, max } => write!(
                f,
                "channel capacity {requested} is larger than the maximum of {max}"
            ),
            BuildError::OutOfMemory { requested } => write!(
                f,
                "could not allocate the buffer of a channel of capacity {requested}"
            ),
            BuildError::Breaker(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for BuildError {}
