//! `UnixListener`: accepts Unix-domain stream connections.

use std::fmt;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use mio::Interest;

use super::{SocketAddr, UnixStream};
use crate::io::poll_evented::PollEvented;
use crate::io::scheduled_io::{Direction, Waiter, WaiterSlot};
use crate::net::stream_io::evented_fd;

/// A Unix-domain socket listening for connections.
pub struct UnixListener {
    io: PollEvented<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds to the filesystem path `path` (which must not exist yet) and listens; on Linux,
    /// a path that starts with a NUL byte (`"\0name"`) binds `name` in the abstract
    /// namespace. Must be called inside a runtime with IO enabled.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let listener = mio::net::UnixListener::bind_addr(&super::socket_addr(path.as_ref())?)?;
        Ok(UnixListener {
            io: PollEvented::new(listener, Interest::READABLE)?,
        })
    }

    /// Takes over a listener from the standard library (switching it to non-blocking mode).
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollEvented::new(
                mio::net::UnixListener::from_std(listener),
                Interest::READABLE,
            )?,
        })
    }

    /// Waits for a connection. Several tasks may wait on one listener at once.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self
            .io
            .shared_io(Direction::Read, WaiterSlot::Idle, |l| l.accept())
            .await?;
        Ok((
            UnixStream::from_mio(stream, self.io.handle().clone())?,
            addr,
        ))
    }

    /// Polls for a connection. Only the latest caller's waker is woken: for several
    /// concurrent acceptors, use [`UnixListener::accept`].
    pub fn poll_accept(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, addr) =
            std::task::ready!(self
                .io
                .poll_io(cx, Direction::Read, Waiter::Poller, |l| l.accept()))?;
        let stream = UnixStream::from_mio(stream, self.io.handle().clone())?;
        std::task::Poll::Ready(Ok((stream, addr)))
    }

    /// Gives the listener back to the standard library (still in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_inner()?.into())
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

evented_fd!(UnixListener);

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// As [`UnixListener::from_std`].
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
