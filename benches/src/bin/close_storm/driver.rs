//! One storm on one runtime, phase by phase: build, park, measure memory, close, wait, report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_benches::process_memory::MemorySample;
use weir_benches::storm_log::{StormFigures, StormLog};

use crate::args::Args;
use crate::report::Outcome;

/// A runtime and its channels, as the storm drives them.
pub trait StormRuntime: Sized {
    /// The runtime's name in the report.
    const NAME: &'static str;

    /// Whether the runtime's channels can carry a breaker (the guarded channels of
    /// [`Args::guarded`]); without, no receiver is reported as guarded.
    const BREAKERS: bool;

    /// The runtime (no channels yet).
    fn start(args: &Args) -> Self;

    /// Builds the channels the receivers will wait on.
    fn build_channels(&mut self, args: &Args);

    /// Spawns receiver `task`, which calls `log.note_parking()`, waits in a receive on
    /// channel `channel_of(task)` and then calls `log.note_woken(task, ..)`. Returns the size of
    /// the spawned future in bytes.
    fn spawn_receiver(&mut self, task: usize, log: &Arc<StormLog>) -> usize;

    /// Receivers known to be parked now, where the runtime can say (else `None`).
    fn parked_receivers(&self) -> Option<usize>;

    /// Closes channel `channel` (calling `log.note_close(channel)` first).
    fn close_channel(&mut self, channel: usize, log: &StormLog);
}

/// How often progress is printed while the driver waits.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// Time given to the last receivers, counted as parking, to reach their park.
const SETTLE: Duration = Duration::from_millis(100);

fn memory() -> MemorySample {
    match MemorySample::now() {
        Ok(m) => m,
        Err(err) => {
            eprintln!("close_storm: cannot read the process's memory: {err}");
            std::process::exit(2);
        }
    }
}

/// Polls `done` every millisecond, printing `progress` every [`PROGRESS_EVERY`], until it holds
/// or `timeout` passes (then the run fails).
fn wait_for(what: &str, timeout: Duration, done: impl Fn() -> bool, progress: impl Fn() -> String) {
    let start = Instant::now();
    let mut next_print = start + PROGRESS_EVERY;
    while !done() {
        let now = Instant::now();
        if now >= next_print {
            eprintln!("  {what}: {} ({:.1?})", progress(), now - start);
            next_print = now + PROGRESS_EVERY;
        }
        if now - start > timeout {
            eprintln!(
                "close_storm: {what} did not finish within {timeout:?}: {}",
                progress()
            );
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs the storm on `R` and returns what it measured.
pub fn run<R: StormRuntime>(args: &Args) -> Outcome {
    let timeout = Duration::from_secs(args.timeout_s);
    let name = R::NAME;
    eprintln!(
        "[{name}] {} tasks over {} channels, {} workers",
        args.tasks, args.channels, args.workers
    );
    let mut rt = R::start(args);
    let log = Arc::new(StormLog::new(args.tasks, args.channels));
    let at_start = memory();
    rt.build_channels(args);
    let with_channels = memory();

    let spawn_start = Instant::now();
    let mut future_bytes = 0;
    let tenth = (args.tasks / 10).max(1);
    for task in 0..args.tasks {
        future_bytes = rt.spawn_receiver(task, &log);
        if (task + 1) % tenth == 0 {
            eprintln!(
                "  [{name}] spawned {} / {} ({:.1?})",
                task + 1,
                args.tasks,
                spawn_start.elapsed()
            );
        }
    }
    let n = args.tasks;
    wait_for(
        &format!("[{name}] parking"),
        timeout,
        || log.parking() == n && rt.parked_receivers().is_none_or(|p| p == n),
        || {
            let parked = rt
                .parked_receivers()
                .map_or(String::new(), |p| format!(", {p} parked"));
            format!("{} / {n} reached their receive{parked}", log.parking())
        },
    );
    std::thread::sleep(SETTLE);
    let parked_in = spawn_start.elapsed();
    let parked = memory();
    eprintln!(
        "  [{name}] all {n} parked after {parked_in:.1?}; RSS {:.1} MiB",
        mib(parked.rss_bytes)
    );

    let storm_start = Instant::now();
    for channel in 0..args.channels {
        rt.close_channel(channel, &log);
    }
    let closing = storm_start.elapsed();
    wait_for(
        &format!("[{name}] storm"),
        timeout,
        || log.woken() == n,
        || format!("{} / {n} receivers answered", log.woken()),
    );
    let observed = storm_start.elapsed();
    let after = memory();
    let figures: StormFigures = log
        .figures(|c| R::BREAKERS && args.guarded(c))
        .expect("every receiver reported and every channel was closed");
    eprintln!(
        "  [{name}] storm over: {} / {n} saw closed, last after {:.1?}",
        figures.saw_closed, figures.all_closed_after
    );
    let outcome = Outcome {
        runtime: name.to_string(),
        tasks: n,
        channels: args.channels,
        workers: args.workers,
        future_bytes,
        figures,
        closing,
        observed,
        parked_in,
        rss_start: at_start.rss_bytes,
        rss_channels: with_channels.rss_bytes,
        rss_parked: parked.rss_bytes,
        // The kernel updates VmHWM lazily (on unmap and exit), so a resident set read earlier
        // can be above it.
        peak_rss: [at_start, with_channels, parked, after]
            .iter()
            .map(|m| m.rss_bytes.max(m.peak_rss_bytes))
            .max()
            .unwrap_or(0),
    };
    drop(rt);
    outcome
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
