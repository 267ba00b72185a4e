//! Durations as people read them in a status line: three significant digits and the unit
//! that fits (`12.3ms`, `1.05s`), not a histogram bin edge such as `1.048575s`.

use std::fmt;
use std::time::Duration;

/// Formats a duration with three significant digits (`987ns`, `12.3µs`, `1.05s`, `125s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readable(pub Duration);

/// Formats an optional duration; `None` (no samples) prints as `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadableOr(pub Option<Duration>);

impl fmt::Display for Readable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos();
        let (value, unit) = if ns < 1_000 {
            return pad(f, &format_args!("{ns}ns"));
        } else if ns < 1_000_000 {
            (ns as f64 / 1e3, "µs")
        } else if ns < 1_000_000_000 {
            (ns as f64 / 1e6, "ms")
        } else {
            (ns as f64 / 1e9, "s")
        };
        // Three significant digits: 1.23, 12.3, 123.
        let decimals = if value < 10.0 {
            2
        } else if value < 100.0 {
            1
        } else {
            0
        };
        pad(f, &format_args!("{value:.decimals$}{unit}"))
    }
}

impl fmt::Display for ReadableOr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => fmt::Display::fmt(&Readable(d), f),
            None => f.pad("-"),
        }
    }
}

/// Writes `args` honouring the caller's width and alignment (`{:>8}`).
fn pad(f: &mut fmt::Formatter<'_>, args: &fmt::Arguments<'_>) -> fmt::Result {
    if f.width().is_some() {
        f.pad(&args.to_string())
    } else {
        f.write_fmt(*args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits_in_the_unit_that_fits() {
        let r = |d| Readable(d).to_string();
        assert_eq!(r(Duration::from_nanos(987)), "987ns");
        assert_eq!(r(Duration::from_nanos(12_345)), "12.3µs");
        assert_eq!(r(Duration::from_micros(786_431)), "786ms");
        assert_eq!(r(Duration::from_micros(1_048_575)), "1.05s");
        assert_eq!(r(Duration::from_micros(2_097_151)), "2.10s");
        assert_eq!(r(Duration::from_secs(125)), "125s");
        assert_eq!(r(Duration::ZERO), "0ns");
        assert_eq!(ReadableOr(None).to_string(), "-");
        assert_eq!(format!("{:>6}", ReadableOr(None)), "     -");
        assert_eq!(
            format!("{:>7}", Readable(Duration::from_millis(5))),
            " 5.00ms"
        );
    }
}
