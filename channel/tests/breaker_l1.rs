//! L1 and L2 through the channel API, on a manual clock: configuration, each transition,
//! rejection at once while open, exactly-N half-open probes with cancellation, timeouts to
//! HalfOpen, the hold after a failure, and the parked-receiver count.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use weir_breaker::{BreakerConfig, Group, GroupPolicy, ManualClock, Outcome, SloConfig, State};
use weir_channel::{
    BuildError, Builder, Receiver, RecvError, RecvTimeoutError, Sender, TryRecvError,
};
use weir_runtime::runtime::{Builder as RtBuilder, Runtime};

const MS: u64 = 1_000_000;

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

fn noop_waker() -> Waker {
    Waker::from(Arc::new(Noop))
}

/// Polls `f` once.
fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = noop_waker();
    f.poll(&mut Context::from_waker(&waker))
}

fn rt() -> Runtime {
    RtBuilder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn config() -> BreakerConfig {
    BreakerConfig::new()
        .failure_threshold(3)
        .open_timeout(Duration::from_millis(500))
        .half_open_probes(1)
        .consecutive_timeouts(2)
        .backoff_base(Duration::from_millis(1))
        .backoff_max_shift(2)
}

fn guarded(cfg: BreakerConfig, clock: &Arc<ManualClock>) -> (Sender<u32>, Receiver<u32>) {
    Builder::bounded(16)
        .name("orders")
        .breaker(cfg)
        .clock(clock.clone())
        .build()
}

fn trip(rx: &Receiver<u32>, tx: &Sender<u32>, n: u32) {
    for i in 0..n {
        tx.try_send(i).unwrap();
        rx.try_recv().unwrap();
        rx.report(Outcome::Failure);
    }
}

#[test]
fn build_refuses_nonsense_naming_the_field() {
    let err = Builder::bounded(4)
        .breaker(BreakerConfig::new().failure_threshold(0))
        .try_build::<u8>()
        .unwrap_err();
    match &err {
        BuildError::Breaker(e) => assert_eq!(e.field(), "failure_threshold"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("failure_threshold"), "{err}");

    let err = Builder::unbounded()
        .slo(SloConfig::new().short_window(Duration::from_secs(600)))
        .try_build::<u8>()
        .unwrap_err();
    assert!(err.to_string().contains("window"), "{err}");

    let err = Builder::unbounded()
        .slo(SloConfig::new().short_bucket(Duration::from_millis(70)))
        .try_build::<u8>()
        .unwrap_err();
    assert!(err.to_string().contains("short_bucket"), "{err}");
}

#[test]
fn config_from_the_environment_and_malformed_values() {
    std::env::set_var("WEIR_BREAKER_WIRINGENV_FAILURE_THRESHOLD", "7");
    let (_tx, rx) = Builder::bounded(4)
        .name("wiringenv")
        .breaker_from_env()
        .build::<u8>();
    assert_eq!(rx.circuit().unwrap().config().failure_threshold, 7);

    std::env::set_var("WEIR_BREAKER_WIRINGBAD_OPEN_TIMEOUT", "soon");
    let err = Builder::bounded(4)
        .name("wiringbad")
        .breaker_from_env()
        .try_build::<u8>()
        .unwrap_err();
    assert!(err.to_string().contains("WIRINGBAD_OPEN_TIMEOUT"), "{err}");
}

#[test]
fn plain_channel_has_no_breaker() {
    let (tx, rx) = weir_channel::bounded::<u8>(2);
    assert_eq!(rx.breaker_state(), None);
    assert_eq!(rx.slo_status(), None);
    assert_eq!(rx.report(Outcome::Failure), None);
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn failures_open_then_half_open_probe_closes() {
    let clock = Arc::new(ManualClock::new(0));
    let (tx, rx) = guarded(config(), &clock);
    assert_eq!(rx.breaker_state(), Some(State::Closed));
    trip(&rx, &tx, 2);
    assert_eq!(rx.breaker_state(), Some(State::Closed));
    trip(&rx, &tx, 1);
    assert_eq!(rx.breaker_state(), Some(State::Open));

    // Open: rejected at once, even with a value buffered; the value stays.
    tx.try_send(42).unwrap();
    let rt = rt();
    rt.block_on(async {
        match rx.recv().await {
            Err(RecvError::Rejected { retry_after }) => {
                assert_eq!(retry_after, Duration::from_millis(500))
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        assert!(matches!(
            rx.recv_timeout(Duration::from_secs(5)).await,
            Err(RecvTimeoutError::Rejected { .. })
        ));
    });
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Rejected { .. })));
    assert_eq!(rx.len(), 1);

    // After open_timeout the next receive is the probe; success closes.
    clock.advance(500 * MS);
    assert_eq!(rx.try_recv(), Ok(42));
    assert_eq!(rx.breaker_state(), Some(State::HalfOpen));
    let t = rx.report(Outcome::Success).unwrap();
    assert_eq!((t.from, t.to), (State::HalfOpen, State::Closed));
}

#[test]
fn failed_probe_reopens_and_unreported_probe_counts_as_success() {
    let clock = Arc::new(ManualClock::new(0));
    let (tx, rx) = guarded(config(), &clock);
    trip(&rx, &tx, 3);
    clock.advance(500 * MS);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    let t = rx.report(Outcome::Failure).unwrap();
    assert_eq!((t.from, t.to), (State::HalfOpen, State::Open));
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Rejected { .. })));

    clock.advance(500 * MS);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.breaker_state(), Some(State::HalfOpen));
    // No report: the next admission settles the probe as a success.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.breaker_state(), Some(State::Closed));
}

#[test]
fn recv_checked_resolves_its_own_outcome() {
    let clock = Arc::new(ManualClock::new(0));
    let (tx, rx) = guarded(config(), &clock);
    let rt = rt();
    rt.block_on(async {
        for i in 0..3 {
            tx.send(i).await.unwrap();
            assert_eq!(rx.recv_checked(|v| *v == 99).await, Ok(i));
        }
    });
    assert_eq!(rx.breaker_state(), Some(State::Open));
    clock.advance(500 * MS);
    rt.block_on(async {
        tx.send(99).await.unwrap();
        assert_eq!(rx.recv_checked(|v| *v == 99).await, Ok(99));
    });
    assert_eq!(rx.breaker_state(), Some(State::Closed));
}

#[test]
fn half_open_admits_exactly_n_probes_and_cancellation_returns_permits() {
    let clock = Arc::new(ManualClock::new(0));
    let cfg = config().half_open_probes(2);
    let (tx, rx) = guarded(cfg, &clock);
    trip(&rx, &tx, 3);
    clock.advance(500 * MS);
    // The futures are driven by hand; the L2 hold (the trip left failures behind) needs a
    // runtime context for its timer.
    let rt = rt();
    let _enter = rt.enter();
    // Boxed so that `drop` really drops (cancels) them.
    let mut a = Box::pin(rx.recv());
    let mut b = Box::pin(rx.recv());
    let mut c = Box::pin(rx.recv());
    // a and b are admitted as probes (they wait: the hold or the empty channel); c is
    // rejected at once.
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_once(b.as_mut()).is_pending());
    assert!(matches!(
        poll_once(c.as_mut()),
        Poll::Ready(Err(RecvError::Rejected { .. }))
    ));
    assert_eq!(rx.breaker_status().unwrap().probes_in_flight, 2);
    // Cancelling a probe gives its permit back: a new receive is admitted.
    drop(a);
    assert_eq!(rx.breaker_status().unwrap().probes_in_flight, 1);
    let mut d = Box::pin(rx.recv());
    assert!(poll_once(d.as_mut()).is_pending());
    assert_eq!(rx.breaker_status().unwrap().probes_in_flight, 2);
    drop(b);
    drop(d);
    assert_eq!(rx.breaker_status().unwrap().probes_in_flight, 0);
    assert_eq!(rx.waiting_receivers(), 0);
}

#[test]
fn consecutive_timeouts_move_to_half_open() {
    let clock = Arc::new(ManualClock::new(0));
    let (_tx, rx) = guarded(config(), &clock);
    let rt = rt();
    rt.block_on(async {
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(1)).await,
            Err(RecvTimeoutError::Timeout)
        );
        assert_eq!(rx.breaker_state(), Some(State::Closed));
        assert_eq!(rx.failures_since_success(), 1);
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(1)).await,
            Err(RecvTimeoutError::Timeout)
        );
    });
    assert_eq!(rx.breaker_state(), Some(State::HalfOpen));
    assert_eq!(rx.waiting_receivers(), 0);
}

#[test]
fn hold_after_failure_is_skipped_when_a_value_is_ready() {
    let clock = Arc::new(ManualClock::new(0));
    let cfg = config().backoff_base(Duration::from_secs(10));
    let (tx, rx) = guarded(cfg, &clock);
    let rt = rt();
    let _enter = rt.enter();
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    rx.report(Outcome::Failure);
    assert_eq!(rx.failures_since_success(), 1);

    // Empty: the receive is held by the backoff (not parked on the channel yet).
    {
        let mut held = pin!(rx.recv());
        assert!(poll_once(held.as_mut()).is_pending());
        assert_eq!(rx.waiting_receivers(), 0);
    }
    // A value is there: no hold at all.
    tx.try_send(2).unwrap();
    let mut ready = pin!(rx.recv());
    assert_eq!(poll_once(ready.as_mut()), Poll::Ready(Ok(2)));
}

#[test]
fn without_a_failure_a_receive_parks_at_once_and_cancel_leaves_no_waiter() {
    let clock = Arc::new(ManualClock::new(0));
    let (_tx, rx) = guarded(config(), &clock);
    let rt = rt();
    let _enter = rt.enter();
    {
        let mut f = pin!(rx.recv());
        assert!(poll_once(f.as_mut()).is_pending());
        assert_eq!(rx.waiting_receivers(), 1);
    }
    assert_eq!(rx.waiting_receivers(), 0);
}

#[test]
fn group_follow_opens_with_a_tripped_peer() {
    let clock = Arc::new(ManualClock::new(0));
    let group = Arc::new(Group::new());
    let (tx1, rx1) = Builder::bounded(4)
        .breaker(config())
        .group(group.clone(), GroupPolicy::Report)
        .clock(clock.clone())
        .build::<u32>();
    let (_tx2, rx2) = Builder::bounded(4)
        .breaker(config())
        .group(group, GroupPolicy::Follow)
        .clock(clock.clone())
        .build::<u32>();
    clock.advance(MS);
    trip(&rx1, &tx1, 3);
    assert_eq!(rx1.breaker_state(), Some(State::Open));
    assert!(matches!(rx2.try_recv(), Err(TryRecvError::Rejected { .. })));
    assert_eq!(rx2.breaker_state(), Some(State::Open));
}

/// Polls `f` from inside a task up to `max` times (waking itself after each `Pending`, so a
/// wait that never ends makes the test fail instead of hanging): the output and the polls.
async fn poll_up_to<F: Future + Unpin>(f: &mut F, max: u32) -> (Option<F::Output>, u32) {
    let mut polls = 0;
    std::future::poll_fn(|cx| {
        polls += 1;
        match std::pin::Pin::new(&mut *f).poll(cx) {
            Poll::Ready(v) => Poll::Ready(Some(v)),
            Poll::Pending if polls >= max => Poll::Ready(None),
            Poll::Pending => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    })
    .await
    .map_or((None, polls), |v| (Some(v), polls))
}

fn fail_once(tx: &Sender<u32>, rx: &Receiver<u32>) {
    tx.try_send(0).unwrap();
    assert_eq!(rx.try_recv(), Ok(0));
    rx.report(Outcome::Failure);
}

#[test]
fn first_hold_on_a_busy_worker_yields_through_the_runtime_hook() {
    let clock = Arc::new(ManualClock::new(0));
    // A ten-minute backoff: only the hook's yield can let this receive finish.
    let cfg = config().backoff_base(Duration::from_secs(600));
    let (tx, rx) = guarded(cfg, &clock);
    let rt = rt();
    rt.block_on(async {
        fail_once(&tx, &rx);
        let producer = tx.clone();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = order.clone();
        let _p = weir_runtime::spawn(async move {
            seen.lock().unwrap().push("producer");
            producer.send(7).await.unwrap();
        });
        let mut recv = Box::pin(rx.recv());
        let (out, polls) = poll_up_to(&mut recv, 4).await;
        order.lock().unwrap().push("consumer");
        // Poll 1 yielded (the producer ran and sent), poll 2 took the value.
        assert_eq!(out, Some(Ok(7)));
        assert_eq!(polls, 2);
        assert_eq!(*order.lock().unwrap(), ["producer", "consumer"]);
    });
}

#[test]
fn later_holds_sleep_even_on_a_busy_worker_and_success_resets() {
    let clock = Arc::new(ManualClock::new(0));
    let cfg = config()
        .backoff_base(Duration::from_secs(600))
        .failure_threshold(10);
    let (tx, rx) = guarded(cfg, &clock);
    let rt = rt();
    rt.block_on(async {
        fail_once(&tx, &rx);
        fail_once(&tx, &rx);
        assert_eq!(rx.failures_since_success(), 2);
        let producer = tx.clone();
        let _p = weir_runtime::spawn(async move {
            producer.send(7).await.unwrap();
        });
        {
            // The second attempt sleeps (base << 1): still held after the producer ran and
            // sent, and not parked on the channel.
            let mut recv = Box::pin(rx.recv());
            let (out, polls) = poll_up_to(&mut recv, 4).await;
            assert_eq!(out, None);
            assert_eq!(polls, 4);
            assert_eq!(rx.len(), 1);
            assert_eq!(rx.waiting_receivers(), 0);
        }
        // A value is there now: the next receive skips the hold.
        let mut recv = Box::pin(rx.recv());
        assert_eq!(poll_up_to(&mut recv, 1).await, (Some(Ok(7)), 1));
        drop(recv);
        rx.report(Outcome::Success);
        assert_eq!(rx.failures_since_success(), 0);
        // After the success, an empty channel parks the receive at once (no hold).
        let mut recv = Box::pin(rx.recv());
        assert_eq!(poll_up_to(&mut recv, 1).await, (None, 1));
        assert_eq!(rx.waiting_receivers(), 1);
    });
}

#[test]
fn blocking_timeouts_are_failures_for_l1() {
    let clock = Arc::new(ManualClock::new(0));
    let (_tx, rx) = guarded(config(), &clock);
    assert_eq!(
        rx.recv_blocking_timeout(Duration::from_millis(1)),
        Err(RecvTimeoutError::Timeout)
    );
    assert_eq!(rx.failures_since_success(), 1);
    assert_eq!(rx.breaker_state(), Some(State::Closed));
    // `consecutive_timeouts` (2) in a row move the circuit to HalfOpen, as for the async form.
    assert_eq!(
        rx.recv_blocking_deadline(std::time::Instant::now() + Duration::from_millis(1)),
        Err(RecvTimeoutError::Timeout)
    );
    assert_eq!(rx.breaker_state(), Some(State::HalfOpen));
    assert_eq!(rx.waiting_receivers(), 0);
    assert_eq!(rx.breaker_status().unwrap().probes_in_flight, 0);
}

#[test]
fn select_branches_go_through_the_breaker() {
    let clock = Arc::new(ManualClock::new(0));
    let cfg = config().backoff_base(Duration::ZERO);
    let (tx, rx) = guarded(cfg, &clock);
    let rt = rt();
    trip(&rx, &tx, 3);
    assert_eq!(rx.breaker_state(), Some(State::Open));
    rt.block_on(async {
        // Open: the receive branch is rejected at once, as a plain recv is.
        let out = weir_channel::select! {
            v = rx.recv() => Some(v),
            default => None,
        };
        assert!(
            matches!(out, Some(Err(RecvError::Rejected { .. }))),
            "{out:?}"
        );
    });
    clock.advance(500 * MS);
    rt.block_on(async {
        // HalfOpen, empty channel: the receive branch takes the probe permit and waits; the
        // other branch wins and the losing receive gives its permit back.
        let out = weir_channel::select! {
            v = rx.recv() => Err(v),
            v = std::future::ready(5u32) => Ok(v),
        };
        assert_eq!(out, Ok(5));
        assert_eq!(rx.breaker_status().unwrap().probes_in_flight, 0);
        assert_eq!(rx.waiting_receivers(), 0);
        // With a value there, the receive branch is the probe: its success closes the circuit.
        tx.send(9).await.unwrap();
        let out = weir_channel::select! {
            v = rx.recv() => v,
            default => Ok(0),
        };
        assert_eq!(out, Ok(9));
        assert_eq!(rx.breaker_status().unwrap().probes_in_flight, 1);
        rx.report(Outcome::Success);
    });
    assert_eq!(rx.breaker_state(), Some(State::Closed));
    assert_eq!(rx.breaker_status().unwrap().probes_in_flight, 0);
}
