//! The task state word alone (`runtime/src/task/state.rs` through `loom_api::TaskState`):
//! each model plays the owners of a task's references (poller, wakers, join handle, aborter)
//! on separate threads and checks the invariants stated at the top of `state.rs` in every
//! interleaving:
//! - at most one `Notified` reference is queued: one wake (or abort) of a task produces
//!   exactly one submission, whether it lands during the poll or after it;
//! - an abort is acted on exactly once;
//! - the join waker is read by the completer exactly when the join handle registered it;
//! - the reference count reaches zero exactly once, and the output is dropped by exactly one
//!   side.
//!
//! These models are small, so they explore every interleaving (no preemption bound).
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use weir_loom_tests::model_exhaustive;
use weir_runtime::loom_api::{TaskState, ToIdle, ToNotified, ToRunning};

/// A spawned task polled once to `Pending`: idle, not notified, two references (owned list and
/// join handle).
fn idle_task() -> Arc<TaskState> {
    let s = TaskState::new(true);
    assert_eq!(s.transition_to_running(), ToRunning::Poll);
    assert_eq!(s.transition_to_idle(), ToIdle::Idle);
    assert_eq!(s.load().refs, 2);
    Arc::new(s)
}

/// A spawned task taken from its queue: running, three references (owned list, the poller's
/// queue reference, join handle).
fn running_task() -> Arc<TaskState> {
    let s = TaskState::new(true);
    assert_eq!(s.transition_to_running(), ToRunning::Poll);
    Arc::new(s)
}

/// Two wakers (by value and by reference) wake an idle task at once: one submission.
#[test]
fn concurrent_wakes_submit_once() {
    model_exhaustive(|| {
        let s = idle_task();
        s.ref_inc();
        s.ref_inc();
        let s1 = s.clone();
        let by_val = thread::spawn(move || s1.transition_to_notified_by_val());
        let by_ref = s.transition_to_notified_by_ref();
        // The by-ref waker then drops its own reference; it is not the last one.
        assert!(!s.ref_dec());
        let by_val = by_val.join().unwrap();
        let submits = [by_val, by_ref]
            .iter()
            .filter(|&&n| n == ToNotified::Submit)
            .count();
        assert_eq!(submits, 1, "by_val {by_val:?}, by_ref {by_ref:?}");
        let snap = s.load();
        assert!(snap.notified && !snap.running);
        // Owned list, join handle, and the one queued reference.
        assert_eq!(snap.refs, 3);
    });
}

/// A wake lands during the poll (the poller re-submits) or after it (the waker submits):
/// exactly one of them queues the task, and the queued task can run again.
#[test]
fn wake_during_poll_resubmits_once() {
    model_exhaustive(|| {
        let s = running_task();
        s.ref_inc(); // the waker's reference
        let s1 = s.clone();
        let waker = thread::spawn(move || s1.transition_to_notified_by_val());
        let after_poll = s.transition_to_idle();
        let woke = waker.join().unwrap();
        match (after_poll, woke) {
            (ToIdle::Resubmit, ToNotified::Nothing) | (ToIdle::Idle, ToNotified::Submit) => {}
            other => panic!("expected exactly one submission, got {other:?}"),
        }
        let snap = s.load();
        assert!(snap.notified && !snap.running, "{snap:?}");
        assert_eq!(snap.refs, 3, "{snap:?}");
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
    });
}

/// Two threads wake by reference while the task is being polled and after: still one
/// submission in all.
#[test]
fn wakes_by_ref_around_poll_submit_once() {
    model_exhaustive(|| {
        let s = running_task();
        s.ref_inc();
        s.ref_inc();
        let (s1, s2) = (s.clone(), s.clone());
        let w1 = thread::spawn(move || {
            let n = s1.transition_to_notified_by_ref();
            assert!(!s1.ref_dec());
            n
        });
        let w2 = thread::spawn(move || {
            let n = s2.transition_to_notified_by_ref();
            assert!(!s2.ref_dec());
            n
        });
        let after_poll = s.transition_to_idle();
        let (n1, n2) = (w1.join().unwrap(), w2.join().unwrap());
        let submits = usize::from(after_poll == ToIdle::Resubmit)
            + usize::from(n1 == ToNotified::Submit)
            + usize::from(n2 == ToNotified::Submit);
        assert_eq!(submits, 1, "poll {after_poll:?}, wakes {n1:?} {n2:?}");
        assert_eq!(s.load().refs, 3);
    });
}

/// An abort during the poll is acted on by the poller (`Cancel` after the poll); an abort
/// after it submits the task, which then runs as cancelled. Never both, never neither.
#[test]
fn abort_during_poll_cancels_once() {
    model_exhaustive(|| {
        let s = running_task();
        let s1 = s.clone();
        let aborter = thread::spawn(move || s1.transition_to_notified_and_cancel());
        let after_poll = s.transition_to_idle();
        let submitted = aborter.join().unwrap();
        match (after_poll, submitted) {
            // The poller still holds RUNNING and its reference: it completes the task.
            (ToIdle::Cancel, false) => {
                let snap = s.load();
                assert!(snap.running && snap.cancelled, "{snap:?}");
                assert_eq!(snap.refs, 3);
            }
            // The poller let go; the abort queued the task, which now runs as cancelled.
            (ToIdle::Idle, true) => {
                assert_eq!(s.load().refs, 3);
                assert_eq!(s.transition_to_running(), ToRunning::Cancel);
            }
            other => panic!("the abort must be acted on exactly once, got {other:?}"),
        }
    });
}

/// The join handle registers its waker while the task completes: the completer sees the
/// waker exactly when the registration succeeded, so a registered waker is always woken and
/// a refused one is never read.
#[test]
fn join_waker_registration_races_completion() {
    model_exhaustive(|| {
        let s = running_task();
        let s1 = s.clone();
        let join = thread::spawn(move || {
            if s1.load().complete {
                return false;
            }
            s1.set_join_waker().is_ok()
        });
        let done = s.transition_to_complete();
        let registered = join.join().unwrap();
        assert!(done.complete && !done.running);
        assert_eq!(done.join_waker, registered, "{done:?}");
    });
}

/// Completion (the poller and the owned list let go), the join handle's drop and a waker's
/// drop race: the count reaches zero exactly once, and the output is dropped by exactly one
/// side (the completer when interest was already gone, else the join handle).
#[test]
fn last_reference_frees_once() {
    model_exhaustive(|| {
        let s = running_task();
        s.ref_inc(); // a waker
        let (s1, s2) = (s.clone(), s.clone());
        let join = thread::spawn(move || {
            // `Err`: complete, the handle drops the output.
            let drops_output = s1.unset_join_interested().is_err();
            (drops_output, s1.ref_dec())
        });
        let waker = thread::spawn(move || s2.ref_dec());
        let done = s.transition_to_complete();
        let completer_drops_output = !done.join_interested;
        let completer_frees = s.transition_to_terminal(2);
        let (join_drops_output, join_frees) = join.join().unwrap();
        let waker_frees = waker.join().unwrap();
        let frees = [completer_frees, join_frees, waker_frees]
            .iter()
            .filter(|&&f| f)
            .count();
        assert_eq!(frees, 1);
        assert_eq!(
            usize::from(completer_drops_output) + usize::from(join_drops_output),
            1
        );
        assert_eq!(s.load().refs, 0);
    });
}
