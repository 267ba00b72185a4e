//! Loom models of waiter deregistration on cancellation: a receive future dropped while it
//! waits (possibly after being handed a wake-up or, on a rendezvous, a value) strands
//! nothing.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p weir-loom-tests --release
//! --test channel_cancel`.
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use loom::thread;
use weir_channel::{bounded, rendezvous, unbounded, Receiver, Sender};

struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// Polls one receive once and drops it: the cancelled waiter.
fn poll_once_and_cancel(rx: &Receiver<u32>) -> Option<u32> {
    let waker = Waker::from(Arc::new(Noop));
    let mut fut = pin!(rx.recv());
    match fut.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(Ok(v)) => Some(v),
        _ => None,
    }
}

/// A value sent while one receiver cancels and another waits reaches exactly one of them.
fn cancelled_receiver_strands_nothing(make: fn() -> (Sender<u32>, Receiver<u32>)) {
    loom::model(move || {
        let (tx, rx) = make();
        let rx2 = rx.clone();
        let waiting = thread::spawn(move || rx2.recv_blocking().ok());
        let sender = thread::spawn(move || {
            tx.send_blocking(5).unwrap();
        });
        let cancelled = poll_once_and_cancel(&rx);
        sender.join().unwrap();
        // The sender is gone: the channel is closed, so the waiting receiver returns.
        let other = waiting.join().unwrap();
        // What the cancelled receive did not return was kept for the channel.
        let left = rx.try_recv().ok();
        let got: Vec<u32> = [cancelled, other, left].into_iter().flatten().collect();
        assert_eq!(got, vec![5], "lost or duplicated");
    });
}

#[test]
fn bounded_cancelled_receiver_strands_nothing() {
    cancelled_receiver_strands_nothing(|| bounded(1));
}

#[test]
fn unbounded_cancelled_receiver_strands_nothing() {
    cancelled_receiver_strands_nothing(unbounded);
}

#[test]
fn rendezvous_cancelled_receiver_strands_nothing() {
    cancelled_receiver_strands_nothing(rendezvous);
}

/// A sender cancelled while it waits for room leaves no waiter: a later sender is not
/// blocked behind it and the receiver sees only the later value.
#[test]
fn cancelled_sender_leaves_no_waiter() {
    loom::model(|| {
        let (tx, rx) = bounded::<u32>(1);
        tx.try_send(0).unwrap();
        let tx2 = tx.clone();
        let t = thread::spawn(move || {
            let waker = Waker::from(Arc::new(Noop));
            let mut fut = pin!(tx2.send(1));
            let first = fut.as_mut().poll(&mut Context::from_waker(&waker));
            first.is_ready()
        });
        assert_eq!(rx.recv_blocking(), Ok(0));
        let cancelled_sent = t.join().unwrap();
        let later = thread::spawn(move || tx.send_blocking(2).unwrap());
        let mut got = vec![];
        while let Ok(v) = rx.recv_blocking() {
            got.push(v);
        }
        later.join().unwrap();
        if cancelled_sent {
            assert_eq!(got, vec![1, 2]);
        } else {
            assert_eq!(got, vec![2]);
        }
    });
}
