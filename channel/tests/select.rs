//! `select!` itself: preconditions, refutable patterns, default, fairness, nesting, timers.

use std::future::{pending, ready, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use weir_channel::{bounded, rendezvous, select, unbounded, RecvError};
use weir_runtime::runtime::{Builder, Runtime};

fn rt() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

fn noop_waker() -> Waker {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    Waker::from(Arc::new(Noop))
}

fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let mut fut = pin!(fut);
    fut.as_mut().poll(&mut Context::from_waker(&noop_waker()))
}

#[test]
fn a_disabled_branch_is_never_created_nor_polled() {
    let created = AtomicBool::new(false);
    let make = || {
        created.store(true, Ordering::SeqCst);
        ready(1)
    };
    let got = poll_once(async {
        select! {
            v = make(), if false => v,
            default => 0,
        }
    });
    assert_eq!(got, Poll::Ready(0));
    assert!(!created.load(Ordering::SeqCst));
    // Enabled, it wins.
    let got = poll_once(async {
        select! {
            v = make(), if true => v,
            default => 0,
        }
    });
    assert_eq!(got, Poll::Ready(1));
}

#[test]
fn all_disabled_without_default_waits_forever() {
    let got = poll_once(async {
        select! {
            v = ready(1), if false => v,
        }
    });
    assert!(got.is_pending());
}

#[test]
fn an_unmatched_pattern_disables_its_branch() {
    let (tx, rx) = bounded::<u32>(1);
    tx.close();
    // The receive completes with Err(Closed), which `Ok(v)` does not match: the select goes
    // on with the other branch.
    let got = poll_once(async {
        select! {
            Ok(v) = rx.recv() => v,
            v = ready(9) => v,
        }
    });
    assert_eq!(got, Poll::Ready(9));
    let got = poll_once(async {
        select! {
            Ok(v) = rx.recv() => v,
            default => 0,
        }
    });
    assert_eq!(got, Poll::Ready(0));
}

#[test]
fn the_start_branch_is_random() {
    let mut firsts = [0u32; 3];
    for _ in 0..3_000 {
        let got = poll_once(async {
            select! {
                _ = ready(()) => 0,
                _ = ready(()) => 1,
                _ = ready(()) => 2,
            }
        });
        match got {
            Poll::Ready(i) => firsts[i] += 1,
            Poll::Pending => panic!("all branches were ready"),
        }
    }
    // Each of three always-ready branches wins about a third of the time.
    for (i, n) in firsts.iter().enumerate() {
        assert!(*n > 600, "branch {i} won only {n} of 3000: {firsts:?}");
    }
}

#[test]
fn handlers_may_be_blocks_or_expressions() {
    let got = poll_once(async {
        let a = select! {
            v = ready(1) => { v + 1 }
            default => 0
        };
        let b = select! {
            v = ready(1) => v * 10,
        };
        a + b
    });
    assert_eq!(got, Poll::Ready(12));
}

#[test]
fn select_over_timers_and_channels() {
    let rt = rt();
    rt.block_on(async {
        let (tx, rx) = unbounded::<u32>();
        let timed_out = select! {
            _ = rx.recv() => false,
            _ = weir_runtime::time::sleep(Duration::from_millis(3)) => true,
        };
        assert!(timed_out);
        tx.send(4).await.unwrap();
        let got = select! {
            v = rx.recv() => v,
            _ = weir_runtime::time::sleep(Duration::from_secs(60)) => Err(RecvError::Closed),
        };
        assert_eq!(got, Ok(4));
    });
}

#[test]
fn nested_selects_commit_through_every_level() {
    let rt = rt();
    rt.block_on(async {
        for _ in 0..200 {
            let (tx_a, rx_a) = rendezvous::<u32>();
            let (tx_b, rx_b) = rendezvous::<u32>();
            let receiver = weir_runtime::spawn(async move {
                select! {
                    v = rx_a.recv() => ("a", v.unwrap()),
                    v = rx_b.recv() => ("b", v.unwrap()),
                }
            });
            // The sender's choice sits inside an inner select; exactly one value goes out.
            let which = select! {
                w = async {
                    select! {
                        r = tx_a.send(1) => { r.unwrap(); "a" },
                        r = tx_b.send(2) => { r.unwrap(); "b" },
                    }
                } => w,
                _ = pending::<()>() => unreachable!(),
            };
            let (got, v) = receiver.await.unwrap();
            assert_eq!(which, got);
            assert_eq!(v, if got == "a" { 1 } else { 2 });
            // Nothing else was delivered.
            assert!(tx_a.try_send(0).is_err() && tx_b.try_send(0).is_err());
        }
    });
}

#[test]
fn a_losing_rendezvous_send_branch_delivers_nothing() {
    let rt = rt();
    rt.block_on(async {
        let (tx, rx) = rendezvous::<u32>();
        let (tx2, rx2) = bounded::<u32>(1);
        let mut delivered = 0;
        let mut other = 0;
        let receiver = weir_runtime::spawn(async move {
            let mut n = 0;
            while rx.recv().await.is_ok() {
                n += 1;
            }
            n
        });
        for i in 0..500 {
            if i % 2 == 0 {
                tx2.try_send(i).unwrap();
            }
            select! {
                r = tx.send(i) => { r.unwrap(); delivered += 1; },
                v = rx2.recv() => { v.unwrap(); other += 1; },
            }
            // Drain a value the select did not take, so the next round starts clean.
            let _ = rx2.try_recv();
        }
        drop(tx);
        // Every value the receiver got was reported as sent by the select, and no more; each
        // round took exactly one branch.
        assert_eq!(receiver.await.unwrap(), delivered);
        assert_eq!(delivered + other, 500);
        assert!(other > 0 && delivered > 0, "{delivered} {other}");
    });
}

#[test]
fn handles_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<weir_channel::Sender<Vec<u8>>>();
    send_sync::<weir_channel::Receiver<Vec<u8>>>();
    let (tx, rx) = bounded::<Vec<u8>>(1);
    send(&tx.send(vec![]));
    send(&rx.recv());
    send(&rx.closed());
    let (otx, orx) = weir_channel::oneshot::<Vec<u8>>();
    send(&otx);
    send(&orx);
    // Clones share the channel.
    let tx2 = tx.clone();
    assert!(tx2.same_channel(&tx));
    assert_eq!(tx.sender_count(), 2);
    assert_eq!(rx.receiver_count(), 1);
    assert_eq!(tx.id(), rx.id());
    let (named, _r) = weir_channel::Builder::bounded(3)
        .name("orders")
        .build::<u8>();
    assert_eq!(named.name(), Some("orders"));
    assert_ne!(named.id(), tx.id());
    assert!(format!("{named:?}").contains("orders"));
}
