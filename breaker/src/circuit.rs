//! L1: the circuit state machine a channel consults on every receive.
//!
//! States: Closed (everything passes, consecutive failures are counted), Open (everything is
//! rejected with a `retry_after`), HalfOpen (exactly `half_open_probes` receives pass as
//! probes; the first probe to succeed closes the circuit, a failed one re-opens it), and two
//! operator overrides, ForcedOpen (reject until [`Circuit::reset`]) and Disabled (pass
//! everything, count nothing).
//!
//! Transitions:
//!
//! ```text
//! Closed   --failure_threshold consecutive failures--------------> Open
//! Closed   --consecutive_timeouts timeouts in a row (threshold not reached)--> HalfOpen
//! Open     --first admit() at least open_timeout after opening----> HalfOpen (takes a permit)
//! HalfOpen --a probe succeeds---------------------------------------> Closed
//! HalfOpen --a probe fails or times out-----------------------------> Open
//! any      --force_open() / disable() / reset()---------------------> ForcedOpen / Disabled / Closed
//! ```
//!
//! Reading of the design's "consecutive_timeouts moves the breaker to HalfOpen": timeouts are
//! failures and count towards `failure_threshold`; in addition, `consecutive_timeouts` of them
//! in a row (no success or non-timeout failure between) move a Closed circuit to HalfOpen
//! before the threshold is reached, so that a stalled producer is probed by one receive
//! instead of being waited on by all. Open cannot time out: it admits nothing, so it leaves
//! only by `open_timeout`. Outcomes of receives admitted while Closed that arrive after the
//! state moved on (stragglers) count only if the circuit is Closed again; HalfOpen is decided
//! by its probes alone.
//!
//! The state word (`u64`), one CAS moves all of it:
//!
//! ```text
//!  63                         24 23     19 18          9 8       3 2     0
//! +-----------------------------+---------+-------------+---------+-------+
//! | time stamp (40 bits)        | timeouts| failures    | probes  | state |
//! +-----------------------------+---------+-------------+---------+-------+
//! ```
//!
//! * state: 3 bits ([`State`]'s code);
//! * probes: HalfOpen permits in use (6 bits, so at most 63 probes); 0 in other states;
//! * failures: consecutive failures while Closed (10 bits, threshold at most 1023); 0 otherwise;
//! * timeouts: the current run of consecutive timeouts while Closed (5 bits); 0 otherwise;
//! * time stamp: 1 + milliseconds since the clock origin (0 = never; 40 bits, about 34 years):
//!   when Open or ForcedOpen, the opening time; when HalfOpen, the time HalfOpen began; in
//!   Closed and Disabled, kept from the last of those.
//!
//! Invariants:
//! * the stamp never decreases, and strictly increases each time HalfOpen is entered, so the
//!   word with its probes bits cleared names one HalfOpen episode: a [`Permit`] carries that
//!   key, and gives back or resolves its permit only while the same episode lasts (a permit
//!   from an episode that ended is stale and changes nothing of the new one);
//! * probes <= half_open_probes: a permit is taken only by the CAS that raises the count from
//!   below the limit, and given back once (on resolve, cancel or drop);
//! * every failure reported while Closed is counted by exactly one successful CAS, so a trip is
//!   never hidden by a lost update.

use std::sync::Arc;
use std::time::Duration;

use weir_probes::{probe, Event};

use crate::clock::Nanos;
use crate::config::{BreakerConfig, ConfigError};
use crate::group::{stamp, stamp_nanos, Group, GroupPolicy, STAMP_MAX};
use crate::sync::{AtomicU64, Ordering};

const STATE_MASK: u64 = 0b111;
const PROBES_SHIFT: u32 = 3;
const PROBES_MASK: u64 = 0x3F << PROBES_SHIFT;
const PROBE_ONE: u64 = 1 << PROBES_SHIFT;
const FAIL_SHIFT: u32 = 9;
const FAIL_MASK: u64 = 0x3FF << FAIL_SHIFT;
const TMO_SHIFT: u32 = 19;
const TMO_MASK: u64 = 0x1F << TMO_SHIFT;
const TIME_SHIFT: u32 = 24;
/// Everything but the stamp: a Closed word with no counts has these bits equal to `CLOSED`.
const LOW_MASK: u64 = (1 << TIME_SHIFT) - 1;

const CLOSED: u64 = 0;
const OPEN: u64 = 1;
const HALF_OPEN: u64 = 2;
const FORCED_OPEN: u64 = 3;
const DISABLED: u64 = 4;

/// A circuit's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Receives pass; consecutive failures are counted.
    Closed,
    /// Receives are rejected until `open_timeout` has passed.
    Open,
    /// Up to `half_open_probes` receives pass as probes; the others are rejected.
    HalfOpen,
    /// Operator override: receives are rejected until `reset`.
    ForcedOpen,
    /// Operator override: receives pass and nothing is counted.
    Disabled,
}

impl State {
    /// The code probes report (`Event::BreakerTransition`): 0 Closed, 1 Open, 2 HalfOpen,
    /// 3 ForcedOpen, 4 Disabled.
    pub fn code(self) -> u8 {
        match self {
            State::Closed => CLOSED as u8,
            State::Open => OPEN as u8,
            State::HalfOpen => HALF_OPEN as u8,
            State::ForcedOpen => FORCED_OPEN as u8,
            State::Disabled => DISABLED as u8,
        }
    }

    /// The state a probe code stands for.
    pub fn from_code(code: u8) -> Option<State> {
        match u64::from(code) {
            CLOSED => Some(State::Closed),
            OPEN => Some(State::Open),
            HALF_OPEN => Some(State::HalfOpen),
            FORCED_OPEN => Some(State::ForcedOpen),
            DISABLED => Some(State::Disabled),
            _ => None,
        }
    }

    /// Lower-case name, for status lines.
    pub fn name(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half-open",
            State::ForcedOpen => "forced-open",
            State::Disabled => "disabled",
        }
    }

    #[inline]
    fn of(word: u64) -> State {
        // The word is written only by this module with the five codes above.
        match word & STATE_MASK {
            CLOSED => State::Closed,
            OPEN => State::Open,
            HALF_OPEN => State::HalfOpen,
            FORCED_OPEN => State::ForcedOpen,
            _ => State::Disabled,
        }
    }
}

/// What happened to one admitted operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It worked.
    Success,
    /// It failed (the application's verdict, or an error).
    Failure,
    /// It ran past its deadline: a failure that also counts towards `consecutive_timeouts`.
    Timeout,
}

/// A state change, returned to the caller that caused it (and emitted as a probe event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// State before.
    pub from: State,
    /// State after.
    pub to: State,
}

/// The answer of [`Circuit::admit`].
#[derive(Debug)]
#[must_use]
pub enum Admit<'a> {
    /// Closed (or Disabled): go ahead; report the outcome with `on_success`/`on_failure`/
    /// `on_timeout`.
    Pass,
    /// HalfOpen: go ahead as a probe and report the outcome through the permit. Dropping the
    /// permit unresolved (a cancelled receive) gives it back.
    Probe(Permit<'a>),
    /// Open, ForcedOpen, or HalfOpen with every probe in flight: do not try now.
    Reject {
        /// When trying again makes sense.
        retry_after: Duration,
    },
}

impl Admit<'_> {
    /// Whether the operation may go ahead (pass or probe).
    pub fn is_admitted(&self) -> bool {
        !matches!(self, Admit::Reject { .. })
    }
}

/// A HalfOpen probe permit. Resolve it with the probe's outcome; dropping it unresolved gives
/// the permit back.
#[derive(Debug)]
#[must_use = "dropping a permit gives it back without reporting the probe's outcome"]
pub struct Permit<'a> {
    circuit: &'a Circuit,
    key: u64,
    live: bool,
}

impl Permit<'_> {
    /// Reports the probe's outcome: success closes the circuit, failure or timeout re-opens it.
    pub fn resolve(mut self, outcome: Outcome, now: Nanos) -> Option<Transition> {
        self.live = false;
        self.circuit.resolve_key(self.key, outcome, now)
    }

    /// The probe succeeded.
    pub fn success(self, now: Nanos) -> Option<Transition> {
        self.resolve(Outcome::Success, now)
    }

    /// The probe failed.
    pub fn failure(self, now: Nanos) -> Option<Transition> {
        self.resolve(Outcome::Failure, now)
    }

    /// The probe timed out.
    pub fn timeout(self, now: Nanos) -> Option<Transition> {
        self.resolve(Outcome::Timeout, now)
    }

    /// Gives the permit back without an outcome (what dropping does).
    pub fn cancel(self) {}

    /// Detaches the permit from the borrow of its circuit, for a caller that must report the
    /// outcome later (a receiver that stores it until `report`). The [`RawPermit`] must go back
    /// to the same circuit through [`Circuit::resolve_raw`] or [`Circuit::release_raw`];
    /// otherwise the permit stays in use until the episode ends.
    pub fn into_raw(mut self) -> RawPermit {
        self.live = false;
        RawPermit { key: self.key }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.live {
            self.circuit.release_key(self.key);
        }
    }
}

/// A probe permit detached from its circuit (see [`Permit::into_raw`]).
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a raw permit must be given back with Circuit::resolve_raw or Circuit::release_raw"]
pub struct RawPermit {
    key: u64,
}

/// A consistent reading of a circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitStatus {
    /// The state.
    pub state: State,
    /// Consecutive failures counted while Closed.
    pub consecutive_failures: u32,
    /// The current run of consecutive timeouts while Closed.
    pub consecutive_timeouts: u32,
    /// HalfOpen probes in flight.
    pub probes_in_flight: u32,
    /// When the circuit opened (Open, ForcedOpen: the opening; HalfOpen: the start of
    /// HalfOpen; otherwise the last of those), to the millisecond; `None` if never.
    pub since: Option<Nanos>,
    /// Transitions so far (for flapping counts).
    pub transitions: u64,
}

/// An L1 circuit breaker for one channel.
#[derive(Debug)]
pub struct Circuit {
    word: AtomicU64,
    transitions: AtomicU64,
    channel: u64,
    failure_threshold: u64,
    half_open_probes: u64,
    consecutive_timeouts: u64,
    open_timeout_ns: Nanos,
    config: BreakerConfig,
    group: Option<Arc<Group>>,
    follows: bool,
}

#[inline]
fn probes(w: u64) -> u64 {
    (w & PROBES_MASK) >> PROBES_SHIFT
}
#[inline]
fn failures(w: u64) -> u64 {
    (w & FAIL_MASK) >> FAIL_SHIFT
}
#[inline]
fn timeouts(w: u64) -> u64 {
    (w & TMO_MASK) >> TMO_SHIFT
}
#[inline]
fn time(w: u64) -> u64 {
    w >> TIME_SHIFT
}
#[inline]
fn word(state: u64, time: u64) -> u64 {
    (time.min(STAMP_MAX) << TIME_SHIFT) | state
}

impl Circuit {
    /// A Closed circuit for `channel` (the id probe events carry); the configuration is
    /// validated first.
    pub fn new(config: BreakerConfig, channel: u64) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            word: AtomicU64::new(word(CLOSED, 0)),
            transitions: AtomicU64::new(0),
            channel,
            failure_threshold: u64::from(config.failure_threshold),
            half_open_probes: u64::from(config.half_open_probes),
            consecutive_timeouts: u64::from(config.consecutive_timeouts),
            open_timeout_ns: config.open_timeout.as_nanos() as Nanos,
            config,
            group: None,
            follows: false,
        })
    }

    /// Makes this circuit a member of `group`: it reports its failures, trips and recoveries,
    /// and with [`GroupPolicy::Follow`] also opens when another member trips.
    pub fn with_group(mut self, group: Arc<Group>, policy: GroupPolicy) -> Self {
        self.follows = policy == GroupPolicy::Follow;
        self.group = Some(group);
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The channel id given at construction.
    pub fn channel(&self) -> u64 {
        self.channel
    }

    /// The group this circuit belongs to, if any.
    pub fn group(&self) -> Option<&Arc<Group>> {
        self.group.as_ref()
    }

    /// The current state (one relaxed load).
    #[inline]
    pub fn state(&self) -> State {
        // Relaxed: a status read; see `admit` for why a momentarily stale value is fine.
        State::of(self.word.load(Ordering::Relaxed))
    }

    /// A consistent reading of the whole state word.
    pub fn status(&self) -> CircuitStatus {
        // Acquire: see `load`.
        let w = self.load();
        CircuitStatus {
            state: State::of(w),
            consecutive_failures: failures(w) as u32,
            consecutive_timeouts: timeouts(w) as u32,
            probes_in_flight: probes(w) as u32,
            since: stamp_nanos(time(w)),
            // Relaxed: a statistic.
            transitions: self.transitions.load(Ordering::Relaxed),
        }
    }

    /// Transitions since construction (a flapping circuit shows a fast-growing count).
    pub fn transitions(&self) -> u64 {
        // Relaxed: a statistic.
        self.transitions.load(Ordering::Relaxed)
    }

    /// Asks whether an operation may start at `now`.
    ///
    /// The Closed fast path is one relaxed load and a compare (plus one acquire load of the
    /// group word for a [`GroupPolicy::Follow`] member). Relaxed is enough because the word is
    /// the only thing read and nothing else is published through it: a load that misses a
    /// trip happening at the same moment admits one more receive, exactly as if it had run a
    /// moment earlier, and the next load sees the trip (coherence of a single location).
    #[inline]
    pub fn admit(&self, now: Nanos) -> Admit<'_> {
        // Relaxed: see above.
        let w = self.word.load(Ordering::Relaxed);
        if w & STATE_MASK == CLOSED && !self.follows {
            return Admit::Pass;
        }
        self.admit_slow(w, now)
    }

    #[cold]
    fn admit_slow(&self, mut w: u64, now: Nanos) -> Admit<'_> {
        loop {
            match w & STATE_MASK {
                CLOSED => {
                    if !self.follows || !self.adopt_group_trip(w) {
                        return Admit::Pass;
                    }
                    w = self.load();
                }
                OPEN => {
                    let deadline = stamp_nanos(time(w))
                        .unwrap_or(0)
                        .saturating_add(self.open_timeout_ns);
                    if now < deadline {
                        return Admit::Reject {
                            retry_after: Duration::from_nanos(deadline - now),
                        };
                    }
                    // Lazily to HalfOpen, taking the first permit in the same CAS.
                    let half = word(HALF_OPEN, stamp(now).max(time(w) + 1));
                    match self.cas(w, half | PROBE_ONE) {
                        Ok(()) => {
                            self.transitioned(State::Open, State::HalfOpen);
                            return Admit::Probe(self.permit(half));
                        }
                        Err(actual) => w = actual,
                    }
                }
                HALF_OPEN => {
                    if probes(w) >= self.half_open_probes {
                        return Admit::Reject {
                            retry_after: self.config.backoff_base.max(Duration::from_millis(1)),
                        };
                    }
                    match self.cas(w, w + PROBE_ONE) {
                        Ok(()) => return Admit::Probe(self.permit(w & !PROBES_MASK)),
                        Err(actual) => w = actual,
                    }
                }
                FORCED_OPEN => {
                    return Admit::Reject {
                        retry_after: self.config.open_timeout,
                    }
                }
                _ => return Admit::Pass,
            }
        }
    }

    fn permit(&self, key: u64) -> Permit<'_> {
        Permit {
            circuit: self,
            key,
            live: true,
        }
    }

    /// A Follow member in Closed state `w`: if the group tripped after this circuit last
    /// opened or probed, open it, dated from the group's trip. Returns whether `w` is stale
    /// (changed by us or by someone else) and must be reloaded.
    fn adopt_group_trip(&self, w: u64) -> bool {
        let Some(group) = &self.group else {
            return false;
        };
        let g = group.snapshot();
        if !g.open || g.last_opened_stamp <= time(w) {
            return false;
        }
        if self.cas(w, word(OPEN, g.last_opened_stamp)).is_ok() {
            self.transitioned(State::Closed, State::Open);
        }
        true
    }

    /// A Closed-admitted operation succeeded: the failure run restarts. One relaxed load when
    /// there is nothing to clear. Never a transition.
    #[inline]
    pub fn on_success(&self) {
        // Relaxed: only decides whether a write is needed; the CAS re-validates.
        let w = self.word.load(Ordering::Relaxed);
        if w & LOW_MASK != CLOSED {
            self.success_slow(w);
        }
    }

    #[cold]
    fn success_slow(&self, mut w: u64) {
        while w & STATE_MASK == CLOSED && w & (FAIL_MASK | TMO_MASK) != 0 {
            match self.cas(w, w & !(FAIL_MASK | TMO_MASK)) {
                Ok(()) => return,
                Err(actual) => w = actual,
            }
        }
    }

    /// A Closed-admitted operation failed at `now`. Returns the trip, if this failure caused
    /// one.
    pub fn on_failure(&self, now: Nanos) -> Option<Transition> {
        self.failed(now, false)
    }

    /// A Closed-admitted operation timed out at `now`: a failure, and one more in the run of
    /// timeouts. Returns the transition (to Open or HalfOpen), if it caused one.
    pub fn on_timeout(&self, now: Nanos) -> Option<Transition> {
        self.failed(now, true)
    }

    /// Reports an outcome of a Closed-admitted operation.
    pub fn on_outcome(&self, outcome: Outcome, now: Nanos) -> Option<Transition> {
        match outcome {
            Outcome::Success => {
                self.on_success();
                None
            }
            Outcome::Failure => self.on_failure(now),
            Outcome::Timeout => self.on_timeout(now),
        }
    }

    fn failed(&self, now: Nanos, timeout: bool) -> Option<Transition> {
        let mut w = self.load();
        let to = loop {
            if w & STATE_MASK != CLOSED {
                // Open/HalfOpen/ForcedOpen: a straggler's outcome; Disabled: not counted.
                return None;
            }
            let fails = failures(w) + 1;
            let run = if timeout { timeouts(w) + 1 } else { 0 };
            let (new, to) = if fails >= self.failure_threshold {
                (word(OPEN, stamp(now).max(time(w))), Some(State::Open))
            } else if timeout && run >= self.consecutive_timeouts {
                (
                    word(HALF_OPEN, stamp(now).max(time(w) + 1)),
                    Some(State::HalfOpen),
                )
            } else {
                (
                    (w & !(FAIL_MASK | TMO_MASK)) | (fails << FAIL_SHIFT) | (run << TMO_SHIFT),
                    None,
                )
            };
            match self.cas(w, new) {
                Ok(()) => break to,
                Err(actual) => w = actual,
            }
        };
        if let Some(group) = &self.group {
            group.report_failure();
            if to == Some(State::Open) {
                group.report_trip(now);
            }
        }
        to.map(|to| self.transitioned(State::Closed, to))
    }

    /// Resolves a detached permit (see [`Permit::into_raw`]).
    pub fn resolve_raw(&self, raw: RawPermit, outcome: Outcome, now: Nanos) -> Option<Transition> {
        self.resolve_key(raw.key, outcome, now)
    }

    /// Gives a detached permit back without an outcome.
    pub fn release_raw(&self, raw: RawPermit) {
        self.release_key(raw.key);
    }

    fn resolve_key(&self, key: u64, outcome: Outcome, now: Nanos) -> Option<Transition> {
        let mut w = self.load();
        loop {
            if w & !PROBES_MASK != key {
                // The episode ended (another probe decided it, or an operator stepped in): the
                // outcome is an ordinary one now.
                return self.on_outcome(outcome, now);
            }
            let new = match outcome {
                Outcome::Success => word(CLOSED, time(w)),
                Outcome::Failure | Outcome::Timeout => word(OPEN, stamp(now).max(time(w))),
            };
            match self.cas(w, new) {
                Ok(()) => break,
                Err(actual) => w = actual,
            }
        }
        let to = match outcome {
            Outcome::Success => State::Closed,
            Outcome::Failure | Outcome::Timeout => State::Open,
        };
        if let Some(group) = &self.group {
            if to == State::Closed {
                group.report_close();
            } else {
                group.report_failure();
                group.report_trip(now);
            }
        }
        Some(self.transitioned(State::HalfOpen, to))
    }

    fn release_key(&self, key: u64) {
        let mut w = self.load();
        while w & !PROBES_MASK == key && probes(w) > 0 {
            match self.cas(w, w - PROBE_ONE) {
                Ok(()) => return,
                Err(actual) => w = actual,
            }
        }
    }

    /// Operator override: reject everything until [`Circuit::reset`]. Outstanding probe permits
    /// become stale. Not reported to a group.
    pub fn force_open(&self) -> Option<Transition> {
        self.set_state(FORCED_OPEN, State::ForcedOpen)
    }

    /// Operator override: pass everything and count nothing until [`Circuit::reset`].
    pub fn disable(&self) -> Option<Transition> {
        self.set_state(DISABLED, State::Disabled)
    }

    /// Back to Closed with no failures counted, from any state. A Follow member also treats
    /// the group's current trip as seen, so that it does not re-open on it at once.
    pub fn reset(&self) -> Option<Transition> {
        self.set_state(CLOSED, State::Closed)
    }

    fn set_state(&self, code: u64, to: State) -> Option<Transition> {
        let seen = match (&self.group, code) {
            (Some(group), CLOSED) if self.follows => group.snapshot().last_opened_stamp,
            _ => 0,
        };
        let mut w = self.load();
        loop {
            let new = word(code, time(w).max(seen));
            if new == w {
                return None;
            }
            match self.cas(w, new) {
                Ok(()) => break,
                Err(actual) => w = actual,
            }
        }
        let from = State::of(w);
        (from != to).then(|| self.transitioned(from, to))
    }

    #[inline]
    fn load(&self) -> u64 {
        // Acquire: pairs with the Release of `cas`, so a caller that observes a transition
        // also observes what the transitioning thread did before it. The protocol itself needs
        // only the atomicity of the CAS on this one word.
        self.word.load(Ordering::Acquire)
    }

    #[inline]
    fn cas(&self, current: u64, new: u64) -> Result<(), u64> {
        // AcqRel on success (see `load`); Acquire on failure, since the caller retries with the
        // value read.
        self.word
            .compare_exchange(current, new, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
    }

    fn transitioned(&self, from: State, to: State) -> Transition {
        // Relaxed: a statistic.
        self.transitions.fetch_add(1, Ordering::Relaxed);
        probe!(Event::BreakerTransition {
            channel: self.channel,
            from: from.code(),
            to: to.code(),
        });
        Transition { from, to }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use std::sync::atomic::AtomicUsize;

    const MS: Nanos = 1_000_000;
    const S: Nanos = 1_000 * MS;

    fn circuit(f: impl FnOnce(&mut BreakerConfig)) -> Circuit {
        let mut c = BreakerConfig::default();
        f(&mut c);
        Circuit::new(c, 42).unwrap()
    }

    fn t(from: State, to: State) -> Option<Transition> {
        Some(Transition { from, to })
    }

    fn trip(c: &Circuit, now: Nanos) {
        for _ in 1..c.config().failure_threshold {
            assert_eq!(c.on_failure(now), None);
        }
        assert_eq!(c.on_failure(now), t(State::Closed, State::Open));
    }

    #[test]
    fn refuses_an_invalid_config() {
        let err = Circuit::new(
            BreakerConfig {
                failure_threshold: 0,
                ..BreakerConfig::default()
            },
            1,
        )
        .unwrap_err();
        assert_eq!(err.field(), "failure_threshold");
    }

    #[test]
    fn state_codes_round_trip() {
        for s in [
            State::Closed,
            State::Open,
            State::HalfOpen,
            State::ForcedOpen,
            State::Disabled,
        ] {
            assert_eq!(State::from_code(s.code()), Some(s));
            assert!(!s.name().is_empty());
        }
        assert_eq!(State::from_code(5), None);
    }

    #[test]
    fn closed_counts_consecutive_failures_and_trips_at_the_threshold() {
        let clock = ManualClock::new(10 * S);
        let c = circuit(|_| {});
        assert!(matches!(c.admit(clock.now()), Admit::Pass));
        for _ in 0..4 {
            assert_eq!(c.on_failure(clock.now()), None);
        }
        assert_eq!(c.status().consecutive_failures, 4);
        // A success restarts the run.
        c.on_success();
        assert_eq!(c.status().consecutive_failures, 0);
        trip(&c, clock.now());
        let st = c.status();
        assert_eq!(st.state, State::Open);
        assert_eq!(st.since, Some(10 * S));
        assert_eq!(st.consecutive_failures, 0);
        assert_eq!(c.transitions(), 1);
    }

    #[test]
    fn open_rejects_with_the_time_left_then_lazily_half_opens() {
        let clock = ManualClock::new(S);
        let c = circuit(|_| {});
        trip(&c, clock.now());
        clock.advance(10 * S);
        match c.admit(clock.now()) {
            Admit::Reject { retry_after } => assert_eq!(retry_after, Duration::from_secs(20)),
            other => panic!("{other:?}"),
        }
        // Outcomes of stragglers do nothing while Open.
        assert_eq!(c.on_failure(clock.now()), None);
        assert_eq!(c.on_timeout(clock.now()), None);
        c.on_success();
        assert_eq!(c.state(), State::Open);
        clock.advance(20 * S - 1);
        assert!(!c.admit(clock.now()).is_admitted());
        assert_eq!(c.state(), State::Open, "no timer: nothing moves by itself");
        clock.advance(1);
        let permit = match c.admit(clock.now()) {
            Admit::Probe(p) => p,
            other => panic!("{other:?}"),
        };
        assert_eq!(c.state(), State::HalfOpen);
        assert_eq!(c.status().probes_in_flight, 1);
        assert_eq!(c.transitions(), 2);
        match c.admit(clock.now()) {
            Admit::Reject { retry_after } => assert_eq!(retry_after, Duration::from_millis(10)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            permit.success(clock.now()),
            t(State::HalfOpen, State::Closed)
        );
        assert_eq!(c.state(), State::Closed);
        assert_eq!(c.status().probes_in_flight, 0);
        assert!(matches!(c.admit(clock.now()), Admit::Pass));
        assert_eq!(c.transitions(), 3);
    }

    #[test]
    fn a_failed_probe_reopens_for_a_full_timeout() {
        let clock = ManualClock::new(0);
        let c = circuit(|_| {});
        trip(&c, clock.now());
        clock.advance(30 * S);
        let Admit::Probe(p) = c.admit(clock.now()) else {
            panic!("probe expected")
        };
        clock.advance(2 * S);
        assert_eq!(p.failure(clock.now()), t(State::HalfOpen, State::Open));
        assert_eq!(c.status().since, Some(32 * S));
        clock.advance(29 * S);
        assert!(!c.admit(clock.now()).is_admitted());
        clock.advance(S);
        let Admit::Probe(p) = c.admit(clock.now()) else {
            panic!("probe expected")
        };
        assert_eq!(p.timeout(clock.now()), t(State::HalfOpen, State::Open));
    }

    #[test]
    fn half_open_admits_exactly_the_configured_probes_and_drop_returns_a_permit() {
        let clock = ManualClock::new(0);
        let c = circuit(|c| c.half_open_probes = 3);
        trip(&c, clock.now());
        clock.advance(30 * S);
        let mut permits = Vec::new();
        for _ in 0..10 {
            if let Admit::Probe(p) = c.admit(clock.now()) {
                permits.push(p);
            }
        }
        assert_eq!(permits.len(), 3);
        assert_eq!(c.status().probes_in_flight, 3);
        drop(permits.pop());
        assert_eq!(c.status().probes_in_flight, 2);
        permits.pop().unwrap().cancel();
        assert_eq!(c.status().probes_in_flight, 1);
        let again: Vec<_> = (0..5)
            .filter_map(|_| match c.admit(clock.now()) {
                Admit::Probe(p) => Some(p),
                _ => None,
            })
            .collect();
        assert_eq!(again.len(), 2, "the returned permits are handed out again");
        // The first success closes; the other permits are now stale and change nothing.
        assert_eq!(
            permits.pop().unwrap().success(clock.now()),
            t(State::HalfOpen, State::Closed)
        );
        drop(again);
        assert_eq!(c.status().probes_in_flight, 0);
        assert_eq!(c.state(), State::Closed);
    }

    #[test]
    fn a_stale_permit_does_not_touch_a_later_episode() {
        let clock = ManualClock::new(0);
        let c = circuit(|c| {
            c.half_open_probes = 2;
            c.open_timeout = Duration::from_millis(1);
        });
        trip(&c, clock.now());
        clock.advance(MS);
        let Admit::Probe(a) = c.admit(clock.now()) else {
            panic!()
        };
        let Admit::Probe(b) = c.admit(clock.now()) else {
            panic!()
        };
        // `a` fails: Open again; in the same millisecond nothing else can begin, one ms later
        // a new episode starts.
        assert_eq!(a.failure(clock.now()), t(State::HalfOpen, State::Open));
        clock.advance(MS);
        let Admit::Probe(c1) = c.admit(clock.now()) else {
            panic!()
        };
        assert_eq!(c.status().probes_in_flight, 1);
        // `b` belongs to the old episode: dropping it must not free a permit of the new one.
        drop(b);
        assert_eq!(c.status().probes_in_flight, 1);
        drop(c1);
        assert_eq!(c.status().probes_in_flight, 0);
    }

    #[test]
    fn consecutive_timeouts_move_closed_to_half_open() {
        let clock = ManualClock::new(0);
        let c = circuit(|_| {});
        assert_eq!(c.on_timeout(clock.now()), None);
        assert_eq!(c.on_timeout(clock.now()), None);
        assert_eq!(c.status().consecutive_timeouts, 2);
        // A plain failure breaks the run of timeouts but still counts as a failure.
        assert_eq!(c.on_failure(clock.now()), None);
        assert_eq!(c.status().consecutive_timeouts, 0);
        assert_eq!(c.status().consecutive_failures, 3);
        c.on_success();
        assert_eq!(c.on_timeout(clock.now()), None);
        assert_eq!(c.on_timeout(clock.now()), None);
        assert_eq!(c.on_timeout(clock.now()), t(State::Closed, State::HalfOpen));
        assert_eq!(c.status().probes_in_flight, 0);
        // Straggling timeouts of receives admitted while Closed do not decide HalfOpen.
        assert_eq!(c.on_timeout(clock.now()), None);
        assert_eq!(c.state(), State::HalfOpen);
        let Admit::Probe(p) = c.admit(clock.now()) else {
            panic!()
        };
        assert!(!c.admit(clock.now()).is_admitted());
        assert_eq!(p.timeout(clock.now()), t(State::HalfOpen, State::Open));
    }

    #[test]
    fn failure_threshold_wins_over_the_timeout_rule() {
        let c = circuit(|c| {
            c.failure_threshold = 3;
            c.consecutive_timeouts = 3;
        });
        c.on_timeout(0);
        c.on_timeout(0);
        assert_eq!(c.on_timeout(0), t(State::Closed, State::Open));
    }

    #[test]
    fn operator_overrides() {
        let clock = ManualClock::new(0);
        let c = circuit(|_| {});
        assert_eq!(c.force_open(), t(State::Closed, State::ForcedOpen));
        assert_eq!(c.force_open(), None);
        clock.advance(3600 * S);
        match c.admit(clock.now()) {
            Admit::Reject { retry_after } => assert_eq!(retry_after, Duration::from_secs(30)),
            other => panic!("forced open never half-opens: {other:?}"),
        }
        assert_eq!(c.on_failure(clock.now()), None);
        assert_eq!(c.disable(), t(State::ForcedOpen, State::Disabled));
        for _ in 0..100 {
            assert!(matches!(c.admit(clock.now()), Admit::Pass));
            assert_eq!(c.on_failure(clock.now()), None);
        }
        assert_eq!(c.status().consecutive_failures, 0);
        assert_eq!(c.reset(), t(State::Disabled, State::Closed));
        assert_eq!(c.reset(), None);
        // Reset from Open, and an outstanding permit becomes stale.
        trip(&c, clock.now());
        clock.advance(30 * S);
        let Admit::Probe(p) = c.admit(clock.now()) else {
            panic!()
        };
        assert_eq!(c.force_open(), t(State::HalfOpen, State::ForcedOpen));
        assert_eq!(c.status().probes_in_flight, 0);
        assert_eq!(p.success(clock.now()), None);
        assert_eq!(c.state(), State::ForcedOpen);
        assert_eq!(c.reset(), t(State::ForcedOpen, State::Closed));
        assert_eq!(c.transitions(), 7);
    }

    #[test]
    fn raw_permits_resolve_later() {
        let c = circuit(|c| c.open_timeout = Duration::from_millis(5));
        trip(&c, 0);
        let Admit::Probe(p) = c.admit(5 * MS) else {
            panic!()
        };
        let raw = p.into_raw();
        assert_eq!(c.status().probes_in_flight, 1, "into_raw keeps the permit");
        assert_eq!(
            c.resolve_raw(raw, Outcome::Success, 6 * MS),
            t(State::HalfOpen, State::Closed)
        );
        trip(&c, 10 * MS);
        let Admit::Probe(p) = c.admit(15 * MS) else {
            panic!()
        };
        c.release_raw(p.into_raw());
        assert_eq!(c.status().probes_in_flight, 0);
        assert_eq!(c.state(), State::HalfOpen);
    }

    #[test]
    fn follow_members_open_on_a_group_trip_and_recover_on_their_own() {
        let group = Arc::new(Group::new());
        let clock = ManualClock::new(S);
        let storage =
            circuit(|c| c.failure_threshold = 2).with_group(group.clone(), GroupPolicy::Report);
        let logic = circuit(|_| {}).with_group(group.clone(), GroupPolicy::Follow);
        let ingress = circuit(|_| {}).with_group(group.clone(), GroupPolicy::Report);
        storage.on_failure(clock.now());
        assert_eq!(group.snapshot().failures, 1);
        storage.on_failure(clock.now());
        let g = group.snapshot();
        assert!(g.open);
        assert_eq!(g.last_opened(), Some(S));
        // The follower opens at its next admit, dated from the group's trip.
        clock.advance(5 * S);
        match logic.admit(clock.now()) {
            Admit::Reject { retry_after } => assert_eq!(retry_after, Duration::from_secs(25)),
            other => panic!("{other:?}"),
        }
        assert_eq!(logic.state(), State::Open);
        // A Report-only member is not affected.
        assert!(matches!(ingress.admit(clock.now()), Admit::Pass));
        // The follower probes after its own timeout and closes on success; the group's old
        // trip does not re-open it.
        clock.advance(25 * S);
        let Admit::Probe(p) = logic.admit(clock.now()) else {
            panic!()
        };
        assert_eq!(p.success(clock.now()), t(State::HalfOpen, State::Closed));
        assert!(!group.snapshot().open, "a recovery closes the group");
        assert!(matches!(logic.admit(clock.now()), Admit::Pass));
        // A new trip elsewhere is followed again.
        clock.advance(S);
        ingress.force_open();
        assert!(
            !group.snapshot().open,
            "operator overrides are not reported"
        );
        storage.reset();
        storage.on_failure(clock.now());
        storage.on_failure(clock.now());
        assert!(!logic.admit(clock.now()).is_admitted());
    }

    #[test]
    fn reset_of_a_follower_ignores_the_current_group_trip() {
        let group = Arc::new(Group::new());
        let follower = circuit(|_| {}).with_group(group.clone(), GroupPolicy::Follow);
        group.report_trip(0);
        assert!(!follower.admit(MS).is_admitted());
        assert_eq!(follower.reset(), t(State::Open, State::Closed));
        assert!(matches!(follower.admit(2 * MS), Admit::Pass));
    }

    /// Every transition goes through `probe!`: with the recorder compiled in and on
    /// (`--features weir-probes/record`) the events reach it; otherwise (no backend, or `usdt`
    /// with no tracer attached) the probe is off and no event is handed to the recorder.
    #[test]
    fn transitions_emit_probe_events() {
        let before = weir_probes::emitted();
        let c = circuit(|c| c.failure_threshold = 1);
        assert!(c.on_failure(0).is_some());
        assert!(c.reset().is_some());
        assert!(c.force_open().is_some());
        let after = weir_probes::emitted();
        if weir_probes::Probe::BreakerTransition.is_enabled() {
            // Other tests emit concurrently, so at least ours.
            assert!(after >= before + 3, "{before} -> {after}");
        } else {
            assert_eq!(after, 0);
        }
    }

    /// Eight threads hammer a HalfOpen circuit; at no moment are more than `half_open_probes`
    /// permits held, and every permit comes back.
    #[test]
    fn half_open_limit_holds_under_contention() {
        const PROBES: u32 = 3;
        let c = Arc::new(circuit(|c| c.half_open_probes = PROBES));
        trip(&c, 0);
        let now = 30 * S;
        let Admit::Probe(first) = c.admit(now) else {
            panic!()
        };
        drop(first);
        let held = Arc::new(AtomicUsize::new(0));
        let max_held = Arc::new(AtomicUsize::new(0));
        let granted = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (c, held, max_held, granted) =
                    (c.clone(), held.clone(), max_held.clone(), granted.clone());
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        if let Admit::Probe(p) = c.admit(now) {
                            let n = held.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                            max_held.fetch_max(n, std::sync::atomic::Ordering::SeqCst);
                            granted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            std::hint::spin_loop();
                            held.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                            drop(p);
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let max = max_held.load(std::sync::atomic::Ordering::SeqCst);
        assert!(max <= PROBES as usize, "{max} probes at once");
        assert!(granted.load(std::sync::atomic::Ordering::Relaxed) >= PROBES as usize);
        assert_eq!(c.status().probes_in_flight, 0);
        assert_eq!(c.state(), State::HalfOpen);
    }

    /// Concurrent failures from many threads: every one is counted, so the trip happens exactly
    /// once, at the threshold.
    #[test]
    fn concurrent_failures_trip_exactly_once() {
        let c = Arc::new(circuit(|c| c.failure_threshold = 1000));
        let trips = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (c, trips) = (c.clone(), trips.clone());
                std::thread::spawn(move || {
                    for _ in 0..250 {
                        if c.on_failure(S).is_some() {
                            trips.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(trips.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(c.state(), State::Open);
    }
}
