//! Native closable channels for the weir runtime, with Go's close semantics made safe.
//!
//! * [`bounded`] (a lock-free ring; capacity 0 is a [`rendezvous`]), [`unbounded`] (lock-free
//!   linked blocks) and [`oneshot()`]. [`Sender`] and [`Receiver`] are both `Clone`: any
//!   number of producers and consumers.
//! * Close from either side with `close()`: idempotent, `true` only for the call that closed.
//!   Dropping the last sender or the last receiver closes too. After the close a send returns
//!   its value (`Err(SendError(v))`, nothing lost, no panic), and a receive drains the buffer
//!   and then returns `Err(RecvError::Closed)` at once. Every parked sender and receiver wakes.
//! * Every operation comes async (`send(v).await`, `recv().await`, spending the task's coop
//!   budget), blocking (`send_blocking`, `recv_blocking`, usable from any thread) and
//!   non-blocking (`try_send`, `try_recv`).
//! * Async operations are cancel-safe: a dropped `recv()` never loses a value, a dropped
//!   `send()` leaves no waiter behind (and, on a rendezvous, delivered nothing).
//! * [`select!`] waits on several operations and other futures.
//! * On bounded channels, steady-state sending and receiving allocate nothing, and neither does
//!   a receive on a closed, empty channel.
//!
//! ```
//! # weir_runtime::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let (tx, rx) = weir_channel::bounded(2);
//! tx.send(1).await.unwrap();
//! tx.send(2).await.unwrap();
//! assert!(tx.close());
//! assert_eq!(tx.send(3).await, Err(weir_channel::SendError(3)));
//! assert_eq!(rx.recv().await, Ok(1));
//! assert_eq!(rx.recv().await, Ok(2));
//! assert_eq!(rx.recv().await, Err(weir_channel::RecvError::Closed));
//! # });
//! ```

#![warn(missing_docs)]

mod block_on;
mod builder;
mod call_site;
mod channel;
#[cfg(feature = "chaos")]
pub mod chaos;
mod error;
mod flavors;
mod futures;
mod guard;
mod handles;
#[cfg(any(feature = "usdt", feature = "record"))]
mod probe_stamps;
mod runtime_hooks;
#[doc(hidden)]
pub mod select;
mod sync;
mod waiters;

pub use builder::{BackedBuilder, Builder};
pub use error::{BuildError, RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};
#[cfg(not(loom))]
pub use futures::RecvTimeoutFuture;
pub use futures::{ClosedFuture, RecvFuture, SendFuture};
pub use guard::CoarseClock;
pub use handles::{Receiver, Sender};

/// Internals the loom models drive; never part of the normal API.
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api {
    /// Runs the guard's move loop over `rx`'s channel (everything queued goes to the backup,
    /// as when the last receiver is dropped) while `rx` stays alive to race with it.
    pub fn hand_over<T>(rx: &crate::Receiver<T>) {
        rx.hand_over_for_loom();
    }
}

/// A single-value channel: one sender, one receiver (which is a future).
pub mod oneshot {
    pub use crate::flavors::oneshot::{oneshot as channel, Receiver, Sender};
}

pub use flavors::oneshot::oneshot;

/// A channel buffering up to `cap` values; `cap == 0` makes a rendezvous (Go's unbuffered
/// channel).
///
/// # Panics
/// If `cap` is larger than a channel supports or its buffer cannot be allocated (see
/// [`Builder::try_build`]).
#[track_caller]
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    Builder::bounded(cap).build()
}

/// A channel with an unbounded buffer: sends never wait.
#[track_caller]
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    Builder::unbounded().build()
}

/// A rendezvous channel: a send completes only when a receiver takes the value.
#[track_caller]
pub fn rendezvous<T>() -> (Sender<T>, Receiver<T>) {
    Builder::rendezvous().build()
}
