//! A counting allocator shows that the breaker paths of a guarded channel allocate nothing in
//! steady state: L1 admission on receive (Closed, and the HalfOpen probe with its report),
//! `report`, L3 stamping and recording on send and receive, SLO evaluations, and routing to
//! the backup while degraded. Allocations are counted per thread.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use weir_breaker::{BreakerConfig, ManualClock, Outcome, SloConfig, State};
use weir_channel::Builder;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocs;

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

const MS: u64 = 1_000_000;

#[test]
fn breaker_paths_allocate_nothing_in_steady_state() {
    let waker = Waker::from(Arc::new(Noop));
    let clock = Arc::new(ManualClock::new(0));
    let (btx, brx) = weir_channel::bounded::<u64>(4096);
    let (tx, rx) = Builder::bounded(64)
        .breaker(
            BreakerConfig::new()
                .failure_threshold(3)
                .open_timeout(Duration::from_millis(100))
                .backoff_base(Duration::ZERO),
        )
        .slo(
            SloConfig::new()
                .target_p999(Duration::from_millis(20))
                .short_window(Duration::from_secs(1))
                .short_bucket(Duration::from_millis(10))
                .long_window(Duration::from_secs(10))
                .long_bucket(Duration::from_millis(100))
                .min_samples(10)
                .cooldown(Duration::from_millis(200)),
        )
        .clock(clock.clone())
        .backup(btx)
        .build();

    // Warm up: thread-locals (the SLO stripe), the probe list's reserved capacity.
    for i in 0..10 {
        tx.try_send(i).unwrap();
        rx.try_recv().unwrap();
        clock.advance(MS);
    }

    let before = allocs();
    let mut degraded_seen = false;
    for round in 0..2000u64 {
        // Async send and receive (admission, stamps, samples, evaluations when due).
        {
            let mut s = pin!(tx.send(round));
            assert!(matches!(
                s.as_mut().poll(&mut Context::from_waker(&waker)),
                Poll::Ready(Ok(()))
            ));
        }
        // Queueing delay: a slow phase in the middle degrades the channel.
        let delay = if (800..1200).contains(&round) { 50 } else { 1 };
        clock.advance(delay * MS);
        {
            let mut r = pin!(rx.recv());
            match r.as_mut().poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(Ok(_)) | Poll::Pending => {}
                Poll::Ready(Err(e)) => panic!("{e}"),
            }
        }
        rx.report(Outcome::Success);
        while brx.try_recv().is_ok() {}
        degraded_seen |= rx.is_degraded();
    }
    // L1 trip, HalfOpen probe and its report.
    for _ in 0..3 {
        tx.try_send(0).unwrap();
        let _ = rx.try_recv();
        rx.report(Outcome::Failure);
    }
    assert_eq!(rx.breaker_state(), Some(State::Open));
    assert!(rx.try_recv().is_err());
    clock.advance(100 * MS);
    let _ = rx.try_recv();
    rx.report(Outcome::Success);
    let n = allocs() - before;
    assert!(
        degraded_seen,
        "the slow phase should degrade: {:?}",
        rx.slo_status()
    );
    assert_eq!(n, 0, "breaker paths allocated {n} times");
}
