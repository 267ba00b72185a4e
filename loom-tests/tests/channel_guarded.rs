//! Loom model of the guarded channel's hand-over to its backup: nothing lost, nothing twice.
//!
//! A move takes a value from the primary and sends it to the backup; when the backup refuses
//! (full) the value goes back to the primary or, when that is closed too, into the one-slot
//! stash. A receiver that finds the primary closed and drained while a move is in flight must
//! not return its final `Closed` (the value would be stranded): see the invariants of
//! `channel/src/guard/migrate.rs`. The model races the move with a close, a receive on the
//! primary and a send routed to the backup (what a degraded channel's send does), and checks
//! that every value is received exactly once, by a consumer of one channel or the other, or
//! handed back to its sender.
//!
//! The protocol broken, the model fails: with `Migration::on_closed` answering `Closed`
//! without reading `moving` (the fence and the in-flight count skipped), loom finds the
//! interleaving where the receiver returns `Closed` while the mover holds value 2 and then
//! stashes it ("value 2 lost").
//!
//! The breaker-only guard is used: the move protocol is the same for the SLO monitor's moves
//! (`Scope::Aged`), whose monitor is too large for loom to explore.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p weir-loom-tests --release
//! --test channel_guarded`.
#![cfg(loom)]

use loom::thread;
use weir_breaker::BreakerConfig;
use weir_channel::{bounded, loom_api, Builder, RecvError, TryRecvError, TrySendError};

/// Loom's default coroutine stack is too small for a guarded channel's frames.
fn spawn<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> thread::JoinHandle<R> {
    thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(f)
        .expect("spawn a model thread")
}

#[test]
fn hand_over_races_close_receive_and_routed_send() {
    loom::model(|| spawn(model).join().unwrap());
}

fn model() {
    {
        // The backup holds one value: a move of two meets a refusal, and so the put-back or
        // the stash.
        let (btx, brx) = bounded::<u32>(1);
        let (tx, rx) = Builder::bounded(2)
            .breaker(BreakerConfig::new())
            .backup(btx.clone())
            .build();
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();

        let mover_rx = rx.clone();
        let mover = spawn(move || loom_api::hand_over(&mover_rx));
        // A send routed to the backup, then the producer closes the primary.
        let producer = spawn(move || {
            let routed = match btx.try_send(3) {
                Ok(()) => None,
                Err(TrySendError::Full(v) | TrySendError::Closed(v)) => Some(v),
            };
            tx.close();
            routed
        });

        let mut got = Vec::new();
        loop {
            match rx.recv_blocking() {
                Ok(v) => got.push(v),
                Err(RecvError::Closed) => break,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        mover.join().unwrap();
        let handed_back = producer.join().unwrap();
        // Everything the mover left is in the backup now (the primary answered Closed, so the
        // stash is empty and nothing is in flight).
        loop {
            match brx.try_recv() {
                Ok(v) => got.push(v),
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        got.extend(handed_back);
        got.sort_unstable();
        for v in 1..=3 {
            let n = got.iter().filter(|&&g| g == v).count();
            assert!(n != 0, "value {v} lost: got {got:?}");
            assert!(n == 1, "value {v} received {n} times: got {got:?}");
        }
    }
}
