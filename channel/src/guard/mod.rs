//! The breaker wiring of one channel: the L1 circuit consulted before each receive, the L2
//! hold after a failure, the L3 SLO monitor fed by send stamps and receive waits, and the
//! backup route taken by sends while the channel is degraded.
//!
//! A channel built without `.breaker(..)`/`.slo(..)` has no `Guard` at all: its operations
//! test one `Option` and go on (the only cost a plain channel pays).
//!
//! Outcomes. A receive admitted by the circuit is settled in one of three ways:
//! * `recv_checked(|msg| verdict)` resolves it right after the message arrives;
//! * `Receiver::report(outcome)` resolves the oldest delivered, unsettled receive;
//! * otherwise it counts as a success when the next receive on the channel is admitted
//!   (a plain successful receive with no report is a success). With several consumers on one
//!   channel, report before receiving again or use `recv_checked`, since another consumer's
//!   admission settles what is still unsettled.
//!
//! Timeouts of `recv_timeout`/`recv_deadline` are failures by themselves (`on_timeout`).
//!
//! L3 (see the submodules): send stamps ([`stamps`]) give queueing-delay samples and the age of
//! the oldest queued value; the head-age rule trips at once when that age reaches the limit;
//! evaluations run on the channel's own operations and, while it is idle with a backlog, on
//! the runtime's timer ([`watchdog`]); while degraded, sends go to the backup (the primary
//! gets a trickle) and aged values move there ([`migrate`]), with recovery gated on the
//! consumers keeping up ([`load`]).

mod backup;
mod load;
mod migrate;
pub(crate) mod stamps;
#[cfg(not(loom))]
pub(crate) mod watchdog;

use std::time::Duration;

use weir_breaker::{
    Admit, BreakerConfig, Circuit, Clock, Decision, Evaluation, GroupPolicy, Nanos, Outcome,
    RawPermit, RetryPolicy, SloConfig, SloMonitor, State, Transition,
};

use crate::channel::Chan;
use crate::sync::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Mutex, MutexGuard, Ordering};
// The breaker's API takes std's `Arc` (its clock and group are not loom-modelled here).
use std::sync::Arc;

pub(crate) use backup::Backup;
pub(crate) use migrate::Closing;
use migrate::{Migration, Scope};
use stamps::Stamps;

/// The clock a channel's breaker reads by default: the runtime's coarse clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct CoarseClock;

#[cfg(not(loom))]
impl Clock for CoarseClock {
    #[inline]
    fn now(&self) -> Nanos {
        weir_runtime::time::coarse_nanos()
    }
}

#[cfg(loom)]
impl Clock for CoarseClock {
    fn now(&self) -> Nanos {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        ORIGIN
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_nanos() as Nanos
    }
}

/// What the builder collected, validated into a [`Guard`].
pub(crate) struct GuardConfig<T> {
    pub(crate) breaker: Option<BreakerConfig>,
    pub(crate) slo: Option<SloConfig>,
    pub(crate) backup: Option<Backup<T>>,
    pub(crate) group: Option<(Arc<weir_breaker::Group>, GroupPolicy)>,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) wait_samples: bool,
}

impl<T> GuardConfig<T> {
    pub(crate) fn is_empty(&self) -> bool {
        self.breaker.is_none() && self.slo.is_none()
    }
}

/// The breaker state of one guarded channel.
pub(crate) struct Guard<T> {
    clock: Arc<dyn Clock>,
    pub(crate) circuit: Option<Circuit>,
    /// The circuit follows a group, so its Closed fast path must ask the group too.
    follows: bool,
    // Under loom the hold (a runtime timer) is not built.
    #[cfg_attr(loom, allow(dead_code))]
    retry: RetryPolicy,
    /// Failures (timeouts included) since the last success: the L2 hold's attempt number.
    retry_attempt: AtomicU32,
    /// A receive admitted while Closed delivered its value and was not reported yet.
    unreported: AtomicBool,
    /// Probe permits of delivered receives waiting for their outcome (at most
    /// `half_open_probes`: reserved at build, so pushing never allocates).
    probes: Mutex<Vec<RawPermit>>,
    /// `probes.len()`, read without the lock.
    pending_probes: AtomicUsize,
    /// Boxed: the monitor is ~57 KiB, and an inline one would make every frame that builds a
    /// `Guard` (even a breaker-only one) that large.
    pub(crate) slo: Option<Box<SloMonitor>>,
    stamps: Option<Stamps>,
    pub(crate) backup: Option<Backup<T>>,
    /// Receive wait times are L3 samples too (opt-in, see `Builder::slo_wait_samples`).
    wait_samples: bool,
    /// Moving values from the degraded primary to the backup.
    migration: Migration<T>,
    /// The recovery gate: do the primary's consumers keep up?
    load: load::Load,
    /// Trickle values in a row that aged unserved on the degraded primary, and the time
    /// before which no new trickle is admitted (`limit << misses`): a consumer that serves
    /// none of the trickle gets ever fewer of them to sit on, so the values that wait past
    /// the head-age limit stay a tiny share of the degraded traffic.
    trickle_misses: AtomicU32,
    trickle_hold_until: AtomicU64,
}

/// Most doublings of the trickle hold: at most `limit << 4` between two trickle values.
const TRICKLE_MAX_SHIFT: u32 = 4;

impl<T> Guard<T> {
    /// Not inlined: building the SLO monitor needs a large stack frame, which plain channels
    /// (and threads with small stacks, such as loom's) must not pay for.
    #[inline(never)]
    pub(crate) fn new(
        cfg: GuardConfig<T>,
        channel: u64,
        capacity: Option<usize>,
    ) -> Result<Self, weir_breaker::ConfigError> {
        let clock: Arc<dyn Clock> = cfg.clock.unwrap_or_else(|| Arc::new(CoarseClock));
        let now = clock.now();
        let mut follows = false;
        let (circuit, retry, probes) = match cfg.breaker {
            Some(b) => {
                let mut c = Circuit::new(b, channel)?;
                if let Some((group, policy)) = cfg.group {
                    follows = policy == GroupPolicy::Follow;
                    c = c.with_group(group, policy);
                }
                (
                    Some(c),
                    RetryPolicy::from_config(&b),
                    b.half_open_probes as usize,
                )
            }
            None => (None, RetryPolicy::new(Duration::ZERO, 0), 0),
        };
        let (slo, stamps) = match cfg.slo {
            Some(s) => (
                Some(Box::new(SloMonitor::new(s, channel, now)?)),
                Some(Stamps::new(capacity)),
            ),
            None => (None, None),
        };
        Ok(Guard {
            clock,
            circuit,
            follows,
            retry,
            retry_attempt: AtomicU32::new(0),
            unreported: AtomicBool::new(false),
            probes: Mutex::new(Vec::with_capacity(probes)),
            pending_probes: AtomicUsize::new(0),
            slo,
            stamps,
            backup: cfg.backup,
            wait_samples: cfg.wait_samples,
            migration: Migration::new(),
            load: load::Load::new(),
            trickle_misses: AtomicU32::new(0),
            trickle_hold_until: AtomicU64::new(0),
        })
    }

    #[inline]
    pub(crate) fn now(&self) -> Nanos {
        self.clock.now()
    }

    fn lock_probes(&self) -> MutexGuard<'_, Vec<RawPermit>> {
        // Nothing panics while the lock is held; take the guard even if poisoned.
        match self.probes.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Settles what the previous receives left unsettled as successes.
    #[inline]
    fn settle(&self, circuit: &Circuit) {
        // Relaxed: a hint; the swap decides who settles.
        if self.unreported.load(Ordering::Relaxed) && self.unreported.swap(false, Ordering::AcqRel)
        {
            circuit.on_success();
            // Relaxed: a counter only this guard's L2 hold reads.
            self.retry_attempt.store(0, Ordering::Relaxed);
        }
        // Relaxed: the lock re-checks.
        if self.pending_probes.load(Ordering::Relaxed) != 0 {
            self.settle_probes(circuit);
        }
    }

    #[cold]
    fn settle_probes(&self, circuit: &Circuit) {
        let now = self.now();
        let mut probes = self.lock_probes();
        while let Some(raw) = probes.pop() {
            circuit.resolve_raw(raw, Outcome::Success, now);
        }
        // Relaxed: written under the lock.
        self.pending_probes.store(0, Ordering::Relaxed);
        self.retry_attempt.store(0, Ordering::Relaxed);
    }

    /// Asks the circuit whether a receive may start: `Ok(None)` passes, `Ok(Some(permit))` is
    /// a HalfOpen probe, `Err(retry_after)` is a rejection.
    #[inline]
    pub(crate) fn admit(&self) -> Result<Option<RawPermit>, Duration> {
        if let Some(slo) = &self.slo {
            if slo.is_degraded() {
                self.load.started(self.now());
            }
        }
        let Some(circuit) = &self.circuit else {
            return Ok(None);
        };
        self.settle(circuit);
        if !self.follows && circuit.state() == State::Closed {
            return Ok(None);
        }
        match circuit.admit(self.now()) {
            Admit::Pass => Ok(None),
            Admit::Probe(permit) => Ok(Some(permit.into_raw())),
            Admit::Reject { retry_after } => Err(retry_after),
        }
    }

    /// An admitted receive got its value; its outcome is pending (see the module doc).
    #[inline]
    pub(crate) fn delivered(&self, permit: Option<RawPermit>) {
        match permit {
            Some(raw) => {
                let mut probes = self.lock_probes();
                probes.push(raw);
                // Relaxed: written under the lock.
                self.pending_probes.store(probes.len(), Ordering::Relaxed);
            }
            // Relaxed: see `settle`. Load first: most of the time it is set already.
            None if self.circuit.is_some() && !self.unreported.load(Ordering::Relaxed) => {
                self.unreported.store(true, Ordering::Relaxed);
            }
            None => {}
        }
    }

    /// Gives back a permit whose receive ended without a value (closed, cancelled).
    pub(crate) fn release(&self, permit: RawPermit) {
        if let Some(circuit) = &self.circuit {
            circuit.release_raw(permit);
        }
    }

    /// Resolves one receive's outcome: `permit` if it was a probe, else a Closed-admitted one.
    pub(crate) fn resolve(
        &self,
        permit: Option<RawPermit>,
        outcome: Outcome,
    ) -> Option<Transition> {
        let circuit = self.circuit.as_ref()?;
        let now = self.now();
        // Relaxed: a counter only the L2 hold reads.
        match outcome {
            Outcome::Success => self.retry_attempt.store(0, Ordering::Relaxed),
            Outcome::Failure | Outcome::Timeout => {
                self.retry_attempt.fetch_add(1, Ordering::Relaxed);
            }
        }
        match permit {
            Some(raw) => circuit.resolve_raw(raw, outcome, now),
            None => circuit.on_outcome(outcome, now),
        }
    }

    /// `Receiver::report`: settles the oldest delivered, unsettled receive.
    pub(crate) fn report(&self, outcome: Outcome) -> Option<Transition> {
        self.circuit.as_ref()?;
        // Relaxed: the flag carries no data; a settle racing with this report may count the
        // same receive as a success too (the documented several-consumer approximation).
        self.unreported.store(false, Ordering::Relaxed);
        // Relaxed: the lock re-checks.
        let permit = if self.pending_probes.load(Ordering::Relaxed) != 0 {
            let mut probes = self.lock_probes();
            let p = if probes.is_empty() {
                None
            } else {
                Some(probes.remove(0))
            };
            self.pending_probes.store(probes.len(), Ordering::Relaxed);
            p
        } else {
            None
        };
        self.resolve(permit, outcome)
    }

    /// The L2 hold for a receive attempted now: the runtime's yield-and-backoff hook, set to
    /// this channel's schedule (`backoff_base << min(n, backoff_max_shift)`, jittered) and
    /// resumed at the number of failures since the last success. `None` when the last outcome
    /// was a success (or the hold is off). The hook's first attempt yields instead of
    /// sleeping when the worker has other runnable tasks (a producer may be among them).
    #[inline]
    #[cfg(not(loom))]
    pub(crate) fn hold(&self) -> Option<weir_runtime::task::Backoff> {
        // Relaxed: see `resolve`.
        let attempt = self.retry_attempt.load(Ordering::Relaxed);
        if attempt == 0 || self.retry.base().is_zero() {
            return None;
        }
        Some(self.backoff(attempt - 1))
    }

    #[cold]
    #[cfg(not(loom))]
    fn backoff(&self, attempt: u32) -> weir_runtime::task::Backoff {
        weir_runtime::task::Backoff::new(self.retry.base())
            .max_shift(self.retry.max_shift())
            .cap(self.retry.max_delay())
            .starting_at(attempt)
    }

    /// Failures and timeouts since the last success.
    pub(crate) fn retry_attempt(&self) -> u32 {
        // Relaxed: a statistic.
        self.retry_attempt.load(Ordering::Relaxed)
    }

    /// The L3 checks every operation makes: an evaluation when one is due, and the head-age
    /// rule (the oldest queued value at the limit degrades at once and, while degraded, moves
    /// to the backup). Before each evaluation the head's age is sampled too, so a consumer that
    /// stops altogether is seen before any late message comes out.
    #[inline]
    fn watch(&self, slo: &SloMonitor, primary: &Chan<T>, now: Nanos) {
        if slo.is_due(now) {
            self.evaluate_now(slo, now);
        }
        let limit = slo.head_age_limit_us();
        let aged = limit != 0
            && self
                .stamps
                .as_ref()
                .and_then(|s| s.head_age(now / 1_000))
                .is_some_and(|age| age >= limit);
        if aged || (slo.is_degraded() && self.migration.backlog_pending()) {
            self.head_aged(slo, primary, now, aged);
        }
    }

    /// The head reached the age limit (`aged`), or a degrade backlog waits to move.
    #[cold]
    fn head_aged(&self, slo: &SloMonitor, primary: &Chan<T>, now: Nanos, aged: bool) {
        if aged && slo.head_age_tripped(now) && self.backup.is_some() {
            self.migration.request_backlog();
        }
        let trickle = aged && slo.is_degraded() && !self.migration.backlog_pending();
        if self.migrate(slo, primary, now, Scope::Aged) > 0 && trickle {
            self.trickle_missed(slo.head_age_limit_us(), now);
        }
    }

    /// A trickle value aged unserved on the degraded primary and moved on: hold the next one
    /// back for twice as long as the last (see `trickle_misses`).
    #[cold]
    fn trickle_missed(&self, limit_us: u64, now: Nanos) {
        // Relaxed: statistics that only shape the trickle.
        let misses = self.trickle_misses.fetch_add(1, Ordering::Relaxed);
        let hold = limit_us
            .saturating_mul(1_000)
            .saturating_mul(1 << misses.min(TRICKLE_MAX_SHIFT));
        self.trickle_hold_until
            .store(now.saturating_add(hold), Ordering::Relaxed);
    }

    /// Moves what is due from the primary to the backup (see `migrate`).
    fn migrate(&self, slo: &SloMonitor, primary: &Chan<T>, now: Nanos, scope: Scope) -> usize {
        let Some(backup) = &self.backup else {
            return 0;
        };
        if scope == Scope::Aged && !slo.is_degraded() {
            return 0;
        }
        let limit = slo.head_age_limit_us();
        let stamps = self.stamps.as_ref();
        let now_us = now / 1_000;
        self.migration
            .run(primary, backup, stamps, now_us, scope, || {
                limit != 0
                    && stamps
                        .and_then(|s| s.head_age(now_us))
                        .is_some_and(|age| age >= limit)
            })
    }

    #[cold]
    fn evaluate_now(&self, slo: &SloMonitor, now: Nanos) -> Option<Evaluation> {
        if let Some(age) = self.stamps.as_ref().and_then(|s| s.head_age(now / 1_000)) {
            slo.record_us(age);
        }
        let primary_sent = self.stamps.as_ref().map_or(0, |s| s.sent());
        let max_load = u64::from(slo.config().recovery_load_percent);
        let can_recover = max_load == 0 || self.load.can_recover(now, primary_sent, max_load);
        let ev = slo.evaluate_with(now, can_recover);
        if self.backup.is_some() {
            match ev.map(|e| e.degrade) {
                Some(Decision::Degrade) => self.migration.request_backlog(),
                Some(Decision::Recover) => self.migration.cancel_backlog(),
                _ => {}
            }
        }
        ev
    }

    /// A value went into `primary` (this channel).
    #[inline]
    pub(crate) fn sent(&self, primary: &Chan<T>) {
        if let (Some(slo), Some(stamps)) = (&self.slo, &self.stamps) {
            let now = self.now();
            stamps.on_send(now / 1_000);
            // With a backup, `route` watched just before this send.
            if self.backup.is_none() {
                self.watch(slo, primary, now);
            }
        }
    }

    /// A value came out of `primary` (this channel) for a receiver; `extra_us` is injected
    /// latency (the `chaos` feature; 0 otherwise).
    #[inline]
    pub(crate) fn received(&self, primary: &Chan<T>, extra_us: u64) {
        if let (Some(slo), Some(stamps)) = (&self.slo, &self.stamps) {
            let now = self.now();
            if let Some(us) = stamps.on_recv(now / 1_000) {
                slo.record_us(us.saturating_add(extra_us));
            }
            if slo.is_degraded() {
                self.load.delivered(now, primary.waiting_receivers());
                // The consumer serves the trickle again: no more hold. Relaxed: as in
                // `trickle_missed`; load first, as most receives find nothing to reset.
                if self.trickle_misses.load(Ordering::Relaxed) != 0 {
                    self.trickle_misses.store(0, Ordering::Relaxed);
                    self.trickle_hold_until.store(0, Ordering::Relaxed);
                }
            }
            self.watch(slo, primary, now);
        }
    }

    /// A receive waited from `started` until now for its value (L3's second sample).
    #[inline]
    pub(crate) fn waited(&self, started: Nanos) {
        if !self.wait_samples {
            return;
        }
        if let Some(slo) = &self.slo {
            slo.record_us(self.now().saturating_sub(started) / 1_000);
        }
    }

    /// The channel a new send goes to: the backup while degraded (except the trickle the
    /// primary still admits, and once the primary is closed), else the primary. Without a backup, sends stay on the primary
    /// and degradation is only reported.
    ///
    /// The trickle is adaptive: while the value at the primary's head has reached the head-age
    /// limit (its consumer is not draining), no trickle is admitted. A trickle value that then
    /// ages on the primary moves to the backup at the limit like any other (see `migrate`),
    /// so recovery is judged on the trickle without sacrificing it.
    #[inline]
    pub(crate) fn route<'a>(&'a self, primary: &'a Chan<T>) -> &'a Chan<T> {
        let (Some(slo), Some(backup)) = (&self.slo, &self.backup) else {
            return primary;
        };
        let now = self.now();
        self.watch(slo, primary, now);
        if !slo.is_degraded() {
            return primary;
        }
        self.degraded_route(slo, primary, backup.chan(), now)
    }

    #[cold]
    fn degraded_route<'a>(
        &'a self,
        slo: &SloMonitor,
        primary: &'a Chan<T>,
        backup: &'a Chan<T>,
        now: Nanos,
    ) -> &'a Chan<T> {
        // A send on a closed channel hands its value back, degraded or not (a send that
        // races the close and is routed first was simply earlier).
        if primary.is_closed() {
            return primary;
        }
        let limit = match slo.head_age_limit_us() {
            0 => slo.target_us(),
            l => l,
        };
        let draining = self
            .stamps
            .as_ref()
            .and_then(|s| s.head_age(now / 1_000))
            .is_none_or(|age| age < limit);
        // Relaxed: a hint about when to try the primary again; nothing rides on it.
        let held = now < self.trickle_hold_until.load(Ordering::Relaxed);
        if draining && !held && slo.admit_primary(now) {
            primary
        } else {
            self.load.routed();
            backup
        }
    }

    /// A receive found the primary closed and drained: whether a move is still settling or
    /// left a value (see `migrate`).
    #[inline]
    pub(crate) fn on_closed(&self) -> Closing<T> {
        if self.backup.is_none() {
            return Closing::Closed;
        }
        self.migration.on_closed()
    }

    /// A value left by a move that neither channel would take, for the primary's receivers.
    #[inline]
    pub(crate) fn take_stash(&self) -> Option<T> {
        self.backup.as_ref()?;
        self.migration.take_stash()
    }

    /// The last receiver is gone (the channel is closed): hand everything still queued to the
    /// backup, whose consumers can still receive it.
    pub(crate) fn last_receiver_gone(&self, primary: &Chan<T>) {
        if let Some(slo) = &self.slo {
            self.migrate(slo, primary, self.now(), Scope::All);
        } else if let Some(backup) = &self.backup {
            self.migration
                .run(primary, backup, None, 0, Scope::All, || false);
        }
    }

    /// Messages handed from the degraded primary to the backup so far.
    pub(crate) fn migrated(&self) -> u64 {
        self.migration.migrated()
    }

    pub(crate) fn state(&self) -> Option<State> {
        self.circuit.as_ref().map(Circuit::state)
    }

    pub(crate) fn slo_status(&self) -> Option<Evaluation> {
        self.slo.as_deref().and_then(SloMonitor::last_evaluation)
    }

    /// The monitor the runtime's timer watches (channels with L3 and a backup).
    #[cfg(not(loom))]
    pub(crate) fn watched_slo(&self) -> Option<&SloMonitor> {
        self.backup.as_ref()?;
        self.slo.as_deref()
    }

    /// The checks of one operation without an operation: evaluates if due, trips on the head's
    /// age and moves what is due. The runtime's timer calls it for an idle channel
    /// (`watchdog`); `slo_tick` exposes it.
    pub(crate) fn tick(&self, primary: &Chan<T>) -> Option<Evaluation> {
        let slo = self.slo.as_ref()?;
        let now = self.now();
        let ev = if slo.is_due(now) {
            self.evaluate_now(slo, now)
        } else {
            None
        };
        self.watch(slo, primary, now);
        ev
    }
}
