//! A three-stage pipeline (ingress -> logic -> storage) keeping its latency SLO while faults
//! are injected on a schedule; each of the three breaker layers trips and recovers.
//!
//! Run it with `cargo run --release --example slo_pipeline` (about 24 s).
//!
//! * 4 s – 6 s, **producer stall**: ingress receives time out; `consecutive_timeouts` in a row
//!   move its circuit to HalfOpen, the probe times out too and opens it (L2 -> L1); the first
//!   probe after the stall closes it.
//! * 8 s – 10 s, **logic failures**: the logic stage reports every message as failed
//!   (`recv_checked`); its circuit opens after `failure_threshold` failures and rejects
//!   receives at once until a probe succeeds after the fault (L1). Failed messages are retried
//!   and forwarded, so none is lost.
//! * 12 s – 16 s, **storage stall**: the storage consumer hangs. L3 sees the queueing delay
//!   (and the age of the oldest waiting message) pass the SLO, degrades the channel, and new
//!   sends go to the backup store while the primary gets a trickle; after the stall, once the
//!   primary has been healthy for the cooldown, the channel recovers (L3).
//!
//! One status line a second; at the end the chaos figures with pass/fail against the goals.
//!
//! With `--features record` the in-process recorder prints the blocking report of each trip
//! (the storage trip's root is the storage task asleep in its stall), checks that root among
//! the figures, and writes a latency heatmap (SVG) per channel.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir::breaker::{BreakerConfig, Group, GroupPolicy, ReadableOr, SloConfig, State};
use weir::channel::{Builder, Receiver, RecvTimeoutError, Sender};
use weir::time::{sleep, Instant};

/// The storage stage's SLO (P99.9 of its queueing delay).
const STORAGE_TARGET: Duration = Duration::from_millis(50);
const RATE_PER_MS: u64 = 2;
const RUN: Duration = Duration::from_secs(22);
const STALL: (u64, u64) = (4_000, 6_000);
const LOGIC_FAULT: (u64, u64) = (8_000, 10_000);
const STORAGE_FAULT: (u64, u64) = (12_000, 16_000);

#[derive(Debug)]
struct Msg {
    id: u64,
    /// When the message entered the storage stage.
    stored_at: Option<Instant>,
}

/// What the pipeline measures, shared by its tasks.
struct Stats {
    start: Instant,
    done: AtomicU64,
    seen: Mutex<Vec<u8>>,
    /// (ms since start when the message entered storage, storage latency in us, via backup)
    storage: Mutex<Vec<(u64, u64, bool)>>,
    degraded_events: Mutex<Vec<(u64, bool)>>,
    stop: AtomicBool,
}

impl Stats {
    fn ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
    fn in_window(&self, w: (u64, u64)) -> bool {
        let t = self.ms();
        t >= w.0 && t < w.1
    }
    fn finish(&self, m: Msg, via_backup: bool) {
        let now = Instant::now();
        if let Some(at) = m.stored_at {
            let lat = now.saturating_duration_since(at).as_micros() as u64;
            let t = at.saturating_duration_since(self.start).as_millis() as u64;
            self.storage.lock().unwrap().push((t, lat, via_backup));
        }
        let mut seen = self.seen.lock().unwrap();
        if seen.len() <= m.id as usize {
            seen.resize(m.id as usize + 1, 0);
        }
        seen[m.id as usize] += 1;
        self.done.fetch_add(1, Ordering::Relaxed);
    }
}

fn stage_breaker() -> BreakerConfig {
    BreakerConfig::new()
        .failure_threshold(5)
        .open_timeout(Duration::from_millis(500))
        .half_open_probes(1)
        .consecutive_timeouts(3)
        .backoff_base(Duration::from_millis(10))
        .backoff_max_shift(4)
}

fn slo(target: Duration) -> SloConfig {
    SloConfig::new()
        .target_p999(target)
        .short_window(Duration::from_secs(1))
        .short_bucket(Duration::from_millis(20))
        .long_window(Duration::from_secs(10))
        .long_bucket(Duration::from_millis(100))
        .consecutive_breaches(3)
        .slope_threshold_per_min(Duration::from_millis(120))
        .predictive(false)
        .horizon(Duration::from_secs(5))
        .min_samples(20)
        .cooldown(Duration::from_secs(2))
        .rate_limit_per_sec(5)
        .burst(1)
}

fn state(rx: &Receiver<Msg>) -> &'static str {
    rx.breaker_state().map_or("-", State::name)
}

/// The short window's P99.9, readable (`-` without samples).
fn p999(rx: &Receiver<Msg>) -> String {
    rx.slo_status()
        .map_or("-".into(), |e| ReadableOr(e.p999()).to_string())
}

async fn producer(tx: Sender<Msg>, stats: Arc<Stats>) {
    let mut id = 0u64;
    let mut next = Instant::now();
    while stats.start.elapsed() < RUN {
        if !stats.in_window(STALL) {
            for _ in 0..RATE_PER_MS * 5 {
                if tx
                    .send(Msg {
                        id,
                        stored_at: None,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
                id += 1;
            }
        }
        next += Duration::from_millis(5);
        weir::time::sleep_until(next).await;
    }
}

async fn ingress(rx: Receiver<Msg>, tx: Sender<Msg>) {
    loop {
        match rx.recv_timeout(Duration::from_millis(100)).await {
            Ok(m) => {
                if tx.send(m).await.is_err() {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Rejected { retry_after }) => sleep(retry_after).await,
            Err(_) => return,
        }
    }
}

async fn logic(rx: Receiver<Msg>, tx: Sender<Msg>, stats: Arc<Stats>) {
    loop {
        let verdict = |_: &Msg| !stats.in_window(LOGIC_FAULT);
        match rx.recv_checked(verdict).await {
            Ok(mut m) => {
                // A failed message is retried (successfully) and forwarded: nothing is lost.
                m.stored_at = Some(Instant::now());
                if tx.send(m).await.is_err() {
                    return;
                }
            }
            Err(weir::channel::RecvError::Rejected { retry_after }) => sleep(retry_after).await,
            Err(_) => return,
        }
    }
}

async fn storage(rx: Receiver<Msg>, stats: Arc<Stats>) {
    while let Ok(m) = rx.recv().await {
        let t = stats.ms();
        if t >= STORAGE_FAULT.0 && t < STORAGE_FAULT.1 {
            // The store hangs until the fault ends.
            sleep(stall(t, line!())).await;
        }
        stats.finish(m, false);
    }
}

/// The line of the storage stall's `sleep` (the root the recorder should name).
static STALL_LINE: AtomicU32 = AtomicU32::new(0);

/// How long the store hangs when a message arrives at `t` ms into the fault; notes `line`.
fn stall(t: u64, line: u32) -> Duration {
    STALL_LINE.store(line, Ordering::Relaxed);
    Duration::from_millis(STORAGE_FAULT.1 - t)
}

async fn backup_store(rx: Receiver<Msg>, stats: Arc<Stats>) {
    while let Ok(m) = rx.recv().await {
        stats.finish(m, true);
    }
}

fn pct(v: &mut [u64], q: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
    Duration::from_micros(v[i])
}

#[weir::main(worker_threads = 4)]
async fn main() {
    let stats = Arc::new(Stats {
        start: Instant::now(),
        done: AtomicU64::new(0),
        seen: Mutex::new(Vec::new()),
        storage: Mutex::new(Vec::new()),
        degraded_events: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
    });
    let group = Arc::new(Group::new());
    let (in_tx, in_rx) = Builder::bounded(16_384)
        .name("ingress")
        .breaker(stage_breaker())
        .slo(slo(Duration::from_secs(2)))
        .group(group.clone(), GroupPolicy::Report)
        .build::<Msg>();
    let (logic_tx, logic_rx) = Builder::bounded(16_384)
        .name("logic")
        .breaker(stage_breaker())
        .slo(slo(Duration::from_secs(2)))
        .group(group.clone(), GroupPolicy::Report)
        .build::<Msg>();
    let (backup_tx, backup_rx) = weir::channel::unbounded::<Msg>();
    let (st_tx, st_rx) = Builder::unbounded()
        .name("storage")
        .breaker(stage_breaker())
        .slo(slo(STORAGE_TARGET))
        .group(group.clone(), GroupPolicy::Report)
        .backup(backup_tx)
        .build();

    #[cfg(feature = "record")]
    let (reports, storage_id) = (trip_reports(stats.start), st_rx.id());

    // Status handles (receivers are Clone; these never receive).
    let (s_in, s_logic, s_st) = (in_rx.clone(), logic_rx.clone(), st_rx.clone());

    let tasks = vec![
        weir::spawn(producer(in_tx, stats.clone())),
        weir::spawn(ingress(in_rx, logic_tx)),
        weir::spawn(logic(logic_rx, st_tx, stats.clone())),
        weir::spawn(storage(st_rx, stats.clone())),
        weir::spawn(backup_store(backup_rx, stats.clone())),
    ];

    // Watch L3's decision closely (10 ms) for the figures; print once a second.
    let mut transitions = [0u64; 3];
    let mut last_states = [State::Closed; 3];
    let mut degraded = false;
    let mut last_done = 0;
    let mut tick = 0u64;
    println!(
        "   t  msg/s | ingress: L1 state   L2 fails P99.9 | logic: L1 state   L2 fails P99.9 | storage: L1 state   L3 P99.9      degraded | group open"
    );
    while !stats.stop.load(Ordering::Relaxed) {
        sleep(Duration::from_millis(10)).await;
        for (i, rx) in [&s_in, &s_logic, &s_st].iter().enumerate() {
            let s = rx.breaker_state().unwrap_or(State::Closed);
            if s != last_states[i] {
                transitions[i] += 1;
                last_states[i] = s;
            }
        }
        let d = s_st.is_degraded();
        if d != degraded {
            degraded = d;
            stats.degraded_events.lock().unwrap().push((stats.ms(), d));
        }
        let second = stats.ms() / 1000;
        if second > tick {
            tick = second;
            let done = stats.done.load(Ordering::Relaxed);
            println!(
                "{:>4}s {:>6} | {:>9} {:>8} {:>12} | {:>9} {:>8} {:>12} | {:>9} {:>12} {:>8} | {}",
                tick,
                done - last_done,
                state(&s_in),
                s_in.failures_since_success(),
                p999(&s_in),
                state(&s_logic),
                s_logic.failures_since_success(),
                p999(&s_logic),
                state(&s_st),
                p999(&s_st),
                if d { "yes" } else { "no" },
                group.snapshot().open,
            );
            last_done = done;
        }
        if stats.start.elapsed() >= RUN + Duration::from_millis(500) {
            stats.stop.store(true, Ordering::Relaxed);
        }
    }
    drop((s_in, s_logic, s_st));
    for t in tasks {
        let _ = t.await;
    }

    // Figures.
    let events = stats.degraded_events.lock().unwrap().clone();
    let trip = events
        .iter()
        .find(|(t, d)| *d && *t >= STORAGE_FAULT.0)
        .map(|(t, _)| *t);
    let recover = events
        .iter()
        .find(|(t, d)| !*d && *t >= STORAGE_FAULT.1)
        .map(|(t, _)| *t);
    let storage = stats.storage.lock().unwrap().clone();
    let in_fault: Vec<_> = storage
        .iter()
        .filter(|(t, _, _)| *t >= STORAGE_FAULT.0 && *t < STORAGE_FAULT.1)
        .collect();
    let target_us = STORAGE_TARGET.as_micros() as u64;
    let served = in_fault.iter().filter(|(_, l, _)| *l <= target_us).count();
    let served_frac = served as f64 / in_fault.len().max(1) as f64;
    let mut degraded_lat: Vec<u64> = storage
        .iter()
        .filter(|(t, _, _)| trip.is_some_and(|tr| *t >= tr) && recover.is_none_or(|r| *t < r))
        .map(|(_, l, _)| *l)
        .collect();
    let degraded_p99 = pct(&mut degraded_lat, 0.99);
    let seen = stats.seen.lock().unwrap();
    let sent = seen.len() as u64;
    let received = seen.iter().filter(|&&n| n >= 1).count() as u64;
    let dup = seen.iter().filter(|&&n| n > 1).count();
    let lost = sent - received;

    let ok = |b: bool| if b { "PASS" } else { "FAIL" };
    let ms = |t: Option<u64>| t.map_or("never".to_string(), |t| format!("{t} ms"));
    let trip_after = trip.map(|t| t.saturating_sub(STORAGE_FAULT.0));
    let target_ms = STORAGE_TARGET.as_millis() as u64;
    println!();
    println!(
        "chaos figures (storage stall {}–{} s, SLO target {:?}):",
        STORAGE_FAULT.0 / 1000,
        STORAGE_FAULT.1 / 1000,
        STORAGE_TARGET
    );
    println!(
        "  trip after the stall began: {} — goal < {target_ms} ms: {}",
        ms(trip_after),
        ok(trip_after.is_some_and(|t| t < target_ms))
    );
    println!(
        "  served within the SLO during the fault: {:.3} % of {} — goal >= 99.9 %: {}",
        served_frac * 100.0,
        in_fault.len(),
        ok(served_frac >= 0.999)
    );
    println!(
        "  P99 of what was sent while degraded: {} — goal <= {:?}: {}",
        ReadableOr(Some(degraded_p99)),
        STORAGE_TARGET / 4,
        ok(degraded_p99 <= STORAGE_TARGET / 4)
    );
    println!(
        "  recovered {} after the fault ended",
        ms(recover.map(|r| r - STORAGE_FAULT.1))
    );
    println!(
        "  L3 transitions: {} — goal <= 2: {} (L1 transitions: ingress {}, logic {}, storage {})",
        events.len(),
        ok(events.len() <= 2),
        transitions[0],
        transitions[1],
        transitions[2]
    );
    println!(
        "  messages: sent {sent}, received {received}, duplicates {dup}, lost {lost} — goal 0 lost: {}",
        ok(lost == 0 && dup == 0)
    );
    #[cfg(feature = "record")]
    recorded_figures(&reports.lock().unwrap(), storage_id);
}

/// Prints each trip's blocking report as it happens (the recorder calls this at most once per
/// trip) and keeps them for the figures.
#[cfg(feature = "record")]
fn trip_reports(start: Instant) -> Arc<Mutex<Vec<weir::probes::BlockingReport>>> {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let kept = reports.clone();
    weir::probes::on_trip(move |report| {
        println!("\n[{:.2} s] {report}", start.elapsed().as_secs_f64());
        kept.lock().unwrap().push(report.clone());
    });
    reports
}

/// The recorder's figure (the storage trip's root) and a heatmap per channel.
#[cfg(feature = "record")]
fn recorded_figures(reports: &[weir::probes::BlockingReport], storage: u64) {
    use weir::probes::{LatencyKind, RootKind};
    let line = STALL_LINE.load(Ordering::Relaxed);
    let asleep_in_stall = reports.iter().filter(|r| r.channel == storage).any(|r| {
        r.roots().iter().any(|(_, kind)| {
            matches!(kind, RootKind::Asleep(Some(at))
                if at.file().ends_with("slo_pipeline.rs") && at.line() == line)
        })
    });
    println!(
        "  root of the storage trip: the storage task asleep at examples/slo_pipeline.rs:{line} — {}",
        if asleep_in_stall { "PASS" } else { "FAIL" }
    );
    let snap = weir::probes::recorder().snapshot();
    let dir = std::path::Path::new("target").join("slo_pipeline");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        println!("  heatmaps: cannot create {}: {e}", dir.display());
        return;
    }
    for name in ["ingress", "logic", "storage"] {
        let Ok(svg) = snap.heatmap(name, LatencyKind::SendToRecv) else {
            continue;
        };
        let path = dir.join(format!("{name}-send_to_recv.svg"));
        match std::fs::write(&path, svg) {
            Ok(()) => println!(
                "  heatmap of {name}'s send-to-receive latency: {}",
                path.display()
            ),
            Err(e) => println!("  heatmap of {name}: cannot write {}: {e}", path.display()),
        }
    }
    if let Ok(text) = snap.text_histogram("storage", LatencyKind::SendToRecv) {
        println!("\n{text}");
    }
}
