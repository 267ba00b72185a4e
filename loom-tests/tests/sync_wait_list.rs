//! Loom models of `weir-sync`'s wait list: the semaphore that every lock is built on (its
//! QUEUED hand-off between the lock-free counter and the FIFO of waiters, and cancellation of
//! a waiter that was handed permits) and `Notify`'s stored permit.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p weir-loom-tests --release
//! --test sync_wait_list`.
//!
//! Shown to fail when the protocol is broken (each break tried, the model failed, the break
//! reverted):
//! - `RawSemaphore::release` taking its fast path whatever the QUEUED bit (`while cur & QUEUED
//!   == 0` made always true): `release_races_a_queueing_waiter` deadlocks (loom: "deadlock;
//!   threads = [Blocked, Blocked]"), the permit stranded in the counter while the waiter
//!   sleeps; `cancelled_waiter_passes_its_permit_on` deadlocks too.
//! - `Acquisition::cancel` giving back nothing when it had been granted (`Granted => 0`):
//!   `cancelled_waiter_passes_its_permit_on` deadlocks, the permit lost with the cancelled
//!   waiter.
//! - `Notify::notify_one` storing no permit on its fast path (the CAS writes `cur` back):
//!   `notify_one_is_never_lost` deadlocks.
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use weir_loom_tests::model;
use weir_sync::{Notify, Semaphore};

struct Noop;

impl Wake for Noop {
    fn wake(self: StdArc<Self>) {}
}

/// A permit released while another thread queues for it reaches that thread: never left in
/// the counter while the waiter sleeps.
#[test]
fn release_races_a_queueing_waiter() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.try_acquire().expect("one permit");
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || {
                let permit = block_on(sem.acquire()).expect("not closed");
                drop(permit);
            })
        };
        drop(held);
        waiter.join().unwrap();
        assert_eq!(sem.available_permits(), 1, "a permit was lost or made up");
    });
}

/// A waiter dropped after it may have been granted the permit gives it to the next waiter.
#[test]
fn cancelled_waiter_passes_its_permit_on() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let cancelled = {
            let sem = sem.clone();
            thread::spawn(move || {
                let waker = Waker::from(StdArc::new(Noop));
                let mut acquire = pin!(sem.acquire());
                match acquire.as_mut().poll(&mut Context::from_waker(&waker)) {
                    // Granted at once: the permit goes back when it drops.
                    Poll::Ready(permit) => drop(permit.expect("not closed")),
                    // Queued, and maybe granted since: dropping the future must pass it on.
                    Poll::Pending => {}
                }
            })
        };
        let waiting = {
            let sem = sem.clone();
            thread::spawn(move || {
                let permit = block_on(sem.acquire()).expect("not closed");
                drop(permit);
            })
        };
        sem.add_permits(1);
        cancelled.join().unwrap();
        waiting.join().unwrap();
        assert_eq!(sem.available_permits(), 1, "a permit was lost or made up");
    });
}

/// `notify_one` before or while the other thread registers wakes it (the permit is stored
/// when nobody waits yet).
#[test]
fn notify_one_is_never_lost() {
    model(|| {
        let notify = Arc::new(Notify::new());
        let waiter = {
            let notify = notify.clone();
            thread::spawn(move || block_on(notify.notified()))
        };
        notify.notify_one();
        waiter.join().unwrap();
    });
}
