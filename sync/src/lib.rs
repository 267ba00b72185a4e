//! tokio-shaped synchronisation primitives for weir, re-exported as `weir::sync`, so a tokio
//! program ports by renaming `tokio::sync` to `weir::sync`.
//!
//! * Locks and signals: [`Mutex`] (with owned guards), [`RwLock`], [`Semaphore`] (with owned
//!   permits), [`Notify`], [`Barrier`], [`OnceCell`].
//! * Channels: [`watch`] (latest value), [`broadcast`] (every value to every receiver), and
//!   tokio-signature [`mpsc`] and [`oneshot`] faces on weir's own channels, so ported code
//!   gets weir's close semantics and probes. The native Go-style API stays `weir::channel`.
//!
//! Every primitive spends the task's coop budget, is cancel-safe (a dropped `lock()`,
//! `acquire()`, `notified()` or `recv()` future leaves no waiter and loses no permit, lock,
//! notification or value) and allocates nothing to wait: the waiter's node lives in the
//! future, linked into an intrusive list. The semaphore (under every lock) and `Notify` (under
//! every channel here) are checked by loom models in `loom-tests/tests/sync_wait_list.rs`.

#![warn(missing_docs)]

mod barrier;
pub mod broadcast;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod runtime_hooks;
mod rwlock;
mod semaphore;
mod sync;
#[cfg(all(test, not(loom)))]
mod test_waker;
mod wait_list;
mod wake_list;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// The named futures of this module (tokio's `sync::futures`).
pub mod futures {
    pub use crate::notify::Notified;
}
