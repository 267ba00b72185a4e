//! `JoinError`: why a task produced no output.

use std::any::Any;
use std::fmt;

use super::Id;

/// A task ended without producing its output: it was cancelled (aborted or dropped at
/// runtime shutdown) or it panicked.
pub struct JoinError {
    id: Id,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panicked(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> Self {
        Self {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panicked(id: Id, payload: Box<dyn Any + Send + 'static>) -> Self {
        Self {
            id,
            repr: Repr::Panicked(payload),
        }
    }

    /// True when the task was aborted or dropped by runtime shutdown.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// True when the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked(_))
    }

    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The panic payload, for `std::panic::resume_unwind`. Panics if the task was cancelled;
    /// use [`JoinError::try_into_panic`] to check.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("weir: JoinError::into_panic called on a cancelled task's error")
    }

    /// The panic payload, or the error itself when the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panicked(payload) => Ok(payload),
            Repr::Cancelled => Err(self),
        }
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panicked(p) => p
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "task {} was cancelled", self.id),
            (Repr::Panicked(_), Some(msg)) => write!(f, "task {} panicked: {msg}", self.id),
            (Repr::Panicked(_), None) => write!(f, "task {} panicked", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "JoinError::Cancelled({})", self.id),
            (Repr::Panicked(_), Some(msg)) => {
                write!(f, "JoinError::Panic({}, {msg:?})", self.id)
            }
            (Repr::Panicked(_), None) => write!(f, "JoinError::Panic({}, ..)", self.id),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> Self {
        std::io::Error::other(err.to_string())
    }
}
