//! Log-linear histograms of microseconds: eight buckets per power of two (at most 12.5 %
//! wide), fixed size, no allocation when recording.

use std::time::Duration;

/// Sub-buckets per power of two.
const SUB: u64 = 8;
/// Buckets: values 0..8 µs one each, then 8 per power of two up to 2^40 µs (about 12 days).
pub const BUCKETS: usize = 304;

/// A histogram of latencies in microseconds.
#[derive(Clone)]
pub struct Histogram {
    counts: [u64; BUCKETS],
    total: u64,
    sum_us: u64,
    max_us: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: [0; BUCKETS],
            total: 0,
            sum_us: 0,
            max_us: 0,
        }
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.total)
            .field("p50", &self.quantile(0.5))
            .field("p99", &self.quantile(0.99))
            .field("max_us", &self.max_us)
            .finish()
    }
}

/// The bucket of `us`.
pub fn bucket_of(us: u64) -> usize {
    if us < SUB {
        return us as usize;
    }
    let e = u64::from(63 - us.leading_zeros());
    let i = SUB * (e - 2) + ((us >> (e - 3)) & (SUB - 1));
    (i as usize).min(BUCKETS - 1)
}

/// The values of bucket `i`: `lo..hi` microseconds.
pub fn bucket_bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, i + 1);
    }
    let e = i / SUB + 2;
    let m = i % SUB;
    ((SUB + m) << (e - 3), (SUB + m + 1) << (e - 3))
}

impl Histogram {
    /// Counts one value of `us` microseconds.
    #[inline]
    pub fn record(&mut self, us: u64) {
        self.counts[bucket_of(us)] += 1;
        self.total += 1;
        self.sum_us = self.sum_us.saturating_add(us);
        self.max_us = self.max_us.max(us);
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest value recorded, in microseconds.
    pub fn max_us(&self) -> u64 {
        self.max_us
    }

    /// The mean, in microseconds (`None` when empty).
    pub fn mean_us(&self) -> Option<u64> {
        self.sum_us.checked_div(self.total)
    }

    /// The `q` quantile (0..=1) as its bucket's upper bound; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.total == 0 {
            return None;
        }
        let rank = ((self.total as f64 * q.clamp(0.0, 1.0)).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (_, hi) = bucket_bounds(i);
                return Some(Duration::from_micros((hi - 1).min(self.max_us)));
            }
        }
        Some(Duration::from_micros(self.max_us))
    }

    /// The non-empty buckets: `(lo_us, hi_us, count)`, `lo_us <= value < hi_us`.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                let (lo, hi) = bucket_bounds(i);
                (lo, hi, c)
            })
    }

    /// How many values fell in `lo_us..hi_us` (whole buckets only: a bucket counts when it
    /// lies inside the range).
    pub fn count_between(&self, lo_us: u64, hi_us: u64) -> u64 {
        self.buckets()
            .filter(|&(lo, hi, _)| lo >= lo_us && hi <= hi_us)
            .map(|(_, _, c)| c)
            .sum()
    }
}

/// Readable microseconds: `850 µs`, `12.5 ms`, `3.2 s`.
pub fn fmt_us(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1e3)
    } else {
        format!("{:.1} s", us as f64 / 1e6)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_value_lies_in_its_bucket() {
        for us in (0..5000).chain([1 << 20, (1 << 20) + 12345, 1 << 39, (1 << 40) - 1]) {
            let (lo, hi) = bucket_bounds(bucket_of(us));
            assert!(lo <= us && us < hi, "{us} not in {lo}..{hi}");
            // At most 12.5 % wide.
            assert!((hi - lo) * 8 <= lo.max(8), "{lo}..{hi}");
        }
    }

    #[test]
    fn quantiles_follow_the_values() {
        let mut h = Histogram::default();
        for us in 1..=1000 {
            h.record(us);
        }
        let p50 = h.quantile(0.5).unwrap().as_micros() as u64;
        assert!((500..=576).contains(&p50), "{p50}");
        assert_eq!(h.count(), 1000);
        assert_eq!(h.max_us(), 1000);
    }
}
