//! Moving queued values from a sick primary to its backup, with nothing lost.
//!
//! While L3 has the channel degraded, values that wait on the primary are handed to the backup:
//! the backlog queued at the degrade moment, and afterwards every value (trickle ones included)
//! whose age reaches the head-age limit. When the last receiver goes away, everything left is
//! handed over too. A move is a receive on the primary and a send on the backup, so each value
//! is still received exactly once, by a consumer of one channel or the other; its order
//! relative to the backup's own values is not kept.
//!
//! # The in-flight window and how it is closed
//!
//! Between the take from the primary and the value landing somewhere (the backup, back in the
//! primary, or the one-slot stash when both refuse) the value lives only in the mover's local.
//! A receiver that found the primary closed and drained in that window, and the stash empty,
//! would return its final `Closed`, and the value would later be stranded in the stash.
//!
//! Invariants:
//! * (I1) `moving` counts moves in flight. The mover increments it (SeqCst) *before* its take
//!   and decrements it (SeqCst) only *after* the value is in the backup, back in the primary
//!   or in the stash.
//! * (I2) A receiver that sees the primary closed and drained issues a SeqCst fence and then
//!   reads `moving` (SeqCst). If its "drained" observation saw a mover's take, that take's
//!   increment precedes the fence in the single total order, so the receiver reads a non-zero
//!   count (or the decrement that follows the landing, which happens-before its stash check).
//!   A non-zero count answers "settling": the receive is retried, never `Closed`.
//! * (I3) The stash is written under its lock and `stashed` is set before the decrement; a
//!   receiver that read the decrement finds `stashed` and takes the value under the lock.
//! * (I4) One mover at a time (`mover` is try-locked); migration stops while the stash is
//!   occupied, so the stash never holds more than one value.

use super::Backup;
use crate::channel::Chan;
use crate::sync::{
    fence, spin_loop, AtomicBool, AtomicU64, AtomicUsize, Mutex, MutexGuard, Ordering,
};

use super::stamps::Stamps;

/// Most queued values one call hands from the primary to the backup.
const BATCH: usize = 64;
/// `backlog` value meaning "degraded just now: measure the backlog on the next move".
const MEASURE: usize = usize::MAX;

/// What a receive that found the primary closed and drained should answer.
pub(crate) enum Closing<T> {
    /// A value a move left in the stash: deliver it.
    Value(T),
    /// A move is in flight: retry (the value may land in the stash).
    Settling,
    /// Nothing is in flight and the stash is empty: the channel is done.
    Closed,
}

/// Why a move loop runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The degraded primary: the degrade backlog and values past the head-age limit.
    Aged,
    /// Everything left (the last receiver is gone).
    All,
}

pub(crate) struct Migration<T> {
    /// Moves in flight (I1, I2).
    moving: AtomicUsize,
    /// One mover at a time (I4).
    mover: Mutex<()>,
    /// Values of the degrade backlog still to move (`MEASURE`: not measured yet).
    backlog: AtomicUsize,
    /// A moved value that neither the backup nor the primary would take (I3).
    stash: Mutex<Option<T>>,
    /// `stash` is occupied (read without the lock).
    stashed: AtomicBool,
    /// Values handed to the backup so far.
    migrated: AtomicU64,
}

enum Step {
    Moved,
    /// The primary had nothing to take.
    Empty,
    /// The backup refused; the value went back to the primary or into the stash.
    Refused,
}

impl<T> Migration<T> {
    pub(crate) fn new() -> Self {
        Migration {
            moving: AtomicUsize::new(0),
            mover: Mutex::new(()),
            backlog: AtomicUsize::new(0),
            stash: Mutex::new(None),
            stashed: AtomicBool::new(false),
            migrated: AtomicU64::new(0),
        }
    }

    /// The channel degraded: move its whole backlog (measured at the next move).
    pub(crate) fn request_backlog(&self) {
        // Relaxed: a request to the next mover; no data rides on it.
        self.backlog.store(MEASURE, Ordering::Relaxed);
    }

    /// The channel recovered: stop moving the degrade backlog.
    pub(crate) fn cancel_backlog(&self) {
        // Relaxed: as in `request_backlog`.
        self.backlog.store(0, Ordering::Relaxed);
    }

    /// Whether a degrade backlog is still to move.
    #[inline]
    pub(crate) fn backlog_pending(&self) -> bool {
        // Relaxed: a hint; the mover re-reads it under `mover`.
        self.backlog.load(Ordering::Relaxed) != 0
    }

    /// Hands values from `primary` to `backup`: up to `BATCH` per call for `Scope::Aged`
    /// (the degrade backlog, then every value whose age `aged` reports), or until nothing moves
    /// for `Scope::All`. Returns how many moved.
    pub(crate) fn run(
        &self,
        primary: &Chan<T>,
        backup: &Backup<T>,
        stamps: Option<&Stamps>,
        now_us: u64,
        scope: Scope,
        aged: impl Fn() -> bool,
    ) -> usize {
        let Ok(_mover) = self.mover.try_lock() else {
            return 0;
        };
        // Relaxed: the flag is re-read under the stash lock by whoever takes the value.
        if self.stashed.load(Ordering::Relaxed) || backup.capacity() == Some(0) {
            return 0;
        }
        // Relaxed: only the mover holding `mover` changes it, but for the requests above
        // (which at worst stop a batch early or measure again).
        let start = self.backlog.load(Ordering::Relaxed);
        let mut left = if start == MEASURE {
            primary.len()
        } else {
            start
        };
        let mut moved = 0;
        while scope == Scope::All || moved < BATCH {
            if scope == Scope::Aged && left == 0 && !aged() {
                break;
            }
            if backup.is_closed() {
                left = 0;
                break;
            }
            if backup.is_full() {
                break;
            }
            match self.move_one(primary, backup, stamps, now_us) {
                Step::Moved => {
                    left = left.saturating_sub(1);
                    moved += 1;
                }
                Step::Empty => {
                    left = 0;
                    break;
                }
                Step::Refused => break,
            }
        }
        // Relaxed: as above. A request made meanwhile (recover, a new degrade) wins.
        let _ = self
            .backlog
            .compare_exchange(start, left, Ordering::Relaxed, Ordering::Relaxed);
        moved
    }

    fn move_one(
        &self,
        primary: &Chan<T>,
        backup: &Backup<T>,
        stamps: Option<&Stamps>,
        now_us: u64,
    ) -> Step {
        // SeqCst: (I1), before the take.
        self.moving.fetch_add(1, Ordering::SeqCst);
        let step = match primary.try_recv_plain() {
            Err(_) => Step::Empty,
            Ok(v) => {
                if let Some(s) = stamps {
                    // The value left the primary: keep the stamp ring paired.
                    let _ = s.on_recv(now_us);
                }
                match backup.try_send(v) {
                    Ok(()) => {
                        // Relaxed: a statistic.
                        self.migrated.fetch_add(1, Ordering::Relaxed);
                        Step::Moved
                    }
                    Err(e) => {
                        match primary.try_send_plain(e.into_inner()) {
                            Ok(()) => {
                                if let Some(s) = stamps {
                                    s.on_send(now_us);
                                }
                            }
                            Err(e) => {
                                *self.lock_stash() = Some(e.into_inner());
                                // Relaxed: (I3) the decrement below publishes it.
                                self.stashed.store(true, Ordering::Relaxed);
                            }
                        }
                        Step::Refused
                    }
                }
            }
        };
        // SeqCst: (I1), after the landing; pairs with the receivers' fence and load (I2).
        self.moving.fetch_sub(1, Ordering::SeqCst);
        step
    }

    /// A receive found the primary closed and drained: see (I2).
    #[cold]
    pub(crate) fn on_closed(&self) -> Closing<T> {
        // SeqCst fence, then SeqCst load: (I2).
        fence(Ordering::SeqCst);
        if self.moving.load(Ordering::SeqCst) != 0 {
            // The mover is a few instructions from landing the value; the caller retries.
            // (Under loom this yields, so that the model lets the mover run.)
            spin_loop();
            return Closing::Settling;
        }
        match self.take_stash() {
            Some(v) => Closing::Value(v),
            None => Closing::Closed,
        }
    }

    fn lock_stash(&self) -> MutexGuard<'_, Option<T>> {
        // Nothing panics while the lock is held; take the guard even if poisoned.
        match self.stash.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// A value a move left behind (see (I3)), for the primary's receivers.
    #[inline]
    pub(crate) fn take_stash(&self) -> Option<T> {
        // Acquire: pairs with the decrement that followed the stash write (I3) through the
        // receivers' reads; the lock decides who takes it.
        if !self.stashed.load(Ordering::Acquire) {
            return None;
        }
        self.take_stash_slow()
    }

    #[cold]
    fn take_stash_slow(&self) -> Option<T> {
        let mut stash = self.lock_stash();
        let v = stash.take();
        // Relaxed: written under the lock; a racing receiver finds `None` under it.
        self.stashed.store(false, Ordering::Relaxed);
        v
    }

    /// Values handed to the backup so far.
    pub(crate) fn migrated(&self) -> u64 {
        // Relaxed: a statistic.
        self.migrated.load(Ordering::Relaxed)
    }
}
