//! The chaos suite in real time: each scenario runs a few seconds on the multi-thread runtime
//! (two workers), with the runtime's own clock and timers, no manual clock, and nothing that
//! drives L3 but the channel's own operations and the runtime timer's watchdog.
//!
//! A producer sends one message per millisecond into a monitored bounded channel with a
//! backup; one consumer drains the primary, another drains the backup. About 1 s in, the
//! primary's consumer fails in the scenario's way (a stall, repeated short pauses, service
//! time drifting above the arrival interval, death with a backlog queued, or a stall during
//! which the producer closes the channel). A monitor task samples the channel's L3 status every
//! 2 ms (it only reads).
//!
//! The machine running this may be a loaded 2-core box, so nothing here asserts a duration.
//! Asserted are the invariants that hold however slow the machine is:
//! * every message the channel accepted is received exactly once, through the primary or the
//!   backup (0 lost, 0 duplicated); a send fails only once the channel is closed, and then its
//!   value comes back;
//! * the channel degraded while its consumer was sick (the death scenario excepted: its
//!   backlog moves to the backup at once);
//! * it is no longer degraded once the fault has ended and the channel had time to settle
//!   (a bounded wait; it fails with a message if the channel never recovers);
//! * no flapping: from a fault's onset to the next fault's, at most one degrade and one
//!   recover.
//!
//! The figures (trip time, served-within-target fraction, degraded-path P99, transitions,
//! lost) are printed with whether the goals were met; they depend on the machine's load and
//! are not asserted (`--nocapture` shows them).
//!
//! L3 transitions are the changes of `is_degraded()` the monitor sees (a degrade and a
//! recover between two samples would need the monitor starved for a whole cooldown).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use weir_breaker::SloConfig;
use weir_channel::{Builder, Receiver, SendError, Sender};
use weir_runtime::runtime::Builder as RuntimeBuilder;
use weir_runtime::time::{sleep, sleep_until};

/// The SLO: P99.9 of the queueing delay.
const TARGET: Duration = Duration::from_millis(50);
/// Messages sent, one per millisecond.
const MESSAGES: u64 = 3_500;
/// When the primary's consumer falls sick.
const SICK_AT: Duration = Duration::from_millis(1_000);
/// How long a stall lasts.
const STALL_FOR: Duration = Duration::from_millis(1_500);
/// How often the monitor samples the channel's L3 status.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);
/// How long the channel may take to recover once the fault is over and traffic has ended.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);
/// A hang fails the test after this long.
const WATCHDOG: Duration = Duration::from_secs(60);
/// Capacity of the primary and of the backup (far more than a fault can queue before L3
/// acts, so the producer never waits for room).
const CAPACITY: usize = 8_192;

const GOAL_SERVED: f64 = 0.999;

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

/// How the primary's consumer falls sick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sickness {
    /// Stops receiving for `STALL_FOR`.
    Stall,
    /// Four 150 ms pauses, 600 ms apart (each shorter than the 300 ms cooldown plus the pause).
    Pauses,
    /// Service time per message grows from nothing to 1.5 ms over 800 ms (one message arrives
    /// per ms), stays there, and is back to nothing after 1.5 s.
    Drift,
    /// Stops for 15 ms (a backlog queues, younger than the head-age limit), then drops its
    /// receiver.
    Dies,
    /// Stalls for `STALL_FOR`; 200 ms in, the producer closes the channel.
    StallClose,
}

impl Sickness {
    /// The fault windows, relative to the start.
    fn windows(self) -> Vec<(Duration, Duration)> {
        let ms = Duration::from_millis;
        match self {
            Sickness::Stall | Sickness::StallClose => vec![(SICK_AT, SICK_AT + STALL_FOR)],
            Sickness::Pauses => (0..4)
                .map(|i| (SICK_AT + ms(600 * i), SICK_AT + ms(600 * i + 150)))
                .collect(),
            Sickness::Drift => vec![(SICK_AT, SICK_AT + ms(1_500))],
            Sickness::Dies => vec![(SICK_AT, SICK_AT + ms(15))],
        }
    }

    /// Service time per message at `t` after the start (drift only).
    fn service(self, t: Duration) -> Duration {
        let (from, to) = self.windows()[0];
        if self != Sickness::Drift || t < from || t >= to {
            return Duration::ZERO;
        }
        let ramp = Duration::from_millis(800);
        let full = Duration::from_micros(1_500);
        full.mul_f64(((t - from).as_secs_f64() / ramp.as_secs_f64()).min(1.0))
    }

    /// Whether some of the producer's sends are refused (the channel is closed mid-run).
    fn closes(self) -> bool {
        matches!(self, Sickness::Dies | Sickness::StallClose)
    }
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

/// What the monitor saw: the L3 status's transition counts over time.
#[derive(Debug, Default)]
struct Watch {
    /// (when, degraded after) for every transition seen.
    changes: Vec<(Instant, bool)>,
    /// Whether the channel was seen healthy after the fault and the traffic were over.
    settled: bool,
    /// Messages of the primary's backlog handed to the backup.
    migrated: u64,
}

/// Everything the scenario hands back for the figures and the assertions.
#[derive(Debug)]
struct Run {
    sickness: Sickness,
    start: Instant,
    /// Sends attempted, and which of them came back (`SendError`).
    sent: u64,
    returned: Vec<u64>,
    primary: Vec<Got>,
    backup: Vec<Got>,
    watch: Watch,
}

async fn produce(tx: Sender<Msg>, start: Instant, sickness: Sickness) -> (u64, Vec<u64>) {
    let start_rt = weir_runtime::time::Instant::from_std(start);
    let mut returned = Vec::new();
    let close_at = SICK_AT + Duration::from_millis(200);
    for id in 0..MESSAGES {
        // Catch up without sleeping when behind schedule: the rate is one per ms on average.
        sleep_until(start_rt + Duration::from_millis(id)).await;
        if sickness == Sickness::StallClose && start.elapsed() >= close_at {
            tx.close();
        }
        let msg = Msg {
            id,
            sent: Instant::now(),
        };
        if let Err(SendError(m)) = tx.send(msg).await {
            assert!(
                sickness.closes(),
                "send of message {id} failed although nothing closes the channel"
            );
            returned.push(m.id);
        }
    }
    (MESSAGES, returned)
}

fn got(m: Msg) -> Got {
    Got {
        id: m.id,
        sent: m.sent,
        latency: m.sent.elapsed(),
    }
}

/// The primary's consumer: receives until the channel is closed and drained, sick as planned.
async fn consume_primary(rx: Receiver<Msg>, start: Instant, sickness: Sickness) -> Vec<Got> {
    let start_rt = weir_runtime::time::Instant::from_std(start);
    let mut pauses = match sickness {
        Sickness::Drift => Vec::new(),
        _ => sickness.windows(),
    }
    .into_iter();
    let mut next_pause = pauses.next();
    // Service time owed (drift), paid in whole timer ticks.
    let mut owed = Duration::ZERO;
    let mut out = Vec::with_capacity(MESSAGES as usize);
    while let Ok(m) = rx.recv().await {
        out.push(got(m));
        let t = start.elapsed();
        if let Some((from, to)) = next_pause.filter(|p| t >= p.0) {
            if sickness == Sickness::Dies {
                sleep_until(start_rt + to).await;
                return out;
            }
            let _ = from;
            sleep_until(start_rt + to).await;
            next_pause = pauses.next();
        }
        owed += sickness.service(t);
        if owed >= Duration::from_millis(1) {
            let before = Instant::now();
            sleep(owed).await;
            owed = owed.saturating_sub(before.elapsed());
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

/// Samples L3's status until the producer is done, the faults are over and the channel is
/// healthy again, or `SETTLE_LIMIT` after that. It holds a sender, not a receiver, so that a
/// consumer's death is the last receiver's drop.
async fn monitor(
    tx: Sender<Msg>,
    start: Instant,
    sickness: Sickness,
    done: Arc<AtomicBool>,
) -> Watch {
    let mut watch = Watch::default();
    let mut degraded = false;
    let faults_end = sickness.windows().last().map_or(SICK_AT, |w| w.1);
    let mut over_since: Option<Instant> = None;
    loop {
        let d = tx.is_degraded();
        if d != degraded {
            watch.changes.push((Instant::now(), d));
            degraded = d;
        }
        let over = done.load(Ordering::Acquire) && start.elapsed() >= faults_end;
        if over {
            let t = *over_since.get_or_insert_with(Instant::now);
            let healthy = !d;
            if healthy || t.elapsed() >= SETTLE_LIMIT {
                watch.settled = healthy;
                watch.migrated = tx.migrated_to_backup();
                return watch;
            }
        }
        sleep(SAMPLE_EVERY).await;
    }
}

async fn scenario(sickness: Sickness) -> Run {
    let (btx, brx) = weir_channel::bounded::<Msg>(CAPACITY);
    let (tx, rx) = Builder::bounded(CAPACITY)
        .name("storage")
        .slo(slo())
        .backup(btx)
        .build();
    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));

    let backup = weir_runtime::spawn(consume_backup(brx));
    let primary = weir_runtime::spawn(consume_primary(rx, start, sickness));
    let watcher = weir_runtime::spawn(monitor(tx.clone(), start, sickness, done.clone()));
    let (sent, returned) = weir_runtime::spawn(produce(tx, start, sickness))
        .await
        .expect("the producer task failed");
    // Release: the monitor reads the flag; the messages themselves travel by the channels.
    done.store(true, Ordering::Release);
    let watch = watcher.await.expect("the monitor task failed");
    // Both senders are gone: the primary is closed, and its consumer ends once it has drained
    // it; then the primary channel (and the backup sender its breaker held) is gone, so the
    // backup's consumer ends after draining.
    let primary = primary.await.expect("the primary's consumer task failed");
    let backup = backup.await.expect("the backup's consumer task failed");
    Run {
        sickness,
        start,
        sent,
        returned,
        primary,
        backup,
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
    /// Per fault: from its onset to the degrade (`None`: not degraded within it).
    trips: Vec<Option<Duration>>,
    served_in_fault: f64,
    in_fault: usize,
    degraded_p99: Option<Duration>,
    /// The worst fault's transitions, from its onset to the next fault's onset.
    transitions_per_fault: usize,
    settled: bool,
    sent: u64,
    returned: usize,
    via_primary: usize,
    via_backup: usize,
    duplicates: usize,
    lost: usize,
    migrated: u64,
}

fn figures(run: &Run) -> Figures {
    let windows: Vec<(Instant, Instant)> = run
        .sickness
        .windows()
        .into_iter()
        .map(|(a, b)| (run.start + a, run.start + b))
        .collect();
    let changes = &run.watch.changes;
    let degraded_at = |t: Instant| changes.iter().rev().find(|c| c.0 <= t).is_some_and(|c| c.1);
    let trips = windows
        .iter()
        .map(|&(onset, end)| {
            if degraded_at(onset) {
                return Some(Duration::ZERO);
            }
            changes
                .iter()
                .find(|c| c.1 && c.0 >= onset && c.0 < end + TARGET)
                .map(|c| c.0 - onset)
        })
        .collect();
    let transitions_per_fault = (0..windows.len())
        .map(|i| {
            let from = windows[i].0;
            let to = windows.get(i + 1).map(|w| w.0);
            changes
                .iter()
                .filter(|c| c.0 >= from && to.is_none_or(|to| c.0 < to))
                .count()
        })
        .max()
        .unwrap_or(0);

    let all: Vec<Got> = run.primary.iter().chain(&run.backup).copied().collect();
    let in_fault: Vec<&Got> = all
        .iter()
        .filter(|g| windows.iter().any(|w| g.sent >= w.0 && g.sent < w.1))
        .collect();
    let served = in_fault.iter().filter(|g| g.latency <= TARGET).count();
    let mut degraded_lat: Vec<Duration> = all
        .iter()
        .filter(|g| degraded_at(g.sent))
        .map(|g| g.latency)
        .collect();

    let mut seen = vec![0u8; run.sent as usize];
    for &id in &run.returned {
        seen[id as usize] += 1;
    }
    let mut strays = 0;
    for g in &all {
        match seen.get_mut(g.id as usize) {
            Some(n) => *n = n.saturating_add(1),
            None => strays += 1,
        }
    }
    assert_eq!(strays, 0, "received ids that were never sent");
    Figures {
        trips,
        served_in_fault: served as f64 / in_fault.len().max(1) as f64,
        in_fault: in_fault.len(),
        degraded_p99: p99(&mut degraded_lat),
        transitions_per_fault,
        settled: run.watch.settled,
        sent: run.sent,
        returned: run.returned.len(),
        via_primary: run.primary.len(),
        via_backup: run.backup.len(),
        duplicates: seen.iter().filter(|&&n| n > 1).count(),
        lost: seen.iter().filter(|&&n| n == 0).count(),
        migrated: run.watch.migrated,
    }
}

fn met(b: bool) -> &'static str {
    if b {
        "met"
    } else {
        "NOT met"
    }
}

impl Figures {
    fn print(&self, sickness: Sickness) {
        println!("scenario real time (2 workers): {sickness:?}");
        let worst = self
            .trips
            .iter()
            .try_fold(Duration::ZERO, |w, t| t.map(|t| w.max(t)));
        println!(
            "  trip after the onset (worst of {} faults): {:?}; goal < {:?}: {}",
            self.trips.len(),
            worst,
            TARGET,
            met(worst.is_some_and(|t| t < TARGET))
        );
        println!(
            "  served within target during the fault: {:.3} % of {}; goal >= {:.1} %: {}",
            self.served_in_fault * 100.0,
            self.in_fault,
            GOAL_SERVED * 100.0,
            met(self.served_in_fault >= GOAL_SERVED),
        );
        println!(
            "  P99 of what was sent while degraded: {:?}; goal <= {:?}: {}",
            self.degraded_p99,
            TARGET / 4,
            met(self.degraded_p99.is_none_or(|p| p <= TARGET / 4)),
        );
        println!(
            "  L3 transitions, worst fault: {}; goal <= 2: {}",
            self.transitions_per_fault,
            met(self.transitions_per_fault <= 2)
        );
        println!(
            "  messages: sent {}, via primary {}, via backup {} (backlog handed over {}), \
             returned {}, duplicates {}, lost {}; goal 0 lost: {}",
            self.sent,
            self.via_primary,
            self.via_backup,
            self.migrated,
            self.returned,
            self.duplicates,
            self.lost,
            met(self.lost == 0 && self.duplicates == 0),
        );
    }

    fn check(&self, sickness: Sickness) {
        assert_eq!(self.lost, 0, "messages lost");
        assert_eq!(self.duplicates, 0, "messages received twice");
        assert_eq!(
            self.via_primary + self.via_backup + self.returned,
            self.sent as usize,
            "receipts and returns do not match sends"
        );
        if sickness != Sickness::Dies {
            assert!(
                self.trips.iter().any(Option::is_some),
                "the channel never degraded while its consumer was sick"
            );
        }
        assert!(
            self.settled,
            "the channel was still degraded {SETTLE_LIMIT:?} after the fault and the traffic \
             had ended"
        );
        assert!(
            self.transitions_per_fault <= 2,
            "flapping: {} L3 transitions for one fault (at most one degrade and one recover)",
            self.transitions_per_fault
        );
    }
}

fn run_scenario(sickness: Sickness) {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("chaos-realtime".into())
        .spawn(move || {
            let rt = RuntimeBuilder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the runtime builds");
            let run = rt.block_on(scenario(sickness));
            // The receiver may have given up (watchdog): nothing to do then.
            let _ = done_tx.send(run);
        })
        .expect("spawn the scenario thread");
    let run = match done_rx.recv_timeout(WATCHDOG) {
        Ok(run) => run,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "watchdog: the real-time scenario {sickness:?} did not finish within {WATCHDOG:?} \
             (a task is stuck: the producer on a full channel, a consumer on a channel that \
             never closes, or the monitor waiting for a recovery)"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("the scenario thread ended without a result"),
        },
    };
    let f = figures(&run);
    f.print(sickness);
    f.check(sickness);
}

// One scenario at a time: each is a few seconds of real traffic, and parallel runs on a
// 2-core machine would only measure each other.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

#[test]
fn real_time_consumer_stall_degrades_to_the_backup_and_recovers() {
    let _one = serial();
    run_scenario(Sickness::Stall);
}

#[test]
fn real_time_repeated_short_pauses() {
    let _one = serial();
    run_scenario(Sickness::Pauses);
}

#[test]
fn real_time_service_time_drift() {
    let _one = serial();
    run_scenario(Sickness::Drift);
}

#[test]
fn real_time_consumer_dies_with_a_backlog() {
    let _one = serial();
    run_scenario(Sickness::Dies);
}

#[test]
fn real_time_stall_and_abrupt_close() {
    let _one = serial();
    run_scenario(Sickness::StallClose);
}
