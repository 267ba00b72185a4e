//! weir: an async runtime with native closable channels, circuit breakers inside the channel
//! and scheduler, and built-in probe points.
//!
//! This crate only re-exports the workspace's crates; see the README for a tour.
//!
//! ```
//! #[weir::main(flavor = "current_thread")]
//! async fn main() {
//!     let task = weir::spawn(async { 6 * 7 });
//!     assert_eq!(task.await.unwrap(), 42);
//! }
//! ```

pub use weir_runtime::{coop, io, main, net, runtime, signal, spawn, task, test, time, Runtime};

/// tokio's declarative macros, under the same names: `weir::join!`, `weir::try_join!`,
/// `weir::pin!` and `weir::task_local!`.
pub use weir_runtime::{join, pin, task_local, try_join};

/// Waits on several channel operations and other futures: Go's `select` with uniform
/// choice among ready branches, `default`, `else`, `biased;` and `, if` preconditions (see
/// [`weir_channel::select!`]).
///
/// ```
/// # weir::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, rx) = weir::channel::bounded::<u8>(1);
/// tx.try_send(1).unwrap();
/// let got = weir::select! {
///     v = rx.recv() => v.unwrap(),
///     default => 0,
/// };
/// assert_eq!(got, 1);
/// # });
/// ```
pub use weir_channel::select;

/// Native closable channels with Go's close semantics.
pub use weir_channel as channel;

/// tokio-shaped synchronisation: Mutex, RwLock, Semaphore, Notify, Barrier, OnceCell, watch,
/// broadcast, and tokio-signature mpsc/oneshot faces on weir's channels.
pub use weir_sync as sync;

/// Circuit-breaker policy and state (the three breaker layers).
pub use weir_breaker as breaker;

/// Probe vocabulary, probe macros and the scheduler context.
pub use weir_probes as probes;

/// The README's examples, compiled and run as doctests so the quick start cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
