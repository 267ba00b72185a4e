//! The synchronisation facade: std's primitives normally, loom's under `--cfg loom`.
//!
//! The semaphore's and the notifier's protocols import their atomics, `Arc` and `Mutex` from
//! here, so the loom models in `loom-tests/` check the very code that ships.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
    pub(crate) use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
    pub(crate) use loom::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
}

#[allow(unused_imports)]
pub(crate) use imp::*;

/// Locks `mutex`, ignoring poison: every critical section in this crate leaves its data
/// consistent before anything in it can panic (wakers are woken outside or last).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
