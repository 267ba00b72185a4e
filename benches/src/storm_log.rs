//! The close storm's bookkeeping (`src/bin/close_storm`): when each channel was closed, when
//! each parked receiver woke and what it saw, and the figures computed from that afterwards.
//!
//! Everything a woken task touches is allocated and written before the tasks are spawned: one
//! `AtomicU64` per receiver for its wake time and one per channel for its close time, so the
//! wake path of the measurement allocates nothing and shares no cache line it writes with
//! more than seven other receivers. Times are nanoseconds since the log's origin on the
//! monotonic clock (`Instant`), read by the woken task itself.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::channel_workloads::Percentiles;

/// A slot no time has been written to yet.
const UNSET: u64 = u64::MAX;

/// Receiver `task` waits on channel `task % channels`.
pub fn channel_of(task: usize, channels: usize) -> usize {
    task % channels
}

/// What every parked receiver and the closer write during a storm.
pub struct StormLog {
    origin: Instant,
    channels: usize,
    /// Per receiver: when its receive returned, ns since `origin`.
    wakes: Box<[AtomicU64]>,
    /// Per channel: when the closer began closing it, ns since `origin`.
    closes: Box<[AtomicU64]>,
    /// Receivers that reached their receive (about to park).
    parking: AtomicUsize,
    /// Receivers whose receive returned.
    woken: AtomicUsize,
    /// Receivers whose receive returned "closed" (the only correct answer here).
    saw_closed: AtomicUsize,
}

impl StormLog {
    /// A log for `tasks` receivers over `channels` channels, every slot written once now (so
    /// its pages are resident before any memory reading that follows).
    ///
    /// # Panics
    /// When `channels` is zero.
    pub fn new(tasks: usize, channels: usize) -> StormLog {
        assert!(channels > 0, "a storm needs at least one channel");
        StormLog {
            origin: Instant::now(),
            channels,
            wakes: (0..tasks).map(|_| AtomicU64::new(UNSET)).collect(),
            closes: (0..channels).map(|_| AtomicU64::new(UNSET)).collect(),
            parking: AtomicUsize::new(0),
            woken: AtomicUsize::new(0),
            saw_closed: AtomicUsize::new(0),
        }
    }

    /// Receivers in the storm.
    pub fn tasks(&self) -> usize {
        self.wakes.len()
    }

    /// Channels in the storm.
    pub fn channels(&self) -> usize {
        self.channels
    }

    fn now_ns(&self) -> u64 {
        // u64 nanoseconds last 584 years.
        self.origin.elapsed().as_nanos() as u64
    }

    /// A receiver is about to wait (called by the task just before its receive).
    pub fn note_parking(&self) {
        // Relaxed: a progress count; the driver waits for the parked state by other means.
        self.parking.fetch_add(1, Ordering::Relaxed);
    }

    /// Receivers that have reached their receive so far.
    pub fn parking(&self) -> usize {
        self.parking.load(Ordering::Relaxed)
    }

    /// The closer is about to close `channel`.
    pub fn note_close(&self, channel: usize) {
        // Relaxed: read only after every receiver reported, through `woken`'s Acquire.
        self.closes[channel].store(self.now_ns(), Ordering::Relaxed);
    }

    /// Receiver `task`'s receive returned; `closed` says whether it returned "closed".
    pub fn note_woken(&self, task: usize, closed: bool) {
        let now = self.now_ns();
        // Relaxed: published by the Release increment of `woken` below.
        self.wakes[task].store(now, Ordering::Relaxed);
        if closed {
            self.saw_closed.fetch_add(1, Ordering::Relaxed);
        }
        // Release: the reader that sees every receiver counted also sees every wake time.
        self.woken.fetch_add(1, Ordering::Release);
    }

    /// Receivers whose receive has returned so far.
    pub fn woken(&self) -> usize {
        // Acquire: pairs with `note_woken`'s Release.
        self.woken.load(Ordering::Acquire)
    }

    /// The figures of a finished storm; `guarded(channel)` says which channels carry a
    /// breaker. `None` while some receiver has not reported or no channel was closed.
    pub fn figures(&self, guarded: impl Fn(usize) -> bool) -> Option<StormFigures> {
        if self.woken() < self.tasks() {
            return None;
        }
        let closes: Vec<u64> = self
            .closes
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let storm_start = closes.iter().copied().filter(|&c| c != UNSET).min()?;
        let mut latencies = Vec::with_capacity(self.tasks());
        let mut guarded_latencies = Vec::new();
        let mut last_wake = storm_start;
        let mut last_guarded_wake = None::<u64>;
        for (task, wake) in self.wakes.iter().enumerate() {
            let wake = wake.load(Ordering::Relaxed);
            let channel = channel_of(task, self.channels);
            // A receiver woken before its channel's close (it should not be) counts as 0.
            let latency = Duration::from_nanos(wake.saturating_sub(closes[channel]));
            latencies.push(latency);
            last_wake = last_wake.max(wake);
            if guarded(channel) {
                guarded_latencies.push(latency);
                last_guarded_wake = Some(last_guarded_wake.map_or(wake, |w| w.max(wake)));
            }
        }
        Some(StormFigures {
            tasks: self.tasks(),
            saw_closed: self.saw_closed.load(Ordering::Relaxed),
            latency: Percentiles::of(&mut latencies)?,
            all_closed_after: Duration::from_nanos(last_wake - storm_start),
            guarded: Percentiles::of(&mut guarded_latencies).zip(
                last_guarded_wake.map(|w| Duration::from_nanos(w.saturating_sub(storm_start))),
            ),
        })
    }
}

/// What a finished storm measured.
#[derive(Clone, Copy, Debug)]
pub struct StormFigures {
    /// Receivers in the storm.
    pub tasks: usize,
    /// Receivers whose receive returned "closed".
    pub saw_closed: usize,
    /// Per receiver: its channel's close to its receive returning.
    pub latency: Percentiles,
    /// The first close to the last receiver's wake.
    pub all_closed_after: Duration,
    /// The guarded receivers alone: their latencies, and the first close to the last guarded
    /// receiver's answer (the breaker's reaction time). `None` without guarded channels.
    pub guarded: Option<(Percentiles, Duration)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_map_round_robin_onto_channels() {
        assert_eq!(channel_of(0, 4), 0);
        assert_eq!(channel_of(5, 4), 1);
        assert_eq!(channel_of(7, 1), 0);
    }

    #[test]
    fn no_figures_until_every_receiver_reported() {
        let log = StormLog::new(3, 2);
        log.note_close(0);
        log.note_close(1);
        log.note_woken(0, true);
        log.note_woken(1, true);
        assert!(log.figures(|_| false).is_none());
        log.note_woken(2, false);
        let f = log.figures(|c| c == 1).expect("complete");
        assert_eq!((f.tasks, f.saw_closed), (3, 2));
        assert_eq!(f.latency.count, 3);
        let (guarded, reaction) = f.guarded.expect("channel 1 is guarded");
        assert_eq!(guarded.count, 1);
        assert!(reaction <= f.all_closed_after);
        assert!(f.latency.max <= f.all_closed_after);
    }

    #[test]
    fn latency_runs_from_the_receivers_own_channel_close() {
        let log = StormLog::new(2, 2);
        log.note_close(0);
        log.note_woken(0, true);
        std::thread::sleep(Duration::from_millis(20));
        log.note_close(1);
        log.note_woken(1, true);
        let f = log.figures(|_| false).expect("complete");
        assert!(f.guarded.is_none());
        // Receiver 1 woke right after its own close, 20 ms after the first.
        assert!(f.latency.max < Duration::from_millis(20));
        assert!(f.all_closed_after >= Duration::from_millis(20));
    }

    #[test]
    fn no_figures_without_a_close() {
        let log = StormLog::new(1, 1);
        log.note_woken(0, true);
        assert!(log.figures(|_| false).is_none());
    }
}
