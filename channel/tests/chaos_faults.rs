//! The chaos suite with injected faults (`cargo test -p weir-channel --features chaos`), on a
//! manual clock: a latency ramp injected at the receive probe point, dropped sends, a receive
//! stall (every receive form), an abrupt close and a producer that panics, all injected at the
//! channel's probe points. Each prints its figures; the seed's bars are asserted,
//! weir's goals are reported.
#![cfg(feature = "chaos")]

use std::sync::Arc;
use std::time::Duration;

use weir_breaker::{Clock, ManualClock};
use weir_channel::chaos::Faults;
use weir_channel::{Builder, Receiver, Sender, TryRecvError, TrySendError};

#[path = "support/chaos_slo.rs"]
mod chaos_slo;
use chaos_slo::{slo, TARGET};

const MS: u64 = 1_000_000;

type Pair = (Sender<(usize, u64)>, Receiver<(usize, u64)>);

fn channel(clock: &Arc<ManualClock>, faults: &Arc<Faults>) -> (Pair, Receiver<(usize, u64)>) {
    let (btx, brx) = weir_channel::unbounded();
    let pair = Builder::unbounded()
        .name("storage")
        .slo(slo())
        .clock(clock.clone())
        .chaos(faults.clone())
        .backup(btx)
        .build();
    (pair, brx)
}

fn p99(v: &mut [u64]) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1;
    Duration::from_nanos(v[i])
}

#[test]
fn injected_latency_ramp_trips_serves_through_the_backup_and_recovers() {
    let clock = Arc::new(ManualClock::new(0));
    let faults = Arc::new(Faults::new());
    let ((tx, rx), brx) = channel(&clock, &faults);
    let (calm, ramp, hold, after) = (10_000u64, 1_000u64, 60_000u64, 10_000u64);
    let fault_start = calm * MS;
    let fault_end = (calm + ramp + hold) * MS;
    let end = fault_end + after * MS;
    let mut latency: Vec<Option<u64>> = Vec::new();
    let mut sent_at: Vec<u64> = Vec::new();
    let mut degraded_lat = Vec::new();
    let (mut trip, mut recover, mut transitions, mut degraded) = (None, None, 0, false);
    let mut breach_begins = None;
    while clock.now() < end {
        let now = clock.now();
        // The injected latency ramps from 0 to 500 ms over `ramp`, holds, then clears.
        let extra_ms = if now < fault_start || now >= fault_end {
            0
        } else {
            ((now - fault_start) / MS * 500 / ramp).min(500)
        };
        faults.set_latency(Duration::from_millis(extra_ms));
        if extra_ms * MS > TARGET.as_nanos() as u64 && breach_begins.is_none() {
            breach_begins = Some(now);
        }
        let id = sent_at.len();
        sent_at.push(now);
        latency.push(None);
        tx.try_send((id, extra_ms * MS)).unwrap();
        // The consumer is prompt; the primary's latency is what the fault injects.
        while let Ok((id, extra)) = rx.try_recv() {
            latency[id] = Some(now - sent_at[id] + extra);
            if degraded {
                degraded_lat.push(now - sent_at[id] + extra);
            }
        }
        while let Ok((id, _)) = brx.try_recv() {
            latency[id] = Some(now - sent_at[id]);
            degraded_lat.push(now - sent_at[id]);
        }
        if rx.is_degraded() != degraded {
            degraded = !degraded;
            transitions += 1;
            if degraded && trip.is_none() {
                trip = Some(now);
            } else if !degraded && now >= fault_end {
                recover = Some(now);
            }
        }
        clock.advance(MS);
    }
    let target = TARGET.as_nanos() as u64;
    let in_fault: Vec<usize> = (0..sent_at.len())
        .filter(|&i| sent_at[i] >= fault_start && sent_at[i] < fault_end)
        .collect();
    let served = in_fault
        .iter()
        .filter(|&&i| latency[i].is_some_and(|l| l <= target))
        .count() as f64
        / in_fault.len() as f64;
    let lost = latency.iter().filter(|l| l.is_none()).count();
    let trip_after = Duration::from_nanos(trip.expect("tripped") - breach_begins.unwrap());
    let p99 = p99(&mut degraded_lat);
    println!("scenario injected latency ramp (0 -> 500 ms over 1 s, held 60 s):");
    println!(
        "  trip after the breach begins: {trip_after:?} (goal <= 400 ms: {})",
        trip_after <= Duration::from_millis(400)
    );
    println!(
        "  served within SLO during the fault: {:.3} % (goal >= 99.9 %: {})",
        served * 100.0,
        served >= 0.999
    );
    println!(
        "  P99 on the degraded path: {p99:?} (goal <= 200 ms: {})",
        p99 <= Duration::from_millis(200)
    );
    println!(
        "  recovered after the fault: {:?}",
        recover.map(|r| Duration::from_nanos(r - fault_end))
    );
    println!("  transitions: {transitions}; lost: {lost}");
    assert!(trip_after <= Duration::from_millis(800));
    assert!(served >= 0.995, "served {served}");
    assert!(p99 <= Duration::from_millis(1200));
    assert!(recover.is_some());
    assert_eq!(transitions, 2);
    assert_eq!(lost, 0);
}

fn current_thread() -> weir_runtime::runtime::Runtime {
    weir_runtime::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn dropped_sends_come_back_to_the_sender() {
    let clock = Arc::new(ManualClock::new(0));
    let faults = Arc::new(Faults::new());
    let ((tx, rx), _brx) = channel(&clock, &faults);
    faults.drop_next_sends(3);
    let mut returned = 0;
    for i in 0..10 {
        match tx.try_send((i, 0)) {
            Ok(()) => {}
            Err(TrySendError::Full(v)) => {
                assert_eq!(v.0, i);
                returned += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    // The channel stays open: a dropped send is a refused send, not a close.
    assert!(!tx.is_closed());
    faults.drop_next_sends(1);
    let back = current_thread()
        .block_on(tx.send((10, 0)))
        .unwrap_err()
        .into_inner();
    assert_eq!(back.0, 10);
    returned += 1;
    // The blocking form passes the probe point once (a full channel's wait does not count it
    // twice).
    faults.drop_next_sends(1);
    assert_eq!(tx.send_blocking((11, 0)).unwrap_err().into_inner().0, 11);
    returned += 1;
    assert_eq!(tx.send_blocking((12, 0)), Ok(()));
    drop(tx);
    let mut got = 0;
    while rx.try_recv().is_ok() {
        got += 1;
    }
    println!(
        "dropped sends: 13 sent, {got} received, {returned} returned to the sender (counted {}), 0 lost",
        faults.dropped()
    );
    assert_eq!(faults.dropped(), 5);
    assert_eq!(returned, 5);
    assert_eq!(got + returned, 13);
}

#[test]
fn stall_holds_every_receive_form_until_it_ends() {
    let clock = Arc::new(ManualClock::new(0));
    let faults = Arc::new(Faults::new());
    let ((tx, rx), _brx) = channel(&clock, &faults);
    let rt = current_thread();
    tx.try_send((0, 0)).unwrap();
    faults.set_stall(true);
    // try_recv: empty although a value is buffered.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    rt.block_on(async {
        // recv_timeout: times out although a value is buffered.
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(1)).await,
            Err(weir_channel::RecvTimeoutError::Timeout)
        );
        // select!: the receive branch does not win; the default does.
        let picked = weir_channel::select! {
            v = rx.recv() => Some(v),
            default => None,
        };
        assert_eq!(picked, None);
    });
    // recv_blocking_timeout from a thread: times out too.
    assert_eq!(
        rx.recv_blocking_timeout(Duration::from_millis(1)),
        Err(weir_channel::RecvTimeoutError::Timeout)
    );
    // recv (async) and recv_blocking (a thread) wait; switching the stall off wakes them.
    let rx2 = rx.clone();
    let blocking = std::thread::spawn(move || rx2.recv_blocking());
    tx.try_send((1, 0)).unwrap();
    let faults2 = faults.clone();
    let got = rt.block_on(async {
        let unstall = weir_runtime::spawn(async move {
            for _ in 0..10 {
                weir_runtime::task::yield_now().await;
            }
            faults2.set_stall(false);
        });
        let v = rx.recv().await;
        unstall.await.unwrap();
        v
    });
    let other = blocking.join().unwrap();
    let mut ids = [got.unwrap().0, other.unwrap().0];
    ids.sort_unstable();
    println!("stall: every receive form held while stalled; after it, received {ids:?}");
    assert_eq!(ids, [0, 1]);
    // A closed and drained channel still reports Closed during a stall.
    faults.set_stall(true);
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rt.block_on(rx.recv()), Err(weir_channel::RecvError::Closed));
}

#[test]
fn injected_abrupt_close_returns_later_sends_and_drains_the_rest() {
    let clock = Arc::new(ManualClock::new(0));
    let faults = Arc::new(Faults::new());
    let ((tx, rx), _brx) = channel(&clock, &faults);
    faults.close_after_sends(5);
    let rt = current_thread();
    let (mut sent, mut returned) = (0, 0);
    rt.block_on(async {
        for i in 0..10 {
            match tx.send((i, 0)).await {
                Ok(()) => sent += 1,
                Err(e) => {
                    assert_eq!(e.into_inner().0, i);
                    returned += 1;
                }
            }
        }
    });
    assert!(tx.is_closed(), "closed at the send probe point");
    let mut got = Vec::new();
    while let Ok((id, _)) = rx.try_recv() {
        got.push(id);
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    println!(
        "abrupt close (injected after 5 sends): 10 sent, {} received, {returned} returned, 0 lost",
        got.len()
    );
    assert_eq!((sent, returned), (5, 5));
    assert_eq!(got, (0..5).collect::<Vec<_>>());
}

#[test]
fn injected_producer_panic_is_contained_and_loses_nothing() {
    let clock = Arc::new(ManualClock::new(0));
    let faults = Arc::new(Faults::new());
    let ((tx, rx), _brx) = channel(&clock, &faults);
    faults.panic_on_send(500);
    let rt = weir_runtime::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (ids, join) = rt.block_on(async move {
        // The producer task owns the only sender: the panic's unwind drops it, which closes
        // the channel, so the consumer ends.
        let producer = weir_runtime::spawn(async move {
            for i in 0..1000 {
                tx.send((i, 0)).await.unwrap();
            }
        });
        let consumer = weir_runtime::spawn(async move {
            let mut ids = Vec::new();
            while let Ok((id, _)) = rx.recv().await {
                ids.push(id);
            }
            ids
        });
        let join = producer.await;
        (consumer.await.unwrap(), join)
    });
    let err = join.unwrap_err();
    assert!(err.is_panic());
    // The runtime keeps going after the panic.
    assert_eq!(
        rt.block_on(async { weir_runtime::spawn(async { 7 }).await })
            .unwrap(),
        7
    );
    let attempted = ids.len() as u64 + faults.panicked();
    println!(
        "panicking producer (injected at send 501): {attempted} sends attempted, {} received, {} returned to the panicking sender, 0 lost",
        ids.len(),
        faults.panicked()
    );
    assert_eq!(faults.panicked(), 1);
    assert_eq!(ids, (0..500).collect::<Vec<_>>());
}
