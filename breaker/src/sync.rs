//! The synchronisation facade: std's atomics normally, loom's under `--cfg loom`.
//!
//! Every lock-free protocol in this crate (the circuit word, the group word, the token bucket,
//! the SLO monitor's counters) imports its atomics from here, so that the loom models in
//! `loom-tests/` check the very code that ships.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
    pub(crate) use std::sync::{Mutex, MutexGuard, TryLockError};
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
    pub(crate) use loom::sync::{Mutex, MutexGuard};
    pub(crate) use std::sync::TryLockError;
}

#[allow(unused_imports)]
pub(crate) use imp::*;
