//! `select!`'s Go guarantees: a `default` that sees every ready branch (the coop budget does
//! not make it lie), uniform choice among ready branches, one moment of decision, and the
//! degenerate forms.

use std::future::{pending, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll};

use weir_channel::{bounded, select, Receiver, Sender};
use weir_runtime::runtime::{Builder, Runtime};

fn current() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

fn multi() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

const N: u32 = 1_000;

/// Receives with `select! { .., default => break }` until the select says nothing is ready.
async fn drain(rx: Receiver<u32>) -> u32 {
    let mut got = 0;
    loop {
        select! {
            v = rx.recv() => {
                assert_eq!(v, Ok(got));
                got += 1;
            }
            default => break,
        }
    }
    got
}

/// Sends with `select! { .., default => break }` until the select says nothing is ready.
async fn fill(tx: Sender<u32>) -> u32 {
    let mut sent = 0;
    loop {
        select! {
            r = tx.send(sent) => {
                assert!(r.is_ok());
                sent += 1;
            }
            default => break,
        }
    }
    sent
}

fn buffered_full() -> (Sender<u32>, Receiver<u32>) {
    let (tx, rx) = bounded(N as usize);
    for i in 0..N {
        tx.try_send(i).unwrap();
    }
    (tx, rx)
}

#[test]
fn default_drains_every_buffered_value_in_block_on() {
    for rt in [current(), multi()] {
        let (_tx, rx) = buffered_full();
        assert_eq!(rt.block_on(drain(rx)), N);
    }
}

#[test]
fn default_drains_every_buffered_value_in_a_task() {
    for rt in [current(), multi()] {
        let (_tx, rx) = buffered_full();
        let got = rt.block_on(async move { weir_runtime::spawn(drain(rx)).await.unwrap() });
        assert_eq!(got, N);
    }
}

#[test]
fn default_fills_every_free_slot_in_block_on() {
    for rt in [current(), multi()] {
        let (tx, rx) = bounded::<u32>(N as usize);
        assert_eq!(rt.block_on(fill(tx)), N);
        assert_eq!(rx.len(), N as usize);
    }
}

#[test]
fn default_fills_every_free_slot_in_a_task() {
    for rt in [current(), multi()] {
        let (tx, rx) = bounded::<u32>(N as usize);
        let sent = rt.block_on(async move { weir_runtime::spawn(fill(tx)).await.unwrap() });
        assert_eq!(sent, N);
        assert_eq!(rx.len(), N as usize);
    }
}

/// `10_000` selects over `never` branches and two always-ready receives; the wins of each
/// ready branch, in declaration order.
fn fairness(nevers: usize) -> [u32; 2] {
    weir_channel::select::seed_rng(0x5EED_F00D);
    let (ntx, nrx) = bounded::<u8>(1);
    let (t1, r1) = bounded::<u8>(1);
    let (t2, r2) = bounded::<u8>(1);
    t1.try_send(1).unwrap();
    t2.try_send(2).unwrap();
    let mut wins = [0u32; 2];
    current().block_on(async {
        for _ in 0..10_000 {
            let won = if nevers == 2 {
                select! {
                    _ = nrx.recv() => unreachable!(),
                    _ = nrx.recv() => unreachable!(),
                    _ = r1.recv() => 0,
                    _ = r2.recv() => 1,
                }
            } else {
                select! {
                    _ = nrx.recv() => unreachable!(),
                    _ = r1.recv() => 0,
                    _ = r2.recv() => 1,
                }
            };
            wins[won] += 1;
            [&t1, &t2][won].try_send(1).unwrap();
        }
    });
    drop(ntx);
    eprintln!("{nevers} never branches: wins {wins:?}");
    wins
}

#[test]
fn ready_branches_win_uniformly_after_two_nevers() {
    let wins = fairness(2);
    for w in wins {
        assert!(
            (4_500..=5_500).contains(&w),
            "wins {wins:?} not within 10 % of uniform"
        );
    }
}

#[test]
fn ready_branches_win_uniformly_after_one_never() {
    let wins = fairness(1);
    for w in wins {
        assert!(
            (4_500..=5_500).contains(&w),
            "wins {wins:?} not within 10 % of uniform"
        );
    }
}

/// A branch future that, at its first poll, runs `act` (here: another thread's operations
/// between two of the select's branch polls) and then stays pending.
struct Between<F: FnMut()> {
    act: Option<F>,
}

impl<F: FnMut() + Unpin> Future for Between<F> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if let Some(mut act) = self.act.take() {
            act();
        }
        Poll::Pending
    }
}

/// The select polls `c2` (empty); then, before it polls `c1`, another thread makes `c2` ready
/// and only then takes `c1`'s value. At no instant were both empty, so `default` is wrong.
#[test]
fn default_is_decided_at_one_moment() {
    let rt = current();
    for _ in 0..100 {
        let (t1, r1) = bounded::<u32>(1);
        let (t2, r2) = bounded::<u32>(1);
        t1.try_send(1).unwrap();
        let go = Arc::new(Barrier::new(2));
        let done = Arc::new(Barrier::new(2));
        let other = {
            let (go, done, r1) = (go.clone(), done.clone(), r1.clone());
            std::thread::spawn(move || {
                go.wait();
                t2.try_send(2).unwrap();
                assert_eq!(r1.try_recv(), Ok(1));
                done.wait();
            })
        };
        let between = Between {
            act: Some(|| {
                go.wait();
                done.wait();
            }),
        };
        let got = rt.block_on(async {
            select! {
                biased;
                v = r2.recv() => v.unwrap(),
                _ = between => unreachable!(),
                v = r1.recv() => v.unwrap(),
                default => 0,
            }
        });
        other.join().unwrap();
        assert_eq!(
            got, 2,
            "took default although c2 was ready once c1 was empty"
        );
    }
}

/// Real threads: a mover keeps at least one token in `c1` or `c2` at every instant (it sends
/// to one before it takes from the other); the select must never find both empty.
#[test]
fn default_never_fires_while_a_token_is_always_in_flight() {
    let (t1, r1) = bounded::<u32>(4);
    let (t2, r2) = bounded::<u32>(4);
    t1.try_send(0).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mover = {
        let (t1, r1, t2, r2, stop) = (t1.clone(), r1.clone(), t2.clone(), r2.clone(), stop.clone());
        std::thread::spawn(move || {
            // Every operation fails once the channels close at the end: then it stops.
            while !stop.load(Ordering::Relaxed) {
                if t2.send_blocking(0).is_err()
                    || r1.recv_blocking().is_err()
                    || t1.send_blocking(0).is_err()
                    || r2.recv_blocking().is_err()
                {
                    break;
                }
            }
        })
    };
    let defaults = AtomicU32::new(0);
    current().block_on(async {
        for _ in 0..20_000 {
            select! {
                v = r1.recv() => t1.send(v.unwrap()).await.unwrap(),
                v = r2.recv() => t2.send(v.unwrap()).await.unwrap(),
                default => {
                    defaults.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    stop.store(true, Ordering::Relaxed);
    // Unblock the mover wherever it waits.
    t1.close();
    t2.close();
    mover.join().unwrap();
    assert_eq!(defaults.load(Ordering::Relaxed), 0);
}

#[test]
fn degenerate_forms_compile_and_behave() {
    let rt = current();
    // `select! {}` never completes.
    let forever = async {
        select! {}
    };
    let timed = rt.block_on(weir_runtime::time::timeout(
        std::time::Duration::from_millis(20),
        forever,
    ));
    assert!(timed.is_err());
    // Only a default: it runs.
    let v: u32 = rt.block_on(async {
        select! { default => 5 }
    });
    assert_eq!(v, 5);
    let v: u32 = rt.block_on(async {
        select! { biased; default => { 6 } }
    });
    assert_eq!(v, 6);
}

#[test]
fn biased_polls_in_declaration_order() {
    let (t1, r1) = bounded::<u8>(1);
    let (t2, r2) = bounded::<u8>(1);
    t2.try_send(2).unwrap();
    let rt = current();
    for _ in 0..100 {
        t1.try_send(1).unwrap();
        let v = rt.block_on(async {
            select! {
                biased;
                v = r1.recv() => v.unwrap(),
                v = r2.recv() => v.unwrap(),
            }
        });
        assert_eq!(v, 1);
    }
}

#[test]
fn else_runs_when_every_branch_is_disabled() {
    let rt = current();
    let evaluated = AtomicBool::new(false);
    let make = || {
        evaluated.store(true, Ordering::SeqCst);
        pending::<u8>()
    };
    let v = rt.block_on(async {
        select! {
            _ = make(), if false => 1,
            _ = make(), if false => 2,
            else => 3,
        }
    });
    assert_eq!(v, 3);
    assert!(
        !evaluated.load(Ordering::SeqCst),
        "a disabled branch's future was created"
    );
    // A branch whose pattern does not match is disabled too; then `else` runs.
    let (tx, rx) = bounded::<u8>(1);
    drop(tx);
    let v = rt.block_on(async {
        select! {
            Ok(v) = rx.recv() => v,
            else => 9,
        }
    });
    assert_eq!(v, 9);
    // With no branch left the `else` also runs when the select is `biased`.
    let v: u8 = rt.block_on(async {
        select! { biased; else => 4 }
    });
    assert_eq!(v, 4);
}

/// As `default_is_decided_at_one_moment`, on rendezvous channels: `c1` has a waiting sender
/// when the select starts; between the select's polls of `c2` and `c1`, a sender parks on
/// `c2` and only then is `c1`'s sender taken by another receiver.
#[test]
fn rendezvous_default_is_decided_at_one_moment() {
    use std::time::Duration;
    let rt = current();
    for _ in 0..3 {
        let (t1, r1) = weir_channel::rendezvous::<u32>();
        let (t2, r2) = weir_channel::rendezvous::<u32>();
        // A sender stays behind so that `c1` does not close when the first one is done.
        let t1_open = t1.clone();
        let first = std::thread::spawn(move || t1.send_blocking(1));
        // Parking takes microseconds; these waits only let the other threads get there.
        std::thread::sleep(Duration::from_millis(100));
        let mut second = None;
        let between = Between {
            act: Some(|| {
                let t2 = t2.clone();
                second = Some(std::thread::spawn(move || t2.send_blocking(2)));
                std::thread::sleep(Duration::from_millis(100));
                assert_eq!(r1.recv_blocking(), Ok(1));
            }),
        };
        let got = rt.block_on(async {
            select! {
                biased;
                v = r2.recv() => v.unwrap(),
                _ = between => unreachable!(),
                v = r1.recv() => v.unwrap(),
                default => 0,
            }
        });
        assert_eq!(
            got, 2,
            "took default although c2 had a waiting sender once c1 had none"
        );
        assert_eq!(first.join().unwrap(), Ok(()));
        assert_eq!(second.take().unwrap().join().unwrap(), Ok(()));
        drop(t1_open);
    }
}
