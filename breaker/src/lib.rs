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
pub use slo::{Decision, Evaluation, Health, Histogram, SloMonitor};
