//! The task state word.
//!
//! One `AtomicUsize` holds every flag of a task and its reference count. Each transition is a
//! named method that returns what the caller must do next, so the rules live here and nowhere
//! else.
//!
//! Invariants:
//! - `RUNNING` is held by exactly one thread at a time; it grants exclusive access to the
//!   future or output stage. `COMPLETE` is set once, by the thread that held `RUNNING`.
//! - At most one `Notified` reference to a task sits in a run queue: it is created only by the
//!   transition from idle and not-notified to notified (or by re-submission after a poll).
//! - `JOIN_WAKER` set means the runtime side owns the join-waker slot (it may read it to wake);
//!   unset means the `JoinHandle` owns it. It can only be cleared while the task is not
//!   complete, so after completion the runtime may read the waker without racing the handle.
//! - The reference count counts: the owned-tasks list, the `Notified` in a queue or being run,
//!   the `JoinHandle`, and each `Waker`. The task is freed when it reaches zero, exactly once.

use crate::sync::{AtomicUsize, Ordering};

const RUNNING: usize = 1 << 0;
const COMPLETE: usize = 1 << 1;
const NOTIFIED: usize = 1 << 2;
const CANCELLED: usize = 1 << 3;
const JOIN_INTEREST: usize = 1 << 4;
const JOIN_WAKER: usize = 1 << 5;

const REF_SHIFT: u32 = 6;
const REF_ONE: usize = 1 << REF_SHIFT;
const FLAGS: usize = REF_ONE - 1;

/// A spawned task starts notified (it is about to be queued) with a join handle and three
/// references: owned-tasks list, the queued `Notified`, the `JoinHandle`.
const INITIAL_OWNED: usize = NOTIFIED | JOIN_INTEREST | (3 * REF_ONE);
/// A blocking task is in no owned list: the queued `Notified` and the `JoinHandle`.
const INITIAL_UNOWNED: usize = NOTIFIED | JOIN_INTEREST | (2 * REF_ONE);

pub(crate) struct State {
    word: AtomicUsize,
}

/// A copy of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }
    fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}

/// What the poller must do after `transition_to_running`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// Poll the future.
    Poll,
    /// The task was cancelled: drop the future and complete with `JoinError::Cancelled`.
    Cancel,
    /// The task is running elsewhere or complete; the caller's reference was dropped.
    Skip,
    /// As `Skip`, and that was the last reference: free the task.
    Dealloc,
}

/// What the poller must do after a poll returned `Pending`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// Nothing: a waker will re-submit the task. The poller's reference was dropped.
    Idle,
    /// Woken during the poll: re-submit the task; the poller's reference moves to the queue.
    Resubmit,
    /// The poller's reference was the last: free the task.
    Dealloc,
    /// Aborted during the poll: drop the future and complete as cancelled.
    Cancel,
}

/// What a waker must do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToNotified {
    /// Nothing (already queued, running, or complete).
    Nothing,
    /// Put the task in a run queue; a `Notified` reference was created for it.
    Submit,
    /// The waker's reference was the last: free the task.
    Dealloc,
}

impl State {
    pub(crate) fn new(owned: bool) -> Self {
        let init = if owned {
            INITIAL_OWNED
        } else {
            INITIAL_UNOWNED
        };
        Self {
            word: AtomicUsize::new(init),
        }
    }

    pub(crate) fn load(&self) -> Snapshot {
        // Acquire: a completed snapshot must make the stored output visible.
        Snapshot(self.word.load(Ordering::Acquire))
    }

    /// Applies `f` in a CAS loop until it returns `None` (no change) or the store succeeds.
    /// AcqRel: each transition both publishes what the caller wrote to the task (output, waker)
    /// and acquires what the previous owner wrote.
    fn update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<usize>, R)) -> R {
        let mut cur = self.word.load(Ordering::Acquire);
        loop {
            let (next, ret) = f(Snapshot(cur));
            let Some(next) = next else { return ret };
            match self
                .word
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return ret,
                Err(actual) => cur = actual,
            }
        }
    }

    /// A worker took the task's `Notified` out of a queue and wants to poll it.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            debug_assert!(s.is_notified(), "a queued task must be notified: {s:?}");
            if s.is_idle() {
                let next = (s.0 | RUNNING) & !NOTIFIED;
                let action = if s.is_cancelled() {
                    ToRunning::Cancel
                } else {
                    ToRunning::Poll
                };
                (Some(next), action)
            } else {
                // Shut down while queued: the queue's reference is dropped here.
                debug_assert!(s.ref_count() > 0);
                let next = s.0 - REF_ONE;
                let action = if next >> REF_SHIFT == 0 {
                    ToRunning::Dealloc
                } else {
                    ToRunning::Skip
                };
                (Some(next), action)
            }
        })
    }

    /// The future returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (None, ToIdle::Cancel);
            }
            let idle = s.0 & !RUNNING;
            if s.is_notified() {
                // Keep the poller's reference for the re-submission.
                (Some(idle), ToIdle::Resubmit)
            } else {
                let next = idle - REF_ONE;
                let action = if next >> REF_SHIFT == 0 {
                    ToIdle::Dealloc
                } else {
                    ToIdle::Idle
                };
                (Some(next), action)
            }
        })
    }

    /// The future finished (or was dropped): clear `RUNNING`, set `COMPLETE`. Returns the
    /// snapshot after the change, which says whether a join handle waits and has a waker.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        // AcqRel: Release publishes the output to the join handle; Acquire sees its waker.
        let prev = Snapshot(self.word.fetch_xor(RUNNING | COMPLETE, Ordering::AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ (RUNNING | COMPLETE))
    }

    /// Drops `count` references after completion; true when the task must be freed.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        self.ref_dec_by(count)
    }

    /// `Waker::wake_by_ref`.
    pub(crate) fn transition_to_notified_by_ref(&self) -> ToNotified {
        self.update(|s| {
            if s.is_complete() || s.is_notified() {
                (None, ToNotified::Nothing)
            } else if s.is_running() {
                // The poller re-submits after the poll.
                (Some(s.0 | NOTIFIED), ToNotified::Nothing)
            } else {
                (Some((s.0 | NOTIFIED) + REF_ONE), ToNotified::Submit)
            }
        })
    }

    /// `Waker::wake`: consumes the waker's reference (or hands it to the queue).
    pub(crate) fn transition_to_notified_by_val(&self) -> ToNotified {
        self.update(|s| {
            if s.is_running() {
                // The running poller holds a reference, so this cannot reach zero.
                (Some((s.0 | NOTIFIED) - REF_ONE), ToNotified::Nothing)
            } else if s.is_complete() || s.is_notified() {
                let next = s.0 - REF_ONE;
                let action = if next >> REF_SHIFT == 0 {
                    ToNotified::Dealloc
                } else {
                    ToNotified::Nothing
                };
                (Some(next), action)
            } else {
                // The waker's reference becomes the queue's.
                (Some(s.0 | NOTIFIED), ToNotified::Submit)
            }
        })
    }

    /// `JoinHandle::abort`: true when the caller must submit the task (a reference was made).
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.update(|s| {
            if s.is_cancelled() || s.is_complete() {
                (None, false)
            } else if s.is_running() || s.is_notified() {
                // The poller (or the queued entry) will observe the flag.
                (Some(s.0 | CANCELLED | NOTIFIED), false)
            } else {
                (Some((s.0 | CANCELLED | NOTIFIED) + REF_ONE), true)
            }
        })
    }

    /// Runtime shutdown: true when the caller now owns the idle task (and must cancel and
    /// complete it); false when it is running elsewhere (the flag stops it) or complete.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            if s.is_idle() {
                (Some(s.0 | RUNNING | CANCELLED), true)
            } else {
                (Some(s.0 | CANCELLED), false)
            }
        })
    }

    /// The join handle is dropped. `Err` if the task is complete: the handle must then drop the
    /// output itself. On `Ok(true)` the handle owns the join-waker slot again and must clear it.
    pub(crate) fn unset_join_interested(&self) -> Result<bool, ()> {
        self.update(|s| {
            debug_assert!(s.is_join_interested());
            if s.is_complete() {
                (None, Err(()))
            } else {
                let had_waker = s.is_join_waker_set();
                (Some(s.0 & !(JOIN_INTEREST | JOIN_WAKER)), Ok(had_waker))
            }
        })
    }

    /// The join handle stored a waker and hands the slot to the runtime. `Err` if the task
    /// completed first: the handle keeps the slot and reads the output.
    pub(crate) fn set_join_waker(&self) -> Result<(), ()> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                (None, Err(()))
            } else {
                (Some(s.0 | JOIN_WAKER), Ok(()))
            }
        })
    }

    /// The join handle wants its waker slot back to replace the waker. `Err` if complete.
    pub(crate) fn unset_join_waker(&self) -> Result<(), ()> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && s.is_join_waker_set());
            if s.is_complete() {
                (None, Err(()))
            } else {
                (Some(s.0 & !JOIN_WAKER), Ok(()))
            }
        })
    }

    pub(crate) fn ref_inc(&self) {
        // Relaxed: a new reference is made from an existing one, which already keeps the task
        // alive; no data is published by the increment (as for `Arc::clone`).
        let prev = self.word.fetch_add(REF_ONE, Ordering::Relaxed);
        if prev > usize::MAX / 2 {
            // Billions of wakers: a leak in user code. Abort rather than overflow.
            std::process::abort();
        }
    }

    /// Drops one reference; true when it was the last.
    pub(crate) fn ref_dec(&self) -> bool {
        self.ref_dec_by(1)
    }

    fn ref_dec_by(&self, count: usize) -> bool {
        // AcqRel: Release orders this owner's use of the task before the free; Acquire on the
        // last decrement makes every other owner's use visible to the freeing thread.
        let prev = self.word.fetch_sub(count * REF_ONE, Ordering::AcqRel);
        let refs = prev >> REF_SHIFT;
        debug_assert!(refs >= count, "task ref count underflow");
        refs == count
    }

    #[cfg(all(test, not(loom)))]
    fn raw(&self) -> usize {
        self.word.load(Ordering::Relaxed)
    }
}

const _: () =
    assert!(FLAGS == RUNNING | COMPLETE | NOTIFIED | CANCELLED | JOIN_INTEREST | JOIN_WAKER);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn spawn_poll_pending_wake_complete() {
        let s = State::new(true);
        assert_eq!(s.load().ref_count(), 3);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        // Woken during the poll: no submission now, re-submit after.
        assert_eq!(s.transition_to_notified_by_ref(), ToNotified::Nothing);
        assert_eq!(s.transition_to_idle(), ToIdle::Resubmit);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::Idle);
        assert_eq!(s.load().ref_count(), 2);
        // A waker wakes the idle task: a new queue reference.
        assert_eq!(s.transition_to_notified_by_ref(), ToNotified::Submit);
        assert_eq!(s.transition_to_notified_by_ref(), ToNotified::Nothing);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        let snap = s.transition_to_complete();
        assert!(snap.is_complete() && !snap.is_running() && snap.is_join_interested());
        // Poller and owned list let go; the join handle's reference remains.
        assert!(!s.transition_to_terminal(2));
        assert_eq!(s.unset_join_interested(), Err(()));
        assert!(s.ref_dec());
    }

    #[test]
    fn abort_idle_task_submits_once() {
        let s = State::new(true);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::Idle);
        assert!(s.transition_to_notified_and_cancel());
        assert!(!s.transition_to_notified_and_cancel());
        assert_eq!(s.transition_to_running(), ToRunning::Cancel);
    }

    #[test]
    fn abort_during_poll_cancels_after_it() {
        let s = State::new(true);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert!(!s.transition_to_notified_and_cancel());
        assert_eq!(s.transition_to_idle(), ToIdle::Cancel);
    }

    #[test]
    fn shutdown_claims_idle_but_not_running() {
        let idle = State::new(true);
        assert!(idle.transition_to_shutdown());
        // Its queued notified later finds it running and drops its reference.
        assert_eq!(idle.transition_to_running(), ToRunning::Skip);

        let running = State::new(true);
        assert_eq!(running.transition_to_running(), ToRunning::Poll);
        assert!(!running.transition_to_shutdown());
        assert_eq!(running.transition_to_idle(), ToIdle::Cancel);
    }

    #[test]
    fn wake_by_val_on_complete_drops_reference() {
        let s = State::new(false);
        s.ref_inc(); // a waker
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        s.transition_to_complete();
        assert!(!s.transition_to_terminal(1));
        assert_eq!(s.transition_to_notified_by_val(), ToNotified::Nothing);
        assert_eq!(s.unset_join_interested(), Err(()));
        assert!(s.ref_dec());
    }

    #[test]
    fn join_waker_protocol() {
        let s = State::new(true);
        assert_eq!(s.set_join_waker(), Ok(()));
        assert_eq!(s.unset_join_waker(), Ok(()));
        assert_eq!(s.set_join_waker(), Ok(()));
        assert_eq!(s.unset_join_interested(), Ok(true));
        assert_eq!(s.raw() & (JOIN_INTEREST | JOIN_WAKER), 0);
    }
}
