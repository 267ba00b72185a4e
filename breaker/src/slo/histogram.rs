//! A fixed-size log-linear latency histogram (HDR style), in microseconds.
//!
//! Layout: values 0..16 µs have one bin each; above that every power of two is split into 8
//! equal bins, up to `u32::MAX` µs (about 71.6 minutes). That is 16 + 28 * 8 = 240 bins, and a
//! bin never spans more than 1/8 of its lower bound, so a quantile read back as its bin's upper
//! bound is at most 12.5 % above the exact value (exact below 16 µs). Larger values land in the
//! last bin.
//!
//! Finding a bin is a `leading_zeros`, a shift and a mask: O(1), no loop, no allocation.
//! [`Histogram`] is the plain form used for reading (merge, quantile); [`AtomicHistogram`] is
//! the concurrent form the SLO monitor records into from many threads.

use std::time::Duration;

use crate::sync::{AtomicU32, Ordering};

/// Bits of sub-bin precision per power of two (8 bins per octave).
const SUB_BITS: u32 = 3;
/// Bins below the first octave: one per microsecond value.
const LINEAR: u64 = 1 << (SUB_BITS + 1);
/// Number of bins.
pub const BINS: usize = 16 + (32 - (SUB_BITS as usize + 1)) * (1 << SUB_BITS);
/// The largest value (µs) the histogram tells apart; larger ones count in the last bin.
pub const MAX_VALUE_US: u64 = u32::MAX as u64;

/// The bin a value (µs) falls in.
#[inline]
pub fn bin_of(us: u64) -> usize {
    if us < LINEAR {
        return us as usize;
    }
    let us = us.min(MAX_VALUE_US);
    // `exp` >= SUB_BITS + 1 because us >= 16.
    let exp = 63 - us.leading_zeros();
    let sub = (us >> (exp - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    LINEAR as usize + ((exp - SUB_BITS - 1) as usize) * (1 << SUB_BITS) + sub as usize
}

/// The smallest value (µs) in `bin`.
pub fn bin_lower(bin: usize) -> u64 {
    let bin = bin.min(BINS - 1) as u64;
    if bin < LINEAR {
        return bin;
    }
    let rel = bin - LINEAR;
    let exp = (rel >> SUB_BITS) as u32 + SUB_BITS + 1;
    let sub = rel & ((1 << SUB_BITS) - 1);
    ((1 << SUB_BITS) + sub) << (exp - SUB_BITS)
}

/// The largest value (µs) in `bin`: what a quantile reports.
pub fn bin_upper(bin: usize) -> u64 {
    if bin + 1 >= BINS {
        return MAX_VALUE_US;
    }
    bin_lower(bin + 1) - 1
}

/// Microseconds of `d`, saturating.
#[inline]
pub fn duration_us(d: Duration) -> u64 {
    let us = d.as_micros();
    if us > u64::MAX as u128 {
        u64::MAX
    } else {
        us as u64
    }
}

/// Counts per bin, the raw form windows take differences of. Counts are `u32` and wrap.
pub type Counts = [u32; BINS];

/// A plain (single-owner) log-linear histogram of microsecond latencies.
#[derive(Clone, PartialEq, Eq)]
pub struct Histogram {
    counts: Counts,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.total)
            .field("p50_us", &self.quantile(0.5))
            .field("p999_us", &self.quantile(0.999))
            .finish()
    }
}

impl Histogram {
    /// An empty histogram.
    pub const fn new() -> Self {
        Self {
            counts: [0; BINS],
            total: 0,
        }
    }

    /// A histogram holding `counts` (for instance the difference of two cumulative snapshots).
    pub fn from_counts(counts: &Counts) -> Self {
        let total = counts.iter().map(|&c| u64::from(c)).sum();
        Self {
            counts: *counts,
            total,
        }
    }

    /// Records one value in microseconds.
    #[inline]
    pub fn record(&mut self, us: u64) {
        self.record_n(us, 1);
    }

    /// Records `n` occurrences of a value in microseconds (bins saturate at `u32::MAX`).
    #[inline]
    pub fn record_n(&mut self, us: u64, n: u32) {
        let bin = &mut self.counts[bin_of(us)];
        let added = n.min(u32::MAX - *bin);
        *bin += added;
        self.total += u64::from(added);
    }

    /// Records a latency.
    #[inline]
    pub fn record_duration(&mut self, d: Duration) {
        self.record(duration_us(d));
    }

    /// Adds every count of `other` (bins saturate).
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            let added = (*theirs).min(u32::MAX - *mine);
            *mine += added;
            self.total += u64::from(added);
        }
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.counts = [0; BINS];
        self.total = 0;
    }

    /// The counts per bin.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// The bin holding quantile `q` (0.0..=1.0; out-of-range and NaN are clamped), or `None`
    /// when empty. The rank is `ceil(q * count)`, at least 1.
    pub fn quantile_bin(&self, q: f64) -> Option<usize> {
        if self.total == 0 {
            return None;
        }
        let q = if q >= 0.0 { q.min(1.0) } else { 0.0 };
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0u64;
        for (bin, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return Some(bin);
            }
        }
        Some(BINS - 1)
    }

    /// Quantile `q` in microseconds: the upper bound of the bin holding it, so never below the
    /// exact value and at most 12.5 % above it. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        self.quantile_bin(q).map_or(0, bin_upper)
    }

    /// Quantile `q` as a duration (see [`Histogram::quantile`]).
    pub fn quantile_duration(&self, q: f64) -> Duration {
        Duration::from_micros(self.quantile(q))
    }
}

/// A histogram many threads record into at once: one relaxed `fetch_add` per value.
///
/// Counters are cumulative and wrap at `u32::MAX`; readers take wrapping differences of two
/// snapshots (see `window.rs`), which stay exact as long as one bin gains fewer than 2^32
/// values between the snapshots.
pub struct AtomicHistogram {
    counts: [AtomicU32; BINS],
}

impl Default for AtomicHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for AtomicHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicHistogram").finish_non_exhaustive()
    }
}

impl AtomicHistogram {
    /// All counters at zero.
    pub fn new() -> Self {
        Self {
            counts: std::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Counts one value in microseconds.
    #[inline]
    pub fn record(&self, us: u64) {
        // Relaxed: each counter is an independent tally; readers only need every increment to
        // land exactly once, which the atomic RMW guarantees, and read no other data through it.
        self.counts[bin_of(us)].fetch_add(1, Ordering::Relaxed);
    }

    /// Adds this histogram's cumulative counters into `out` (wrapping).
    pub fn add_to(&self, out: &mut Counts) {
        for (o, c) in out.iter_mut().zip(self.counts.iter()) {
            // Relaxed: a snapshot may miss increments racing with it; they are seen by the
            // next snapshot, so nothing is lost, only attributed to the next evaluation.
            *o = o.wrapping_add(c.load(Ordering::Relaxed));
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_the_range_without_gaps() {
        assert_eq!(BINS, 240);
        assert_eq!(bin_lower(0), 0);
        for bin in 0..BINS - 1 {
            assert_eq!(bin_upper(bin) + 1, bin_lower(bin + 1), "bin {bin}");
            assert_eq!(bin_of(bin_lower(bin)), bin);
            assert_eq!(bin_of(bin_upper(bin)), bin);
        }
        assert_eq!(bin_upper(BINS - 1), MAX_VALUE_US);
        assert_eq!(bin_of(MAX_VALUE_US), BINS - 1);
        assert_eq!(bin_of(u64::MAX), BINS - 1);
    }

    #[test]
    fn bin_width_is_at_most_an_eighth_of_its_lower_bound() {
        for bin in 16..BINS {
            let (lo, hi) = (bin_lower(bin), bin_upper(bin));
            assert!((hi - lo + 1) * 8 <= lo, "bin {bin}: {lo}..={hi}");
        }
    }

    /// xorshift64*: deterministic test data.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed >> 12;
        *seed ^= *seed << 25;
        *seed ^= *seed >> 27;
        seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    #[test]
    fn quantiles_are_within_the_bin_error_of_an_exact_reference() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        for round in 0..20 {
            let n = 1000 + (rng(&mut seed) % 20_000) as usize;
            let mut values = Vec::with_capacity(n);
            let mut h = Histogram::new();
            for _ in 0..n {
                // Log-uniform over 1 µs .. ~1 h, the shape latencies have.
                let exp = rng(&mut seed) % 32;
                let v = (1u64 << exp) + rng(&mut seed) % (1u64 << exp);
                let v = v.min(3_600_000_000);
                values.push(v);
                h.record(v);
            }
            values.sort_unstable();
            assert_eq!(h.count(), n as u64);
            for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
                let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
                let exact = values[rank - 1];
                let got = h.quantile(q);
                assert!(got >= exact, "round {round} q {q}: {got} < exact {exact}");
                assert!(
                    got as f64 <= exact as f64 * 1.125 + 1.0,
                    "round {round} q {q}: {got} too far above exact {exact}"
                );
                assert_eq!(bin_of(got), bin_of(exact), "same bin");
            }
        }
    }

    #[test]
    fn merge_count_reset() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        for v in 1..=1000 {
            a.record(v);
            b.record(v * 1000);
        }
        a.merge(&b);
        assert_eq!(a.count(), 2000);
        // The median is 1000, reported as the top of its bin [960, 1023].
        assert_eq!(a.quantile(0.5), 1023);
        assert_eq!(bin_of(1000), bin_of(1023));
        assert!(a.quantile(1.0) >= 1_000_000);
        a.reset();
        assert_eq!(a.count(), 0);
        assert_eq!(a.quantile(0.999), 0);
        assert_eq!(a.quantile_bin(0.5), None);
    }

    #[test]
    fn quantile_clamps_odd_arguments() {
        let mut h = Histogram::new();
        h.record_duration(Duration::from_millis(3));
        h.record(5);
        assert_eq!(h.quantile(f64::NAN), 5);
        assert_eq!(h.quantile(-1.0), 5);
        assert!(h.quantile(7.0) >= 3000);
        assert_eq!(h.quantile_duration(0.0), Duration::from_micros(5));
    }

    #[test]
    fn atomic_histogram_snapshots_add_up() {
        let h = AtomicHistogram::new();
        for v in [1u64, 100, 100, 1_000_000] {
            h.record(v);
        }
        let mut counts = [0u32; BINS];
        h.add_to(&mut counts);
        h.add_to(&mut counts);
        let plain = Histogram::from_counts(&counts);
        assert_eq!(plain.count(), 8);
        assert_eq!(plain.counts()[bin_of(100)], 4);
    }
}
