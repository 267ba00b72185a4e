//! A single-value channel that keeps only the latest value, with tokio's API: every receiver
//! sees the newest value and can wait for the next change.
//!
//! Built from a `RwLock` around the value, a version counter and two [`Notify`]s; the
//! no-lost-wake-up argument is `Notify`'s: a waiter creates its `Notified` *before* reading
//! the version, and the sender bumps the version *before* `notify_waiters`, so either the
//! waiter sees the new version or its `Notified` was created before the notification.

use std::fmt;
use std::ops::Deref;

use crate::notify::Notify;
use crate::runtime_hooks::spend_budget;
use crate::sync::{Arc, AtomicUsize, Ordering, RwLock, RwLockReadGuard};

/// The errors of a watch channel.
pub mod error {
    use std::fmt;

    /// Every receiver is gone; the value comes back.
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

    /// The sender is gone (and the receiver has seen its last value).
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub struct RecvError(pub(crate) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}
}

use error::{RecvError, SendError};

/// `version` counts sends in steps of 2; bit 0 says the sender is gone.
const CLOSED: usize = 1;
const STEP: usize = 2;

struct Shared<T> {
    value: RwLock<T>,
    version: AtomicUsize,
    receivers: AtomicUsize,
    /// Receivers wait here for a new version or the sender's drop.
    changed: Notify,
    /// The sender waits here (`closed()`) for the last receiver to go.
    receivers_gone: Notify,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// Creates a watch channel holding `init`.
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        version: AtomicUsize::new(0),
        receivers: AtomicUsize::new(1),
        changed: Notify::new(),
        receivers_gone: Notify::new(),
    });
    let rx = Receiver {
        shared: shared.clone(),
        seen: 0,
    };
    (Sender { shared }, rx)
}

/// Sends values to a watch channel.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Receives the latest value of a watch channel. `Clone` (the clone has seen what this has).
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    seen: usize,
}

/// A read guard on the channel's value. Hold it briefly: it blocks the sender.
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether this value was new to the receiver that borrowed it (for `Sender::borrow`,
    /// always false).
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> Sender<T> {
    /// Replaces the value and notifies receivers; fails (returning the value) if every
    /// receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value even with no receivers, returning the old one.
    pub fn send_replace(&self, value: T) -> T {
        let mut value = value;
        self.send_modify(|current| std::mem::swap(current, &mut value));
        value
    }

    /// Modifies the value in place and notifies receivers (even with no receivers).
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Modifies the value in place; notifies receivers only if `modify` returns true.
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        {
            let mut value = self.shared.value.write().unwrap_or_else(|p| p.into_inner());
            if !modify(&mut value) {
                return false;
            }
            // SeqCst, under the write lock: the version moves with the value; see the module
            // docs for the order against the receivers' `Notified`.
            self.shared.version.fetch_add(STEP, Ordering::SeqCst);
        }
        self.shared.changed.notify_waiters();
        true
    }

    /// The current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
            has_changed: false,
        }
    }

    /// Whether every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone.
    pub async fn closed(&self) {
        spend_budget().await;
        loop {
            let gone = self.shared.receivers_gone.notified();
            if self.is_closed() {
                return;
            }
            gone.await;
        }
    }

    /// A new receiver that has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Ordering::SeqCst);
        Receiver {
            shared: self.shared.clone(),
            seen: self.shared.version.load(Ordering::SeqCst) & !CLOSED,
        }
    }

    /// Receivers alive now.
    pub fn receiver_count(&self) -> usize {
        // SeqCst: one order with the receivers' drops and `closed()`'s Notified.
        self.shared.receivers.load(Ordering::SeqCst)
    }

    /// Whether both handles belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // SeqCst: as a version change (receivers waiting in `changed()` must see it).
        self.shared.version.fetch_or(CLOSED, Ordering::SeqCst);
        self.shared.changed.notify_waiters();
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("value", &*self.shared.read())
            .finish()
    }
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let version = self.shared.version.load(Ordering::SeqCst) & !CLOSED;
        Ref {
            guard,
            has_changed: version != self.seen,
        }
    }

    /// The current value, marking it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        // Read under the value's read lock: the version matches the value borrowed.
        let version = self.shared.version.load(Ordering::SeqCst) & !CLOSED;
        let has_changed = version != self.seen;
        self.seen = version;
        Ref { guard, has_changed }
    }

    /// Whether a value this receiver has not seen is there; `Err` once the sender is gone.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let version = self.shared.version.load(Ordering::SeqCst);
        if version & CLOSED != 0 {
            return Err(RecvError(()));
        }
        Ok(version != self.seen)
    }

    /// Marks the current value seen.
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version.load(Ordering::SeqCst) & !CLOSED;
    }

    /// Marks the current value unseen, so the next `changed()` completes at once.
    pub fn mark_changed(&mut self) {
        self.seen = self.seen.wrapping_sub(STEP);
    }

    /// Waits for a value this receiver has not seen, and marks it seen. Returns `Err` when
    /// the sender is gone and every value was seen. Cancel-safe.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        spend_budget().await;
        loop {
            // First the Notified, then the version (module docs).
            let notified = self.shared.changed.notified();
            let version = self.shared.version.load(Ordering::SeqCst);
            if version & !CLOSED != self.seen {
                self.seen = version & !CLOSED;
                return Ok(());
            }
            if version & CLOSED != 0 {
                return Err(RecvError(()));
            }
            notified.await;
        }
    }

    /// Waits until the value satisfies `f` (checking the current value first), marks it
    /// seen and returns it. `Err` if the sender goes first.
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        spend_budget().await;
        loop {
            let notified = self.shared.changed.notified();
            let closed = {
                let guard = self.shared.read();
                let version = self.shared.version.load(Ordering::SeqCst);
                let has_changed = version & !CLOSED != self.seen;
                self.seen = version & !CLOSED;
                if f(&guard) {
                    return Ok(Ref { guard, has_changed });
                }
                version & CLOSED != 0
            };
            if closed {
                return Err(RecvError(()));
            }
            notified.await;
        }
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.receivers.fetch_add(1, Ordering::SeqCst);
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // SeqCst: the sender's `closed()` reads the count after creating its Notified.
        if self.shared.receivers.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.receivers_gone.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("value", &*self.shared.read())
            .finish()
    }
}
