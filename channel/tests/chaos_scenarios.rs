//! Chaos scenarios on a manual clock (no feature needed: the faults are plain producer and
//! consumer behaviour). Each scenario prints its figures and asserts the seed's bars; whether
//! weir's own (stricter) goals are met is printed, not asserted.
//!
//! The simulation advances a `ManualClock` one millisecond per step. Each step a producer sends
//! one message (stamped with its send time), the primary's consumer takes as many as its
//! service rate allows, and the backup's consumer drains the backup. Latency is measured by the
//! test itself (receive time minus send time); the channel's L3 sees the same thing through
//! its own stamps.

use std::sync::Arc;
use std::time::Duration;

use weir_breaker::{Clock, ManualClock};
use weir_channel::{Builder, Receiver, Sender, TryRecvError, TrySendError};

#[path = "support/chaos_slo.rs"]
mod chaos_slo;
use chaos_slo::{slo, TARGET};

const MS: u64 = 1_000_000;

/// The seed's bars (asserted) and weir's goals (reported).
const SEED_TRIP: Duration = Duration::from_millis(800);
const SEED_SERVED: f64 = 0.995;
const SEED_P99: Duration = Duration::from_millis(1200);
const GOAL_TRIP: Duration = Duration::from_millis(400);
const GOAL_SERVED: f64 = 0.999;
const GOAL_P99: Duration = Duration::from_millis(200);

#[derive(Debug)]
struct Msg {
    id: usize,
    sent: u64,
}

/// What a scenario measured.
#[derive(Debug, Default)]
struct Figures {
    trip_after_breach: Option<Duration>,
    trip_after_onset: Option<Duration>,
    served_in_fault: f64,
    degraded_p99: Duration,
    recover_after_fault: Option<Duration>,
    transitions: u32,
    sent: usize,
    received: usize,
    returned: usize,
    duplicates: usize,
    lost: usize,
    /// Messages queued on the primary at the degrade that were handed to the backup.
    migrated: u64,
}

impl Figures {
    fn print(&self, name: &str) {
        let ok = |b: bool| if b { "met" } else { "NOT met" };
        let trip = self.trip_after_breach.unwrap_or(Duration::MAX);
        println!("scenario {name}:");
        println!(
            "  trip after breach begins: {:?} (after fault onset: {:?}); goal <= {:?}: {}",
            self.trip_after_breach,
            self.trip_after_onset,
            GOAL_TRIP,
            ok(trip <= GOAL_TRIP)
        );
        println!(
            "  served within SLO during the fault: {:.3} %; goal >= {:.1} %: {}",
            self.served_in_fault * 100.0,
            GOAL_SERVED * 100.0,
            ok(self.served_in_fault >= GOAL_SERVED)
        );
        println!(
            "  P99 on the degraded path: {:?}; goal <= {:?}: {}",
            self.degraded_p99,
            GOAL_P99,
            ok(self.degraded_p99 <= GOAL_P99)
        );
        println!(
            "  recovered after the fault ended: {:?}",
            self.recover_after_fault
        );
        println!(
            "  L3 transitions: {} (2 = one degrade, one recover)",
            self.transitions
        );
        println!(
            "  messages: sent {}, received {}, returned {}, duplicates {}, lost {}",
            self.sent, self.received, self.returned, self.duplicates, self.lost
        );
        println!(
            "  backlog handed from the primary to the backup: {}",
            self.migrated
        );
    }

    fn assert_seed_bars(&self) {
        let trip = self.trip_after_breach.expect("L3 never tripped");
        assert!(trip <= SEED_TRIP, "trip {trip:?} > {SEED_TRIP:?}");
        assert!(
            self.served_in_fault >= SEED_SERVED,
            "served {}",
            self.served_in_fault
        );
        assert!(self.degraded_p99 <= SEED_P99, "p99 {:?}", self.degraded_p99);
        assert!(self.recover_after_fault.is_some(), "never recovered");
        assert_eq!(self.transitions, 2, "flapping");
        assert_eq!(self.lost, 0);
        assert_eq!(self.duplicates, 0);
    }
}

/// A scenario's schedule. The primary's consumer serves two messages per ms normally (the
/// producer sends one); during the fault its service falls linearly to `fault_service` over
/// `ramp_ms`, then stays there.
struct Plan {
    calm_ms: u64,
    fault_ms: u64,
    after_ms: u64,
    /// Service in quarter-messages per ms at the bottom of the fault (8 = normal).
    fault_service: u64,
    ramp_ms: u64,
    /// Close the primary's receiving side abruptly at this step (drain what is buffered).
    close_at: Option<u64>,
}

fn p99(v: &mut [u64]) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort_unstable();
    let i = ((v.len() as f64) * 0.99).ceil() as usize;
    Duration::from_nanos(v[i.clamp(1, v.len()) - 1])
}

fn run(plan: &Plan) -> Figures {
    let clock = Arc::new(ManualClock::new(0));
    let (btx, brx) = weir_channel::unbounded::<Msg>();
    let (tx, rx): (Sender<Msg>, Receiver<Msg>) = Builder::unbounded()
        .name("storage")
        .slo(slo())
        .clock(clock.clone())
        .backup(btx)
        .build();

    let fault_start = plan.calm_ms * MS;
    let fault_end = fault_start + plan.fault_ms * MS;
    let end = fault_end + plan.after_ms * MS;

    let mut sent_at: Vec<u64> = Vec::new();
    let mut latency: Vec<Option<u64>> = Vec::new();
    let mut seen: Vec<u8> = Vec::new();
    let mut returned = 0usize;
    let mut degraded = false;
    let mut transitions = 0u32;
    let mut trip_at = None;
    let mut recover_at = None;
    let mut degraded_lat: Vec<u64> = Vec::new();
    let mut credit = 0u64;
    let mut primary_open = true;

    fn take(m: Msg, now: u64, seen: &mut [u8], latency: &mut [Option<u64>]) -> u64 {
        let l = now - m.sent;
        seen[m.id] += 1;
        latency[m.id] = Some(l);
        l
    }

    while clock.now() < end {
        let now = clock.now();
        // Producer: one message per ms.
        let id = sent_at.len();
        sent_at.push(now);
        latency.push(None);
        seen.push(0);
        match tx.try_send(Msg { id, sent: now }) {
            Ok(()) => {}
            Err(TrySendError::Closed(_) | TrySendError::Full(_)) => returned += 1,
        }
        // The primary's consumer.
        if primary_open && plan.close_at.is_some_and(|c| now >= c * MS) {
            rx.close();
            primary_open = false;
        }
        let in_fault = now >= fault_start && now < fault_end;
        credit += if in_fault {
            let into = (now - fault_start) / MS;
            if into >= plan.ramp_ms {
                plan.fault_service
            } else {
                8 - (8 - plan.fault_service) * into / plan.ramp_ms
            }
        } else {
            8
        };
        while credit >= 4 {
            match rx.try_recv() {
                Ok(m) => {
                    credit -= 4;
                    let s = m.sent;
                    let l = take(m, now, &mut seen, &mut latency);
                    if rx.is_degraded() || trip_at.is_some_and(|t| s >= t) && recover_at.is_none() {
                        degraded_lat.push(l);
                    }
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => {
                    credit = credit.min(4);
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        // The backup's consumer keeps up.
        while let Ok(m) = brx.try_recv() {
            let l = take(m, now, &mut seen, &mut latency);
            degraded_lat.push(l);
        }
        let d = rx.is_degraded();
        if d != degraded {
            transitions += 1;
            degraded = d;
            if d && trip_at.is_none() {
                trip_at = Some(now);
            }
            if !d && now >= fault_end && recover_at.is_none() {
                recover_at = Some(now);
            }
        }
        clock.advance(MS);
    }
    let migrated = rx.migrated_to_backup();
    // Drain what is left.
    drop(tx);
    let now = clock.now();
    while let Ok(m) = rx.try_recv() {
        take(m, now, &mut seen, &mut latency);
    }
    while let Ok(m) = brx.try_recv() {
        take(m, now, &mut seen, &mut latency);
    }

    let target = TARGET.as_nanos() as u64;
    let breach_begin = (0..sent_at.len())
        .find(|&i| sent_at[i] >= fault_start && latency[i].is_some_and(|l| l > target))
        .map(|i| sent_at[i]);
    let in_fault: Vec<usize> = (0..sent_at.len())
        .filter(|&i| sent_at[i] >= fault_start && sent_at[i] < fault_end)
        .collect();
    let served = in_fault
        .iter()
        .filter(|&&i| latency[i].is_some_and(|l| l <= target))
        .count();
    let received = seen.iter().filter(|&&n| n >= 1).count();
    Figures {
        // With the head-age rule no message may breach at all: then the trip came before any
        // breach (zero), and `trip_after_onset` says when it came.
        trip_after_breach: trip_at
            .zip(breach_begin.or(trip_at))
            .map(|(t, b)| Duration::from_nanos(t.saturating_sub(b))),
        trip_after_onset: trip_at.map(|t| Duration::from_nanos(t - fault_start)),
        served_in_fault: served as f64 / in_fault.len().max(1) as f64,
        degraded_p99: p99(&mut degraded_lat),
        recover_after_fault: recover_at.map(|r| Duration::from_nanos(r - fault_end)),
        transitions,
        sent: sent_at.len(),
        received,
        returned,
        duplicates: seen.iter().filter(|&&n| n > 1).count(),
        lost: sent_at.len() - received - returned,
        migrated,
    }
}

#[test]
fn latency_ramp_degrades_to_the_backup_and_recovers() {
    // The primary's consumer slows down over 3 s until it stops: its queue, and so the
    // queueing delay, ramps up, then grows one for one.
    let f = run(&Plan {
        calm_ms: 10_000,
        fault_ms: 120_000,
        after_ms: 10_000,
        fault_service: 0,
        ramp_ms: 3_000,
        close_at: None,
    });
    f.print("latency ramp (primary consumer slows to a stop over 3 s; fault lasts 120 s)");
    f.assert_seed_bars();
}

#[test]
fn consumer_stall_degrades_and_recovers() {
    // The primary's consumer stops altogether (a stall): queueing delay grows one for one.
    let f = run(&Plan {
        calm_ms: 10_000,
        fault_ms: 120_000,
        after_ms: 10_000,
        fault_service: 0,
        ramp_ms: 1,
        close_at: None,
    });
    f.print("stall (primary consumer stops at once for 120 s)");
    f.assert_seed_bars();
}

#[test]
fn abrupt_close_loses_nothing() {
    // The primary is closed abruptly by its consumer mid-run: sends fail and return their
    // value, buffered messages are still drained; every message is received once or returned.
    let f = run(&Plan {
        calm_ms: 2_000,
        fault_ms: 2_000,
        after_ms: 1_000,
        fault_service: 2,
        ramp_ms: 1,
        close_at: Some(3_000),
    });
    f.print("abrupt close of the primary");
    assert_eq!(f.lost, 0);
    assert_eq!(f.duplicates, 0);
    assert!(
        f.returned > 0,
        "sends after the close come back to the sender"
    );
}
