//! The coarse clock: a timestamp that costs one relaxed load.
//!
//! Workers refresh it on every maintenance pass and after every park, and the timer driver
//! after firing timers, so it lags the real clock by at most a maintenance interval of a busy
//! worker or one timer tick of an idle one. Probes and SLO sampling read it instead of the
//! system clock on hot paths.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use super::Instant;

static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
/// Nanoseconds since `ORIGIN`; 0 means never refreshed.
static NOW_NS: AtomicU64 = AtomicU64::new(0);

fn origin() -> std::time::Instant {
    *ORIGIN.get_or_init(std::time::Instant::now)
}

/// Reads the system clock and publishes it as the coarse time.
pub(crate) fn refresh_coarse() -> u64 {
    let ns = (origin().elapsed().as_nanos() as u64).max(1);
    // Relaxed: the value is the only payload; fetch_max keeps it monotonic when several
    // workers refresh at once.
    let now = NOW_NS.fetch_max(ns, Ordering::Relaxed).max(ns);
    // The recorder collects on the runtime's own timer path (at most every few ms).
    #[cfg(feature = "record")]
    weir_probes::runtime_tick(now, coarse_nanos, precise_nanos);
    now
}

/// The system clock on the coarse clock's origin (for the recorder's snapshots).
#[cfg(feature = "record")]
fn precise_nanos() -> u64 {
    (origin().elapsed().as_nanos() as u64).max(1)
}

/// The coarse current time: cheap, monotonic, and at most a few milliseconds behind
/// [`Instant::now`] while a runtime is running. Outside a runtime it is refreshed on demand
/// only the first time.
pub fn coarse_now() -> Instant {
    Instant::from_std(origin() + Duration::from_nanos(coarse_nanos()))
}

/// [`coarse_now`] as nanoseconds since a fixed, process-wide origin: one relaxed load, for
/// timestamps stored in hot data (message stamps, breaker clocks).
#[inline]
pub fn coarse_nanos() -> u64 {
    // Relaxed: the value is the only payload.
    match NOW_NS.load(Ordering::Relaxed) {
        0 => refresh_coarse(),
        ns => ns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_clock_is_monotonic_and_not_ahead() {
        let a = coarse_now();
        refresh_coarse();
        let b = coarse_now();
        assert!(b >= a);
        assert!(b <= Instant::now());
    }
}
