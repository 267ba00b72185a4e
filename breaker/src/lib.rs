//! Circuit-breaker policy and state for weir channels.
//!
//! Pure logic with an injected clock (every time-dependent call takes `now: Nanos` from a
//! [`Clock`]): no threads and no runtime, so every transition can be driven deterministically
//! in tests and under loom. The channel crate wires these state machines into its receive and
//! send paths:
//!
//! * **L1**, [`Circuit`]: Closed / Open / HalfOpen plus the operator overrides ForcedOpen and
//!   Disabled, in one `AtomicU64` moved by CAS. The channel calls [`Circuit::admit`] before a
//!   receive and reports the outcome (`on_success`, `on_failure`, `on_timeout`, or through the
//!   HalfOpen [`Permit`]).
//! * **L2**, [`RetryPolicy`] and [`RetryState`]: how long a caller that retries after a failure
//!   is held (`base << min(n, max_shift)`); the runtime's `task::Backoff` does the waiting.
//! * **L3**, [`SloMonitor`]: latency samples into sliding windows of log-linear histograms;
//!   every short bucket an [`Evaluation`] decides whether to degrade (route to the backup,
//!   trickle to the primary through a [`TokenBucket`]) or recover.
//! * **Coordination**, [`Group`]: one snapshot word shared by the breakers of several layers.
//!
//! Configuration ([`BreakerConfig`], [`SloConfig`]) has documented defaults, validation that
//! names the offending field, and environment overrides.
//!
//! How a channel drives them (the clock is the runtime's coarse clock; here a manual one):
//!
//! ```
//! use std::time::Duration;
//! use weir_breaker::{Admit, BreakerConfig, Circuit, Clock, ManualClock, SloConfig, SloMonitor};
//!
//! let clock = ManualClock::new(0);
//! let circuit = Circuit::new(BreakerConfig::default(), /* channel id */ 7).unwrap();
//! // Receive path: ask, then report the outcome.
//! match circuit.admit(clock.now()) {
//!     Admit::Pass => circuit.on_success(),
//!     Admit::Probe(permit) => {
//!         permit.success(clock.now());
//!     }
//!     Admit::Reject { retry_after } => println!("rejected, retry in {retry_after:?}"),
//! }
//! for _ in 0..5 {
//!     circuit.on_failure(clock.now());
//! }
//! assert!(!circuit.admit(clock.now()).is_admitted());
//!
//! // L3: record latencies from any thread, evaluate once per short bucket.
//! let slo = SloMonitor::new(SloConfig::default(), 7, clock.now()).unwrap();
//! slo.record(Duration::from_millis(3));
//! clock.advance(100_000_000);
//! let evaluation = slo.evaluate(clock.now()).expect("a bucket has passed");
//! assert_eq!(evaluation.samples, 1);
//! assert!(slo.admit_primary(clock.now()));
//! ```
//!
//! A future that holds a HalfOpen permit across an `.await` stores it detached
//! ([`Permit::into_raw`]) and gives it back in its `Drop` ([`Circuit::release_raw`]), so a
//! cancelled receive never keeps a permit.
//!
//! Hot-path costs: `Circuit::admit` on a Closed circuit is one relaxed load and a compare;
//! `Circuit::on_success` with nothing to clear is one relaxed load; `SloMonitor::record` is
//! one relaxed `fetch_add`; none of them allocates.

#![warn(missing_docs)]

pub mod backoff;
pub mod circuit;
pub mod clock;
pub mod config;
pub mod group;
pub mod ratelimit;
pub mod slo;
mod sync;

pub use backoff::{RetryPolicy, RetryState};
pub use circuit::{Admit, Circuit, CircuitStatus, Outcome, Permit, RawPermit, State, Transition};
pub use clock::{Clock, ManualClock, Nanos};
pub use config::{BreakerConfig, ConfigError, SloConfig};
pub use group::{Group, GroupPolicy, GroupSnapshot};
pub use ratelimit::TokenBucket;
pub use slo::{Decision, Evaluation, Health, Histogram, Readable, ReadableOr, Reason, SloMonitor};
