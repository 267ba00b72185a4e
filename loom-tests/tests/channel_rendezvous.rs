//! Loom models of the rendezvous channel: a send completes only when a receiver takes the
//! value, and close is seen by every waiter.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p weir-loom-tests --release
//! --test channel_rendezvous`.
#![cfg(loom)]

use loom::thread;
use weir_channel::{rendezvous, RecvError, SendError};

/// Sender first or receiver first: the value is handed over and both return.
#[test]
fn handover() {
    loom::model(|| {
        let (tx, rx) = rendezvous::<u32>();
        let t = thread::spawn(move || tx.send_blocking(5));
        assert_eq!(rx.recv_blocking(), Ok(5));
        assert_eq!(t.join().unwrap(), Ok(()));
    });
}

/// A waiting sender with no receiver is woken by the close and gets its value back.
#[test]
fn close_returns_a_waiting_senders_value() {
    loom::model(|| {
        let (tx, rx) = rendezvous::<u32>();
        let t = thread::spawn(move || tx.send_blocking(1));
        assert!(rx.close());
        assert_eq!(t.join().unwrap(), Err(SendError(1)));
    });
}

/// Sender, receiver and close race: either the value was handed over (the send succeeded and
/// the receiver has it) or nothing was (the send got its value back, the receiver saw Closed).
#[test]
fn close_races_a_handover() {
    loom::model(|| {
        let (tx, rx) = rendezvous::<u32>();
        let closer = tx.clone();
        let s = thread::spawn(move || tx.send_blocking(3));
        let r = thread::spawn(move || rx.recv_blocking());
        closer.close();
        let sent = s.join().unwrap();
        let got = r.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(got, Ok(3)),
            Err(SendError(v)) => {
                assert_eq!(v, 3);
                assert_eq!(got, Err(RecvError::Closed));
            }
        }
    });
}
