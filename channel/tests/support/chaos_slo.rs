//! The SLO the chaos tests run their guarded channels under: a 100 ms P99.9 target over a
//! 1 s / 20 ms short window and a 10 s / 100 ms long window, tripping on 3 breaches in a row
//! (included by each chaos test with `#[path]`).

use std::time::Duration;

use weir_breaker::SloConfig;

/// The P99.9 latency target.
pub const TARGET: Duration = Duration::from_millis(100);

/// The chaos tests' SLO settings.
pub fn slo() -> SloConfig {
    SloConfig::new()
        .target_p999(TARGET)
        .short_window(Duration::from_secs(1))
        .short_bucket(Duration::from_millis(20))
        .long_window(Duration::from_secs(10))
        .long_bucket(Duration::from_millis(100))
        .consecutive_breaches(3)
        .slope_threshold_per_min(Duration::from_millis(120))
        .predictive(false)
        .horizon(Duration::from_secs(5))
        .min_samples(20)
        .cooldown(Duration::from_secs(2))
        .rate_limit_per_sec(1)
        .burst(1)
}
