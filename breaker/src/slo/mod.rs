//! L3: SLO health of a channel.
//!
//! Latency samples feed two sliding windows built on fixed-size log-linear histograms (no
//! allocation when recording); every short bucket an evaluation computes the short-window
//! P99.9, the long-window trend and its prediction, and decides whether the channel degrades
//! (new sends to the backup, a rate-limited trickle to the primary) or recovers.
//!
//! * [`histogram`]: the log-linear histogram (plain and atomic forms);
//! * [`window`]: a sliding window as a ring of snapshots of a cumulative histogram;
//! * [`trend`]: per-bucket P99.9 points, least-squares slope and prediction;
//! * [`monitor`]: the per-channel monitor tying them together;
//! * [`budget`]: the fixed sizes that keep a monitor within its memory budget;
//! * [`readable`]: durations for status lines.

pub mod budget;
pub mod histogram;
pub mod monitor;
pub mod readable;
pub mod trend;
pub mod window;

pub use histogram::{AtomicHistogram, Histogram};
pub use monitor::{Decision, Evaluation, Health, Reason, SloMonitor};
pub use readable::{Readable, ReadableOr};
