//! The recorder's synchronisation facade: std's atomics normally, loom's under `--cfg loom`.
//!
//! The ring protocol (`ring.rs`) imports its atomics from here only, so the loom models in
//! `loom-tests/tests/record_ring.rs` check the code that ships.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU64, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU64, Ordering};
