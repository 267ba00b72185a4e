//! Signals: [`ctrl_c`] and, on Unix, any catchable signal through [`unix::signal`].
//!
//! No thread per signal and no thread at all: a process-wide handler counts each delivery and
//! writes a byte to a self-pipe; the pipe is registered with the reactor of every runtime that
//! listens, whose driver wakes the listening tasks. Deliveries that arrive between two
//! `recv`s coalesce into one.

pub(crate) mod registry;
pub mod unix;

use std::io;

/// Completes at the next SIGINT (Ctrl-C) delivered to the process.
///
/// The handler is installed when the future is first polled (and stays installed for the
/// life of the process: from then on SIGINT no longer terminates it). Needs a runtime with IO
/// enabled.
pub async fn ctrl_c() -> io::Result<()> {
    let mut sig = unix::signal(unix::SignalKind::interrupt())?;
    sig.recv().await;
    Ok(())
}
