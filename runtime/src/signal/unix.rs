//! Unix signals by number: [`signal`] returns a [`Signal`] stream of deliveries.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use super::registry::Listener;

/// A signal number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// Any signal number (refused later by [`signal`] if it cannot be caught).
    pub const fn from_raw(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    pub const fn as_raw_value(&self) -> libc::c_int {
        self.0
    }

    /// SIGINT (Ctrl-C).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// SIGTERM (polite termination request).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// SIGHUP (terminal closed; often "reload configuration").
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// SIGQUIT.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// SIGUSR1.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// SIGUSR2.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// SIGCHLD.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// SIGWINCH (terminal resized).
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// SIGALRM.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// SIGPIPE.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignalKind({})", self.0)
    }
}

/// Deliveries of one signal, from the moment [`signal`] returned it.
#[derive(Debug)]
pub struct Signal {
    listener: Listener,
}

/// Starts listening for `kind`: installs the process-wide handler (once per signal; it stays
/// installed for the life of the process, replacing the default action) and registers the
/// signal pipe with the current runtime's reactor.
///
/// Fails with `InvalidInput` for signals that cannot or must not be caught (SIGKILL, SIGSTOP,
/// SIGSEGV, SIGBUS, SIGILL, SIGFPE, out-of-range numbers), and outside a runtime with IO.
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    Ok(Signal {
        listener: Listener::new(kind.0)?,
    })
}

impl Signal {
    /// Waits for the next delivery (deliveries since the last `recv` count as one).
    pub async fn recv(&mut self) {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for a delivery since the last one received.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.listener.poll_recv(cx)
    }
}
