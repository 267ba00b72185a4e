//! Internal types for the loom models in `loom-tests/` (only under `--cfg loom`; not API).
//!
//! [`Ring`] is the recorder's event ring itself (`record/ring.rs`), built with loom's atomics.

#[cfg(feature = "record")]
pub use crate::record::ring::{Cursor, Ring, WORDS};
