//! `Group`: one snapshot word shared by the breakers of several layers of a service (ingress,
//! logic, storage), so that a trip in one layer is seen by all in one atomic load.
//!
//! Word layout (`u64`):
//!
//! ```text
//!  63                                24 23                      1   0
//! +------------------------------------+-------------------------+---+
//! | last-opened stamp (40 bits)        | failures (23 bits)      | O |
//! +------------------------------------+-------------------------+---+
//! ```
//!
//! * `O`: open flag, set when a member trips (Closed or HalfOpen -> Open), cleared when a
//!   member closes again after a successful probe (the service shows recovery) or on
//!   [`Group::reset`];
//! * failures: failures the members counted since the group last closed, saturating at
//!   2^23 - 1;
//! * last-opened stamp: 1 + milliseconds since the clock origin of the latest trip (0 = never),
//!   40 bits: about 34 years. It only grows.
//!
//! Invariants: the whole state is this one word. Readers are wait-free (one load) and can never
//! see a torn state: the flag, the count and the stamp they read were all written by the same
//! CAS. Writers move it by CAS (`fetch_update`), so concurrent reports are never lost.

use crate::clock::Nanos;
use crate::sync::{AtomicU64, Ordering};

const OPEN: u64 = 1;
const FAIL_SHIFT: u32 = 1;
const FAIL_BITS: u32 = 23;
const FAIL_MAX: u64 = (1 << FAIL_BITS) - 1;
const FAIL_MASK: u64 = FAIL_MAX << FAIL_SHIFT;
const STAMP_SHIFT: u32 = 24;
/// Largest stamp: 2^40 - 1.
pub(crate) const STAMP_MAX: u64 = (1 << 40) - 1;

/// The coarse stamp of `now`: 1 + whole milliseconds since the clock origin, saturating.
#[inline]
pub(crate) fn stamp(now: Nanos) -> u64 {
    (now / 1_000_000 + 1).min(STAMP_MAX)
}

/// The clock time a stamp stands for (the start of its millisecond), or `None` for "never".
#[inline]
pub(crate) fn stamp_nanos(stamp: u64) -> Option<Nanos> {
    stamp.checked_sub(1).map(|ms| ms * 1_000_000)
}

/// What a member does with the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupPolicy {
    /// Report failures, trips and recoveries to the group, and ignore other members' trips.
    Report,
    /// Report, and treat a trip of any member as this breaker's own: a Closed breaker that sees
    /// a group trip newer than its own last Open/HalfOpen goes Open, dated from the group's
    /// trip, and recovers through its own HalfOpen probe.
    Follow,
}

/// One consistent reading of a [`Group`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupSnapshot {
    /// A member tripped and none has recovered since.
    pub open: bool,
    /// Failures the members counted since the group last closed (saturating).
    pub failures: u32,
    /// The latest trip's stamp (1 + milliseconds since the clock origin; 0 = never).
    pub last_opened_stamp: u64,
}

impl GroupSnapshot {
    fn decode(word: u64) -> Self {
        Self {
            open: word & OPEN != 0,
            failures: ((word & FAIL_MASK) >> FAIL_SHIFT) as u32,
            last_opened_stamp: word >> STAMP_SHIFT,
        }
    }

    /// When the latest trip happened (to the millisecond), if one did.
    pub fn last_opened(&self) -> Option<Nanos> {
        stamp_nanos(self.last_opened_stamp)
    }
}

/// The shared snapshot word of a group of breakers. Share it with `Arc`.
#[derive(Debug)]
pub struct Group {
    word: AtomicU64,
}

impl Default for Group {
    fn default() -> Self {
        Self::new()
    }
}

impl Group {
    /// A closed group with no history.
    pub fn new() -> Self {
        Self {
            word: AtomicU64::new(0),
        }
    }

    /// The group's state in one atomic load (wait-free, never torn).
    #[inline]
    pub fn snapshot(&self) -> GroupSnapshot {
        // Acquire: pairs with the writers' Release so that a layer which sees a trip also sees
        // what the tripping layer wrote before reporting it.
        GroupSnapshot::decode(self.word.load(Ordering::Acquire))
    }

    fn update(&self, f: impl Fn(u64) -> u64) {
        // AcqRel: Release publishes the report (see `snapshot`), Acquire keeps a chain of
        // reports ordered. The closure is pure, so retrying it is safe.
        let _ = self
            .word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| Some(f(w)));
    }

    /// A member counted a failure.
    pub fn report_failure(&self) {
        self.update(|w| {
            let failures = ((w & FAIL_MASK) >> FAIL_SHIFT)
                .saturating_add(1)
                .min(FAIL_MAX);
            (w & !FAIL_MASK) | (failures << FAIL_SHIFT)
        });
    }

    /// A member tripped at `now`.
    pub fn report_trip(&self, now: Nanos) {
        let s = stamp(now);
        self.update(|w| {
            let last = (w >> STAMP_SHIFT).max(s);
            (last << STAMP_SHIFT) | (w & FAIL_MASK) | OPEN
        });
    }

    /// A member closed after a successful probe: the group closes and its failure count
    /// restarts. The last-opened stamp stays.
    pub fn report_close(&self) {
        self.update(|w| w & !(OPEN | FAIL_MASK));
    }

    /// Closes the group and clears its failure count (operator action).
    pub fn reset(&self) {
        self.report_close();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;

    #[test]
    fn reports_show_in_the_snapshot() {
        let g = Group::new();
        assert_eq!(
            g.snapshot(),
            GroupSnapshot {
                open: false,
                failures: 0,
                last_opened_stamp: 0
            }
        );
        assert_eq!(g.snapshot().last_opened(), None);
        g.report_failure();
        g.report_failure();
        g.report_trip(1234 * MS + 5);
        let s = g.snapshot();
        assert!(s.open);
        assert_eq!(s.failures, 2);
        assert_eq!(s.last_opened(), Some(1234 * MS));
        // An older trip does not move the stamp back.
        g.report_trip(10 * MS);
        assert_eq!(g.snapshot().last_opened(), Some(1234 * MS));
        g.report_close();
        let s = g.snapshot();
        assert!(!s.open);
        assert_eq!(s.failures, 0);
        assert_eq!(s.last_opened(), Some(1234 * MS));
    }

    #[test]
    fn failures_saturate_without_touching_other_fields() {
        let g = Group::new();
        g.report_trip(7 * MS);
        g.word
            .fetch_or(FAIL_MASK - (1 << FAIL_SHIFT), Ordering::Relaxed);
        g.report_failure();
        g.report_failure();
        let s = g.snapshot();
        assert_eq!(u64::from(s.failures), FAIL_MAX);
        assert!(s.open);
        assert_eq!(s.last_opened(), Some(7 * MS));
    }

    #[test]
    fn concurrent_reports_are_all_counted_and_seen() {
        let g = std::sync::Arc::new(Group::new());
        let handles: Vec<_> = (0..4u64)
            .map(|i| {
                let g = g.clone();
                std::thread::spawn(move || {
                    for k in 0..1000 {
                        g.report_failure();
                        if k % 100 == 0 {
                            g.report_trip((i * 1000 + k) * MS);
                        }
                        let s = g.snapshot();
                        assert!(s.open, "a trip reported by this thread is visible");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let s = g.snapshot();
        assert_eq!(s.failures, 4000);
        assert_eq!(s.last_opened(), Some(3900 * MS));
    }
}
