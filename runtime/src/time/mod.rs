//! Time: sleeping, timeouts, intervals and the coarse clock.
//!
//! Timers live in a hierarchical timing wheel (`wheel.rs`, 1 ms resolution) that the parked
//! worker drives (`driver.rs`). A deadline is rounded up to the next millisecond, so a timer
//! never fires early.

mod clock;
mod coarse;
pub(crate) mod driver;
mod instant;
mod interval;
mod sleep;
mod timeout;
mod wheel;

pub use clock::{advance, pause, resume};
pub(crate) use coarse::refresh_coarse;
pub use coarse::{coarse_nanos, coarse_now};
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Duration;
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

/// The time errors under tokio's path (`time::error::Elapsed`).
pub mod error {
    pub use super::timeout::Elapsed;
}
