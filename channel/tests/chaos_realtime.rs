//! The chaos suite's real-time scenario: a few seconds on the multi-thread runtime (two
//! workers), with the runtime's own clock and timers, no manual clock.
//!
//! A producer sends one message per millisecond into a monitored bounded channel with a
//! backup; one consumer drains the primary, another drains the backup. After about 1 s the
//! primary's consumer stalls (stops receiving) for about 1.5 s, then resumes. A monitor task
//! samples the channel's L3 status every 2 ms (and ticks its evaluation when traffic is gone).
//!
//! The machine running this may be a loaded 2-core box, so nothing here asserts a duration.
//! Asserted are the invariants that hold however slow the machine is:
//! * every message sent is received exactly once, through the primary or the backup (0 lost,
//!   0 duplicated), and no send fails;
//! * the channel was degraded at some point while its consumer stalled;
//! * it is no longer degraded once the fault has ended and the channel had time to settle
//!   (a bounded wait; it fails with a message if the channel never recovers);
//! * no flapping: from the fault's onset on, at most one degrade and one recover.
//!
//! The figures (trip time, served-within-SLO fraction, degraded-path P99, recovery time,
//! transitions, lost) are printed, with whether weir's goals and the seed's bars were met;
//! those depend on the machine's load and are not asserted (`--nocapture` shows them).
//!
//! L3 transitions are read from `slo_status().degraded_since`, the evaluator's own record:
//! `None -> Some` is a degrade, `Some -> None` a recover, and `Some(a) -> Some(b)` a recover
//! and a degrade that both fell between two samples. A degrade and recover pair that both
//! fall between two samples cannot be seen (it needs the monitor to be starved for a whole
//! cooldown); the channel exposes no L3 transition counter.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use weir_breaker::SloConfig;
use weir_channel::{Builder, Receiver, Sender};
use weir_runtime::runtime::Builder as RuntimeBuilder;
use weir_runtime::time::{sleep, sleep_until};

/// The SLO: P99.9 of the queueing delay.
const TARGET: Duration = Duration::from_millis(50);
/// Messages sent, one per millisecond.
const MESSAGES: u64 = 3_500;
/// When the primary's consumer stalls, and for how long.
const STALL_AT: Duration = Duration::from_millis(1_000);
const STALL_FOR: Duration = Duration::from_millis(1_500);
/// How often the monitor samples the channel's L3 status.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);
/// How long the channel may take to recover once the fault is over and traffic has ended.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);
/// A hang fails the test after this long.
const WATCHDOG: Duration = Duration::from_secs(60);
/// Capacity of the primary and of the backup (far more than the stall can queue before L3
/// acts, so the producer never waits for room).
const CAPACITY: usize = 8_192;

/// The seed's bars and weir's goals, reported, not asserted.
const SEED_TRIP: Duration = Duration::from_millis(800);
const SEED_SERVED: f64 = 0.995;
const SEED_P99: Duration = Duration::from_millis(1_200);
const GOAL_TRIP: Duration = Duration::from_millis(400);
const GOAL_SERVED: f64 = 0.999;
const GOAL_P99: Duration = Duration::from_millis(200);

/// A small SLO so that a trip, a cooldown and a recovery fit in a few seconds.
fn slo() -> SloConfig {
    SloConfig::new()
        .target_p999(TARGET)
        .short_window(Duration::from_millis(400))
        .short_bucket(Duration::from_millis(20))
        .long_window(Duration::from_secs(4))
        .long_bucket(Duration::from_millis(100))
        .consecutive_breaches(2)
        .slope_threshold_per_min(Duration::from_millis(120))
        .predictive(false)
        .horizon(Duration::from_secs(1))
        .min_samples(10)
        .cooldown(Duration::from_millis(300))
        .rate_limit_per_sec(20)
        .burst(1)
}

#[derive(Debug)]
struct Msg {
    id: u64,
    sent: Instant,
}

/// One received message.
#[derive(Debug, Clone, Copy)]
struct Got {
    id: u64,
    sent: Instant,
    latency: Duration,
}

/// When the primary's consumer actually stopped receiving and when it started again.
#[derive(Debug, Clone, Copy)]
struct Fault {
    onset: Instant,
    end: Instant,
}

/// What the monitor saw: each change of `degraded_since`, with when it was seen.
#[derive(Debug)]
struct Watch {
    changes: Vec<(Instant, Option<u64>)>,
    /// `degraded_since` at the last sample.
    last: Option<u64>,
    /// Whether the channel was seen healthy after the fault and the traffic were over.
    settled: bool,
    /// Messages of the primary's backlog handed to the backup.
    migrated: u64,
}

/// Everything the scenario hands back for the figures and the assertions.
#[derive(Debug)]
struct Run {
    sent: u64,
    primary: Vec<Got>,
    backup: Vec<Got>,
    fault: Fault,
    watch: Watch,
}

async fn produce(tx: Sender<Msg>, start: Instant) -> u64 {
    let start_rt = weir_runtime::time::Instant::from_std(start);
    let mut sent = 0;
    for id in 0..MESSAGES {
        // Catch up without sleeping when behind schedule: the rate is one per ms on average.
        sleep_until(start_rt + Duration::from_millis(id)).await;
        let msg = Msg {
            id,
            sent: Instant::now(),
        };
        if let Err(e) = tx.send(msg).await {
            panic!("send of message {id} failed although nothing closes the channel: {e}");
        }
        sent += 1;
    }
    sent
}

fn got(m: Msg) -> Got {
    Got {
        id: m.id,
        sent: m.sent,
        latency: m.sent.elapsed(),
    }
}

/// The primary's consumer: receives until the channel is closed and drained, stalling once.
async fn consume_primary(
    rx: Receiver<Msg>,
    start: Instant,
    fault: Arc<Mutex<Option<Fault>>>,
) -> Vec<Got> {
    let mut stalled = false;
    let mut out = Vec::with_capacity(MESSAGES as usize);
    while let Ok(m) = rx.recv().await {
        out.push(got(m));
        if !stalled && start.elapsed() >= STALL_AT {
            stalled = true;
            let onset = Instant::now();
            sleep(STALL_FOR).await;
            let end = Instant::now();
            *fault.lock().unwrap() = Some(Fault { onset, end });
        }
    }
    out
}

/// The backup's consumer: receives until the backup is closed (when the primary channel,
/// which holds the backup's sender, is gone) and drained.
async fn consume_backup(rx: Receiver<Msg>) -> Vec<Got> {
    let mut out = Vec::with_capacity(MESSAGES as usize);
    while let Ok(m) = rx.recv().await {
        out.push(got(m));
    }
    out
}

/// Samples L3's status until the producer is done, the fault is over and the channel is
/// healthy again, or `SETTLE_LIMIT` after both are over.
async fn monitor(
    rx: Receiver<Msg>,
    producer_done: Arc<AtomicBool>,
    fault: Arc<Mutex<Option<Fault>>>,
) -> Watch {
    let mut watch = Watch {
        changes: Vec::new(),
        last: None,
        settled: false,
        migrated: 0,
    };
    let mut over_since: Option<Instant> = None;
    loop {
        // Evaluations run on the send and receive paths; once traffic stops only this tick
        // drives them.
        let _ = rx.slo_tick();
        let since = rx.slo_status().and_then(|e| e.degraded_since);
        if since != watch.last {
            watch.changes.push((Instant::now(), since));
            watch.last = since;
        }
        let over = producer_done.load(Ordering::Acquire) && fault.lock().unwrap().is_some();
        if over {
            let t = *over_since.get_or_insert_with(Instant::now);
            if since.is_none() || t.elapsed() >= SETTLE_LIMIT {
                watch.settled = since.is_none();
                watch.migrated = rx.migrated_to_backup();
                return watch;
            }
        }
        sleep(SAMPLE_EVERY).await;
    }
}

async fn scenario() -> Run {
    let (btx, brx) = weir_channel::bounded::<Msg>(CAPACITY);
    let (tx, rx) = Builder::bounded(CAPACITY)
        .name("storage")
        .slo(slo())
        .backup(btx)
        .build();
    let start = Instant::now();
    let fault = Arc::new(Mutex::new(None));
    let producer_done = Arc::new(AtomicBool::new(false));

    let backup = weir_runtime::spawn(consume_backup(brx));
    let primary = weir_runtime::spawn(consume_primary(rx.clone(), start, fault.clone()));
    let watcher = weir_runtime::spawn(monitor(rx, producer_done.clone(), fault.clone()));
    let sent = weir_runtime::spawn(produce(tx, start))
        .await
        .expect("the producer task failed");
    // Release: the monitor reads the flag; the messages themselves travel by the channels.
    producer_done.store(true, Ordering::Release);
    // The producer's sender is gone: the primary is closed, and its consumer ends once it has
    // drained it (after its stall).
    let primary = primary.await.expect("the primary's consumer task failed");
    let watch = watcher.await.expect("the monitor task failed");
    // The monitor held the last receiver of the primary; its channel (and the backup sender
    // its breaker held) is gone now, so the backup's consumer ends after draining.
    let backup = backup.await.expect("the backup's consumer task failed");
    let fault = fault
        .lock()
        .unwrap()
        .expect("the primary's consumer never stalled");
    Run {
        sent,
        primary,
        backup,
        fault,
        watch,
    }
}

fn p99(v: &mut [Duration]) -> Option<Duration> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1;
    Some(v[i])
}

/// The figures of one run, and the invariants' inputs.
#[derive(Debug)]
struct Figures {
    trip_after_onset: Option<Duration>,
    trip_after_breach: Option<Duration>,
    served_in_fault: f64,
    in_fault: usize,
    degraded_p99: Option<Duration>,
    recover_after_fault: Option<Duration>,
    /// L3 transitions seen from the fault's onset on.
    transitions: u32,
    /// L3 transitions seen before the onset (a loaded machine may really be that late).
    transitions_before: u32,
    degraded_in_stall: bool,
    settled: bool,
    sent: u64,
    via_primary: usize,
    via_backup: usize,
    duplicates: usize,
    lost: usize,
    migrated: u64,
}

fn figures(run: &Run) -> Figures {
    let Fault { onset, end } = run.fault;
    let changes = &run.watch.changes;
    // Transitions per change of `degraded_since` (see the module doc).
    let weight = |prev: Option<u64>, next: Option<u64>| match (prev, next) {
        (Some(_), Some(_)) => 2,
        _ => 1,
    };
    let mut prev = None;
    let (mut transitions, mut transitions_before) = (0, 0);
    // State at the onset, and whether any degraded state was seen within the stall.
    let mut at_onset = None;
    let mut degraded_in_stall = false;
    for &(t, since) in changes {
        if t < onset {
            transitions_before += weight(prev, since);
            at_onset = since;
        } else {
            transitions += weight(prev, since);
            if t <= end && since.is_some() {
                degraded_in_stall = true;
            }
        }
        prev = since;
    }
    degraded_in_stall |= at_onset.is_some();
    let trip = changes
        .iter()
        .find(|(t, s)| *t >= onset && s.is_some())
        .map(|(t, _)| *t)
        .or(at_onset.map(|_| onset));
    let recover = changes
        .iter()
        .find(|(t, s)| *t >= end && s.is_none())
        .map(|(t, _)| *t);
    let breach_begins = onset + TARGET;

    let all: Vec<Got> = run.primary.iter().chain(&run.backup).copied().collect();
    let in_fault: Vec<&Got> = all
        .iter()
        .filter(|g| g.sent >= onset && g.sent < end)
        .collect();
    let served = in_fault.iter().filter(|g| g.latency <= TARGET).count();
    let mut degraded_lat: Vec<Duration> = all
        .iter()
        .filter(|g| trip.is_some_and(|t| g.sent >= t) && recover.is_none_or(|r| g.sent < r))
        .map(|g| g.latency)
        .collect();

    let mut seen = vec![0u8; run.sent as usize];
    let mut strays = 0;
    for g in &all {
        match seen.get_mut(g.id as usize) {
            Some(n) => *n = n.saturating_add(1),
            None => strays += 1,
        }
    }
    assert_eq!(strays, 0, "received ids that were never sent");
    Figures {
        trip_after_onset: trip.map(|t| t.saturating_duration_since(onset)),
        trip_after_breach: trip.map(|t| t.saturating_duration_since(breach_begins)),
        served_in_fault: served as f64 / in_fault.len().max(1) as f64,
        in_fault: in_fault.len(),
        degraded_p99: p99(&mut degraded_lat),
        recover_after_fault: recover.map(|r| r.saturating_duration_since(end)),
        transitions,
        transitions_before,
        degraded_in_stall,
        settled: run.watch.settled,
        sent: run.sent,
        via_primary: run.primary.len(),
        via_backup: run.backup.len(),
        duplicates: seen.iter().filter(|&&n| n > 1).count(),
        lost: seen.iter().filter(|&&n| n == 0).count(),
        migrated: run.watch.migrated,
    }
}

impl Figures {
    fn print(&self, fault: &Fault) {
        let met = |b: bool| if b { "met" } else { "NOT met" };
        let trip = self.trip_after_breach.unwrap_or(Duration::MAX);
        let p99 = self.degraded_p99.unwrap_or(Duration::MAX);
        println!(
            "scenario real time (2 workers): primary consumer stalls {:?} after start for {:?}",
            STALL_AT,
            fault.end.saturating_duration_since(fault.onset)
        );
        println!(
            "  trip after the breach begins (onset + {:?}): {:?} (after onset: {:?}); \
             goal <= {:?}: {}; seed <= {:?}: {}",
            TARGET,
            self.trip_after_breach,
            self.trip_after_onset,
            GOAL_TRIP,
            met(trip <= GOAL_TRIP),
            SEED_TRIP,
            met(trip <= SEED_TRIP),
        );
        println!(
            "  served within the SLO during the fault: {:.3} % of {}; goal >= {:.1} %: {}; \
             seed >= {:.1} %: {}",
            self.served_in_fault * 100.0,
            self.in_fault,
            GOAL_SERVED * 100.0,
            met(self.served_in_fault >= GOAL_SERVED),
            SEED_SERVED * 100.0,
            met(self.served_in_fault >= SEED_SERVED),
        );
        println!(
            "  P99 on the degraded path: {:?}; goal <= {:?}: {}; seed <= {:?}: {}",
            self.degraded_p99,
            GOAL_P99,
            met(p99 <= GOAL_P99),
            SEED_P99,
            met(p99 <= SEED_P99),
        );
        println!(
            "  recovered after the fault ended: {:?}",
            self.recover_after_fault
        );
        println!(
            "  L3 transitions from the onset: {} (2 = one degrade, one recover); before it: {}",
            self.transitions, self.transitions_before
        );
        println!(
            "  messages: sent {}, via primary {}, via backup {} (backlog handed over {}), \
             duplicates {}, lost {}; goal 0 lost: {}",
            self.sent,
            self.via_primary,
            self.via_backup,
            self.migrated,
            self.duplicates,
            self.lost,
            met(self.lost == 0 && self.duplicates == 0),
        );
    }

    fn check(&self) {
        assert_eq!(self.lost, 0, "messages lost");
        assert_eq!(self.duplicates, 0, "messages received twice");
        assert_eq!(
            self.via_primary + self.via_backup,
            self.sent as usize,
            "receipts do not match sends"
        );
        assert!(
            self.degraded_in_stall,
            "the channel never degraded while its consumer stalled"
        );
        assert!(
            self.settled,
            "the channel was still degraded {SETTLE_LIMIT:?} after the fault and the traffic \
             had ended"
        );
        assert!(
            self.transitions <= 2,
            "flapping: {} L3 transitions for one fault (at most one degrade and one recover)",
            self.transitions
        );
    }
}

#[test]
fn real_time_consumer_stall_degrades_to_the_backup_and_recovers() {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("chaos-realtime".into())
        .spawn(move || {
            let rt = RuntimeBuilder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the runtime builds");
            let run = rt.block_on(scenario());
            // The receiver may have given up (watchdog): nothing to do then.
            let _ = done_tx.send(run);
        })
        .expect("spawn the scenario thread");
    let run = match done_rx.recv_timeout(WATCHDOG) {
        Ok(run) => run,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "watchdog: the real-time scenario did not finish within {WATCHDOG:?} (a task is \
             stuck: the producer on a full channel, a consumer on a channel that never closes, \
             or the monitor waiting for a recovery)"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("the scenario thread ended without a result"),
        },
    };
    let f = figures(&run);
    f.print(&run.fault);
    f.check();
}
