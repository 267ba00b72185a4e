//! The probes' clock: monotonic nanoseconds since a process-wide origin.
//!
//! Read only behind a probe's is-enabled check (a tracer attached, or the recorder on), where
//! a latency field needs microsecond resolution that the runtime's coarse clock does not have.

use std::sync::OnceLock;
use std::time::Instant;

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// Nanoseconds since the first call in this process (monotonic; saturates after 584 years).
#[inline]
pub fn now_ns() -> u64 {
    u64::try_from(origin().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_monotonic() {
        let a = super::now_ns();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = super::now_ns();
        assert!(b >= a + 1_000_000, "{a} -> {b}");
    }
}
