//! Loom models of the unbounded channel (lock-free linked blocks; under loom a block holds
//! two values, so these models cross block boundaries).
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p weir-loom-tests --release
//! --test channel_unbounded`.
#![cfg(loom)]

use loom::thread;
use weir_channel::{unbounded, RecvError};

/// Values sent across a block boundary arrive in order, then the close.
#[test]
fn values_cross_a_block_in_order() {
    loom::model(|| {
        let (tx, rx) = unbounded::<u32>();
        let t = thread::spawn(move || {
            for i in 0..3 {
                tx.send_blocking(i).unwrap();
            }
        });
        for i in 0..3 {
            assert_eq!(rx.recv_blocking(), Ok(i));
        }
        assert_eq!(rx.recv_blocking(), Err(RecvError::Closed));
        t.join().unwrap();
    });
}

/// Two senders and a receiver: every value arrives exactly once.
#[test]
fn two_senders_every_value_once() {
    loom::model(|| {
        let (tx, rx) = unbounded::<u32>();
        let tx2 = tx.clone();
        let t = thread::spawn(move || {
            tx2.send_blocking(10).unwrap();
            tx2.send_blocking(11).unwrap();
        });
        tx.send_blocking(20).unwrap();
        drop(tx);
        let mut got = vec![];
        while let Ok(v) = rx.recv_blocking() {
            got.push(v);
        }
        t.join().unwrap();
        got.sort_unstable();
        assert_eq!(got, vec![10, 11, 20]);
    });
}

/// A receiver parked on an empty channel sees a close.
#[test]
fn close_wakes_a_parked_receiver() {
    loom::model(|| {
        let (tx, rx) = unbounded::<u32>();
        let t = thread::spawn(move || rx.recv_blocking());
        tx.close();
        assert_eq!(t.join().unwrap(), Err(RecvError::Closed));
    });
}
