//! Chaos scenarios on a manual clock (no feature needed: the faults are plain producer and
//! consumer behaviour). The clock is simulated, so every figure is deterministic: each scenario
//! prints its figures and asserts the goals.
//!
//! | figure | goal |
//! |---|---|
//! | served within target during the fault | >= 99.9 % of the messages the channel accepted |
//! | trip after the consumer falls behind | < target |
//! | P99 of what was sent while degraded | <= target / 4 |
//! | lost / duplicated | 0 / 0 |
//! | L3 transitions per fault | <= 2 |
//!
//! The simulation advances a `ManualClock` one millisecond per step. Each step a producer sends
//! one message (stamped with its send time), the primary's consumer takes as many as its
//! service rate allows, and the backup's consumer drains the backup. Latency is measured by the
//! test itself (receive time minus send time); the channel's L3 sees the same thing through
//! its own stamps. With no runtime here, the test stands in for the runtime timer's watchdog
//! (`slo_tick` every quarter of the head-age limit, as the watchdog sleeps), which matters only
//! once no operation reaches the channel (its producer gone and its consumer stalled).

use std::sync::Arc;
use std::time::Duration;

use weir_breaker::{Clock, ManualClock};
use weir_channel::{Builder, Receiver, Sender, TryRecvError, TrySendError};

#[path = "support/chaos_slo.rs"]
mod chaos_slo;
use chaos_slo::{slo, TARGET};

const MS: u64 = 1_000_000;
/// The consumer's normal service, in quarter-messages per ms: two messages per ms, twice the
/// arrival rate. Below 4 it falls behind.
const NORMAL: u64 = 8;
const ARRIVAL: u64 = 4;
/// The watchdog's period: a quarter of the head-age limit (half the target).
const WATCHDOG_MS: u64 = 12;

const GOAL_SERVED: f64 = 0.999;

#[derive(Debug)]
struct Msg {
    id: usize,
    sent: u64,
}

/// Who closes the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Consumer,
    Producer,
}

/// A scenario's schedule, in ms from the start.
struct Plan {
    name: &'static str,
    /// The fault windows `[start, end)`: the consumer is sick in each.
    faults: Vec<(u64, u64)>,
    end_ms: u64,
    /// The consumer's service at a given ms, in quarter-messages.
    service: Box<dyn Fn(u64) -> u64>,
    /// The primary is closed at this ms.
    close: Option<(u64, Side)>,
    /// The consumer dies at this ms: its receiver is dropped with the backlog queued.
    die_at: Option<u64>,
}

impl Plan {
    fn in_fault(&self, ms: u64) -> Option<usize> {
        self.faults.iter().position(|&(s, e)| ms >= s && ms < e)
    }

    /// When the consumer falls behind in fault `i`: its service drops under the arrival rate,
    /// it dies, or the channel is closed.
    fn onset(&self, i: usize) -> u64 {
        let (s, e) = self.faults[i];
        let event = [self.die_at, self.close.map(|c| c.0)]
            .into_iter()
            .flatten()
            .filter(|&t| t >= s && t < e)
            .min();
        let behind = (s..e).find(|&ms| (self.service)(ms) < ARRIVAL);
        [event, behind].into_iter().flatten().min().unwrap_or(s)
    }

    /// The consumer stops at once for `len` ms.
    fn stall(name: &'static str, calm: u64, len: u64, after: u64) -> Plan {
        let (s, e) = (calm, calm + len);
        Plan {
            name,
            faults: vec![(s, e)],
            end_ms: e + after,
            service: Box::new(move |ms| if ms >= s && ms < e { 0 } else { NORMAL }),
            close: None,
            die_at: None,
        }
    }

    /// The consumer's service falls linearly from normal to `bottom` over `ramp` ms, stays
    /// there until `len` ms into the fault, then is normal again.
    fn ramp(name: &'static str, calm: u64, len: u64, ramp: u64, bottom: u64, after: u64) -> Plan {
        let (s, e) = (calm, calm + len);
        Plan {
            name,
            faults: vec![(s, e)],
            end_ms: e + after,
            service: Box::new(move |ms| {
                if ms < s || ms >= e {
                    NORMAL
                } else {
                    let into = ms - s;
                    if into >= ramp {
                        bottom
                    } else {
                        NORMAL - (NORMAL - bottom) * into / ramp
                    }
                }
            }),
            close: None,
            die_at: None,
        }
    }
}

/// What a scenario measured.
#[derive(Debug, Default)]
struct Figures {
    /// Per fault: from the consumer falling behind to the degrade (`None`: never degraded).
    trips: Vec<Option<Duration>>,
    /// Per fault: how long the oldest message still queued on the primary had waited at the
    /// degrade (zero when the channel was already degraded at the onset).
    head_ages: Vec<Option<Duration>>,
    served_in_fault: f64,
    accepted_in_fault: usize,
    degraded_p99: Option<Duration>,
    /// The worst fault's L3 transitions, from its onset to the next fault's.
    transitions_per_fault: u32,
    transitions: u32,
    sent: usize,
    received: usize,
    returned: usize,
    duplicates: usize,
    lost: usize,
    migrated: u64,
}

fn met(b: bool) -> &'static str {
    if b {
        "PASS"
    } else {
        "FAIL"
    }
}

impl Figures {
    fn worst(v: &[Option<Duration>]) -> Option<Duration> {
        v.iter()
            .try_fold(Duration::ZERO, |w, t| t.map(|t| w.max(t)))
    }

    fn print(&self, name: &str, tripped: bool) {
        let target = TARGET;
        println!("scenario {name}:");
        let show = |t: Option<Duration>| t.map_or("never".into(), |t| format!("{t:?}"));
        let age = Self::worst(&self.head_ages);
        if !tripped {
            println!("  trip: none expected (the backlog moved to the backup at once)");
        } else {
            println!(
                "  trip: {} after the consumer fell behind, when the oldest queued message had \
             waited {} (worst of {} faults); goal < {:?}: {}",
                show(Self::worst(&self.trips)),
                show(age),
                self.trips.len(),
                target,
                met(age.is_some_and(|t| t < target))
            );
        }
        println!(
            "  served within target during the fault: {:.3} % of {} accepted; goal >= {:.1} %: {}",
            self.served_in_fault * 100.0,
            self.accepted_in_fault,
            GOAL_SERVED * 100.0,
            met(self.served_in_fault >= GOAL_SERVED)
        );
        println!(
            "  P99 of what was sent while degraded: {}; goal <= {:?}: {}",
            self.degraded_p99.map_or("-".into(), |p| format!("{p:?}")),
            target / 4,
            met(self.degraded_p99.is_none_or(|p| p <= target / 4))
        );
        println!(
            "  L3 transitions: {} in all, at most {} per fault; goal <= 2: {}",
            self.transitions,
            self.transitions_per_fault,
            met(self.transitions_per_fault <= 2)
        );
        println!(
            "  messages: sent {}, received {}, returned to the sender {}, duplicates {}, lost {} \
             (backlog moved to the backup: {}); goal 0 / 0: {}",
            self.sent,
            self.received,
            self.returned,
            self.duplicates,
            self.lost,
            self.migrated,
            met(self.lost == 0 && self.duplicates == 0)
        );
    }

    /// Asserts every goal. `tripped` is false for a scenario where no degrade is expected
    /// (the consumer died: its backlog moves to the backup at once, and nothing more is sent).
    fn assert_goals(&self, tripped: bool) {
        assert_eq!(self.lost, 0, "messages lost");
        assert_eq!(self.duplicates, 0, "messages received twice");
        assert!(
            self.served_in_fault >= GOAL_SERVED,
            "served within target: {:.3} %",
            self.served_in_fault * 100.0
        );
        if tripped {
            let age = Self::worst(&self.head_ages).expect("a fault never tripped L3");
            assert!(
                age < TARGET,
                "the oldest message had waited {age:?} at the trip"
            );
        }
        if let Some(p) = self.degraded_p99 {
            assert!(p <= TARGET / 4, "degraded P99 {p:?}");
        }
        assert!(
            self.transitions_per_fault <= 2,
            "{} transitions for one fault",
            self.transitions_per_fault
        );
    }
}

fn p99(v: &mut [u64]) -> Option<Duration> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let i = ((v.len() as f64) * 0.99).ceil() as usize;
    Some(Duration::from_nanos(v[i.clamp(1, v.len()) - 1]))
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
    let mut rx = Some(rx);

    let mut sent_at: Vec<u64> = Vec::new();
    let mut accepted: Vec<bool> = Vec::new();
    let mut latency: Vec<Option<u64>> = Vec::new();
    let mut seen: Vec<u8> = Vec::new();
    let mut degraded_at_send: Vec<bool> = Vec::new();
    let mut degraded = false;
    // (ms, degraded after) for every L3 transition.
    let mut changes: Vec<(u64, bool)> = Vec::new();
    let mut credit = 0u64;

    fn take(m: Msg, now: u64, seen: &mut [u8], latency: &mut [Option<u64>]) {
        seen[m.id] += 1;
        latency[m.id] = Some(now - m.sent);
    }

    while clock.now() < plan.end_ms * MS {
        let now = clock.now();
        let ms = now / MS;
        if plan.close.is_some_and(|c| c.0 == ms) {
            match plan.close.map(|c| c.1) {
                Some(Side::Producer) => tx.close(),
                _ => rx.as_ref().is_some_and(|rx| rx.close()),
            };
        }
        if plan.die_at == Some(ms) {
            rx = None;
        }
        // Producer: one message per ms.
        let id = sent_at.len();
        sent_at.push(now);
        latency.push(None);
        seen.push(0);
        degraded_at_send.push(tx.is_degraded());
        accepted.push(match tx.try_send(Msg { id, sent: now }) {
            Ok(()) => true,
            Err(TrySendError::Closed(_) | TrySendError::Full(_)) => false,
        });
        // The primary's consumer.
        credit += (plan.service)(ms);
        while let Some(rx) = rx.as_ref().filter(|_| credit >= 4) {
            match rx.try_recv() {
                Ok(m) => {
                    credit -= 4;
                    take(m, now, &mut seen, &mut latency);
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => {
                    credit = credit.min(4);
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        // The runtime timer's watchdog.
        if ms % WATCHDOG_MS == 0 {
            let _ = tx.slo_tick();
        }
        // The backup's consumer keeps up.
        while let Ok(m) = brx.try_recv() {
            take(m, now, &mut seen, &mut latency);
        }
        let d = tx.is_degraded();
        if d != degraded {
            changes.push((ms, d));
            degraded = d;
        }
        clock.advance(MS);
    }
    let migrated = tx.migrated_to_backup();
    // Drain what is left: late, so it counts against the SLO.
    drop(tx);
    let now = clock.now();
    if let Some(rx) = rx.take() {
        while let Ok(m) = rx.try_recv() {
            take(m, now, &mut seen, &mut latency);
        }
    }
    while let Ok(m) = brx.try_recv() {
        take(m, now, &mut seen, &mut latency);
    }

    let target = TARGET.as_nanos() as u64;
    let faulty: Vec<usize> = (0..sent_at.len())
        .filter(|&i| accepted[i] && plan.in_fault(sent_at[i] / MS).is_some())
        .collect();
    let served = faulty
        .iter()
        .filter(|&&i| latency[i].is_some_and(|l| l <= target))
        .count();
    // Per fault, the degrade: `Some(None)` when already degraded at the onset.
    let degrade_ms: Vec<Option<Option<u64>>> = (0..plan.faults.len())
        .map(|f| {
            let onset = plan.onset(f);
            let (_, end) = plan.faults[f];
            let was = changes
                .iter()
                .rev()
                .find(|c| c.0 <= onset)
                .is_some_and(|c| c.1);
            if was {
                return Some(None);
            }
            changes
                .iter()
                .find(|c| c.1 && c.0 >= onset && c.0 < end)
                .map(|c| Some(c.0))
        })
        .collect();
    let trips = (0..plan.faults.len())
        .map(|f| degrade_ms[f].map(|d| Duration::from_millis(d.map_or(0, |d| d - plan.onset(f)))))
        .collect();
    // The oldest message sent before the degrade and received after it waited this long.
    let head_ages = degrade_ms
        .iter()
        .map(|d| {
            d.map(|d| {
                let Some(t) = d.map(|d| d * MS) else {
                    return Duration::ZERO;
                };
                (0..sent_at.len())
                    .filter(|&i| accepted[i] && sent_at[i] <= t)
                    .filter(|&i| latency[i].is_none_or(|l| sent_at[i] + l >= t))
                    .map(|i| Duration::from_nanos(t - sent_at[i]))
                    .next()
                    .unwrap_or(Duration::ZERO)
            })
        })
        .collect();
    let transitions_per_fault = (0..plan.faults.len())
        .map(|f| {
            let from = plan.onset(f);
            let to = plan.faults.get(f + 1).map_or(u64::MAX, |n| n.0);
            changes.iter().filter(|c| c.0 >= from && c.0 < to).count() as u32
        })
        .max()
        .unwrap_or(0);
    let mut degraded_lat: Vec<u64> = (0..sent_at.len())
        .filter(|&i| accepted[i] && degraded_at_send[i])
        .filter_map(|i| latency[i])
        .collect();
    let received = seen.iter().filter(|&&n| n >= 1).count();
    let returned = accepted.iter().filter(|&&a| !a).count();
    Figures {
        trips,
        head_ages,
        served_in_fault: served as f64 / faulty.len().max(1) as f64,
        accepted_in_fault: faulty.len(),
        degraded_p99: p99(&mut degraded_lat),
        transitions_per_fault,
        transitions: changes.len() as u32,
        sent: sent_at.len(),
        received,
        returned,
        duplicates: seen.iter().filter(|&&n| n > 1).count(),
        lost: (0..sent_at.len())
            .filter(|&i| accepted[i] && seen[i] == 0)
            .count(),
        migrated,
    }
}

fn scenario(plan: Plan, tripped: bool) -> Figures {
    let f = run(&plan);
    f.print(plan.name, tripped);
    f.assert_goals(tripped);
    f
}

#[test]
fn latency_ramp_degrades_to_the_backup_and_recovers() {
    // The consumer slows down over 3 s until it stops: its queue, and so the queueing delay,
    // ramps up, then grows one for one.
    let f = scenario(
        Plan::ramp(
            "latency ramp (to a stop over 3 s; 120 s)",
            10_000,
            120_000,
            3_000,
            0,
            10_000,
        ),
        true,
    );
    assert_eq!(f.transitions, 2, "one degrade, one recover");
}

#[test]
fn consumer_stall_degrades_and_recovers() {
    // The consumer stops altogether for 120 s: queueing delay grows one for one.
    let f = scenario(Plan::stall("stall (120 s)", 10_000, 120_000, 10_000), true);
    assert_eq!(f.transitions, 2, "one degrade, one recover");
}

#[test]
fn repeated_short_pauses_keep_the_slo() {
    // A GC, fsync or lock held too long: eight 300 ms pauses, 2.5 s apart (each shorter than
    // the 2 s cooldown).
    let faults: Vec<(u64, u64)> = (0..8)
        .map(|i| (5_000 + i * 2_500, 5_300 + i * 2_500))
        .collect();
    let pauses = faults.clone();
    let last = faults[faults.len() - 1].1;
    let plan = Plan {
        name: "repeated pauses (8 x 300 ms, every 2.5 s)",
        faults,
        end_ms: last + 5_000,
        service: Box::new(move |ms| {
            if pauses.iter().any(|&(s, e)| ms >= s && ms < e) {
                0
            } else {
                NORMAL
            }
        }),
        close: None,
        die_at: None,
    };
    scenario(plan, true);
}

#[test]
fn service_time_drifting_above_the_arrival_rate_degrades_once() {
    // Service time drifts up over 20 s until the consumer serves 0.75 messages per ms (one
    // arrives per ms), stays there for 40 s, then is normal again.
    let f = scenario(
        Plan::ramp(
            "drift (to 0.75x the arrival rate over 20 s; 60 s)",
            5_000,
            60_000,
            20_000,
            3,
            10_000,
        ),
        true,
    );
    assert!(
        f.transitions <= 2,
        "flapping: {} transitions",
        f.transitions
    );
}

#[test]
fn a_consumer_that_dies_mid_stream_hands_its_backlog_over() {
    // The consumer slows to a third of the arrival rate, then dies (its receiver dropped)
    // with a backlog queued: the backlog goes to the backup, later sends come back.
    let mut plan = Plan::ramp("consumer dies mid-stream", 5_000, 10_000, 1, 1, 1_000);
    plan.die_at = Some(5_040);
    let f = scenario(plan, false);
    assert!(
        f.returned > 0,
        "sends after the death come back to the sender"
    );
    assert!(f.migrated > 0, "the backlog moved to the backup");
}

#[test]
fn stall_and_abrupt_close_together_lose_nothing() {
    // The consumer stalls; 200 ms into the stall the producer closes the channel abruptly.
    // The backlog must still reach the backup within target, and later sends come back.
    let mut plan = Plan::stall("stall, then the producer closes", 5_000, 5_000, 1_000);
    plan.close = Some((5_200, Side::Producer));
    let f = scenario(plan, true);
    assert!(
        f.returned > 0,
        "sends after the close come back to the sender"
    );
}

#[test]
fn abrupt_close_loses_nothing() {
    // The consumer closes the primary mid-run while slowed to half the arrival rate: sends
    // fail and return their value, buffered messages are still drained.
    let mut plan = Plan::ramp("consumer closes the primary", 2_000, 2_000, 1, 2, 1_000);
    plan.close = Some((3_000, Side::Consumer));
    let f = scenario(plan, true);
    assert!(
        f.returned > 0,
        "sends after the close come back to the sender"
    );
}
