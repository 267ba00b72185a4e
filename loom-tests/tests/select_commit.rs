//! Loom model of `select!`'s commit token on rendezvous channels: however the partners race
//! the select's polls (`POLLING`, `MISSED`, `WAITING -> COMMITTED`), exactly one branch
//! happens, and the losing partner keeps its value.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p weir-loom-tests --release
//! --test select_commit`.
//!
//! Shown to fail when the protocol is broken (both tried, both failed at the winner-count
//! assertion with "sends [Ok(()), Ok(())], select took 1": a value lost):
//! * `Claim::try_commit` also committing a token that is already `COMMITTED` (an arm
//!   `COMMITTED => (COMMITTED | path, true)`): the second sender hands its value to a select
//!   that has already taken the first;
//! * `try_commit` committing a `POLLING` token (`POLLING => (COMMITTED | path, true)` instead
//!   of setting `MISSED`): a partner completes a parked branch while the select's poll is
//!   pairing another branch actively.
#![cfg(loom)]

use loom::thread;
use weir_channel::{rendezvous, select, SendError};

/// Two senders race for a select over two rendezvous receives (polled in either order);
/// afterwards both channels are closed so the loser's blocking send returns.
fn race(second_first: bool) {
    loom::model(move || {
        let (t1, r1) = rendezvous::<u32>();
        let (t2, r2) = rendezvous::<u32>();
        let s1 = thread::spawn(move || t1.send_blocking(1));
        let s2 = thread::spawn(move || t2.send_blocking(2));
        let got = loom::future::block_on(async {
            if second_first {
                select! {
                    biased;
                    v = r2.recv() => v.unwrap(),
                    v = r1.recv() => v.unwrap(),
                }
            } else {
                select! {
                    biased;
                    v = r1.recv() => v.unwrap(),
                    v = r2.recv() => v.unwrap(),
                }
            }
        });
        r1.close();
        r2.close();
        let sent = [s1.join().unwrap(), s2.join().unwrap()];
        // Exactly one send happened, and it is the value the select took.
        let winners: Vec<usize> = (0..2).filter(|&i| sent[i].is_ok()).collect();
        assert_eq!(winners.len(), 1, "sends {sent:?}, select took {got}");
        assert_eq!(got, winners[0] as u32 + 1);
        let loser = 1 - winners[0];
        assert_eq!(sent[loser], Err(SendError(loser as u32 + 1)));
    });
}

#[test]
fn one_branch_happens() {
    race(false);
}

#[test]
fn one_branch_happens_second_polled_first() {
    race(true);
}

/// A select with a send and a receive branch on one rendezvous channel never pairs with
/// itself; a partner receiver completes the send branch.
#[test]
fn a_select_does_not_pair_with_itself() {
    loom::model(|| {
        let (tx, rx) = rendezvous::<u32>();
        let rx2 = rx.clone();
        let partner = thread::spawn(move || rx2.recv_blocking());
        let took = loom::future::block_on(async {
            select! {
                r = tx.send(7) => { r.unwrap(); "send" }
                v = rx.recv() => { v.unwrap(); "recv" }
            }
        });
        assert_eq!(took, "send");
        assert_eq!(partner.join().unwrap(), Ok(7));
    });
}
