//! The weir executor.
#![warn(missing_docs)]

pub mod time;
