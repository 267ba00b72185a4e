//! Parking (`runtime/src/scheduler/park.rs`, `runtime/src/scheduler/driver.rs`): no lost
//! wake-up. Each model has a thread that sleeps until a condition holds and threads that make
//! it hold and then unpark. A lost wake-up leaves the sleeper blocked with nobody left to wake
//! it, which loom reports as a deadlock.
//!
//! The conditions are loom atomics written with `Release` and read with `Acquire`: the parker
//! must make what an unparker published before `unpark` visible to the woken thread, or the
//! sleeper re-checks, sees nothing and sleeps again.
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;
use weir_loom_tests::{model, model_exhaustive};
use weir_runtime::loom_api::{Driver, ParkThread, Parker};

/// `ParkThread`: an unpark before, during or after `park` wakes the parker.
#[test]
fn park_thread_unpark_is_not_lost() {
    model_exhaustive(|| {
        let park = Arc::new(ParkThread::new());
        let ready = Arc::new(AtomicBool::new(false));
        let (p, r) = (park.clone(), ready.clone());
        let unparker = thread::spawn(move || {
            r.store(true, Ordering::Release);
            p.unpark();
        });
        while !ready.load(Ordering::Acquire) {
            park.park();
        }
        unparker.join().unwrap();
    });
}

/// `ParkThread` with two unparkers, each publishing its own flag: the parker wakes until it
/// has seen both. A notification that arrives while the parker consumes an earlier one must
/// not be dropped without making its flag visible.
#[test]
fn park_thread_two_unparkers() {
    model(|| {
        let park = Arc::new(ParkThread::new());
        let flags = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let unparkers: Vec<_> = (0..2)
            .map(|i| {
                let (p, f) = (park.clone(), flags.clone());
                thread::spawn(move || {
                    f[i].store(true, Ordering::Release);
                    p.unpark();
                })
            })
            .collect();
        while !(flags[0].load(Ordering::Acquire) && flags[1].load(Ordering::Acquire)) {
            park.park();
        }
        for u in unparkers {
            u.join().unwrap();
        }
    });
}

/// Two workers park with one driver between them: one sleeps on the driver, the other on its
/// own `ParkThread`, and which is which is decided by the race for the driver. The
/// `Unparker` must reach each wherever it sleeps (the `on_driver` Dekker in `park.rs`).
#[test]
fn parker_on_driver_or_thread_is_woken() {
    model(|| {
        let driver = Arc::new(Driver::new());
        let flags = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let mut unparkers = Vec::new();
        let workers: Vec<_> = (0..2)
            .map(|i| {
                let (parker, unparker) = Parker::new();
                unparkers.push(unparker);
                let (d, f) = (driver.clone(), flags.clone());
                thread::spawn(move || {
                    while !f[i].load(Ordering::Acquire) {
                        parker.park(&d);
                    }
                })
            })
            .collect();
        for (i, unparker) in unparkers.iter().enumerate() {
            flags[i].store(true, Ordering::Release);
            unparker.unpark(&driver);
        }
        for w in workers {
            w.join().unwrap();
        }
    });
}

/// A driver unpark (a new timer, a task for the sleeper) that comes while a worker is about
/// to park on the driver is remembered: the worker does not sleep through it.
#[test]
fn driver_unpark_before_park_is_kept() {
    model_exhaustive(|| {
        let driver = Arc::new(Driver::new());
        let ready = Arc::new(AtomicBool::new(false));
        let (parker, _unparker) = Parker::new();
        let (d, r) = (driver.clone(), ready.clone());
        let waker = thread::spawn(move || {
            r.store(true, Ordering::Release);
            d.unpark();
        });
        while !ready.load(Ordering::Acquire) {
            parker.park(&driver);
        }
        waker.join().unwrap();
    });
}
