//! Close racing parked operations, cancellation of waiting operations, and blocking threads
//! mixed with async tasks.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use weir_channel::{
    bounded, rendezvous, select, unbounded, Receiver, RecvError, RecvTimeoutError, SendError,
    Sender, TryRecvError,
};
use weir_runtime::runtime::{Builder, Runtime};
use weir_runtime::time::{sleep, timeout};

fn rt() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

type Pair = (Sender<u64>, Receiver<u64>);
type Make = fn() -> Pair;

fn flavours() -> Vec<(&'static str, Make)> {
    vec![
        ("bounded(1)", || bounded(1)),
        ("bounded(8)", || bounded(8)),
        ("rendezvous", rendezvous),
        ("unbounded", unbounded),
    ]
}

/// A tiny deterministic random source for the tests.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting() -> (Arc<CountingWaker>, Waker) {
    let c = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

fn woken(c: &CountingWaker) -> usize {
    c.0.load(Ordering::SeqCst)
}

/// Checks the ledger: every value sent successfully was received exactly once, and nothing
/// else was received.
fn check_exactly_once(sent: &[u64], received: &[u64], what: &str) {
    let mut counts: HashMap<u64, i64> = HashMap::new();
    for v in sent {
        *counts.entry(*v).or_default() += 1;
    }
    for v in received {
        *counts.entry(*v).or_default() -= 1;
    }
    let bad: Vec<_> = counts.iter().filter(|(_, c)| **c != 0).collect();
    assert!(bad.is_empty(), "{what}: mismatched values {bad:?}");
}

#[test]
fn close_racing_parked_receivers_wakes_every_one() {
    let rt = rt();
    for (name, make) in flavours() {
        for round in 0..5u64 {
            let (tx, rx) = make();
            let received = Arc::new(Mutex::new(Vec::new()));
            let mut tasks = Vec::new();
            for _ in 0..16 {
                let rx = rx.clone();
                let received = received.clone();
                tasks.push(rt.spawn(async move {
                    while let Ok(v) = rx.recv().await {
                        received.lock().unwrap().push(v);
                    }
                }));
            }
            // Two blocking threads park too.
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let rx = rx.clone();
                    let received = received.clone();
                    std::thread::spawn(move || {
                        while let Ok(v) = rx.recv_blocking() {
                            received.lock().unwrap().push(v);
                        }
                    })
                })
                .collect();
            drop(rx);
            let sent = rt.block_on(async {
                let mut sent = Vec::new();
                for i in 0..(round * 7) {
                    if tx.send(i).await.is_ok() {
                        sent.push(i);
                    }
                }
                assert!(tx.close());
                sent
            });
            for t in tasks {
                rt.block_on(t).unwrap();
            }
            for t in threads {
                t.join().unwrap();
            }
            check_exactly_once(&sent, &received.lock().unwrap(), name);
        }
    }
}

#[test]
fn close_racing_parked_senders_returns_or_delivers_every_value() {
    let rt = rt();
    for (name, make) in flavours() {
        for round in 0..5u64 {
            let (tx, rx) = make();
            let sent = Arc::new(Mutex::new(Vec::new()));
            let returned = Arc::new(Mutex::new(Vec::new()));
            let mut tasks = Vec::new();
            for p in 0..12u64 {
                let tx = tx.clone();
                let sent = sent.clone();
                let returned = returned.clone();
                tasks.push(rt.spawn(async move {
                    for i in 0..50 {
                        let v = p * 1_000 + i;
                        match tx.send(v).await {
                            Ok(()) => sent.lock().unwrap().push(v),
                            Err(SendError(back)) => {
                                assert_eq!(back, v);
                                returned.lock().unwrap().push(back);
                            }
                        }
                    }
                }));
            }
            let threads: Vec<_> = (0..2u64)
                .map(|p| {
                    let tx = tx.clone();
                    let sent = sent.clone();
                    let returned = returned.clone();
                    std::thread::spawn(move || {
                        for i in 0..50 {
                            let v = (100 + p) * 1_000 + i;
                            match tx.send_blocking(v) {
                                Ok(()) => sent.lock().unwrap().push(v),
                                Err(SendError(back)) => returned.lock().unwrap().push(back),
                            }
                        }
                    })
                })
                .collect();
            drop(tx);
            let received = rt.block_on(async {
                let mut received = Vec::new();
                for _ in 0..round * 11 {
                    match rx.recv().await {
                        Ok(v) => received.push(v),
                        Err(_) => break,
                    }
                }
                // Close with senders parked, then drain what was buffered.
                rx.close();
                while let Ok(v) = rx.recv().await {
                    received.push(v);
                }
                received
            });
            for t in tasks {
                rt.block_on(t).unwrap();
            }
            for t in threads {
                t.join().unwrap();
            }
            let sent = sent.lock().unwrap();
            let returned = returned.lock().unwrap();
            assert_eq!(
                sent.len() + returned.len(),
                14 * 50,
                "{name}: a sender lost a value"
            );
            check_exactly_once(&sent, &received, name);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Outcome {
    /// The send returned `Ok`: received exactly once.
    Sent,
    /// Cancelled where cancellation is exact: received never.
    Cancelled,
    /// A plain rendezvous send dropped by `timeout`: a receiver may have taken the value after
    /// the timeout's last poll of the send (use `select!` for an exact answer): received at
    /// most once.
    Unknown,
}

#[test]
fn producers_and_consumers_with_random_cancellation() {
    let rt = rt();
    for (name, make) in flavours() {
        let (tx, rx) = make();
        let rendezvous = tx.capacity() == Some(0);
        let outcomes = Arc::new(Mutex::new(HashMap::new()));
        let received = Arc::new(Mutex::new(Vec::new()));
        let mut producers = Vec::new();
        for p in 0..4u64 {
            let tx = tx.clone();
            let outcomes = outcomes.clone();
            producers.push(rt.spawn(async move {
                let mut rng = Rng(0x9E37_79B9 + p);
                for i in 0..300 {
                    let v = p * 10_000 + i;
                    // A third of the waits are cancelled right after their first poll.
                    let d = match rng.below(3) {
                        0 => Duration::ZERO,
                        _ => Duration::from_micros(rng.below(1_500)),
                    };
                    let outcome = if rng.below(2) == 0 {
                        match timeout(d, tx.send(v)).await {
                            Ok(Ok(())) => Outcome::Sent,
                            Ok(Err(e)) => panic!("{e}"),
                            Err(_) if rendezvous => Outcome::Unknown,
                            Err(_) => Outcome::Cancelled,
                        }
                    } else {
                        select! {
                            r = tx.send(v) => { r.unwrap(); Outcome::Sent },
                            _ = sleep(d) => Outcome::Cancelled,
                        }
                    };
                    outcomes.lock().unwrap().insert(v, outcome);
                }
            }));
        }
        drop(tx);
        let mut consumers = Vec::new();
        for c in 0..2u64 {
            let rx = rx.clone();
            let received = received.clone();
            consumers.push(rt.spawn(async move {
                let mut rng = Rng(0x85EB_CA6B + c);
                loop {
                    let d = match rng.below(3) {
                        0 => Duration::ZERO,
                        _ => Duration::from_micros(rng.below(1_500)),
                    };
                    // Slow consumers keep producers waiting (and so cancellable).
                    for _ in 0..rng.below(4) {
                        weir_runtime::task::yield_now().await;
                    }
                    let got = if rng.below(2) == 0 {
                        timeout(d, rx.recv()).await.ok()
                    } else {
                        select! {
                            r = rx.recv() => Some(r),
                            _ = sleep(d) => None,
                        }
                    };
                    match got {
                        Some(Ok(v)) => received.lock().unwrap().push(v),
                        Some(Err(RecvError::Closed)) => break,
                        Some(Err(e)) => panic!("{e}"),
                        None => {}
                    }
                }
            }));
        }
        drop(rx);
        for t in producers {
            rt.block_on(t).unwrap();
        }
        for t in consumers {
            rt.block_on(t).unwrap();
        }
        let outcomes = outcomes.lock().unwrap();
        let mut times: HashMap<u64, usize> = HashMap::new();
        for v in received.lock().unwrap().iter() {
            *times.entry(*v).or_default() += 1;
        }
        let mut cancelled = 0;
        for (v, outcome) in outcomes.iter() {
            let n = times.remove(v).unwrap_or(0);
            match outcome {
                Outcome::Sent => assert_eq!(n, 1, "{name}: sent value {v} received {n} times"),
                Outcome::Cancelled => {
                    cancelled += 1;
                    assert_eq!(n, 0, "{name}: cancelled send {v} was received")
                }
                Outcome::Unknown => assert!(n <= 1, "{name}: value {v} received {n} times"),
            }
        }
        assert!(
            times.is_empty(),
            "{name}: received values never sent: {times:?}"
        );
        assert!(
            cancelled > 0 || !rendezvous,
            "{name}: the test cancelled nothing"
        );
    }
}

#[test]
fn blocking_threads_and_async_tasks_share_a_channel() {
    let rt = rt();
    for (name, make) in flavours() {
        let (tx, rx) = make();
        let received = Arc::new(Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        let mut tasks = Vec::new();
        for p in 0..2u64 {
            let ttx = tx.clone();
            threads.push(std::thread::spawn(move || {
                for i in 0..400 {
                    ttx.send_blocking(p * 10_000 + i).unwrap();
                }
            }));
            let tx = tx.clone();
            tasks.push(rt.spawn(async move {
                for i in 0..400 {
                    tx.send((p + 2) * 10_000 + i).await.unwrap();
                }
            }));
        }
        drop(tx);
        for _ in 0..2 {
            let trx = rx.clone();
            let treceived = received.clone();
            threads.push(std::thread::spawn(move || {
                while let Ok(v) = trx.recv_blocking() {
                    treceived.lock().unwrap().push(v);
                }
            }));
            let rx = rx.clone();
            let received = received.clone();
            tasks.push(rt.spawn(async move {
                while let Ok(v) = rx.recv().await {
                    received.lock().unwrap().push(v);
                }
            }));
        }
        drop(rx);
        for t in tasks {
            rt.block_on(t).unwrap();
        }
        for t in threads {
            t.join().unwrap();
        }
        let sent: Vec<u64> = (0..4u64)
            .flat_map(|p| (0..400).map(move |i| p * 10_000 + i))
            .collect();
        check_exactly_once(&sent, &received.lock().unwrap(), name);
    }
}

#[test]
fn dropped_notified_receiver_passes_its_wake_up_on() {
    for (name, make) in [
        ("bounded(2)", (|| bounded(2)) as Make),
        ("unbounded", unbounded),
        ("rendezvous", rendezvous),
    ] {
        let (tx, rx) = make();
        let (c1, w1) = counting();
        let (c2, w2) = counting();
        let mut f1 = Box::pin(rx.recv());
        let mut f2 = Box::pin(rx.recv());
        assert!(f1.as_mut().poll(&mut Context::from_waker(&w1)).is_pending());
        assert!(f2.as_mut().poll(&mut Context::from_waker(&w2)).is_pending());
        // One value: the first waiter is woken (and, on a rendezvous, handed the value).
        tx.try_send(1).unwrap();
        assert_eq!(woken(&c1), 1, "{name}");
        assert_eq!(woken(&c2), 0, "{name}");
        // It goes away without taking the value: the second must be woken and get it.
        drop(f1);
        assert_eq!(woken(&c2), 1, "{name}: the wake-up was not passed on");
        match f2.as_mut().poll(&mut Context::from_waker(&w2)) {
            Poll::Ready(Ok(1)) => {}
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn dropped_notified_sender_passes_its_wake_up_on() {
    let (tx, rx) = bounded::<u64>(1);
    tx.try_send(0).unwrap();
    let (c1, w1) = counting();
    let (c2, w2) = counting();
    let mut f1 = Box::pin(tx.send(1));
    let mut f2 = Box::pin(tx.send(2));
    assert!(f1.as_mut().poll(&mut Context::from_waker(&w1)).is_pending());
    assert!(f2.as_mut().poll(&mut Context::from_waker(&w2)).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!((woken(&c1), woken(&c2)), (1, 0));
    drop(f1);
    assert_eq!(woken(&c2), 1, "the room's wake-up was not passed on");
    assert!(f2.as_mut().poll(&mut Context::from_waker(&w2)).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn dropped_waiters_leave_nothing_behind() {
    for (name, make) in flavours() {
        let (tx, rx) = make();
        let (_c, w) = counting();
        for _ in 0..10 {
            let mut f = pin!(rx.recv());
            assert!(f.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
        }
        // No stale waiter swallows this value: a fresh receiver gets it.
        if tx.capacity() != Some(0) {
            tx.try_send(5).unwrap();
            assert_eq!(rx.try_recv(), Ok(5), "{name}");
        } else {
            // On a rendezvous, no stale receiver can take a value: nobody waits.
            assert!(tx.try_send(5).is_err(), "{name}");
        }
    }
    // A cancelled rendezvous send delivered nothing, and its value went with it.
    let (tx, rx) = rendezvous::<Arc<()>>();
    let value = Arc::new(());
    let (_c, w) = counting();
    {
        let mut f = pin!(tx.send(value.clone()));
        assert!(f.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
        assert_eq!(Arc::strong_count(&value), 2);
    }
    assert_eq!(
        Arc::strong_count(&value),
        1,
        "the dropped send kept its value"
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn rendezvous_value_given_to_a_dropped_receiver_is_not_lost() {
    let (tx, rx) = rendezvous::<u64>();
    let (c, w) = counting();
    let mut f = Box::pin(rx.recv());
    assert!(f.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
    // A waiting receiver takes the value at once...
    tx.try_send(9).unwrap();
    assert_eq!(woken(&c), 1);
    // ...but is dropped before returning it (say, its task was aborted).
    drop(f);
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(9));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn losing_select_branches_consume_nothing() {
    let rt = rt();
    rt.block_on(async {
        for flavour in 0..3 {
            let (tx, rx) = match flavour {
                0 => bounded::<u64>(4),
                1 => unbounded(),
                _ => rendezvous(),
            };
            let mut received = 0;
            let total = 200;
            let producer = {
                let tx = tx.clone();
                weir_runtime::spawn(async move {
                    for i in 0..total {
                        tx.send(i).await.unwrap();
                    }
                })
            };
            // Races a ready branch against the receive; whatever wins, nothing is lost.
            while received < total {
                // The ready branch never spends budget: give the worker back now and then.
                weir_runtime::task::yield_now().await;
                select! {
                    r = rx.recv() => { r.unwrap(); received += 1; },
                    _ = std::future::ready(()) => {},
                }
            }
            producer.await.unwrap();
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "flavour {flavour}");
        }
    });
}

#[test]
fn closed_future_on_both_sides() {
    let rt = rt();
    rt.block_on(async {
        for (name, make) in flavours() {
            // Senders watch; dropping the last receiver closes.
            let (tx, rx) = make();
            let watchers: Vec<_> = (0..3)
                .map(|_| {
                    let tx = tx.clone();
                    weir_runtime::spawn(async move { tx.closed().await })
                })
                .collect();
            weir_runtime::task::yield_now().await;
            assert!(!tx.is_closed(), "{name}");
            drop(rx);
            for w in watchers {
                w.await.unwrap();
            }
            tx.closed().await;
            assert!(tx.is_closed());

            // Receivers watch; a sender's close() closes.
            let (tx, rx) = make();
            let watchers: Vec<_> = (0..3)
                .map(|_| {
                    let rx = rx.clone();
                    weir_runtime::spawn(async move { rx.closed().await })
                })
                .collect();
            weir_runtime::task::yield_now().await;
            assert!(tx.close(), "{name}");
            for w in watchers {
                w.await.unwrap();
            }

            // Receivers watch; dropping the last sender closes.
            let (tx, rx) = make();
            let watcher = weir_runtime::spawn(async move { rx.closed().await });
            weir_runtime::task::yield_now().await;
            drop(tx);
            watcher.await.unwrap();
        }
    });
}

#[test]
fn recv_timeout_and_deadline() {
    let rt = rt();
    rt.block_on(async {
        let (tx, rx) = bounded::<u32>(1);
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(2)).await,
            Err(RecvTimeoutError::Timeout)
        );
        tx.send(3).await.unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)).await, Ok(3));
        let deadline = weir_runtime::time::Instant::now() + Duration::from_millis(2);
        assert_eq!(
            rx.recv_deadline(deadline).await,
            Err(RecvTimeoutError::Timeout)
        );
        // A value arriving while it waits.
        let tx2 = tx.clone();
        let later = weir_runtime::spawn(async move {
            sleep(Duration::from_millis(3)).await;
            tx2.send(4).await.unwrap();
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)).await, Ok(4));
        later.await.unwrap();
        tx.close();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(60)).await,
            Err(RecvTimeoutError::Closed)
        );
    });
    let (tx, rx) = rendezvous::<u32>();
    assert_eq!(
        rx.recv_blocking_timeout(Duration::from_millis(2)),
        Err(RecvTimeoutError::Timeout)
    );
    let t = std::thread::spawn(move || tx.send_blocking(8));
    assert_eq!(rx.recv_blocking_timeout(Duration::from_secs(60)), Ok(8));
    t.join().unwrap().unwrap();
    assert_eq!(
        rx.recv_blocking_timeout(Duration::from_secs(60)),
        Err(RecvTimeoutError::Closed)
    );
}
