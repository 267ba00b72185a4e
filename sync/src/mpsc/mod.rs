//! tokio-shaped multi-producer, single-consumer channels, built on weir's own channels.
//!
//! A port keeps tokio's signatures (`recv()` returning `Option<T>`, `send` returning
//! `Result<(), SendError<T>>`, `reserve()` and [`Permit`]) and gets weir's channel underneath:
//! its close semantics (a send after close returns the value; a receive drains what is
//! buffered first), its probes and its coop budget. For the native Go-style API (MPMC, close
//! from either side, `select!`) use `weir::channel`.
//!
//! * [`channel(n)`](channel): bounded. Capacity is a fair [`Semaphore`](crate::Semaphore) of
//!   `n` permits in front of a weir unbounded channel: a send (or `reserve`) takes a permit,
//!   a receive gives one back. That is what makes `reserve` exact: a [`Permit`] is a slot
//!   nobody else can take, and waiting senders are served in order.
//! * [`unbounded_channel()`]: a weir unbounded channel; `send` never waits.

mod bounded;
pub mod error;
mod unbounded;

pub use bounded::{channel, OwnedPermit, Permit, Receiver, Sender};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender};

#[cfg(all(test, not(loom)))]
mod tests;
