//! Loom models of the L1 circuit word: concurrent failures, HalfOpen probes and cancellations.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p weir-loom-tests --release
//! --test breaker_l1`.
#![cfg(loom)]

use std::time::Duration;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use weir_breaker::{Admit, BreakerConfig, Circuit, Outcome, State};

const MS: u64 = 1_000_000;

fn circuit(threshold: u32, probes: u32) -> Circuit {
    Circuit::new(
        BreakerConfig::new()
            .failure_threshold(threshold)
            .half_open_probes(probes)
            .open_timeout(Duration::from_millis(1)),
        1,
    )
    .unwrap()
}

/// Two threads report the two failures that reach the threshold at once: whatever the
/// interleaving, neither count is lost, the circuit trips, and exactly one caller sees the trip.
#[test]
fn concurrent_failures_never_hide_a_trip() {
    loom::model(|| {
        let c = Arc::new(circuit(2, 1));
        let other = {
            let c = c.clone();
            thread::spawn(move || c.on_failure(0).is_some())
        };
        let mine = c.on_failure(0).is_some();
        let theirs = other.join().unwrap();
        assert!(
            mine ^ theirs,
            "exactly one trip: mine={mine} theirs={theirs}"
        );
        assert_eq!(c.state(), State::Open);
        assert_eq!(c.transitions(), 1);
    });
}

/// A failure and a timeout race with a reader on the fast path; the counts all land.
#[test]
fn failures_and_timeouts_race_with_admit() {
    loom::model(|| {
        let c = Arc::new(circuit(3, 1));
        let t1 = {
            let c = c.clone();
            thread::spawn(move || {
                let _ = c.on_timeout(0);
            })
        };
        let t2 = {
            let c = c.clone();
            thread::spawn(move || {
                let _ = c.on_failure(0);
            })
        };
        // Closed all along: the fast path passes whatever it reads.
        assert!(c.admit(0).is_admitted());
        t1.join().unwrap();
        t2.join().unwrap();
        let s = c.status();
        assert_eq!(s.state, State::Closed);
        assert_eq!(s.consecutive_failures, 2);
        // The last failure trips: no count was lost.
        assert_eq!(
            c.on_failure(0).map(|t| t.to),
            Some(State::Open),
            "third failure trips"
        );
    });
}

/// Three callers race for one HalfOpen permit, the first of them also racing to make the lazy
/// Open -> HalfOpen move; callers that get it cancel it (drop) and try once more. Never more
/// than one probe at a time, exactly one lazy transition, and no permit leaks.
#[test]
fn half_open_admits_at_most_the_limit_and_cancellation_returns_permits() {
    loom::model(|| {
        let c = Arc::new(circuit(1, 1));
        assert!(c.on_failure(0).is_some());
        let in_flight = Arc::new(AtomicUsize::new(0));
        let run = |c: &Circuit, in_flight: &AtomicUsize| {
            for _ in 0..2 {
                if let Admit::Probe(p) = c.admit(MS) {
                    let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(n <= 1, "{n} probes at once");
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    drop(p);
                }
            }
        };
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (c, f) = (c.clone(), in_flight.clone());
                thread::spawn(move || run(&c, &f))
            })
            .collect();
        run(&c, &in_flight);
        for h in handles {
            h.join().unwrap();
        }
        let s = c.status();
        assert_eq!(s.state, State::HalfOpen);
        assert_eq!(s.probes_in_flight, 0, "every cancelled permit came back");
        assert_eq!(s.transitions, 2, "Closed->Open, then one Open->HalfOpen");
    });
}

/// With two permits: one probe fails while another is cancelled and a third caller admits.
/// The limit holds, the failure re-opens the circuit, and a stale permit dropped after the
/// episode ended frees nothing.
#[test]
fn probe_failure_races_with_cancellation_and_admit() {
    loom::model(|| {
        let c = Arc::new(circuit(1, 2));
        assert!(c.on_failure(0).is_some());
        let in_flight = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let probe = |c: &Circuit, f: &AtomicUsize, outcome: Option<Outcome>| -> bool {
            match c.admit(MS) {
                Admit::Probe(p) => {
                    let n = f.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(n <= 2, "{n} probes at once");
                    f.fetch_sub(1, Ordering::SeqCst);
                    match outcome {
                        Some(o) => {
                            let _ = p.resolve(o, MS);
                        }
                        None => p.cancel(),
                    }
                    true
                }
                _ => false,
            }
        };
        let failer = {
            let (c, f, failed) = (c.clone(), in_flight.clone(), failed.clone());
            thread::spawn(move || {
                if probe(&c, &f, Some(Outcome::Failure)) {
                    failed.store(1, Ordering::SeqCst);
                }
            })
        };
        let canceller = {
            let (c, f) = (c.clone(), in_flight.clone());
            thread::spawn(move || {
                probe(&c, &f, None);
            })
        };
        let _ = probe(&c, &in_flight, None);
        failer.join().unwrap();
        canceller.join().unwrap();
        let s = c.status();
        assert_eq!(s.probes_in_flight, 0, "no permit leaked");
        if failed.load(Ordering::SeqCst) == 1 {
            // A failed probe of the episode re-opened it, or (if it lost the episode to
            // nothing else) it is Open anyway: nothing closes in this model.
            assert_eq!(s.state, State::Open);
        } else {
            assert_eq!(s.state, State::HalfOpen);
        }
    });
}

/// A probe's success races with a concurrent timeout report from a straggler and a drop of a
/// second permit: the circuit ends Closed with a consistent word.
#[test]
fn probe_success_races_with_stragglers() {
    loom::model(|| {
        let c = Arc::new(circuit(2, 2));
        let _ = c.on_failure(0);
        let _ = c.on_failure(0);
        let Admit::Probe(a) = c.admit(MS) else {
            panic!("probe expected")
        };
        let Admit::Probe(b) = c.admit(MS) else {
            panic!("probe expected")
        };
        let b = b.into_raw();
        let t = {
            let c = c.clone();
            thread::spawn(move || {
                // A straggler admitted while Closed, and the second probe given back.
                let _ = c.on_timeout(MS);
                c.release_raw(b);
            })
        };
        let closed = a.success(MS);
        t.join().unwrap();
        assert_eq!(closed.map(|t| t.to), Some(State::Closed));
        let s = c.status();
        assert_eq!(s.state, State::Closed);
        assert_eq!(s.probes_in_flight, 0);
        // The straggler's timeout counts only if it landed after the close.
        assert!(s.consecutive_failures <= 1);
    });
}
