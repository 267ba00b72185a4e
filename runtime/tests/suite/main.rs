//! The runtime's integration suite.
//!
//! Most tests are written once and run on every flavour: the current-thread runtime and the
//! multi-thread runtime with 1, 2 and 4 workers (see `flavors.rs`). Each instance runs under a
//! watchdog that aborts the process with the test's name if it hangs, so a lost wake-up or a
//! deadlock fails fast instead of stalling CI.
//!
//! No test asserts on elapsed wall time: timers are checked for "never early" and for order,
//! intervals for the schedule they report, backoff for the delays it computes.

mod flavors;
mod signals;
mod thread_executor;
mod tracker;
mod watchdog;
mod worker_hold;

mod abort;
mod blocking_pool;
mod builder;
mod context;
mod coop_yield;
mod entry_macros;
mod join_macros;
mod join_set;
mod local_set;
mod metrics;
mod panics;
mod paused_time;
mod port_regressions;
mod shutdown;
mod spawn_join;
mod stress;
mod timers;
mod tokio_task_api;
