//! `TcpStream`: a TCP connection.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use mio::Interest;

use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::io::driver::IoHandle;
use crate::io::poll_evented::PollEvented;
use crate::io::scheduled_io::{Direction, Waiter};
use crate::net::addr::{each_addr, ToSocketAddrs};
use crate::net::stream_io::stream_socket;
use crate::net::{socket_calls, split};
use crate::sync::Arc;

/// A TCP connection. Read and write it through [`AsyncReadExt`](crate::io::AsyncReadExt) and
/// [`AsyncWriteExt`](crate::io::AsyncWriteExt); [`AsyncWriteExt::shutdown`] half-closes it.
///
/// [`AsyncWriteExt::shutdown`]: crate::io::AsyncWriteExt::shutdown
pub struct TcpStream {
    io: PollEvented<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr` (each of its addresses in turn until one accepts).
    ///
    /// A port nobody listens on fails with `ErrorKind::ConnectionRefused`.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(&addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connected(mio::net::TcpStream::connect(addr)?).await
    }

    /// Registers a stream whose non-blocking connect is under way and waits until it is up.
    pub(crate) async fn connected(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let stream = TcpStream {
            io: PollEvented::new(stream, Interest::READABLE | Interest::WRITABLE)?,
        };
        // The connection is up once the socket is writable with no pending error and a peer.
        poll_fn(|cx| {
            stream
                .io
                .poll_io(cx, Direction::Write, Waiter::Exclusive, |s| {
                    if let Some(err) = s.take_error()? {
                        return Err(err);
                    }
                    match s.peer_addr() {
                        Ok(_) => Ok(()),
                        // Still connecting: wait for the next writable event.
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                            Err(io::ErrorKind::WouldBlock.into())
                        }
                        Err(e) => Err(e),
                    }
                })
        })
        .await?;
        Ok(stream)
    }

    pub(crate) fn from_mio(
        stream: mio::net::TcpStream,
        handle: Arc<IoHandle>,
    ) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: PollEvented::new_with_handle(
                stream,
                Interest::READABLE | Interest::WRITABLE,
                handle,
            )?,
        })
    }

    /// Takes over a connected stream from the standard library (switching it to non-blocking
    /// mode). Must be called inside a runtime with IO enabled.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            io: PollEvented::new(
                mio::net::TcpStream::from_std(stream),
                Interest::READABLE | Interest::WRITABLE,
            )?,
        })
    }

    /// Gives the stream back to the standard library (still in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.io.into_inner()?.into())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `TCP_NODELAY` (no Nagle batching of small writes).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Sets `SO_LINGER`: `None` (the default) lets close return at once while the kernel
    /// sends what is left; `Some(d)` makes close wait up to `d` (whole seconds), and
    /// `Some(Duration::ZERO)` resets the connection on close.
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        socket_calls::set_linger(self.as_raw_fd(), linger)
    }

    /// `SO_LINGER`, as [`TcpStream::set_linger`] takes it.
    pub fn linger(&self) -> io::Result<Option<std::time::Duration>> {
        socket_calls::linger(self.as_raw_fd())
    }

    /// Borrows the stream as a read half and a write half that can be used at the same time.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (
            crate::net::ReadHalf { stream: &*self },
            crate::net::WriteHalf { stream: &*self },
        )
    }

    /// Takes the stream apart into halves that can move to different tasks.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::split_owned(self)
    }
}

stream_socket!(TcpStream);

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// As [`TcpStream::from_std`].
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
