//! The weir executor: a work-stealing multi-thread scheduler (and a current-thread one),
//! tasks, the cooperative budget, the yield-and-backoff hooks, timers, the IO reactor with its
//! sockets and signals, and the blocking pool.
//!
//! Applications use it through the `weir` facade crate; the channel crate builds on the hooks
//! exposed here: [`coop::poll_proceed`], [`task::yield_now`], [`task::Backoff`],
//! [`time::Sleep`], [`time::coarse_now`] and [`task::current_id`].

#![warn(missing_docs)]

mod blocking;
pub mod coop;
pub mod io;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api;
#[doc(hidden)]
pub mod macros;
pub mod net;
pub mod runtime;
mod scheduler;
pub mod signal;
pub(crate) mod sync;
pub mod task;
pub mod time;

pub use runtime::{Handle, Runtime};
pub use task::spawn;
pub use weir_macros::{main, test};
