//! The backup channel a guard routes sends and moves to: a counted hold on its sending side
//! (what a `Sender` holds, kept here so that the guard does not import the handles).

use crate::channel::Chan;
use crate::error::TrySendError;
use crate::sync::Arc;

/// One of the backup channel's senders: the backup closes when its last sender, this one
/// included, goes.
pub(crate) struct Backup<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Backup<T> {
    /// Takes over a sender's count on `chan`: the caller has counted this one in (see
    /// `Chan::acquire_sender`).
    pub(crate) fn counted(chan: Arc<Chan<T>>) -> Self {
        Backup { chan }
    }

    /// The backup channel itself (the destination of a routed send).
    #[inline]
    pub(crate) fn chan(&self) -> &Chan<T> {
        &self.chan
    }

    /// A send into the backup that does not wait, as `Sender::try_send` makes it: through
    /// the backup's own route (it may have a guard too) and its send probe point.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let target = match &self.chan.guard {
            None => &*self.chan,
            Some(g) => g.route(&self.chan),
        };
        if target.chaos_drop() {
            return Err(TrySendError::Full(value));
        }
        target.try_send(value)
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        self.chan.capacity()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.chan.is_full()
    }
}

impl<T> Drop for Backup<T> {
    fn drop(&mut self) {
        self.chan.release_sender();
    }
}
