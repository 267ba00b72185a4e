//! The fixed sizes of a monitored channel's L3 state: what keeps every monitor inside its
//! 64 KiB memory budget. Both the configuration (which refuses settings that would not fit)
//! and the monitor (which is built from them) read these, so neither imports the other.

/// Most sub-window snapshots of the short window.
pub const SHORT_SLOTS: usize = 30;
/// Most sub-window snapshots of the long window.
pub const LONG_SLOTS: usize = 20;
/// Most points of the trend (long buckets per long window).
pub const SERIES_CAPACITY: usize = 600;
/// Recording stripes.
pub const STRIPES: usize = 4;
