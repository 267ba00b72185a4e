//! Breaker and SLO configuration: documented defaults, validation that names the offending
//! field, and environment overrides so operators can tune a channel without a rebuild.
//!
//! Environment variables are `WEIR_BREAKER_<NAME>_<FIELD>` and `WEIR_SLO_<NAME>_<FIELD>`, where
//! `<NAME>` is the channel name upper-cased with every character that is not an ASCII letter or
//! digit replaced by `_` (`"orders.eu"` -> `ORDERS_EU`) and `<FIELD>` the field name upper-cased
//! (`FAILURE_THRESHOLD`, `OPEN_TIMEOUT`, ...). Durations are written with a unit (`500us`,
//! `250ms`, `30s`, `5m`, `1h`), counts as plain integers, flags as `true`/`false` (also
//! `1`/`0`, `yes`/`no`, `on`/`off`). An unset variable keeps the value it overrides; a malformed
//! one is an error naming the variable and the value, never ignored.

use std::fmt;
use std::time::Duration;

use crate::slo::budget::{LONG_SLOTS, SERIES_CAPACITY, SHORT_SLOTS};
use crate::slo::histogram::MAX_VALUE_US;

/// Largest `failure_threshold`: the consecutive-failure count has 10 bits in the circuit word.
pub const MAX_FAILURE_THRESHOLD: u32 = 1023;
/// Largest `half_open_probes`: the probes-in-flight count has 6 bits in the circuit word.
pub const MAX_HALF_OPEN_PROBES: u32 = 63;
/// Largest `consecutive_timeouts`: the timeout streak has 5 bits in the circuit word.
pub const MAX_CONSECUTIVE_TIMEOUTS: u32 = 31;
/// Largest `backoff_max_shift`.
pub const MAX_BACKOFF_SHIFT: u32 = 20;
/// Longest duration any field accepts (7 days): keeps nanosecond arithmetic far from overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Longest retry delay the backoff may reach (`backoff_base << backoff_max_shift`).
pub const MAX_BACKOFF_DELAY: Duration = Duration::from_secs(3600);
/// Shortest window bucket: buckets are evaluation periods and must stay above clock noise.
pub const MIN_BUCKET: Duration = Duration::from_millis(1);
/// A window must split into at least this many equal sub-windows (or one per bucket if it has
/// fewer buckets), so that old samples leave it in steps of at most a tenth of its length.
pub const MIN_SUB_WINDOWS: u64 = 10;

/// What was wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A field holds a value the breaker cannot work with.
    Invalid {
        /// The field, as named in [`BreakerConfig`] or [`SloConfig`].
        field: &'static str,
        /// Why the value was refused, with the value.
        reason: String,
    },
    /// An environment variable holds a value that does not parse.
    Malformed {
        /// The field the variable sets.
        field: &'static str,
        /// The variable's full name.
        variable: String,
        /// The value found.
        value: String,
        /// What a valid value looks like.
        expected: &'static str,
    },
}

impl ConfigError {
    /// The field that was refused.
    pub fn field(&self) -> &'static str {
        match self {
            ConfigError::Invalid { field, .. } | ConfigError::Malformed { field, .. } => field,
        }
    }

    fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Invalid { field, reason } => {
                write!(f, "invalid breaker configuration: `{field}` {reason}")
            }
            ConfigError::Malformed {
                variable,
                value,
                expected,
                ..
            } => write!(
                f,
                "environment variable {variable}={value:?} is malformed: expected {expected}"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// L1 and L2 settings: the circuit state machine and the retry backoff.
///
/// Built from the defaults with one setter per field, so that a new setting never breaks a
/// caller (the fields stay readable):
///
/// ```
/// use std::time::Duration;
/// let config = weir_breaker::BreakerConfig::new()
///     .failure_threshold(3)
///     .open_timeout(Duration::from_millis(500));
/// assert_eq!(config.failure_threshold, 3);
/// config.validate().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BreakerConfig {
    /// Consecutive failures (timeouts included) that trip Closed -> Open. Default 5; 1..=1023.
    pub failure_threshold: u32,
    /// How long Open rejects before the next receive is admitted as a HalfOpen probe.
    /// Default 30 s; 1 ms..=7 days; kept to millisecond precision.
    pub open_timeout: Duration,
    /// Probes HalfOpen admits at once. Default 1; 1..=63.
    pub half_open_probes: u32,
    /// Timeouts in a row (no success or other failure between them) that move Closed ->
    /// HalfOpen before `failure_threshold` is reached. Default 3; 1..=31. A value at or above
    /// `failure_threshold` never fires: the failure trip comes first.
    pub consecutive_timeouts: u32,
    /// First retry delay of the backoff after a failure: `backoff_base << min(n, max_shift)`.
    /// Default 10 ms; zero disables the hold.
    pub backoff_base: Duration,
    /// How many times the retry delay doubles. Default 4 (10 ms .. 160 ms); at most 20.
    pub backoff_max_shift: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_timeout: Duration::from_secs(30),
            half_open_probes: 1,
            consecutive_timeouts: 3,
            backoff_base: Duration::from_millis(10),
            backoff_max_shift: 4,
        }
    }
}

impl BreakerConfig {
    /// Checks every field; the error names the first one that is wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        in_range(
            "failure_threshold",
            self.failure_threshold,
            1,
            MAX_FAILURE_THRESHOLD,
        )?;
        duration_in(
            "open_timeout",
            self.open_timeout,
            Duration::from_millis(1),
            MAX_DURATION,
        )?;
        in_range(
            "half_open_probes",
            self.half_open_probes,
            1,
            MAX_HALF_OPEN_PROBES,
        )?;
        in_range(
            "consecutive_timeouts",
            self.consecutive_timeouts,
            1,
            MAX_CONSECUTIVE_TIMEOUTS,
        )?;
        in_range(
            "backoff_max_shift",
            self.backoff_max_shift,
            0,
            MAX_BACKOFF_SHIFT,
        )?;
        let longest = self
            .backoff_base
            .checked_mul(1u32 << self.backoff_max_shift)
            .filter(|d| *d <= MAX_BACKOFF_DELAY);
        if longest.is_none() {
            return Err(ConfigError::invalid(
                "backoff_base",
                format!(
                    "must keep backoff_base << backoff_max_shift within {MAX_BACKOFF_DELAY:?} \
                     (got {:?} << {})",
                    self.backoff_base, self.backoff_max_shift
                ),
            ));
        }
        Ok(())
    }

    /// Defaults overridden by `WEIR_BREAKER_<NAME>_<FIELD>` from the process environment, then
    /// validated.
    pub fn from_env(name: &str) -> Result<Self, ConfigError> {
        Self::from_env_with(name, process_env)
    }

    /// Defaults overridden by `WEIR_BREAKER_<NAME>_<FIELD>` read through `lookup` (tests pass a
    /// map instead of touching the process environment), then validated.
    pub fn from_env_with(
        name: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        overridden_defaults(
            |c: &mut Self| c.apply_env_with(name, lookup),
            Self::validate,
        )
    }

    /// Overrides the fields whose variables are set; leaves the others as they are. Does not
    /// validate the result.
    pub fn apply_env_with(
        &mut self,
        name: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let env = EnvReader::new("WEIR_BREAKER", name, &lookup);
        env.u32("failure_threshold", &mut self.failure_threshold)?;
        env.duration("open_timeout", &mut self.open_timeout)?;
        env.u32("half_open_probes", &mut self.half_open_probes)?;
        env.u32("consecutive_timeouts", &mut self.consecutive_timeouts)?;
        env.duration("backoff_base", &mut self.backoff_base)?;
        env.u32("backoff_max_shift", &mut self.backoff_max_shift)?;
        Ok(())
    }
}

/// L3 settings: the SLO, its two windows, the trip rules, and the trickle to the primary while
/// degraded.
///
/// Built from the defaults with one setter per field (the fields stay readable):
///
/// ```
/// use std::time::Duration;
/// let config = weir_breaker::SloConfig::new()
///     .target_p999(Duration::from_millis(50))
///     .head_age_percent(50);
/// assert_eq!(config.target_p999, Duration::from_millis(50));
/// config.validate().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SloConfig {
    /// The latency objective for P99.9. Default 800 ms; up to about 71 min (the histogram's
    /// range).
    pub target_p999: Duration,
    /// Length of the short window whose P99.9 is compared with the target. Default 30 s.
    pub short_window: Duration,
    /// Evaluation period and time unit of the short window. Default 100 ms; at least 1 ms; must
    /// divide `short_window`.
    pub short_bucket: Duration,
    /// Length of the long window the trend is fitted over. Default 5 min; not shorter than
    /// `short_window`.
    pub long_window: Duration,
    /// One point of the trend: each long bucket contributes its own P99.9. Default 1 s; must
    /// divide `long_window`, at most 600 buckets per long window (memory budget).
    pub long_bucket: Duration,
    /// Evaluations in a row that must find the short P99.9 over target. Default 3; at least 1.
    pub consecutive_breaches: u32,
    /// The trend rule: degrade only when P99.9 grows faster than this many milliseconds per
    /// minute (written as the growth per minute). Default 120 ms/min.
    pub slope_threshold_per_min: Duration,
    /// Replace the slope rule by the prediction: degrade when the P99.9 predicted one
    /// `horizon` ahead reaches the target. Default `false`.
    pub predictive: bool,
    /// How far ahead the trend line predicts P99.9. Default 60 s; must be non-zero when
    /// `predictive`.
    pub horizon: Duration,
    /// Samples the short window must hold before the monitor judges health at all. Default 100.
    pub min_samples: u64,
    /// How long the primary must stay healthy, without a break, before a degraded channel
    /// recovers. Default 60 s; at least one `short_bucket`.
    pub cooldown: Duration,
    /// Messages per second the primary still admits while degraded, so that recovery can be
    /// seen. Default 50; at least 1.
    pub rate_limit_per_sec: u32,
    /// How many trickle messages may pass at once after a quiet spell. Default 10; at least 1.
    pub burst: u32,
    /// The head-age rule, in percent of `target_p999`: when the oldest queued message has
    /// waited this long the channel degrades at once (a stalled consumer shows there before
    /// any late message comes out), and while it is degraded queued messages of that age move
    /// to the backup. Default 50; 1..=100, or 0 to turn the rule off.
    pub head_age_percent: u32,
    /// The recovery gate, in percent: a degraded channel recovers only while its consumers'
    /// measured service time per message, times the offered rate, stays at or below this
    /// utilisation (a consumer that is merely too slow looks healthy on the trickle alone).
    /// The service time is seen from the gap between a delivery and the consumers' next
    /// receive, so consumers that poll only when they know a value is there should turn it
    /// off. Default 90; 1..=1000, or 0 to turn the gate off.
    pub recovery_load_percent: u32,
}

impl Default for SloConfig {
    fn default() -> Self {
        Self {
            target_p999: Duration::from_millis(800),
            short_window: Duration::from_secs(30),
            short_bucket: Duration::from_millis(100),
            long_window: Duration::from_secs(300),
            long_bucket: Duration::from_secs(1),
            consecutive_breaches: 3,
            slope_threshold_per_min: Duration::from_millis(120),
            predictive: false,
            horizon: Duration::from_secs(60),
            min_samples: 100,
            cooldown: Duration::from_secs(60),
            rate_limit_per_sec: 50,
            burst: 10,
            head_age_percent: 50,
            recovery_load_percent: 90,
        }
    }
}

/// One builder-style setter per field: `config.field(value)` returns the config with the field
/// set (validation happens in `validate`, when the channel is built).
macro_rules! setters {
    ($config:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        impl $config {
            /// The defaults (the same as `Default::default()`).
            pub fn new() -> Self {
                Self::default()
            }

            $(
                #[doc = concat!("Sets [`", stringify!($config), "::", stringify!($field),
                    "`] (see the field for its default and range).")]
                #[must_use]
                pub fn $field(mut self, value: $ty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

setters!(BreakerConfig {
    failure_threshold: u32,
    open_timeout: Duration,
    half_open_probes: u32,
    consecutive_timeouts: u32,
    backoff_base: Duration,
    backoff_max_shift: u32,
});

setters!(SloConfig {
    target_p999: Duration,
    short_window: Duration,
    short_bucket: Duration,
    long_window: Duration,
    long_bucket: Duration,
    consecutive_breaches: u32,
    slope_threshold_per_min: Duration,
    predictive: bool,
    horizon: Duration,
    min_samples: u64,
    cooldown: Duration,
    rate_limit_per_sec: u32,
    burst: u32,
    head_age_percent: u32,
    recovery_load_percent: u32,
});

impl SloConfig {
    /// Checks every field; the error names the first one that is wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        duration_in(
            "target_p999",
            self.target_p999,
            Duration::from_micros(1),
            Duration::from_micros(MAX_VALUE_US),
        )?;
        duration_in("short_bucket", self.short_bucket, MIN_BUCKET, MAX_DURATION)?;
        duration_in("short_window", self.short_window, MIN_BUCKET, MAX_DURATION)?;
        duration_in("long_bucket", self.long_bucket, MIN_BUCKET, MAX_DURATION)?;
        duration_in("long_window", self.long_window, MIN_BUCKET, MAX_DURATION)?;
        let short = window_buckets(
            "short_window",
            self.short_window,
            "short_bucket",
            self.short_bucket,
        )?;
        let long = window_buckets(
            "long_window",
            self.long_window,
            "long_bucket",
            self.long_bucket,
        )?;
        if self.short_window > self.long_window {
            return Err(ConfigError::invalid(
                "short_window",
                format!(
                    "must not be longer than long_window ({:?} > {:?})",
                    self.short_window, self.long_window
                ),
            ));
        }
        if long > SERIES_CAPACITY as u64 {
            return Err(ConfigError::invalid(
                "long_bucket",
                format!(
                    "gives {long} buckets per long_window; at most {SERIES_CAPACITY} fit the \
                     64 KiB memory budget of a monitored channel"
                ),
            ));
        }
        sub_windows("short_window", short, SHORT_SLOTS)?;
        sub_windows("long_window", long, LONG_SLOTS)?;
        in_range(
            "consecutive_breaches",
            self.consecutive_breaches,
            1,
            u32::MAX,
        )?;
        duration_in(
            "slope_threshold_per_min",
            self.slope_threshold_per_min,
            Duration::ZERO,
            MAX_DURATION,
        )?;
        duration_in("horizon", self.horizon, Duration::ZERO, MAX_DURATION)?;
        if self.predictive && self.horizon.is_zero() {
            return Err(ConfigError::invalid(
                "horizon",
                "must be non-zero when `predictive` is on (got 0s)",
            ));
        }
        duration_in("cooldown", self.cooldown, self.short_bucket, MAX_DURATION).map_err(|_| {
            ConfigError::invalid(
                "cooldown",
                format!(
                    "must be at least one short_bucket ({:?}) and at most {MAX_DURATION:?} \
                     (got {:?})",
                    self.short_bucket, self.cooldown
                ),
            )
        })?;
        in_range(
            "rate_limit_per_sec",
            self.rate_limit_per_sec,
            1,
            1_000_000_000,
        )?;
        in_range("burst", self.burst, 1, u32::MAX)?;
        in_range("head_age_percent", self.head_age_percent, 0, 100)?;
        in_range("recovery_load_percent", self.recovery_load_percent, 0, 1000)?;
        Ok(())
    }

    /// Defaults overridden by `WEIR_SLO_<NAME>_<FIELD>` from the process environment, then
    /// validated.
    pub fn from_env(name: &str) -> Result<Self, ConfigError> {
        Self::from_env_with(name, process_env)
    }

    /// Defaults overridden by `WEIR_SLO_<NAME>_<FIELD>` read through `lookup`, then validated.
    pub fn from_env_with(
        name: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        overridden_defaults(
            |c: &mut Self| c.apply_env_with(name, lookup),
            Self::validate,
        )
    }

    /// Overrides the fields whose variables are set; leaves the others as they are. Does not
    /// validate the result.
    pub fn apply_env_with(
        &mut self,
        name: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let env = EnvReader::new("WEIR_SLO", name, &lookup);
        env.duration("target_p999", &mut self.target_p999)?;
        env.duration("short_window", &mut self.short_window)?;
        env.duration("short_bucket", &mut self.short_bucket)?;
        env.duration("long_window", &mut self.long_window)?;
        env.duration("long_bucket", &mut self.long_bucket)?;
        env.u32("consecutive_breaches", &mut self.consecutive_breaches)?;
        env.duration("slope_threshold_per_min", &mut self.slope_threshold_per_min)?;
        env.bool("predictive", &mut self.predictive)?;
        env.duration("horizon", &mut self.horizon)?;
        env.u64("min_samples", &mut self.min_samples)?;
        env.duration("cooldown", &mut self.cooldown)?;
        env.u32("rate_limit_per_sec", &mut self.rate_limit_per_sec)?;
        env.u32("burst", &mut self.burst)?;
        env.u32("head_age_percent", &mut self.head_age_percent)?;
        env.u32("recovery_load_percent", &mut self.recovery_load_percent)?;
        Ok(())
    }
}

/// A config's defaults, overridden by `apply` (its `apply_env_with`), then checked by
/// `validate`: the one order every `from_env_with` follows.
fn overridden_defaults<C: Default>(
    apply: impl FnOnce(&mut C) -> Result<(), ConfigError>,
    validate: impl FnOnce(&C) -> Result<(), ConfigError>,
) -> Result<C, ConfigError> {
    let mut config = C::default();
    apply(&mut config)?;
    validate(&config)?;
    Ok(config)
}

/// Reads the process environment; a value that is not UTF-8 is passed on lossily so that it
/// fails to parse (and is reported) instead of looking unset.
fn process_env(key: &str) -> Option<String> {
    std::env::var_os(key).map(|v| v.to_string_lossy().into_owned())
}

fn in_range(field: &'static str, value: u32, min: u32, max: u32) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::invalid(
            field,
            format!("must be in {min}..={max} (got {value})"),
        ));
    }
    Ok(())
}

fn duration_in(
    field: &'static str,
    value: Duration,
    min: Duration,
    max: Duration,
) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::invalid(
            field,
            format!("must be in {min:?}..={max:?} (got {value:?})"),
        ));
    }
    Ok(())
}

/// The number of buckets in a window, refusing a bucket that does not divide its window.
fn window_buckets(
    window_field: &'static str,
    window: Duration,
    bucket_field: &'static str,
    bucket: Duration,
) -> Result<u64, ConfigError> {
    let (w, b) = (window.as_nanos(), bucket.as_nanos());
    if b > w {
        return Err(ConfigError::invalid(
            bucket_field,
            format!("must not be longer than {window_field} ({bucket:?} > {window:?})"),
        ));
    }
    if w % b != 0 {
        return Err(ConfigError::invalid(
            bucket_field,
            format!(
                "must divide {window_field} evenly ({window:?} is not a multiple of {bucket:?})"
            ),
        ));
    }
    Ok((w / b) as u64)
}

/// Refuses a bucket count that cannot be split into enough equal sub-windows.
fn sub_windows(field: &'static str, buckets: u64, max_slots: usize) -> Result<(), ConfigError> {
    let slots = crate::slo::window::slot_count(buckets, max_slots);
    if slots < buckets.min(MIN_SUB_WINDOWS) {
        return Err(ConfigError::invalid(
            field,
            format!(
                "holds {buckets} buckets, which split into only {slots} equal sub-windows of at \
                 most {max_slots}; pick a bucket count with a divisor between \
                 {MIN_SUB_WINDOWS} and {max_slots} (such as 300)"
            ),
        ));
    }
    Ok(())
}

/// Looks up `<PREFIX>_<NAME>_<FIELD>` variables and parses them into fields.
struct EnvReader<'a, F> {
    prefix: String,
    lookup: &'a F,
}

impl<'a, F: Fn(&str) -> Option<String>> EnvReader<'a, F> {
    fn new(kind: &str, name: &str, lookup: &'a F) -> Self {
        let mut prefix = String::with_capacity(kind.len() + name.len() + 2);
        prefix.push_str(kind);
        prefix.push('_');
        prefix.extend(name.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }));
        prefix.push('_');
        Self { prefix, lookup }
    }

    fn variable(&self, field: &str) -> String {
        let mut var = self.prefix.clone();
        var.push_str(&field.to_ascii_uppercase());
        var
    }

    fn read<T>(
        &self,
        field: &'static str,
        expected: &'static str,
        parse: impl Fn(&str) -> Option<T>,
        slot: &mut T,
    ) -> Result<(), ConfigError> {
        let variable = self.variable(field);
        let Some(value) = (self.lookup)(&variable) else {
            return Ok(());
        };
        match parse(value.trim()) {
            Some(parsed) => {
                *slot = parsed;
                Ok(())
            }
            None => Err(ConfigError::Malformed {
                field,
                variable,
                value,
                expected,
            }),
        }
    }

    fn u32(&self, field: &'static str, slot: &mut u32) -> Result<(), ConfigError> {
        self.read(
            field,
            "a whole number from 0 to 4294967295",
            |s| parse_digits(s).and_then(|v| u32::try_from(v).ok()),
            slot,
        )
    }

    fn u64(&self, field: &'static str, slot: &mut u64) -> Result<(), ConfigError> {
        self.read(field, "a whole number", parse_digits, slot)
    }

    fn bool(&self, field: &'static str, slot: &mut bool) -> Result<(), ConfigError> {
        self.read(
            field,
            "true or false (or 1/0, yes/no, on/off)",
            parse_bool,
            slot,
        )
    }

    fn duration(&self, field: &'static str, slot: &mut Duration) -> Result<(), ConfigError> {
        self.read(
            field,
            "a whole number with a unit: ns, us, ms, s, m or h (such as 250ms, 30s, 5m)",
            parse_duration,
            slot,
        )
    }
}

/// Digits only: no sign, no spaces inside, no separators.
fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `<digits><unit>` with unit one of ns, us, ms, s, m, h.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = s.split_at(split);
    let n = parse_digits(digits)?;
    let nanos_per: u64 = match unit {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    };
    n.checked_mul(nanos_per).map(Duration::from_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_are_the_documented_ones_and_valid() {
        let b = BreakerConfig::default();
        assert_eq!(b.failure_threshold, 5);
        assert_eq!(b.open_timeout, Duration::from_secs(30));
        assert_eq!(b.half_open_probes, 1);
        assert_eq!(b.consecutive_timeouts, 3);
        assert_eq!(b.backoff_base, Duration::from_millis(10));
        assert_eq!(b.backoff_max_shift, 4);
        b.validate().unwrap();
        let s = SloConfig::default();
        assert_eq!(s.target_p999, Duration::from_millis(800));
        assert_eq!(s.short_window, Duration::from_secs(30));
        assert_eq!(s.short_bucket, Duration::from_millis(100));
        assert_eq!(s.long_window, Duration::from_secs(300));
        assert_eq!(s.long_bucket, Duration::from_secs(1));
        assert_eq!(s.consecutive_breaches, 3);
        assert_eq!(s.slope_threshold_per_min, Duration::from_millis(120));
        assert!(!s.predictive);
        assert_eq!(s.cooldown, Duration::from_secs(60));
        assert_eq!(s.head_age_percent, 50);
        s.validate().unwrap();
        assert_eq!(SloConfig::new(), s);
        assert_eq!(
            SloConfig::new().burst(3).head_age_percent(0),
            SloConfig {
                burst: 3,
                head_age_percent: 0,
                ..s
            }
        );
    }

    fn breaker_err(f: impl FnOnce(&mut BreakerConfig)) -> ConfigError {
        let mut c = BreakerConfig::default();
        f(&mut c);
        c.validate().unwrap_err()
    }

    fn slo_err(f: impl FnOnce(&mut SloConfig)) -> ConfigError {
        let mut c = SloConfig::default();
        f(&mut c);
        c.validate().unwrap_err()
    }

    #[test]
    fn breaker_validation_names_the_field() {
        let cases: Vec<(&str, ConfigError)> = vec![
            (
                "failure_threshold",
                breaker_err(|c| c.failure_threshold = 0),
            ),
            (
                "failure_threshold",
                breaker_err(|c| c.failure_threshold = 1024),
            ),
            (
                "open_timeout",
                breaker_err(|c| c.open_timeout = Duration::ZERO),
            ),
            ("half_open_probes", breaker_err(|c| c.half_open_probes = 0)),
            ("half_open_probes", breaker_err(|c| c.half_open_probes = 64)),
            (
                "consecutive_timeouts",
                breaker_err(|c| c.consecutive_timeouts = 0),
            ),
            (
                "backoff_max_shift",
                breaker_err(|c| c.backoff_max_shift = 21),
            ),
            (
                "backoff_base",
                breaker_err(|c| c.backoff_base = Duration::from_secs(600)),
            ),
        ];
        for (field, err) in cases {
            assert_eq!(err.field(), field, "{err}");
            assert!(err.to_string().contains(field), "{err}");
        }
        let zero_backoff = BreakerConfig::new().backoff_base(Duration::ZERO);
        zero_backoff.validate().unwrap();
    }

    #[test]
    fn slo_validation_names_the_field() {
        let cases: Vec<(&str, ConfigError)> = vec![
            ("target_p999", slo_err(|c| c.target_p999 = Duration::ZERO)),
            (
                "target_p999",
                slo_err(|c| c.target_p999 = Duration::from_secs(5 * 3600)),
            ),
            ("short_bucket", slo_err(|c| c.short_bucket = Duration::ZERO)),
            (
                "short_bucket",
                slo_err(|c| c.short_bucket = Duration::from_millis(70)),
            ),
            (
                "short_window",
                slo_err(|c| c.short_window = Duration::from_secs(600)),
            ),
            (
                "long_bucket",
                slo_err(|c| c.long_bucket = Duration::from_millis(7)),
            ),
            (
                "long_bucket",
                slo_err(|c| c.long_bucket = Duration::from_millis(100)),
            ),
            (
                "short_window",
                slo_err(|c| {
                    // 37 buckets: prime, cannot be split into equal sub-windows.
                    c.short_window = Duration::from_millis(3700);
                }),
            ),
            (
                "consecutive_breaches",
                slo_err(|c| c.consecutive_breaches = 0),
            ),
            (
                "horizon",
                slo_err(|c| {
                    c.predictive = true;
                    c.horizon = Duration::ZERO;
                }),
            ),
            ("cooldown", slo_err(|c| c.cooldown = Duration::ZERO)),
            ("rate_limit_per_sec", slo_err(|c| c.rate_limit_per_sec = 0)),
            ("burst", slo_err(|c| c.burst = 0)),
            ("head_age_percent", slo_err(|c| c.head_age_percent = 101)),
            (
                "recovery_load_percent",
                slo_err(|c| c.recovery_load_percent = 1001),
            ),
        ];
        for (field, err) in cases {
            assert_eq!(err.field(), field, "{err}");
            assert!(err.to_string().contains(field), "{err}");
        }
    }

    #[test]
    fn env_overrides_parse_every_kind() {
        let lookup = env(&[
            ("WEIR_BREAKER_ORDERS_EU_FAILURE_THRESHOLD", "7"),
            ("WEIR_BREAKER_ORDERS_EU_OPEN_TIMEOUT", "250ms"),
            ("WEIR_BREAKER_ORDERS_EU_BACKOFF_BASE", " 5ms "),
            ("WEIR_SLO_ORDERS_EU_TARGET_P999", "2s"),
            ("WEIR_SLO_ORDERS_EU_LONG_WINDOW", "10m"),
            ("WEIR_SLO_ORDERS_EU_PREDICTIVE", "yes"),
            ("WEIR_SLO_ORDERS_EU_MIN_SAMPLES", "5000"),
            ("WEIR_SLO_ORDERS_EU_HORIZON", "1h"),
            ("WEIR_SLO_ORDERS_EU_HEAD_AGE_PERCENT", "25"),
        ]);
        let b = BreakerConfig::from_env_with("orders.eu", &lookup).unwrap();
        assert_eq!(b.failure_threshold, 7);
        assert_eq!(b.open_timeout, Duration::from_millis(250));
        assert_eq!(b.backoff_base, Duration::from_millis(5));
        assert_eq!(b.half_open_probes, 1, "unset keeps the default");
        let s = SloConfig::from_env_with("orders.eu", &lookup).unwrap();
        assert_eq!(s.target_p999, Duration::from_secs(2));
        assert_eq!(s.long_window, Duration::from_secs(600));
        assert!(s.predictive);
        assert_eq!(s.min_samples, 5000);
        assert_eq!(s.horizon, Duration::from_secs(3600));
        assert_eq!(s.head_age_percent, 25);
        assert_eq!(s.short_window, Duration::from_secs(30));
    }

    #[test]
    fn env_malformed_values_are_errors_naming_variable_and_value() {
        let cases = [
            ("WEIR_BREAKER_ORDERS_FAILURE_THRESHOLD", "five"),
            ("WEIR_BREAKER_ORDERS_FAILURE_THRESHOLD", "-1"),
            ("WEIR_BREAKER_ORDERS_FAILURE_THRESHOLD", "99999999999"),
            ("WEIR_BREAKER_ORDERS_OPEN_TIMEOUT", "30"),
            ("WEIR_BREAKER_ORDERS_OPEN_TIMEOUT", "30x"),
            ("WEIR_BREAKER_ORDERS_OPEN_TIMEOUT", "1.5s"),
            ("WEIR_BREAKER_ORDERS_OPEN_TIMEOUT", ""),
        ];
        for (var, value) in cases {
            let err = BreakerConfig::from_env_with("orders", env(&[(var, value)])).unwrap_err();
            match &err {
                ConfigError::Malformed {
                    variable, value: v, ..
                } => {
                    assert_eq!(variable, var);
                    assert_eq!(v, value);
                }
                other => panic!("expected Malformed, got {other:?}"),
            }
            assert!(err.to_string().contains(var), "{err}");
        }
        let err =
            SloConfig::from_env_with("orders", env(&[("WEIR_SLO_ORDERS_PREDICTIVE", "maybe")]))
                .unwrap_err();
        assert_eq!(err.field(), "predictive");
        assert!(err.to_string().contains("\"maybe\""), "{err}");
    }

    #[test]
    fn env_values_that_parse_but_are_invalid_are_refused_by_validation() {
        let err = BreakerConfig::from_env_with(
            "orders",
            env(&[("WEIR_BREAKER_ORDERS_FAILURE_THRESHOLD", "0")]),
        )
        .unwrap_err();
        assert_eq!(err.field(), "failure_threshold");
    }

    #[test]
    fn duration_units() {
        assert_eq!(parse_duration("10ns"), Some(Duration::from_nanos(10)));
        assert_eq!(parse_duration("10us"), Some(Duration::from_micros(10)));
        assert_eq!(parse_duration("10ms"), Some(Duration::from_millis(10)));
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("ms"), None);
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("10 s"), None);
        assert_eq!(parse_duration("99999999999999999999h"), None);
    }
}
