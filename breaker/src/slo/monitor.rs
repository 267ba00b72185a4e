//! The SLO monitor of one channel: records latencies from any thread, evaluates health every
//! short bucket, and decides when the channel degrades (new sends go to the backup, the primary
//! gets a trickle) and when it recovers.
//!
//! Concurrency:
//! * `record` is lock-free and allocation-free: one relaxed `fetch_add` on a counter of a
//!   cumulative [`AtomicHistogram`]. There are [`STRIPES`] of them, each on its own cache lines;
//!   a thread always uses the same stripe (picked once, round robin, and kept in a
//!   thread-local), so recorders on different cores rarely share a line. No timestamp is needed:
//!   the evaluator's snapshots place samples in time.
//! * `evaluate` runs on one thread at a time: it takes the evaluator state with `try_lock`, and
//!   a caller that finds another evaluation in progress gets `None` at once instead of waiting.
//!   The channel can thus call it from its receive path whenever [`SloMonitor::is_due`] says a
//!   bucket has passed. The evaluator sums the stripes, advances the windows and the trend, and
//!   publishes the decision in an `AtomicBool` that the send path reads with one load.
//!
//! Memory: everything is inline (no heap), the same for every configuration;
//! `size_of::<SloMonitor>()` is 56,960 bytes (55.6 KiB) on x86-64, and a test holds it under
//! the 64 KiB budget:
//! * 4 recording stripes x 240 bins x 4 B, each padded to 1,024 B: 4,096 B;
//! * short window: 30 snapshots x 960 B + 30 tags x 8 B + 16 B: 29,056 B;
//! * long window: 20 snapshots x 960 B + 20 tags x 8 B + 16 B: 19,376 B;
//! * trend: 600 points x 5 B + one 960 B base + 24 B: 3,984 B;
//! * configuration, counters, the last evaluation, the lock, the token bucket and padding to
//!   the stripes' 128-byte alignment: the remaining 448 B.

use std::time::Duration;

use weir_probes::{probe, Event};

pub use super::budget::{LONG_SLOTS, SERIES_CAPACITY, SHORT_SLOTS, STRIPES};
use super::histogram::{duration_us, AtomicHistogram, Counts, Histogram, BINS};
use super::readable::{Readable, ReadableOr};
use super::trend::Series;
use super::window::Window;
use crate::clock::Nanos;
use crate::config::{ConfigError, SloConfig};
use crate::ratelimit::TokenBucket;
use crate::sync::{AtomicBool, AtomicU64, Mutex, Ordering, TryLockError};

/// The quantile the SLO is about.
const P999: f64 = 0.999;

/// What the short window says about the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Fewer than `min_samples` samples: no judgement either way.
    Unknown,
    /// P99.9 within the target.
    Healthy,
    /// P99.9 over the target.
    Breached,
}

/// What an evaluation decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not degraded, and staying so.
    Normal,
    /// Degrading now: route new sends to the backup, trickle to the primary.
    Degrade,
    /// Degraded, and staying so.
    Degraded,
    /// Recovering now: send to the primary again.
    Recover,
}

impl Decision {
    /// Whether the channel is degraded after this decision.
    pub fn is_degraded(self) -> bool {
        matches!(self, Decision::Degrade | Decision::Degraded)
    }
}

/// Why the monitor made its last degrade or recover decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The oldest queued message had waited `head_age_percent` of the target: a stall, seen
    /// before any late message came out.
    HeadAge,
    /// The short P99.9 was over target for `consecutive_breaches` evaluations and rising
    /// faster than `slope_threshold_per_min` (the trend rule).
    Trend,
    /// The short P99.9 was over target for `consecutive_breaches` evaluations and the trend
    /// predicts the target reached one `horizon` ahead (`predictive`).
    Prediction,
    /// Recovered: healthy (judged on the trickle) for a full `cooldown`, and the primary's
    /// consumers keep up with the offered load.
    Healthy,
}

impl Reason {
    /// A short name for status lines.
    pub fn name(self) -> &'static str {
        match self {
            Reason::HeadAge => "head age",
            Reason::Trend => "P99.9 streak + trend",
            Reason::Prediction => "P99.9 streak + prediction",
            Reason::Healthy => "healthy for the cooldown",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One evaluation's figures and decision.
///
/// Its `Display` is a status line: percentiles as readable durations, `-` when the window
/// holds no samples.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Evaluation {
    /// When it ran.
    pub at: Nanos,
    /// P99.9 over the short window (upper bound of its histogram bin).
    pub p999_short: Duration,
    /// P99.9 over the long window.
    pub p999_long: Duration,
    /// Least-squares slope of the per-long-bucket P99.9, in ms per minute (0 without at least
    /// two points).
    pub slope_ms_per_min: f64,
    /// P99.9 the trend line predicts one `horizon` ahead (the short P99.9 without a trend).
    pub predicted_p999: Duration,
    /// Samples in the short window.
    pub samples: u64,
    /// The short window's verdict.
    pub health: Health,
    /// `health == Breached`.
    pub breached: bool,
    /// Evaluations in a row that found a breach, this one included.
    pub breach_streak: u32,
    /// Whether the trend rule (slope, or prediction when `predictive`) holds.
    pub trend_rising: bool,
    /// What to do.
    pub degrade: Decision,
    /// Since when the channel is degraded, if it is.
    pub degraded_since: Option<Nanos>,
    /// Why the last degrade or recover decision was taken (`None` before the first).
    pub reason: Option<Reason>,
    /// Degrade transitions so far.
    pub degrades: u32,
    /// Recover transitions so far.
    pub recoveries: u32,
}

impl Evaluation {
    /// The short-window P99.9, `None` without samples.
    pub fn p999(&self) -> Option<Duration> {
        (self.samples > 0).then_some(self.p999_short)
    }
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let has = self.samples > 0;
        write!(
            f,
            "P99.9 {} (long {}), {:+.0} ms/min, {} samples, {}",
            ReadableOr(self.p999()),
            ReadableOr(has.then_some(self.p999_long)),
            self.slope_ms_per_min,
            self.samples,
            match self.health {
                Health::Unknown => "unknown",
                Health::Healthy => "healthy",
                Health::Breached => "breached",
            }
        )?;
        if let Some(since) = self.degraded_since {
            write!(
                f,
                ", degraded for {}",
                Readable(Duration::from_nanos(self.at.saturating_sub(since)))
            )?;
        }
        write!(
            f,
            ", degrades {} recoveries {}",
            self.degrades, self.recoveries
        )?;
        if let Some(r) = self.reason {
            write!(f, " (last: {r})")?;
        }
        Ok(())
    }
}

/// One recording stripe, alone on its cache lines.
#[repr(align(128))]
struct Stripe(AtomicHistogram);

/// State only the evaluator touches.
struct Evaluator {
    short: Window<SHORT_SLOTS>,
    long: Window<LONG_SLOTS>,
    trend: Series<SERIES_CAPACITY>,
    breach_streak: u32,
    healthy_since: Option<Nanos>,
    degraded_since: Option<Nanos>,
    last: Option<Evaluation>,
    reason: Option<Reason>,
    degrades: u32,
    recoveries: u32,
}

/// The L3 monitor of one channel.
pub struct SloMonitor {
    config: SloConfig,
    channel: u64,
    bucket_ns: Nanos,
    target_us: u64,
    /// The head-age rule's age (0: off).
    head_age_us: u64,
    stripes: [Stripe; STRIPES],
    /// Clock time of the next due evaluation.
    next_eval: AtomicU64,
    /// The evaluator's decision, read by the send path.
    degraded: AtomicBool,
    evaluator: Mutex<Evaluator>,
    trickle: TokenBucket,
}

impl std::fmt::Debug for SloMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SloMonitor")
            .field("channel", &self.channel)
            .field("config", &self.config)
            .field("degraded", &self.is_degraded())
            .finish_non_exhaustive()
    }
}

fn nanos(d: Duration) -> Nanos {
    d.as_nanos().min(u128::from(u64::MAX)) as Nanos
}

impl SloMonitor {
    /// A monitor for `channel` starting at `now`; the configuration is validated first.
    pub fn new(config: SloConfig, channel: u64, now: Nanos) -> Result<Self, ConfigError> {
        config.validate()?;
        let zero = [0u32; BINS];
        let bucket_ns = nanos(config.short_bucket);
        let evaluator = Evaluator {
            short: Window::new(nanos(config.short_window), bucket_ns, now, &zero),
            long: Window::new(
                nanos(config.long_window),
                nanos(config.long_bucket),
                now,
                &zero,
            ),
            trend: Series::new(
                nanos(config.long_window),
                nanos(config.long_bucket),
                now,
                &zero,
            ),
            breach_streak: 0,
            healthy_since: None,
            degraded_since: None,
            last: None,
            reason: None,
            degrades: 0,
            recoveries: 0,
        };
        let target_us = duration_us(config.target_p999);
        Ok(Self {
            config,
            channel,
            bucket_ns,
            target_us,
            head_age_us: (target_us * u64::from(config.head_age_percent) / 100).max(
                // A rule that is on never fires at 0 µs.
                u64::from(config.head_age_percent != 0),
            ),
            stripes: std::array::from_fn(|_| Stripe(AtomicHistogram::new())),
            next_eval: AtomicU64::new((now / bucket_ns + 1) * bucket_ns),
            degraded: AtomicBool::new(false),
            evaluator: Mutex::new(evaluator),
            trickle: TokenBucket::new(config.rate_limit_per_sec, config.burst),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &SloConfig {
        &self.config
    }

    /// Records one latency sample. Lock-free, allocation-free, from any thread.
    #[inline]
    pub fn record(&self, latency: Duration) {
        self.record_us(duration_us(latency));
    }

    /// Records one latency sample given in microseconds.
    #[inline]
    pub fn record_us(&self, us: u64) {
        self.stripes[stripe_index()].0.record(us);
    }

    /// Whether an evaluation is due at `now` (one relaxed load).
    #[inline]
    pub fn is_due(&self, now: Nanos) -> bool {
        // Relaxed: a stale value only makes a caller try (and find the evaluation done) or
        // wait for its next call; the evaluator re-checks under its lock.
        now >= self.next_eval.load(Ordering::Relaxed)
    }

    /// Whether the channel is degraded (one relaxed load; the send path's check).
    #[inline]
    pub fn is_degraded(&self) -> bool {
        // Relaxed: the flag carries no data with it; a sender that reads it a moment late
        // routes one message by the previous decision, which is harmless.
        self.degraded.load(Ordering::Relaxed)
    }

    /// Whether a send may go to the primary at `now`: always while healthy, a trickle of
    /// `rate_limit_per_sec` (bursts of `burst`) while degraded.
    #[inline]
    pub fn admit_primary(&self, now: Nanos) -> bool {
        !self.is_degraded() || self.trickle.try_acquire(now)
    }

    /// The most recent evaluation (waits for one in progress to finish), with the transition
    /// counts and reason as they stand now (a head-age trip between evaluations shows at once).
    pub fn last_evaluation(&self) -> Option<Evaluation> {
        let ev = self.lock_evaluator();
        ev.last.map(|mut e| {
            e.degrade = match (e.degrade, ev.degraded_since) {
                (Decision::Normal | Decision::Recover, Some(_)) => Decision::Degrade,
                (Decision::Degrade | Decision::Degraded, None) => Decision::Recover,
                (d, _) => d,
            };
            e.degraded_since = ev.degraded_since;
            e.reason = ev.reason;
            e.degrades = ev.degrades;
            e.recoveries = ev.recoveries;
            e
        })
    }

    /// The head-age rule's age in microseconds: a queued message this old degrades the channel
    /// (and, while degraded, moves to the backup). 0 when the rule is off.
    #[inline]
    pub fn head_age_limit_us(&self) -> u64 {
        self.head_age_us
    }

    /// The SLO target in microseconds.
    #[inline]
    pub fn target_us(&self) -> u64 {
        self.target_us
    }

    /// The head-age rule fired at `now` (the caller saw the oldest queued message at
    /// [`SloMonitor::head_age_limit_us`] or older): degrades at once if not degraded, and
    /// either way restarts the recovery cooldown (a primary that lets messages age is not
    /// healthy). Returns whether this call degraded the channel.
    #[cold]
    pub fn head_age_tripped(&self, now: Nanos) -> bool {
        if self.is_degraded() {
            // Only the cooldown to restart: an evaluation in progress is left alone (the next
            // aged operation restarts it then).
            match self.evaluator.try_lock() {
                Ok(mut ev) => ev.healthy_since = None,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Poisoned(p)) => p.into_inner().healthy_since = None,
            }
            return false;
        }
        let mut ev = self.lock_evaluator();
        ev.healthy_since = None;
        if ev.degraded_since.is_some() {
            return false;
        }
        self.transition(&mut ev, now, Decision::Degrade, Reason::HeadAge);
        if ev.last.is_none() {
            // A status reader sees the trip even before the first evaluation.
            ev.last = Some(Evaluation {
                at: now,
                p999_short: Duration::ZERO,
                p999_long: Duration::ZERO,
                slope_ms_per_min: 0.0,
                predicted_p999: Duration::ZERO,
                samples: 0,
                health: Health::Unknown,
                breached: false,
                breach_streak: 0,
                trend_rising: false,
                degrade: Decision::Degrade,
                degraded_since: Some(now),
                reason: Some(Reason::HeadAge),
                degrades: ev.degrades,
                recoveries: ev.recoveries,
            });
        }
        true
    }

    /// Moves the decision state (under the evaluator lock) and publishes it.
    fn transition(&self, ev: &mut Evaluator, now: Nanos, decision: Decision, reason: Reason) {
        match decision {
            Decision::Degrade => {
                ev.degraded_since = Some(now);
                ev.degrades = ev.degrades.saturating_add(1);
            }
            Decision::Recover => {
                ev.degraded_since = None;
                ev.breach_streak = 0;
                ev.recoveries = ev.recoveries.saturating_add(1);
            }
            Decision::Normal | Decision::Degraded => return,
        }
        ev.reason = Some(reason);
        // Relaxed: see `is_degraded`.
        self.degraded
            .store(decision.is_degraded(), Ordering::Relaxed);
        probe!(Event::SloDegrade {
            channel: self.channel,
            degraded: decision.is_degraded(),
        });
    }

    fn lock_evaluator(&self) -> crate::sync::MutexGuard<'_, Evaluator> {
        // The evaluator never panics while holding the lock, so poisoning cannot carry a
        // half-updated state; take the guard either way rather than panic.
        match self.evaluator.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The cumulative counts over all stripes.
    fn cumulative(&self) -> Counts {
        let mut cum = [0u32; BINS];
        for stripe in &self.stripes {
            stripe.0.add_to(&mut cum);
        }
        cum
    }

    /// Evaluates health if a short bucket has passed since the last evaluation and no other
    /// thread is evaluating; otherwise `None` at once. Allocation-free.
    pub fn evaluate(&self, now: Nanos) -> Option<Evaluation> {
        self.evaluate_with(now, true)
    }

    /// As [`SloMonitor::evaluate`]; `can_recover` is the caller's judgement of the load (the
    /// channel passes whether the primary's consumers keep up with the offered rate): a
    /// degraded channel recovers only when it is `true` and the cooldown has passed.
    pub fn evaluate_with(&self, now: Nanos, can_recover: bool) -> Option<Evaluation> {
        if !self.is_due(now) {
            return None;
        }
        let mut ev = match self.evaluator.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::WouldBlock) => return None,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        };
        if !self.is_due(now) {
            return None;
        }
        // Relaxed: only evaluators (serialised by the lock) write it.
        self.next_eval.store(
            (now / self.bucket_ns + 1) * self.bucket_ns,
            Ordering::Relaxed,
        );
        Some(self.evaluate_locked(&mut ev, now, can_recover))
    }

    fn evaluate_locked(&self, ev: &mut Evaluator, now: Nanos, can_recover: bool) -> Evaluation {
        let c = &self.config;
        let cum = self.cumulative();
        ev.short.advance(now, &cum);
        ev.long.advance(now, &cum);
        ev.trend.advance(now, &cum);
        let short: Histogram = ev.short.histogram(now, &cum);
        let long: Histogram = ev.long.histogram(now, &cum);
        let samples = short.count();
        let p999_short_us = short.quantile(P999);
        let p999_long_us = long.quantile(P999);

        let health = if samples < c.min_samples || samples == 0 {
            Health::Unknown
        } else if p999_short_us > self.target_us {
            Health::Breached
        } else {
            Health::Healthy
        };
        let fit = ev.trend.fit_with_current(now, nanos(c.horizon), &cum, 1);
        let slope = fit.map_or(0.0, |f| f.slope_ms_per_min);
        let predicted_ms = fit.map_or(p999_short_us as f64 / 1000.0, |f| f.predicted_ms);
        let target_ms = self.target_us as f64 / 1000.0;
        let trend_rising = if c.predictive {
            predicted_ms >= target_ms
        } else {
            slope > c.slope_threshold_per_min.as_secs_f64() * 1000.0
        };

        ev.breach_streak = match health {
            Health::Breached => ev.breach_streak.saturating_add(1),
            Health::Healthy | Health::Unknown => 0,
        };
        ev.healthy_since = match health {
            Health::Healthy => ev.healthy_since.or(Some(now)),
            Health::Breached | Health::Unknown => None,
        };

        let decision = match ev.degraded_since {
            None if ev.breach_streak >= c.consecutive_breaches && trend_rising => {
                let reason = if c.predictive {
                    Reason::Prediction
                } else {
                    Reason::Trend
                };
                self.transition(ev, now, Decision::Degrade, reason);
                Decision::Degrade
            }
            None => Decision::Normal,
            Some(_)
                if can_recover
                    && ev
                        .healthy_since
                        .is_some_and(|h| now.saturating_sub(h) >= nanos(c.cooldown)) =>
            {
                self.transition(ev, now, Decision::Recover, Reason::Healthy);
                Decision::Recover
            }
            Some(_) => Decision::Degraded,
        };
        probe!(Event::SloEvaluation {
            channel: self.channel,
            p999_us: p999_short_us,
            breached: health == Health::Breached,
        });

        let evaluation = Evaluation {
            at: now,
            p999_short: Duration::from_micros(p999_short_us),
            p999_long: Duration::from_micros(p999_long_us),
            slope_ms_per_min: slope,
            // try_from: a non-finite prediction (it cannot happen with finite points, but
            // floating point is not worth a panic) reads as zero.
            predicted_p999: Duration::try_from_secs_f64(predicted_ms.clamp(0.0, 1e12) / 1000.0)
                .unwrap_or(Duration::ZERO),
            samples,
            health,
            breached: health == Health::Breached,
            breach_streak: ev.breach_streak,
            trend_rising,
            degrade: decision,
            degraded_since: ev.degraded_since,
            reason: ev.reason,
            degrades: ev.degrades,
            recoveries: ev.recoveries,
        };
        ev.last = Some(evaluation);
        evaluation
    }
}

/// The stripe this thread records into.
#[cfg(not(loom))]
#[inline]
fn stripe_index() -> usize {
    use std::cell::Cell;
    use std::sync::atomic::AtomicUsize;

    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    STRIPE
        .try_with(|s| {
            let mut i = s.get();
            if i == usize::MAX {
                // Relaxed: only spreads threads over stripes; any value is correct.
                i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % STRIPES;
                s.set(i);
            }
            i
        })
        .unwrap_or(0)
}

/// Under loom every model thread shares one OS thread, so thread-locals mean nothing: one
/// stripe.
#[cfg(loom)]
#[inline]
fn stripe_index() -> usize {
    0
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    const MS: Nanos = 1_000_000;
    const S: Nanos = 1_000 * MS;

    #[test]
    fn memory_per_monitored_channel_is_within_64_kib() {
        let size = std::mem::size_of::<SloMonitor>();
        eprintln!("size_of::<SloMonitor>() = {size} bytes");
        assert!(size <= 64 * 1024, "SloMonitor is {size} bytes");
        // And the bulk is what the module doc accounts for.
        assert!(
            size >= 50 * 1024,
            "SloMonitor is {size} bytes: doc out of date"
        );
    }

    fn monitor(config: SloConfig) -> (SloMonitor, ManualClock) {
        let clock = ManualClock::new(0);
        (SloMonitor::new(config, 7, clock.now()).unwrap(), clock)
    }

    /// Advances one short bucket, records `n` samples of `latency` first, evaluates.
    fn step(m: &SloMonitor, clock: &ManualClock, n: u32, latency: Duration) -> Evaluation {
        for _ in 0..n {
            m.record(latency);
        }
        clock.advance(100 * MS);
        m.evaluate(clock.now()).expect("due every bucket")
    }

    #[test]
    fn evaluation_is_due_once_per_bucket() {
        let (m, clock) = monitor(SloConfig::default());
        assert!(!m.is_due(clock.now()));
        assert!(m.evaluate(clock.now()).is_none());
        clock.advance(100 * MS);
        assert!(m.is_due(clock.now()));
        assert!(m.evaluate(clock.now()).is_some());
        assert!(m.evaluate(clock.now()).is_none());
        clock.advance(50 * MS);
        assert!(m.evaluate(clock.now()).is_none());
        clock.advance(50 * MS);
        assert!(m.evaluate(clock.now()).is_some());
        assert!(m.last_evaluation().is_some());
    }

    #[test]
    fn too_few_samples_judge_nothing() {
        let (m, clock) = monitor(SloConfig::default());
        for _ in 0..10 {
            let e = step(&m, &clock, 5, Duration::from_secs(5));
            assert_eq!(e.health, Health::Unknown);
            assert_eq!(e.degrade, Decision::Normal);
        }
    }

    /// A latency ramp of +600 ms/min, sampled 200 times per bucket.
    fn ramp(m: &SloMonitor, clock: &ManualClock, from: Duration, secs: u64) -> Vec<Evaluation> {
        let start = clock.now();
        let mut out = Vec::new();
        while clock.now() - start < secs * S {
            let t = (clock.now() - start) as f64 / 1e9;
            let lat = from + Duration::from_secs_f64(t * 0.010);
            out.push(step(m, clock, 200, lat));
        }
        out
    }

    #[test]
    fn a_rising_breach_degrades_after_the_consecutive_breaches() {
        let (m, clock) = monitor(SloConfig::default());
        let evals = ramp(&m, &clock, Duration::from_millis(500), 60);
        let first_breach = evals.iter().position(|e| e.breached).unwrap();
        let degrade = evals
            .iter()
            .position(|e| e.degrade == Decision::Degrade)
            .unwrap();
        assert_eq!(degrade, first_breach + 2, "3rd consecutive breach degrades");
        assert!(evals[degrade].slope_ms_per_min > 120.0);
        assert!(m.is_degraded());
        assert_eq!(
            evals
                .iter()
                .filter(|e| e.degrade == Decision::Degrade)
                .count(),
            1
        );
        assert!(evals[degrade + 1..]
            .iter()
            .all(|e| e.degrade == Decision::Degraded));
    }

    #[test]
    fn a_flat_breach_does_not_degrade_without_the_trend_but_does_when_predictive() {
        let (m, clock) = monitor(SloConfig::default());
        for _ in 0..600 {
            let e = step(&m, &clock, 200, Duration::from_secs(1));
            assert!(e.slope_ms_per_min.abs() < 1.0);
            assert_ne!(e.degrade, Decision::Degrade);
        }
        assert!(m.last_evaluation().unwrap().breached);

        let (m, clock) = monitor(SloConfig::new().predictive(true));
        let evals: Vec<_> = (0..5)
            .map(|_| step(&m, &clock, 200, Duration::from_secs(1)))
            .collect();
        assert_eq!(evals[2].degrade, Decision::Degrade);
        assert!(evals[2].predicted_p999 >= Duration::from_millis(800));
    }

    #[test]
    fn recovers_only_after_a_full_cooldown_of_health_and_does_not_flap() {
        let (m, clock) = monitor(SloConfig::default());
        ramp(&m, &clock, Duration::from_millis(500), 60);
        assert!(m.is_degraded());
        // The fault ends: fast samples from now on. The slow ones leave the 30 s short window
        // within 30 s; then 60 s of uninterrupted health are needed.
        let fault_end = clock.now();
        let mut recovered_at = None;
        let mut flips = 0;
        for _ in 0..1200 {
            let e = step(&m, &clock, 200, Duration::from_millis(5));
            match e.degrade {
                Decision::Recover => {
                    recovered_at = Some(clock.now());
                    flips += 1;
                }
                Decision::Degrade => flips += 1,
                _ => {}
            }
        }
        let recovered_at = recovered_at.expect("recovers");
        let waited = recovered_at - fault_end;
        assert!(waited >= 60 * S, "cooldown respected: {waited}");
        assert!(waited <= 91 * S, "window + cooldown: {waited}");
        assert_eq!(flips, 1, "exactly one transition after the fault");
        assert!(!m.is_degraded());
    }

    #[test]
    fn an_intermittent_breach_during_cooldown_restarts_it() {
        let (m, clock) = monitor(
            SloConfig::new()
                .short_window(Duration::from_secs(1))
                .long_window(Duration::from_secs(60))
                .cooldown(Duration::from_secs(5)),
        );
        ramp(&m, &clock, Duration::from_millis(500), 30);
        assert!(m.is_degraded());
        // Healthy for 3 s (after the 1 s window drains), one breached second, healthy again.
        for _ in 0..40 {
            step(&m, &clock, 200, Duration::from_millis(5));
        }
        assert!(m.is_degraded(), "3 s of health < 5 s cooldown");
        for _ in 0..10 {
            assert_ne!(
                step(&m, &clock, 200, Duration::from_secs(2)).degrade,
                Decision::Recover
            );
        }
        let mut evals = Vec::new();
        for _ in 0..80 {
            evals.push(step(&m, &clock, 200, Duration::from_millis(5)));
        }
        let recover = evals
            .iter()
            .position(|e| e.degrade == Decision::Recover)
            .expect("recovers after a full cooldown");
        // 1 s for the window to drain the slow second, then 5 s of health.
        assert!(recover >= 50, "recovered after {recover} buckets");
        assert_eq!(
            evals
                .iter()
                .filter(|e| matches!(e.degrade, Decision::Degrade | Decision::Recover))
                .count(),
            1
        );
    }

    #[test]
    fn head_age_trips_at_once_counts_transitions_and_blocks_recovery() {
        let (m, clock) = monitor(
            SloConfig::new()
                .target_p999(Duration::from_millis(100))
                .short_window(Duration::from_secs(1))
                .short_bucket(Duration::from_millis(20))
                .cooldown(Duration::from_millis(200))
                .min_samples(1),
        );
        assert_eq!(m.head_age_limit_us(), 50_000);
        assert!(m.last_evaluation().is_none());
        assert!(m.head_age_tripped(clock.now()));
        assert!(m.is_degraded());
        assert!(!m.head_age_tripped(clock.now()), "one trip per degrade");
        let status = m.last_evaluation().expect("the trip is visible at once");
        assert_eq!(status.reason, Some(Reason::HeadAge));
        assert_eq!((status.degrades, status.recoveries), (1, 0));
        assert!(status.to_string().contains("P99.9 - (long -)"), "{status}");
        // Healthy samples, but the consumers do not keep up: no recovery.
        for _ in 0..30 {
            m.record(Duration::from_millis(1));
            clock.advance(20 * MS);
            let e = m.evaluate_with(clock.now(), false).unwrap();
            assert_ne!(e.degrade, Decision::Recover);
        }
        // A new head-age trip restarts the cooldown.
        m.head_age_tripped(clock.now());
        let mut recovered_after = None;
        for i in 1..=30 {
            m.record(Duration::from_millis(1));
            clock.advance(20 * MS);
            if m.evaluate_with(clock.now(), true).unwrap().degrade == Decision::Recover {
                recovered_after = Some(i);
                break;
            }
        }
        let after = recovered_after.expect("recovers");
        assert!(
            after >= 10,
            "a full 200 ms cooldown after the trip: {after}"
        );
        let status = m.last_evaluation().unwrap();
        assert_eq!(status.reason, Some(Reason::Healthy));
        assert_eq!((status.degrades, status.recoveries), (1, 1));
        assert!(
            status.to_string().contains("degrades 1 recoveries 1"),
            "{status}"
        );

        let (off, _) = monitor(SloConfig::new().head_age_percent(0));
        assert_eq!(off.head_age_limit_us(), 0);
    }

    #[test]
    fn trickle_only_while_degraded() {
        let (m, clock) = monitor(SloConfig::new().rate_limit_per_sec(10).burst(2));
        assert!((0..100).all(|_| m.admit_primary(clock.now())));
        ramp(&m, &clock, Duration::from_millis(500), 60);
        assert!(m.is_degraded());
        let now = clock.now();
        assert_eq!((0..100).filter(|_| m.admit_primary(now)).count(), 2);
        assert_eq!(
            (0..100).filter(|_| m.admit_primary(now + S)).count(),
            2,
            "refilled to burst after a quiet second"
        );
    }

    #[test]
    fn long_window_and_samples_are_reported() {
        let (m, clock) = monitor(SloConfig::default());
        let mut e = step(&m, &clock, 1000, Duration::from_millis(20));
        for _ in 0..20 {
            e = step(&m, &clock, 1000, Duration::from_millis(20));
        }
        assert_eq!(e.samples, 21_000);
        assert!(e.p999_short >= Duration::from_millis(20));
        assert!(e.p999_short <= Duration::from_micros(22_500));
        assert_eq!(e.p999_long, e.p999_short);
        assert_eq!(e.health, Health::Healthy);
    }

    #[test]
    fn many_threads_record_without_losing_samples() {
        let m = std::sync::Arc::new(SloMonitor::new(SloConfig::default(), 1, 0).unwrap());
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for k in 0..10_000u64 {
                        m.record_us(1 + (k + i) % 1000);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(m.evaluate(100 * MS).unwrap().samples, 40_000);
    }
}
