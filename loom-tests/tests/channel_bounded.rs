//! Loom models of the bounded channel (the lock-free ring and its wait queues): no lost
//! wake-up, no value lost or duplicated, close seen by every waiter.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p weir-loom-tests --release
//! --test channel_bounded`.
#![cfg(loom)]

use loom::thread;
use weir_channel::{bounded, RecvError, SendError, TryRecvError};

/// A sender that must wait for room (capacity 1) and a receiver that must wait for values:
/// both wake, in order, whatever the interleaving.
#[test]
fn send_waits_for_room_and_recv_waits_for_value() {
    loom::model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let t = thread::spawn(move || {
            tx.send_blocking(1).unwrap();
            tx.send_blocking(2).unwrap();
        });
        assert_eq!(rx.recv_blocking(), Ok(1));
        assert_eq!(rx.recv_blocking(), Ok(2));
        t.join().unwrap();
        // The sender is gone: closed and drained.
        assert_eq!(rx.recv_blocking(), Err(RecvError::Closed));
    });
}

/// A receiver parked on an empty channel sees a close from another thread.
#[test]
fn close_wakes_a_parked_receiver() {
    loom::model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let t = thread::spawn(move || rx.recv_blocking());
        assert!(tx.close());
        assert_eq!(t.join().unwrap(), Err(RecvError::Closed));
        assert!(!tx.close());
    });
}

/// A sender parked on a full channel races a close: its value is either delivered (and then
/// drained after the close) or returned to it, never both, never lost.
#[test]
fn close_races_a_parked_sender() {
    loom::model(|| {
        let (tx, rx) = bounded::<u32>(1);
        tx.try_send(0).unwrap();
        let t = thread::spawn(move || tx.send_blocking(1));
        let first = rx.recv_blocking();
        rx.close();
        let mut drained = vec![];
        while let Ok(v) = rx.recv_blocking() {
            drained.push(v);
        }
        let sent = t.join().unwrap();
        assert_eq!(first, Ok(0));
        match sent {
            Ok(()) => assert_eq!(drained, vec![1]),
            Err(SendError(v)) => {
                assert_eq!(v, 1);
                assert!(drained.is_empty());
            }
        }
    });
}

/// Two receivers, one value, then close: exactly one gets the value, both return.
#[test]
fn two_receivers_one_value() {
    loom::model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let rx2 = rx.clone();
        let t = thread::spawn(move || rx2.recv_blocking());
        tx.send_blocking(7).unwrap();
        drop(tx);
        let mine = rx.recv_blocking();
        let theirs = t.join().unwrap();
        let got: Vec<_> = [mine, theirs].into_iter().filter_map(Result::ok).collect();
        assert_eq!(got, vec![7]);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}
