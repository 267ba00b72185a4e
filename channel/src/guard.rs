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
//! Send stamps (L3 only). Messages stay `T`; the stamps live beside the buffer in a ring of
//! `AtomicU64` indexed by a send sequence number, and the receive with the same receive
//! sequence number reads them back. The queue is FIFO, so for one producer and one consumer
//! the pairing is exact; with several, a sample may pair with a neighbour sent in the same
//! instant. Each slot carries its sequence lap as a tag: a receive that finds another lap (its
//! sender has not written yet, or the ring was lapped by an unbounded queue longer than the
//! ring) records no queueing sample rather than a wrong one. Each evaluation also samples the
//! age of the message at the head of the queue (see `Guard::maybe_evaluate`). The ring is statistics, not
//! synchronisation: no value's safety depends on it, so it needs no loom model.

use std::sync::Mutex;
use std::time::Duration;

use weir_breaker::{
    Admit, BreakerConfig, Circuit, Clock, Decision, Evaluation, GroupPolicy, Nanos, Outcome,
    RawPermit, RetryPolicy, SloConfig, SloMonitor, State, Transition,
};

use crate::channel::Chan;
use crate::handles::Sender;
// The breaker's API takes std's `Arc` (its clock and group are not loom-modelled here).
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Bits of a stamp slot holding the microsecond time stamp (about 12.7 days before it wraps;
/// a wrapped sample reads as a zero delay).
const STAMP_BITS: u32 = 40;
const STAMP_MASK: u64 = (1 << STAMP_BITS) - 1;
/// Stamp ring length of an unbounded channel.
const UNBOUNDED_RING: usize = 4096;
/// Longest stamp ring (bounded channels use their capacity rounded up to a power of two).
const MAX_RING: usize = 1 << 16;
/// Shortest stamp ring (rendezvous and tiny buffers).
const MIN_RING: usize = 64;
/// Most queued messages one call hands from a degraded primary to its backup.
const MIGRATE_BATCH: usize = 64;
/// `migrate_left` value meaning "degraded just now: measure the backlog on the next send".
const MIGRATE_MEASURE: usize = usize::MAX;

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
    pub(crate) backup: Option<Sender<T>>,
    pub(crate) group: Option<(Arc<weir_breaker::Group>, GroupPolicy)>,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) wait_samples: bool,
}

impl<T> GuardConfig<T> {
    pub(crate) fn is_empty(&self) -> bool {
        self.breaker.is_none() && self.slo.is_none()
    }
}

/// Send stamps for L3's queueing-delay samples (see the module doc).
struct Stamps {
    slots: Box<[AtomicU64]>,
    mask: u64,
    lap_shift: u32,
    sent: AtomicU64,
    received: AtomicU64,
}

impl Stamps {
    fn new(capacity: Option<usize>) -> Self {
        let len = match capacity {
            None => UNBOUNDED_RING,
            Some(cap) => cap.clamp(MIN_RING, MAX_RING).next_power_of_two(),
        };
        Stamps {
            slots: (0..len).map(|_| AtomicU64::new(u64::MAX)).collect(),
            mask: len as u64 - 1,
            lap_shift: len.trailing_zeros(),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
        }
    }

    #[inline]
    fn tag(&self, seq: u64) -> u64 {
        ((seq >> self.lap_shift) & ((1 << (64 - STAMP_BITS)) - 1)) << STAMP_BITS
    }

    #[inline]
    fn on_send(&self, now_us: u64) {
        // Relaxed: the sequence only pairs stamps with receives; no data is published by it.
        let seq = self.sent.fetch_add(1, Ordering::Relaxed);
        // Relaxed: the slot is a self-contained statistic, tagged with its lap.
        self.slots[(seq & self.mask) as usize]
            .store(self.tag(seq) | (now_us & STAMP_MASK), Ordering::Relaxed);
    }

    /// The queueing delay of the message just received, if its stamp is there.
    #[inline]
    fn on_recv(&self, now_us: u64) -> Option<u64> {
        // Relaxed: as in `on_send`.
        let seq = self.received.fetch_add(1, Ordering::Relaxed);
        // Relaxed: as in `on_send`; a stale slot fails the tag check.
        let slot = self.slots[(seq & self.mask) as usize].load(Ordering::Relaxed);
        if slot & !STAMP_MASK != self.tag(seq) {
            return None;
        }
        Some((now_us & STAMP_MASK).saturating_sub(slot & STAMP_MASK))
    }

    /// How long the oldest message still in the channel has waited (0 when none waits).
    #[inline]
    fn head_age(&self, now_us: u64) -> Option<u64> {
        // Relaxed: as in `on_send`; a racing send or receive only shifts the sample by one.
        let received = self.received.load(Ordering::Relaxed);
        let sent = self.sent.load(Ordering::Relaxed);
        if sent <= received {
            return Some(0);
        }
        let slot = self.slots[(received & self.mask) as usize].load(Ordering::Relaxed);
        if slot & !STAMP_MASK != self.tag(received) {
            return None;
        }
        Some((now_us & STAMP_MASK).saturating_sub(slot & STAMP_MASK))
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
    pub(crate) backup: Option<Sender<T>>,
    /// Receive wait times are L3 samples too (opt-in, see `Builder::slo_wait_samples`).
    wait_samples: bool,
    /// Messages of the backlog queued on the primary when it degraded that are still to be
    /// handed to the backup (`MIGRATE_MEASURE`: not measured yet). See `migrate`.
    migrate_left: AtomicUsize,
    /// One migrator at a time (try-locked; a busy lock means someone else is moving).
    migrating: Mutex<()>,
    /// A migrated value that neither the backup nor the primary would take back (both closed
    /// or full at once, a race): the primary's receivers take it first. Never more than one,
    /// since migration stops when it is occupied.
    stash: Mutex<Option<T>>,
    /// `stash` is occupied (read without the lock).
    stashed: AtomicBool,
    /// Messages handed to the backup so far.
    migrated: AtomicU64,
}

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
            migrate_left: AtomicUsize::new(0),
            migrating: Mutex::new(()),
            stash: Mutex::new(None),
            stashed: AtomicBool::new(false),
            migrated: AtomicU64::new(0),
        })
    }

    #[inline]
    pub(crate) fn now(&self) -> Nanos {
        self.clock.now()
    }

    fn lock_probes(&self) -> std::sync::MutexGuard<'_, Vec<RawPermit>> {
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

    /// Runs an SLO evaluation if one is due (no timer thread: the send and receive paths call
    /// this). Before each evaluation the age of the oldest waiting message is sampled too, so
    /// a consumer that stops altogether is seen before any late message comes out (and an
    /// empty channel contributes a zero: nothing waits).
    #[inline]
    fn maybe_evaluate(&self, slo: &SloMonitor, now: Nanos) {
        if slo.is_due(now) {
            self.evaluate_now(slo, now);
        }
    }

    #[cold]
    fn evaluate_now(&self, slo: &SloMonitor, now: Nanos) -> Option<Evaluation> {
        if let Some(age) = self.stamps.as_ref().and_then(|s| s.head_age(now / 1_000)) {
            slo.record_us(age);
        }
        let ev = slo.evaluate(now);
        if self.backup.is_some() {
            match ev.map(|e| e.degrade) {
                // Relaxed: a request to the next send (see `migrate`); no data rides on it.
                Some(Decision::Degrade) => {
                    self.migrate_left.store(MIGRATE_MEASURE, Ordering::Relaxed)
                }
                Some(Decision::Recover) => self.migrate_left.store(0, Ordering::Relaxed),
                _ => {}
            }
        }
        ev
    }

    /// A value went into the channel.
    #[inline]
    pub(crate) fn sent(&self) {
        if let (Some(slo), Some(stamps)) = (&self.slo, &self.stamps) {
            let now = self.now();
            stamps.on_send(now / 1_000);
            self.maybe_evaluate(slo, now);
        }
    }

    /// A value came out of the channel; `extra_us` is injected latency (the `chaos` feature;
    /// 0 otherwise).
    #[inline]
    pub(crate) fn received(&self, extra_us: u64) {
        if let (Some(slo), Some(stamps)) = (&self.slo, &self.stamps) {
            let now = self.now();
            if let Some(us) = stamps.on_recv(now / 1_000) {
                slo.record_us(us.saturating_add(extra_us));
            }
            self.maybe_evaluate(slo, now);
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
    /// primary still admits), else the primary. Without a backup, sends stay on the primary
    /// and degradation is only reported.
    ///
    /// The trickle is adaptive: while the message at the primary's head has waited longer
    /// than the SLO target (its consumer is not draining), no trickle is admitted, since a
    /// message sent there would only wait too; the backlog then tells L3 the primary is still
    /// unhealthy. While degraded, each send also moves a bounded batch of the backlog that
    /// was queued on the primary when it degraded to the backup (see `migrate`).
    #[inline]
    pub(crate) fn route<'a>(&'a self, primary: &'a Chan<T>) -> &'a Chan<T> {
        let (Some(slo), Some(backup)) = (&self.slo, &self.backup) else {
            return primary;
        };
        let now = self.now();
        self.maybe_evaluate(slo, now);
        if !slo.is_degraded() {
            return primary;
        }
        self.degraded_route(slo, primary, &backup.chan, now)
    }

    #[cold]
    fn degraded_route<'a>(
        &'a self,
        slo: &SloMonitor,
        primary: &'a Chan<T>,
        backup: &'a Chan<T>,
        now: Nanos,
    ) -> &'a Chan<T> {
        // Relaxed: see `migrate`.
        if self.migrate_left.load(Ordering::Relaxed) != 0 {
            self.migrate(primary, backup);
        }
        let target_us = slo.config().target_p999.as_micros() as u64;
        let draining = self
            .stamps
            .as_ref()
            .and_then(|s| s.head_age(now / 1_000))
            .is_none_or(|age| age <= target_us);
        if draining && slo.admit_primary(now) {
            primary
        } else {
            backup
        }
    }

    /// Hands up to `MIGRATE_BATCH` messages of the primary's backlog to the backup.
    ///
    /// When the primary degrades, the messages already queued on it would wait for its slow
    /// consumer although the backup is healthy. They have not been received yet, so moving
    /// one is a receive on the primary and a send on the backup: each is still received
    /// exactly once (by a consumer of one channel or the other), and their order relative to
    /// the backup's own messages is not kept. Only the backlog measured at the degrade
    /// moment moves (the trickle admitted afterwards stays on the primary: it is how L3 sees
    /// the primary recover). Migration stops for good when either channel is closed and
    /// pauses while the backup is full or is a rendezvous (it resumes on a later send while
    /// the channel stays degraded). A value that neither channel takes back (a close or a
    /// fill racing with the move) waits in a one-slot stash that the primary's receivers
    /// take first: never lost.
    #[cold]
    fn migrate(&self, primary: &Chan<T>, backup: &Chan<T>) {
        let Ok(_moving) = self.migrating.try_lock() else {
            return;
        };
        // Relaxed: the stash flag is re-read under its lock by the receivers that take it.
        if self.stashed.load(Ordering::Relaxed) {
            return;
        }
        // Relaxed: the count is only read and written by the migrator holding `migrating`
        // (and reset by evaluations, which at worst stop a batch early or measure again).
        let start = self.migrate_left.load(Ordering::Relaxed);
        let mut left = if start == MIGRATE_MEASURE {
            primary.len()
        } else {
            start
        };
        if backup.capacity() == Some(0) {
            return;
        }
        let mut batch = 0;
        while left > 0 && batch < MIGRATE_BATCH {
            if primary.is_closed() || backup.is_closed() {
                left = 0;
                break;
            }
            if backup.is_full() {
                break;
            }
            let v = match primary.try_recv() {
                Ok(v) => v,
                Err(_) => {
                    left = 0;
                    break;
                }
            };
            match backup.try_send(v) {
                Ok(()) => {
                    left -= 1;
                    batch += 1;
                    // Relaxed: a statistic.
                    self.migrated.fetch_add(1, Ordering::Relaxed);
                }
                Err(
                    crate::error::TrySendError::Full(v) | crate::error::TrySendError::Closed(v),
                ) => {
                    if let Err(
                        crate::error::TrySendError::Full(v) | crate::error::TrySendError::Closed(v),
                    ) = primary.try_send(v)
                    {
                        *self.lock_stash() = Some(v);
                        // Relaxed: the receivers take it under the lock.
                        self.stashed.store(true, Ordering::Relaxed);
                        left = 0;
                    }
                    break;
                }
            }
        }
        // Relaxed: as above. An evaluation that changed the count meanwhile (recover, or a
        // new degrade) wins.
        let _ =
            self.migrate_left
                .compare_exchange(start, left, Ordering::Relaxed, Ordering::Relaxed);
    }

    fn lock_stash(&self) -> std::sync::MutexGuard<'_, Option<T>> {
        // Nothing panics while the lock is held; take the guard even if poisoned.
        match self.stash.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// A value left by a migration race (see `migrate`), for the primary's receivers.
    #[inline]
    pub(crate) fn take_stash(&self) -> Option<T> {
        // Relaxed: a hint; the lock decides.
        if !self.stashed.load(Ordering::Relaxed) {
            return None;
        }
        self.take_stash_slow()
    }

    #[cold]
    fn take_stash_slow(&self) -> Option<T> {
        let v = self.lock_stash().take();
        // Relaxed: cleared after the take; a receiver racing with this one finds `None`.
        self.stashed.store(false, Ordering::Relaxed);
        v
    }

    /// Messages handed from the degraded primary to the backup so far.
    pub(crate) fn migrated(&self) -> u64 {
        // Relaxed: a statistic.
        self.migrated.load(Ordering::Relaxed)
    }

    pub(crate) fn state(&self) -> Option<State> {
        self.circuit.as_ref().map(Circuit::state)
    }

    pub(crate) fn slo_status(&self) -> Option<Evaluation> {
        self.slo.as_deref().and_then(SloMonitor::last_evaluation)
    }

    /// Evaluates now if due, and goes on with a migration in progress; for callers that
    /// want a fresh status without traffic.
    pub(crate) fn tick(&self, primary: &Chan<T>) -> Option<Evaluation> {
        let slo = self.slo.as_ref()?;
        let now = self.now();
        let ev = if slo.is_due(now) {
            self.evaluate_now(slo, now)
        } else {
            None
        };
        if let Some(backup) = &self.backup {
            // Relaxed: see `migrate`.
            if slo.is_degraded() && self.migrate_left.load(Ordering::Relaxed) != 0 {
                self.migrate(primary, &backup.chan);
            }
        }
        ev
    }
}
