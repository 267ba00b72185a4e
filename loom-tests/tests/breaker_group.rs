//! Loom model of the group snapshot word: wait-free readers never see a torn state, and a trip
//! reported by one layer is seen by a following layer.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p weir-loom-tests --release
//! --test breaker_group`.
#![cfg(loom)]

use std::time::Duration;

use loom::thread;
use weir_breaker::{Admit, BreakerConfig, Circuit, Group, GroupPolicy, GroupSnapshot, State};

const MS: u64 = 1_000_000;

/// Every state a reader may see is one some sequence of whole reports produces.
fn consistent(s: &GroupSnapshot) {
    // Stamps are 1 + ms: trips at 5 ms and 9 ms.
    assert!(
        [0, 6, 10].contains(&s.last_opened_stamp),
        "stamp from no trip: {s:?}"
    );
    if s.open {
        assert_ne!(s.last_opened_stamp, 0, "open without a trip time: {s:?}");
    }
    assert!(s.failures <= 2, "{s:?}");
}

#[test]
fn snapshot_is_never_torn() {
    loom::model(|| {
        let g = std::sync::Arc::new(Group::new());
        let a = {
            let g = g.clone();
            thread::spawn(move || {
                g.report_failure();
                g.report_trip(5 * MS);
            })
        };
        let b = {
            let g = g.clone();
            thread::spawn(move || {
                g.report_failure();
                g.report_trip(9 * MS);
                g.report_close();
            })
        };
        let first = g.snapshot();
        consistent(&first);
        let second = g.snapshot();
        consistent(&second);
        assert!(
            second.last_opened_stamp >= first.last_opened_stamp,
            "stamps only grow"
        );
        a.join().unwrap();
        b.join().unwrap();
        let last = g.snapshot();
        consistent(&last);
        assert_eq!(last.last_opened_stamp, 10, "the latest trip wins");
    });
}

/// One layer trips while a following layer admits: the follower either passes (it read before
/// the trip) or rejects, and once the trip has happened-before its admit, it always rejects.
#[test]
fn a_trip_is_seen_by_a_follower() {
    loom::model(|| {
        let g = std::sync::Arc::new(Group::new());
        let config = BreakerConfig::new().failure_threshold(1);
        let storage = std::sync::Arc::new(
            Circuit::new(config, 1)
                .unwrap()
                .with_group(g.clone(), GroupPolicy::Report),
        );
        let logic = Circuit::new(BreakerConfig::default(), 2)
            .unwrap()
            .with_group(g.clone(), GroupPolicy::Follow);
        let t = {
            let storage = storage.clone();
            thread::spawn(move || {
                assert!(storage.on_failure(MS).is_some());
            })
        };
        let early = logic.admit(2 * MS);
        if let Admit::Reject { retry_after } = early {
            assert!(retry_after <= Duration::from_secs(30));
        }
        t.join().unwrap();
        assert!(!logic.admit(2 * MS).is_admitted());
        assert_eq!(logic.state(), State::Open);
    });
}
