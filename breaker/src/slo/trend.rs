//! The long-window trend: one P99.9 per long bucket, a least-squares line through them, and
//! the P99.9 that line predicts one horizon ahead.
//!
//! Each closed long bucket leaves one point: its own P99.9 (from the cumulative counts minus
//! the counts at the bucket's start) and its sample count. A point is 5 bytes (the P99.9's bin
//! index and a `u32` count), so the 300 points of a 5-minute window cost 1.5 KB. Buckets
//! without samples leave no point; a fit needs two points at least. The monitor fits with the
//! bucket still being filled as one more point (`fit_with_current`), so that a step shows at
//! the evaluation that sees it rather than up to one long bucket later.
//!
//! Plain data owned by the single evaluator.

use super::histogram::{bin_upper, Counts, Histogram, BINS};
use crate::clock::Nanos;

const NANOS_PER_MIN: f64 = 60e9;

/// A least-squares line `y = intercept + slope * x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// Growth of `y` per unit of `x`.
    pub slope: f64,
    /// `y` at `x = 0`.
    pub intercept: f64,
    /// Points the line was fitted to.
    pub points: usize,
}

impl Line {
    /// `y` at `x`.
    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }
}

/// The ordinary least-squares line through `points`, or `None` with fewer than two distinct
/// `x` values. Allocation-free; centred sums keep it numerically tame.
pub fn least_squares(points: impl Iterator<Item = (f64, f64)> + Clone) -> Option<Line> {
    let (mut n, mut sx, mut sy) = (0usize, 0.0f64, 0.0f64);
    for (x, y) in points.clone() {
        n += 1;
        sx += x;
        sy += y;
    }
    if n < 2 {
        return None;
    }
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxx, mut sxy) = (0.0f64, 0.0f64);
    for (x, y) in points {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some(Line {
        slope,
        intercept: my - slope * mx,
        points: n,
    })
}

/// The trend of P99.9 over the long window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendFit {
    /// Slope in milliseconds of P99.9 per minute (negative when latency falls).
    pub slope_ms_per_min: f64,
    /// P99.9 the line predicts one horizon after `now`, in milliseconds, never below 0.
    pub predicted_ms: f64,
    /// Points the fit used.
    pub points: usize,
}

/// The ring of per-bucket P99.9 points, `CAP` at most.
pub struct Series<const CAP: usize> {
    /// Points kept: the long window's bucket count (<= CAP).
    len: usize,
    bucket_ns: Nanos,
    /// Per point: P99.9 bin index, meaningful when the count is non-zero.
    bins: [u8; CAP],
    /// Per point: samples in the bucket (saturating).
    counts: [u32; CAP],
    /// Number of the bucket being filled; points exist for buckets before it.
    current: u64,
    /// Cumulative counts at the start of the current bucket.
    base: Counts,
}

impl<const CAP: usize> std::fmt::Debug for Series<CAP> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Series")
            .field("len", &self.len)
            .field("bucket_ns", &self.bucket_ns)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl<const CAP: usize> Series<CAP> {
    /// A series of `window_ns / bucket_ns` points (at most `CAP`), starting at `now` with the
    /// cumulative counts `start`.
    pub fn new(window_ns: Nanos, bucket_ns: Nanos, now: Nanos, start: &Counts) -> Self {
        let bucket_ns = bucket_ns.max(1);
        let len = ((window_ns / bucket_ns) as usize).clamp(1, CAP.max(1));
        Self {
            len,
            bucket_ns,
            bins: [0; CAP],
            counts: [0; CAP],
            current: now / bucket_ns,
            base: *start,
        }
    }

    /// Closes the buckets that ended before `now`: the current one gets a point made from the
    /// counts gained since it started, the ones skipped entirely get empty points.
    pub fn advance(&mut self, now: Nanos, cum: &Counts) {
        let b = now / self.bucket_ns;
        if b <= self.current {
            return;
        }
        let mut diff = [0u32; BINS];
        for (d, (c, s)) in diff.iter_mut().zip(cum.iter().zip(self.base.iter())) {
            *d = c.wrapping_sub(*s);
        }
        let h = Histogram::from_counts(&diff);
        self.put(
            self.current,
            h.quantile_bin(0.999).unwrap_or(0),
            h.count().min(u64::from(u32::MAX)) as u32,
        );
        // Buckets between the closed one and `b` saw no evaluation: mark them empty (at most a
        // full ring's worth).
        let skipped = (b - self.current - 1).min(self.len as u64);
        for k in 0..skipped {
            self.put(b - skipped + k, 0, 0);
        }
        self.current = b;
        self.base = *cum;
    }

    fn put(&mut self, bucket: u64, bin: usize, count: u32) {
        let i = (bucket % self.len as u64) as usize;
        self.bins[i] = bin.min(BINS - 1) as u8;
        self.counts[i] = count;
    }

    /// The closed points inside the window ending at `now`, as (bucket midpoint relative to
    /// `now` in minutes, P99.9 in ms, samples).
    fn points(&self, now: Nanos) -> impl Iterator<Item = (f64, f64, u32)> + Clone + '_ {
        let first = self.current.saturating_sub(self.len as u64);
        (first..self.current).filter_map(move |bucket| {
            let i = (bucket % self.len as u64) as usize;
            let count = self.counts[i];
            if count == 0 {
                return None;
            }
            let mid = bucket as f64 * self.bucket_ns as f64 + self.bucket_ns as f64 / 2.0;
            let x = (mid - now as f64) / NANOS_PER_MIN;
            let y = bin_upper(self.bins[i] as usize) as f64 / 1000.0;
            Some((x, y, count))
        })
    }

    /// Per-bucket P99.9 values (ms) of the closed buckets in the window, oldest first (for
    /// status displays and tests).
    pub fn p999_ms(&self, now: Nanos) -> impl Iterator<Item = f64> + '_ {
        self.points(now).map(|(_, y, _)| y)
    }

    /// The least-squares trend of the closed points, and its prediction `horizon_ns` after
    /// `now`. `None` with fewer than two points.
    pub fn fit(&self, now: Nanos, horizon_ns: Nanos) -> Option<TrendFit> {
        let line = least_squares(self.points(now).map(|(x, y, _)| (x, y)))?;
        Some(TrendFit {
            slope_ms_per_min: line.slope,
            predicted_ms: line.at(horizon_ns as f64 / NANOS_PER_MIN).max(0.0),
            points: line.points,
        })
    }

    /// Like [`Series::fit`], with the bucket still being filled as one more point when it
    /// holds at least `min_current` samples (its P99.9 from the cumulative counts `cum`, at
    /// the midpoint of its elapsed part): a breach shows in the trend at the evaluation that
    /// sees it, not only once its long bucket closes. Allocation-free (one stack histogram).
    pub fn fit_with_current(
        &self,
        now: Nanos,
        horizon_ns: Nanos,
        cum: &Counts,
        min_current: u64,
    ) -> Option<TrendFit> {
        let mut diff = [0u32; BINS];
        for (d, (c, s)) in diff.iter_mut().zip(cum.iter().zip(self.base.iter())) {
            *d = c.wrapping_sub(*s);
        }
        let h = Histogram::from_counts(&diff);
        let start = self.current * self.bucket_ns;
        let current = (h.count() >= min_current.max(1))
            .then(|| h.quantile_bin(0.999))
            .flatten()
            .map(|bin| {
                let mid = start as f64 + now.saturating_sub(start) as f64 / 2.0;
                (
                    (mid - now as f64) / NANOS_PER_MIN,
                    bin_upper(bin) as f64 / 1000.0,
                )
            });
        let line = least_squares(self.points(now).map(|(x, y, _)| (x, y)).chain(current))?;
        Some(TrendFit {
            slope_ms_per_min: line.slope,
            predicted_ms: line.at(horizon_ns as f64 / NANOS_PER_MIN).max(0.0),
            points: line.points,
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::slo::histogram::bin_of;

    const MS: Nanos = 1_000_000;
    const S: Nanos = 1_000 * MS;

    #[test]
    fn least_squares_recovers_an_exact_line() {
        let pts = (0..10).map(|i| (i as f64, 3.0 + 2.5 * i as f64));
        let line = least_squares(pts).unwrap();
        assert!((line.slope - 2.5).abs() < 1e-9);
        assert!((line.intercept - 3.0).abs() < 1e-9);
        assert_eq!(line.points, 10);
        assert!(least_squares([(1.0, 1.0)].into_iter()).is_none());
        assert!(least_squares([(1.0, 1.0), (1.0, 2.0)].into_iter()).is_none());
    }

    /// Drives a series for `secs` seconds where every second records `per_sec` samples of the
    /// latency `latency_ms(t)`.
    fn drive(secs: u64, per_sec: u32, latency_ms: impl Fn(f64) -> f64) -> (Series<600>, Nanos) {
        let mut cum = [0u32; BINS];
        let mut s = Series::<600>::new(300 * S, S, 0, &cum);
        let mut t = 0;
        while t < secs * S {
            let us = (latency_ms(t as f64 / 1e9) * 1000.0) as u64;
            cum[bin_of(us)] = cum[bin_of(us)].wrapping_add(per_sec / 10);
            t += 100 * MS;
            s.advance(t, &cum);
        }
        (s, t)
    }

    #[test]
    fn a_200_ms_per_minute_ramp_is_detected() {
        let (s, now) = drive(300, 1000, |t| 100.0 + 200.0 * t / 60.0);
        let fit = s.fit(now, 60 * S).unwrap();
        assert!(fit.points >= 290, "{fit:?}");
        // Bin quantisation (<= 12.5 %) bends the line a little; the slope stays near 200.
        assert!(
            fit.slope_ms_per_min > 160.0 && fit.slope_ms_per_min < 240.0,
            "{fit:?}"
        );
        // At the end the ramp is at 1100 ms; one minute later the line says about 1300 ms.
        assert!(
            fit.predicted_ms > 1150.0 && fit.predicted_ms < 1550.0,
            "{fit:?}"
        );
    }

    #[test]
    fn a_flat_latency_has_no_slope() {
        let (s, now) = drive(300, 1000, |_| 250.0);
        let fit = s.fit(now, 60 * S).unwrap();
        assert!(fit.slope_ms_per_min.abs() < 1.0, "{fit:?}");
        let p: Vec<f64> = s.p999_ms(now).collect();
        assert!(p.len() >= 290);
        assert!(p.iter().all(|v| (250.0..=250.0 * 1.125).contains(v)));
    }

    #[test]
    fn points_leave_the_window_and_gaps_leave_no_points() {
        let (mut s, now) = drive(10, 1000, |_| 5.0);
        assert_eq!(s.p999_ms(now).count(), 10);
        // Nothing recorded for 400 s: every point is out of the 300-bucket window.
        let cum = s.base;
        let later = now + 400 * S;
        s.advance(later, &cum);
        assert_eq!(s.p999_ms(later).count(), 0);
        assert!(s.fit(later, S).is_none());
    }

    #[test]
    fn the_bucket_being_filled_shows_a_step_before_it_closes() {
        // 60 s flat at 5 ms, then half a bucket of 800 ms samples.
        let (s, now) = drive(60, 1000, |_| 5.0);
        let mut cum = s.base;
        cum[bin_of(800_000)] += 50;
        let mid = now + 500 * MS;
        let closed = s.fit(mid, S).unwrap();
        assert!(closed.slope_ms_per_min.abs() < 1.0, "{closed:?}");
        let with = s.fit_with_current(mid, S, &cum, 1).unwrap();
        assert_eq!(with.points, closed.points + 1);
        assert!(with.slope_ms_per_min > 40.0, "{with:?}");
        // Below `min_current` samples the partial bucket is left out.
        let without = s.fit_with_current(mid, S, &cum, 51).unwrap();
        assert_eq!(without, closed);
        // A flat partial bucket adds no slope.
        let mut flat = s.base;
        flat[bin_of(5_000)] += 50;
        let f = s.fit_with_current(mid, S, &flat, 1).unwrap();
        assert!(f.slope_ms_per_min.abs() < 1.0, "{f:?}");
    }
}
