//! Circuit-breaker policy and state for weir channels.
//!
//! Pure logic with an injected [`Clock`]: no threads and no runtime, so every transition can be
//! driven deterministically in tests and under loom. The channel crate wires these state
//! machines into its receive and send paths.

#![warn(missing_docs)]

pub mod clock;

pub use clock::{Clock, ManualClock, Nanos};
