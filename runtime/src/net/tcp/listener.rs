//! `TcpListener`: accepts TCP connections.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use mio::Interest;

use super::TcpStream;
use crate::io::poll_evented::PollEvented;
use crate::io::scheduled_io::{Direction, Waiter, WaiterSlot};
use crate::net::addr::{each_addr, ToSocketAddrs};
use crate::net::stream_io::evented_fd;

/// Pending connections the kernel queues before `accept` takes them.
const BACKLOG: libc::c_int = 1024;

/// A TCP socket listening for connections.
///
/// ```
/// # weir_runtime::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use weir_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use weir_runtime::net::{TcpListener, TcpStream};
///
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let server = weir_runtime::spawn(async move {
///     let (mut conn, _) = listener.accept().await?;
///     conn.write_all(b"hi").await?;
///     std::io::Result::Ok(())
/// });
/// let mut client = TcpStream::connect(addr).await?;
/// let mut got = Vec::new();
/// client.read_to_end(&mut got).await?;
/// assert_eq!(got, b"hi");
/// server.await.unwrap()?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpListener {
    io: PollEvented<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (the first of its addresses that works) and listens.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(&addr, |a| async move {
            let listener = mio::net::TcpListener::bind(a)?;
            // mio listens with std's backlog (128); a server under a connection burst wants
            // more. Calling listen again on a listening socket only updates the backlog.
            // SAFETY: a plain syscall on a descriptor we own.
            if unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) } != 0 {
                return Err(io::Error::last_os_error());
            }
            TcpListener::from_mio(listener)
        })
        .await
    }

    pub(crate) fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: PollEvented::new(listener, Interest::READABLE)?,
        })
    }

    /// Takes over a listener from the standard library (switching it to non-blocking mode).
    /// Must be called inside a runtime with IO enabled.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    /// Gives the listener back to the standard library (still in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_inner()?.into())
    }

    /// Waits for a connection. Several tasks may wait on one listener at once.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self
            .io
            .shared_io(Direction::Read, WaiterSlot::Idle, |l| l.accept())
            .await?;
        let stream = TcpStream::from_mio(stream, self.io.handle().clone())?;
        Ok((stream, addr))
    }

    /// Polls for a connection. Only the latest caller's waker is woken: for several
    /// concurrent acceptors, use [`TcpListener::accept`].
    pub fn poll_accept(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, addr) =
            std::task::ready!(self
                .io
                .poll_io(cx, Direction::Read, Waiter::Poller, |l| l.accept()))?;
        let stream = TcpStream::from_mio(stream, self.io.handle().clone())?;
        std::task::Poll::Ready(Ok((stream, addr)))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets the IP time-to-live of accepted connections.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

evented_fd!(TcpListener);

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// As [`TcpListener::from_std`].
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
