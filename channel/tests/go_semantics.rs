//! Go's channel semantics, ported: every case runs through the plain operation, a one-branch
//! `select!`, and a `select!` with an extra branch that is never ready.

use std::collections::HashMap;
use std::future::{pending, Future};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use weir_channel::{
    bounded, rendezvous, select, unbounded, Receiver, RecvError, SendError, Sender, TryRecvError,
    TrySendError,
};
use weir_runtime::runtime::{Builder, Runtime};

fn rt() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

fn rt_current() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Plain,
    Select1,
    SelectNever,
}

const MODES: [Mode; 3] = [Mode::Plain, Mode::Select1, Mode::SelectNever];

async fn recv<T>(rx: &Receiver<T>, mode: Mode) -> Result<T, RecvError> {
    match mode {
        Mode::Plain => rx.recv().await,
        Mode::Select1 => select! { v = rx.recv() => v },
        Mode::SelectNever => select! {
            v = rx.recv() => v,
            _ = pending::<()>() => unreachable!("a never-ready branch completed"),
        },
    }
}

async fn send<T>(tx: &Sender<T>, value: T, mode: Mode) -> Result<(), SendError<T>> {
    match mode {
        Mode::Plain => tx.send(value).await,
        Mode::Select1 => select! { r = tx.send(value) => r },
        Mode::SelectNever => select! {
            _ = pending::<()>() => unreachable!("a never-ready branch completed"),
            r = tx.send(value) => r,
        },
    }
}

/// Polls `fut` exactly once.
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let mut fut = pin!(fut);
    fut.as_mut().poll(&mut Context::from_waker(&noop_waker()))
}

/// Each flavour, by name.
fn flavours() -> Vec<(&'static str, Sender<u32>, Receiver<u32>)> {
    let (a, b) = bounded(4);
    let (c, d) = rendezvous();
    let (e, f) = unbounded();
    let (g, h) = bounded(1);
    vec![
        ("bounded(4)", a, b),
        ("rendezvous", c, d),
        ("unbounded", e, f),
        ("bounded(1)", g, h),
    ]
}

#[test]
fn recv_on_closed_empty_returns_closed_at_once_repeatedly() {
    for (name, tx, rx) in flavours() {
        assert!(tx.close(), "{name}");
        for mode in MODES {
            for _ in 0..50 {
                // Ready on the very first poll: no waiting, no wake-up needed.
                match poll_once(recv(&rx, mode)) {
                    Poll::Ready(Err(RecvError::Closed)) => {}
                    other => panic!("{name} {mode:?}: {:?}", other.map(|r| r.is_ok())),
                }
            }
        }
        for _ in 0..50 {
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "{name}");
            assert_eq!(rx.recv_blocking(), Err(RecvError::Closed), "{name}");
        }
    }
}

#[test]
fn buffered_values_are_drained_before_closed() {
    let rt = rt_current();
    for mode in MODES {
        for (name, tx, rx) in [bounded::<u32>(8), unbounded()]
            .into_iter()
            .enumerate()
            .map(|(i, (t, r))| (["bounded", "unbounded"][i], t, r))
        {
            rt.block_on(async {
                for i in 0..5 {
                    send(&tx, i, mode).await.unwrap();
                }
                assert!(rx.close());
                for i in 0..5 {
                    assert_eq!(recv(&rx, mode).await, Ok(i), "{name} {mode:?}");
                }
                assert_eq!(recv(&rx, mode).await, Err(RecvError::Closed), "{name}");
                assert_eq!(recv(&rx, mode).await, Err(RecvError::Closed), "{name}");
            });
        }
    }
}

#[test]
fn non_blocking_recv_on_closed_is_selected_immediately() {
    for (name, tx, rx) in flavours() {
        tx.close();
        let got = poll_once(async {
            select! {
                v = rx.recv() => Some(v),
                default => None,
            }
        });
        assert!(
            matches!(got, Poll::Ready(Some(Err(RecvError::Closed)))),
            "{name}"
        );
        let got = poll_once(async {
            select! {
                v = rx.recv() => Some(v),
                _ = pending::<()>() => None,
                default => None,
            }
        });
        assert!(
            matches!(got, Poll::Ready(Some(Err(RecvError::Closed)))),
            "{name}"
        );
    }
}

#[test]
fn send_after_close_returns_the_value() {
    let rt = rt_current();
    for (name, tx, rx) in flavours() {
        assert!(rx.close(), "{name}");
        rt.block_on(async {
            for mode in MODES {
                assert_eq!(
                    send(&tx, 7, mode).await,
                    Err(SendError(7)),
                    "{name} {mode:?}"
                );
            }
        });
        assert_eq!(tx.try_send(8), Err(TrySendError::Closed(8)), "{name}");
        assert_eq!(tx.send_blocking(9), Err(SendError(9)), "{name}");
        // Sends on a closed channel return their value, the non-blocking select too.
        let got = poll_once(async {
            select! {
                r = tx.send(10) => Some(r),
                default => None,
            }
        });
        assert!(
            matches!(got, Poll::Ready(Some(Err(SendError(10))))),
            "{name}"
        );
    }
}

#[test]
fn close_of_closed_returns_false() {
    for (name, tx, rx) in flavours() {
        assert!(!tx.is_closed(), "{name}");
        assert!(tx.close(), "{name}");
        assert!(tx.is_closed() && rx.is_closed(), "{name}");
        for _ in 0..3 {
            assert!(!tx.close(), "{name}");
            assert!(!rx.close(), "{name}");
        }
        let tx2 = tx.clone();
        drop(tx);
        drop(tx2); // the last sender closing an already closed channel is harmless
        assert!(!rx.close(), "{name}");
    }
    // Dropping the last sender closes; a later close() is then not the closing call.
    let (tx, rx) = bounded::<u8>(1);
    drop(tx);
    assert!(rx.is_closed());
    assert!(!rx.close());
    // Dropping the last receiver closes too.
    let (tx, rx) = unbounded::<u8>();
    let rx2 = rx.clone();
    drop(rx);
    assert!(!tx.is_closed());
    drop(rx2);
    assert!(tx.is_closed());
    assert!(!tx.close());
}

fn fifo_case(rt: &Runtime, tx: Sender<(usize, u32)>, rx: Receiver<(usize, u32)>, mode: Mode) {
    const PRODUCERS: usize = 4;
    const PER: u32 = 300;
    rt.block_on(async move {
        let mut tasks = Vec::new();
        for p in 0..PRODUCERS {
            let tx = tx.clone();
            tasks.push(weir_runtime::spawn(async move {
                for i in 0..PER {
                    send(&tx, (p, i), mode).await.unwrap();
                }
            }));
        }
        drop(tx);
        let mut next = HashMap::new();
        let mut total = 0;
        while let Ok((p, i)) = recv(&rx, mode).await {
            let expected = next.entry(p).or_insert(0u32);
            assert_eq!(i, *expected, "producer {p} out of order ({mode:?})");
            *expected += 1;
            total += 1;
        }
        assert_eq!(total, PRODUCERS * PER as usize);
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn fifo_per_producer_buffered_and_rendezvous() {
    let rt = rt();
    for mode in MODES {
        let (tx, rx) = bounded(3);
        fifo_case(&rt, tx, rx, mode);
        let (tx, rx) = rendezvous();
        fifo_case(&rt, tx, rx, mode);
        let (tx, rx) = unbounded();
        fifo_case(&rt, tx, rx, mode);
    }
}

#[test]
fn try_ops_on_empty_and_full() {
    let (tx, rx) = bounded::<u32>(1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(rx.is_empty() && !rx.is_full());
    tx.try_send(1).unwrap();
    assert!(tx.is_full() && tx.len() == 1);
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

    let (tx, rx) = rendezvous::<u32>();
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.capacity(), Some(0));
    assert!(tx.is_full() && tx.is_empty());

    let (tx, rx) = unbounded::<u32>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    for i in 0..100 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(tx.len(), 100);
    assert!(!tx.is_full());
    assert_eq!(tx.capacity(), None);
    for i in 0..100 {
        assert_eq!(rx.try_recv(), Ok(i));
    }

    // The non-blocking select forms.
    let (tx, rx) = bounded::<u32>(1);
    let empty = poll_once(async {
        select! { v = rx.recv() => Some(v), default => None }
    });
    assert!(matches!(empty, Poll::Ready(None)));
    tx.try_send(5).unwrap();
    let full = poll_once(async {
        select! { r = tx.send(6) => Some(r), default => None }
    });
    assert!(matches!(full, Poll::Ready(None)));
    let got = poll_once(async {
        select! { v = rx.recv() => Some(v), default => None }
    });
    assert!(matches!(got, Poll::Ready(Some(Ok(5)))));
}

#[test]
fn rendezvous_try_ops_with_a_waiting_peer() {
    let rt = rt();
    rt.block_on(async {
        // A receiver waits: a non-blocking send succeeds (eventually, once it is parked).
        for mode in MODES {
            let (tx, rx) = rendezvous::<u32>();
            let r = weir_runtime::spawn(async move { recv(&rx, mode).await });
            let mut attempts = 0u64;
            loop {
                match tx.try_send(11) {
                    Ok(()) => break,
                    Err(TrySendError::Full(_)) => weir_runtime::task::yield_now().await,
                    Err(TrySendError::Closed(_)) => panic!("closed"),
                }
                attempts += 1;
            }
            assert_eq!(
                r.await.unwrap(),
                Ok(11),
                "{mode:?} after {attempts} attempts"
            );
        }
        // A sender waits: a non-blocking receive takes its value, and the sender completes.
        for mode in MODES {
            let (tx, rx) = rendezvous::<u32>();
            let s = weir_runtime::spawn(async move { send(&tx, 12, mode).await });
            let v = loop {
                match rx.try_recv() {
                    Ok(v) => break v,
                    Err(TryRecvError::Empty) => weir_runtime::task::yield_now().await,
                    Err(e) => panic!("{e}"),
                }
            };
            assert_eq!(v, 12);
            assert_eq!(s.await.unwrap(), Ok(()));
        }
        // Through select with default.
        let (tx, rx) = rendezvous::<u32>();
        let r = weir_runtime::spawn(async move { rx.recv().await });
        loop {
            let sent = select! { r = tx.send(13) => r.is_ok(), default => false };
            if sent {
                break;
            }
            weir_runtime::task::yield_now().await;
        }
        assert_eq!(r.await.unwrap(), Ok(13));
    });
}

#[test]
fn select_send_and_recv_on_one_rendezvous_does_not_self_pair() {
    let (tx, rx) = rendezvous::<u32>();
    for _ in 0..100 {
        let got = poll_once(async {
            select! {
                r = tx.send(1) => if r.is_ok() { "sent" } else { "send failed" },
                v = rx.recv() => if v.is_ok() { "received" } else { "recv failed" },
                default => "none",
            }
        });
        assert!(matches!(got, Poll::Ready("none")), "{got:?}");
    }
    // Waiting form: only the timer can complete it.
    let current = rt_current();
    current.block_on(async {
        for _ in 0..5 {
            let got = select! {
                _ = tx.send(1) => "sent",
                _ = rx.recv() => "received",
                _ = weir_runtime::time::sleep(Duration::from_millis(5)) => "timer",
            };
            assert_eq!(got, "timer");
        }
    });
    assert!(tx.is_empty());
    // With a partner, the same select completes, through the branch that pairs with it.
    let multi = rt();
    multi.block_on(async {
        let rx2 = rx.clone();
        let partner = weir_runtime::spawn(async move { rx2.recv().await });
        let got = select! {
            r = tx.send(42) => { r.unwrap(); "sent" },
            _ = rx.recv() => "received",
        };
        assert_eq!(got, "sent");
        assert_eq!(partner.await.unwrap(), Ok(42));
    });
}

#[test]
fn chain_of_ten_thousand_tasks() {
    const N: usize = 10_000;
    let rt = rt();
    rt.block_on(async {
        let (first_tx, mut right_rx) = rendezvous::<u64>();
        let mut tasks = Vec::with_capacity(N);
        for _ in 0..N {
            let (tx, rx) = rendezvous::<u64>();
            let left_rx = std::mem::replace(&mut right_rx, rx);
            // Each task passes what it hears on its left on to its right, plus one.
            tasks.push(weir_runtime::spawn(async move {
                let v = left_rx.recv().await.unwrap();
                tx.send(v + 1).await.unwrap();
            }));
        }
        first_tx.send(0).await.unwrap();
        assert_eq!(right_rx.recv().await, Ok(N as u64));
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn prime_sieve_up_to_97() {
    const PRIMES: [u32; 25] = [
        2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97,
    ];
    for mode in MODES {
        let rt = rt();
        let got = rt.block_on(async move {
            let (tx, mut rx) = rendezvous::<u32>();
            weir_runtime::spawn(async move {
                let mut i = 2;
                // Stops when the sieve's head is dropped.
                while send(&tx, i, mode).await.is_ok() {
                    i += 1;
                }
            });
            let mut primes = Vec::new();
            while primes.len() < PRIMES.len() {
                let prime = recv(&rx, mode).await.unwrap();
                primes.push(prime);
                let (ftx, frx) = rendezvous::<u32>();
                let input = std::mem::replace(&mut rx, frx);
                weir_runtime::spawn(async move {
                    while let Ok(v) = recv(&input, mode).await {
                        if v % prime != 0 && send(&ftx, v, mode).await.is_err() {
                            break;
                        }
                    }
                });
            }
            primes
        });
        assert_eq!(got, PRIMES, "{mode:?}");
    }
}

#[test]
fn double_select_stress() {
    const N: u32 = 3_000;
    let rt = rt();
    rt.block_on(async {
        let chans: Vec<_> = (0..4).map(|_| rendezvous::<u32>()).collect();
        let (out_tx, out_rx) = unbounded::<u32>();
        // The sender selects over four rendezvous channels.
        let txs: Vec<_> = chans.iter().map(|(t, _)| t.clone()).collect();
        let sender = weir_runtime::spawn(async move {
            for i in 0..N {
                select! {
                    r = txs[0].send(i) => r.unwrap(),
                    r = txs[1].send(i) => r.unwrap(),
                    r = txs[2].send(i) => r.unwrap(),
                    r = txs[3].send(i) => r.unwrap(),
                }
            }
        });
        // Two muxers forward plainly, two more forward through selects of their own.
        let mut muxers = Vec::new();
        for (k, (_, rx)) in chans.iter().enumerate() {
            let rx = rx.clone();
            let out = out_tx.clone();
            muxers.push(weir_runtime::spawn(async move {
                loop {
                    let v = if k % 2 == 0 {
                        rx.recv().await
                    } else {
                        select! {
                            v = rx.recv() => v,
                            _ = pending::<()>() => unreachable!(),
                        }
                    };
                    match v {
                        Ok(v) => out.send(v).await.unwrap(),
                        Err(_) => break,
                    }
                }
            }));
        }
        drop(out_tx);
        sender.await.unwrap();
        for (tx, _) in &chans {
            tx.close();
        }
        drop(chans);
        let mut seen = vec![false; N as usize];
        let mut count = 0;
        while let Ok(v) = out_rx.recv().await {
            assert!(!seen[v as usize], "{v} arrived twice");
            seen[v as usize] = true;
            count += 1;
        }
        assert_eq!(count, N);
        for m in muxers {
            m.await.unwrap();
        }
    });
}

#[test]
fn double_select_stress_select_against_select() {
    const N: u32 = 2_000;
    let rt = rt();
    rt.block_on(async {
        let (t0, r0) = rendezvous::<u32>();
        let (t1, r1) = rendezvous::<u32>();
        let (t2, r2) = rendezvous::<u32>();
        let (t3, r3) = rendezvous::<u32>();
        let sender = weir_runtime::spawn(async move {
            for i in 0..N {
                select! {
                    r = t0.send(i) => r.unwrap(),
                    r = t1.send(i) => r.unwrap(),
                    r = t2.send(i) => r.unwrap(),
                    r = t3.send(i) => r.unwrap(),
                }
            }
        });
        let mut seen = vec![false; N as usize];
        for _ in 0..N {
            let v = select! {
                v = r0.recv() => v.unwrap(),
                v = r1.recv() => v.unwrap(),
                v = r2.recv() => v.unwrap(),
                v = r3.recv() => v.unwrap(),
            };
            assert!(!seen[v as usize], "{v} arrived twice");
            seen[v as usize] = true;
        }
        sender.await.unwrap();
        assert!(seen.iter().all(|s| *s));
        // Nothing left behind: every channel is empty and the sender is gone.
        for rx in [&r0, &r1, &r2, &r3] {
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        }
    });
}

/// A waker that does nothing (`Waker::noop` needs a newer toolchain than the MSRV).
fn noop_waker() -> Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    Waker::from(std::sync::Arc::new(Noop))
}

#[test]
fn closed_receives_spend_the_coop_budget() {
    // A closed, drained receive answers at once, and counts as progress: a task looping on it
    // still gives the worker back when its budget is spent.
    let rt = rt_current();
    let (tx, rx) = bounded::<u32>(4);
    tx.try_send(7).unwrap();
    tx.close();
    rt.block_on(async {
        assert_eq!(rx.recv().await, Ok(7));
        let mut closed = 0usize;
        std::future::poll_fn(|cx| {
            for _ in 0..10_000 {
                match pin!(rx.recv()).poll(cx) {
                    Poll::Ready(r) => {
                        assert_eq!(r, Err(RecvError::Closed));
                        closed += 1;
                    }
                    Poll::Pending => return Poll::Ready(()),
                }
            }
            panic!("10 000 closed receives and the budget never ran out");
        })
        .await;
        // The first receive above spent one unit of this poll's budget.
        assert_eq!(closed, usize::from(weir_runtime::coop::BUDGET) - 1);
    });
}
