//! A sliding window over a cumulative histogram, kept as a ring of snapshots.
//!
//! Recorders never touch the window: they add into one cumulative histogram (see
//! `monitor.rs`), whose counters only grow (wrapping). The window divides its length into
//! `slots` equal sub-windows and, the first time it is advanced inside a sub-window, stores a
//! copy of the cumulative counts tagged with that sub-window's number. The histogram of the
//! window is then "counts now minus the oldest snapshot still inside the window": everything
//! recorded since the start of the oldest live sub-window.
//!
//! Why snapshots instead of one histogram per bucket: the short window has 300 buckets of
//! 100 ms, and 300 histograms of useful precision do not fit the 64 KiB budget of a monitored
//! channel. With 30 sub-windows the window slides in steps of 1 s (a thirtieth of its length)
//! while evaluations still run every bucket. A sample leaves the window between `window - slot`
//! and `window` after it was recorded, and a snapshot taken late (the evaluator ran late)
//! attributes the samples in between to the older sub-window. After a gap of more than a
//! whole window without any advance, no snapshot is left inside the window and it starts over
//! empty.
//!
//! The window is plain data owned by the single evaluator (`&mut self`); nothing here is shared.

use super::histogram::{Counts, Histogram, BINS};
use crate::clock::Nanos;

/// A tag meaning "no snapshot stored in this slot".
const EMPTY: u64 = u64::MAX;

/// The number of sub-windows a window of `buckets` buckets is split into: the largest divisor
/// of `buckets` that is at most `max_slots`, so that every sub-window is a whole number of
/// buckets.
pub fn slot_count(buckets: u64, max_slots: usize) -> u64 {
    let max = (max_slots as u64).min(buckets).max(1);
    (1..=max).rev().find(|d| buckets % d == 0).unwrap_or(1)
}

/// A sliding window of at most `SLOTS` sub-window snapshots.
pub struct Window<const SLOTS: usize> {
    /// Sub-windows in use (<= SLOTS).
    slots: usize,
    /// Length of one sub-window in nanoseconds.
    slot_len: Nanos,
    /// Cumulative counts at the start of each stored sub-window.
    snaps: [Counts; SLOTS],
    /// The sub-window number each snapshot belongs to, or [`EMPTY`].
    tags: [u64; SLOTS],
}

impl<const SLOTS: usize> std::fmt::Debug for Window<SLOTS> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Window")
            .field("slots", &self.slots)
            .field("slot_len", &self.slot_len)
            .finish_non_exhaustive()
    }
}

impl<const SLOTS: usize> Window<SLOTS> {
    /// A window of `window_ns`, split into `slot_count(window_ns / bucket_ns, SLOTS)`
    /// sub-windows, starting at `now` with the cumulative counts `start` (usually all zero).
    ///
    /// `bucket_ns` must divide `window_ns` (the configuration checks it); anything else is
    /// rounded down, never a panic.
    pub fn new(window_ns: Nanos, bucket_ns: Nanos, now: Nanos, start: &Counts) -> Self {
        let bucket_ns = bucket_ns.max(1);
        let buckets = (window_ns / bucket_ns).max(1);
        let slots = slot_count(buckets, SLOTS.max(1)).min(SLOTS as u64).max(1);
        let slot_len = (bucket_ns * (buckets / slots)).max(1);
        let mut w = Self {
            slots: slots as usize,
            slot_len,
            snaps: [[0; BINS]; SLOTS],
            tags: [EMPTY; SLOTS],
        };
        w.advance(now, start);
        w
    }

    /// Length of one sub-window.
    pub fn slot_len(&self) -> Nanos {
        self.slot_len
    }

    /// Sub-windows in use.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Stores `cum` as the snapshot of the sub-window holding `now`, unless one is stored
    /// already.
    pub fn advance(&mut self, now: Nanos, cum: &Counts) {
        let n = now / self.slot_len;
        let i = (n % self.slots as u64) as usize;
        if self.tags[i] != n {
            self.snaps[i] = *cum;
            self.tags[i] = n;
        }
    }

    /// The histogram of the window ending at `now`, given the cumulative counts `cum`:
    /// everything since the start of the oldest sub-window still inside it.
    pub fn histogram(&self, now: Nanos, cum: &Counts) -> Histogram {
        let n = now / self.slot_len;
        let oldest_live = n.saturating_sub(self.slots as u64 - 1);
        let base = (0..self.slots)
            .filter(|&i| self.tags[i] != EMPTY && self.tags[i] >= oldest_live && self.tags[i] <= n)
            .min_by_key(|&i| self.tags[i]);
        let mut diff = [0u32; BINS];
        if let Some(base) = base {
            for (d, (c, s)) in diff.iter_mut().zip(cum.iter().zip(self.snaps[base].iter())) {
                *d = c.wrapping_sub(*s);
            }
        }
        Histogram::from_counts(&diff)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::slo::histogram::bin_of;

    const MS: Nanos = 1_000_000;
    const S: Nanos = 1_000 * MS;

    fn add(cum: &mut Counts, us: u64, n: u32) {
        cum[bin_of(us)] = cum[bin_of(us)].wrapping_add(n);
    }

    #[test]
    fn slot_counts() {
        assert_eq!(slot_count(300, 30), 30);
        assert_eq!(slot_count(300, 20), 20);
        assert_eq!(slot_count(10, 30), 10);
        assert_eq!(slot_count(45, 30), 15);
        assert_eq!(slot_count(37, 30), 1);
        assert_eq!(slot_count(0, 30), 1);
    }

    #[test]
    fn short_window_geometry() {
        let w = Window::<30>::new(30 * S, 100 * MS, 0, &[0; BINS]);
        assert_eq!(w.slots(), 30);
        assert_eq!(w.slot_len(), S);
    }

    /// Samples recorded at t = 0.5 s stay in a 30 s window until its oldest sub-window moves
    /// past them, then expire; later samples stay.
    #[test]
    fn old_samples_expire_and_new_ones_stay() {
        let mut cum = [0u32; BINS];
        let mut w = Window::<30>::new(30 * S, 100 * MS, 0, &cum);
        add(&mut cum, 1000, 10);
        let mut t = 0;
        while t < 29 * S {
            t += 100 * MS;
            w.advance(t, &cum);
            assert_eq!(w.histogram(t, &cum).count(), 10, "at {t}");
        }
        // t = 29.1 s .. 29.9 s: sub-window 0 is the oldest live one; still counted.
        t += 800 * MS;
        w.advance(t, &cum);
        assert_eq!(w.histogram(t, &cum).count(), 10);
        // A new sample at 29.9 s.
        add(&mut cum, 5000, 1);
        // At 30 s sub-window 0 leaves the window: the old samples are gone, the new one stays.
        t = 30 * S;
        w.advance(t, &cum);
        let h = w.histogram(t, &cum);
        assert_eq!(h.count(), 1);
        assert_eq!(bin_of(h.quantile(1.0)), bin_of(5000));
        // 30 s later it is gone too.
        t = 60 * S;
        w.advance(t, &cum);
        assert_eq!(w.histogram(t, &cum).count(), 0);
    }

    #[test]
    fn a_gap_longer_than_the_window_starts_over() {
        let mut cum = [0u32; BINS];
        let mut w = Window::<30>::new(30 * S, 100 * MS, 0, &cum);
        add(&mut cum, 1000, 7);
        let t = 100 * S;
        w.advance(t, &cum);
        assert_eq!(w.histogram(t, &cum).count(), 0);
        add(&mut cum, 1000, 2);
        assert_eq!(w.histogram(t + MS, &cum).count(), 2);
    }

    #[test]
    fn wrapping_counters_still_give_exact_differences() {
        let mut cum = [u32::MAX - 1; BINS];
        let mut w = Window::<30>::new(30 * S, 100 * MS, 0, &cum);
        add(&mut cum, 1000, 5);
        w.advance(S, &cum);
        assert_eq!(w.histogram(S, &cum).count(), 5);
    }
}
