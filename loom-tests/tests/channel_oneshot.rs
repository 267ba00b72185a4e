//! Loom models of the oneshot channel's lock-free state word and waker slots.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p weir-loom-tests --release
//! --test channel_oneshot`.
#![cfg(loom)]

use loom::thread;
use weir_channel::{oneshot, RecvError, SendError, TryRecvError};

/// The value arrives whether the receiver parks before or after the send.
#[test]
fn send_wakes_the_receiver() {
    loom::model(|| {
        let (tx, rx) = oneshot::<u32>();
        let t = thread::spawn(move || tx.send(9));
        assert_eq!(rx.recv_blocking(), Ok(9));
        assert_eq!(t.join().unwrap(), Ok(()));
    });
}

/// A sender dropped without sending wakes the receiver with Closed.
#[test]
fn dropped_sender_closes() {
    loom::model(|| {
        let (tx, rx) = oneshot::<u32>();
        let t = thread::spawn(move || drop(tx));
        assert_eq!(rx.recv_blocking(), Err(RecvError::Closed));
        t.join().unwrap();
    });
}

/// The receiver closes while the sender sends: the value is either received or returned,
/// exactly one of the two.
#[test]
fn close_races_send() {
    loom::model(|| {
        let (tx, mut rx) = oneshot::<u32>();
        let t = thread::spawn(move || tx.send(4));
        rx.close();
        let sent = t.join().unwrap();
        let got = rx.try_recv();
        match sent {
            Ok(()) => assert_eq!(got, Ok(4)),
            Err(SendError(v)) => {
                assert_eq!(v, 4);
                assert_eq!(got, Err(TryRecvError::Closed));
            }
        }
    });
}

/// `closed()` on the sender wakes when the receiver goes away.
#[test]
fn sender_sees_the_receiver_leave() {
    loom::model(|| {
        let (mut tx, rx) = oneshot::<u32>();
        let t = thread::spawn(move || drop(rx));
        loom::future::block_on(tx.closed());
        assert!(tx.is_closed());
        t.join().unwrap();
    });
}
