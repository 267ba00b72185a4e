//! A counting global allocator shows that bounded channels allocate nothing per message in
//! steady state, and that receiving on a closed, empty channel allocates nothing, in the
//! blocking and async forms. Allocations are counted per thread, so the test harness's own
//! threads do not disturb the counts.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};

use weir_channel::{bounded, rendezvous, select, unbounded, RecvError, TryRecvError};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocs;

thread_local! {
    static NOOP: Waker = noop_waker();
}

/// Allocations made by `f` on this thread.
fn count<R>(f: impl FnOnce() -> R) -> (u64, R) {
    let before = allocs();
    let r = f();
    (allocs() - before, r)
}

fn poll<F: Future + ?Sized>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    NOOP.with(|w| fut.poll(&mut Context::from_waker(w)))
}

// One test function: the cases run in sequence, each measured on its own thread-local count.
#[test]
fn zero_allocations() {
    // Make this thread's noop waker before anything is measured.
    NOOP.with(|_| ());
    // The counter itself works.
    assert_eq!(count(|| drop(std::hint::black_box(Box::new(1u8)))).0, 1);
    non_blocking_round_trips();
    async_round_trips_and_waits();
    select_round_trips();
    blocking_threads_steady_state();
    runtime_task_steady_state();
    closed_and_empty_receive();
}

fn non_blocking_round_trips() {
    let (tx, rx) = bounded::<u64>(16);
    let (n, ()) = count(|| {
        for i in 0..10_000 {
            tx.try_send(i).unwrap();
            assert_eq!(rx.try_recv(), Ok(i));
        }
    });
    assert_eq!(n, 0, "try_send/try_recv allocated");
}

fn async_round_trips_and_waits() {
    let (tx, rx) = bounded::<u64>(2);
    let (n, ()) = count(|| {
        for i in 0..5_000 {
            // Receiver waits first: registers, is woken by the send, completes.
            let mut r = pin!(rx.recv());
            assert!(poll(r.as_mut()).is_pending());
            let mut s = pin!(tx.send(i));
            assert!(poll(s.as_mut()).is_ready());
            assert_eq!(poll(r.as_mut()), Poll::Ready(Ok(i)));
        }
        for i in 0..5_000 {
            // Sender waits for room.
            tx.try_send(0).unwrap();
            tx.try_send(1).unwrap();
            let mut s = pin!(tx.send(i));
            assert!(poll(s.as_mut()).is_pending());
            assert_eq!(rx.try_recv(), Ok(0));
            assert!(poll(s.as_mut()).is_ready());
            assert_eq!(rx.try_recv(), Ok(1));
            assert_eq!(rx.try_recv(), Ok(i));
        }
    });
    assert_eq!(n, 0, "async send/recv (with waiting) allocated");
}

fn select_round_trips() {
    let (tx, rx) = bounded::<u64>(4);
    let (tx2, rx2) = bounded::<u64>(4);
    let (n, ()) = count(|| {
        for i in 0..5_000 {
            let mut s = pin!(async {
                select! {
                    r = tx.send(i) => r.unwrap(),
                    r = tx2.send(i), if false => r.unwrap(),
                }
            });
            assert!(poll(s.as_mut()).is_ready());
            let mut r = pin!(async {
                select! {
                    v = rx.recv() => v.unwrap(),
                    v = rx2.recv() => v.unwrap(),
                }
            });
            assert_eq!(poll(r.as_mut()), Poll::Ready(i));
        }
    });
    assert_eq!(n, 0, "select! over bounded channels allocated");
}

fn blocking_threads_steady_state() {
    const WARM: u64 = 2_000;
    const N: u64 = 20_000;
    let (tx, rx) = bounded::<u64>(2);
    let barrier = Arc::new(Barrier::new(2));
    let b = barrier.clone();
    let producer = std::thread::spawn(move || {
        for i in 0..WARM {
            tx.send_blocking(i).unwrap();
        }
        b.wait();
        let (n, ()) = count(|| {
            for i in 0..N {
                tx.send_blocking(i).unwrap();
            }
        });
        n
    });
    for i in 0..WARM {
        assert_eq!(rx.recv_blocking(), Ok(i));
    }
    barrier.wait();
    let (n, ()) = count(|| {
        for i in 0..N {
            assert_eq!(rx.recv_blocking(), Ok(i));
        }
    });
    assert_eq!(n, 0, "recv_blocking allocated in steady state");
    assert_eq!(
        producer.join().unwrap(),
        0,
        "send_blocking allocated in steady state"
    );
}

fn runtime_task_steady_state() {
    let rt = weir_runtime::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (tx, rx) = bounded::<u64>(8);
    let n = rt.block_on(async {
        for i in 0..100 {
            tx.send(i).await.unwrap();
            assert_eq!(rx.recv().await, Ok(i));
        }
        // Counted across the awaits: the task's budget-forced yields go through the
        // scheduler on this same thread, and they are counted too.
        let before = allocs();
        for i in 0..10_000 {
            tx.send(i).await.unwrap();
            assert_eq!(rx.recv().await, Ok(i));
        }
        allocs() - before
    });
    assert_eq!(n, 0, "send().await/recv().await in a task allocated");
}

fn closed_and_empty_receive() {
    let (a, ra) = bounded::<u64>(4);
    let (b, rb) = unbounded::<u64>();
    let (c, rc) = rendezvous::<u64>();
    a.close();
    b.close();
    c.close();
    // Warm the thread's lazily created state outside the measurement.
    let _ = ra.recv_blocking();
    for rx in [&ra, &rb, &rc] {
        let (n, ()) = count(|| {
            for _ in 0..1_000 {
                assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
                assert_eq!(rx.recv_blocking(), Err(RecvError::Closed));
                let mut f = pin!(rx.recv());
                assert_eq!(poll(f.as_mut()), Poll::Ready(Err(RecvError::Closed)));
                let mut f = pin!(async {
                    select! { v = rx.recv() => v }
                });
                assert_eq!(poll(f.as_mut()), Poll::Ready(Err(RecvError::Closed)));
            }
        });
        assert_eq!(n, 0, "closed-and-empty receive allocated");
    }
}

/// A waker that does nothing (`Waker::noop` needs a newer toolchain than the MSRV).
fn noop_waker() -> Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    Waker::from(std::sync::Arc::new(Noop))
}
