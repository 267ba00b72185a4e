//! `UnixStream`: a Unix-domain stream connection.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use mio::Interest;

use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SocketAddr, WriteHalf};
use crate::io::driver::IoHandle;
use crate::io::poll_evented::PollEvented;
use crate::io::scheduled_io::{Direction, Waiter};
use crate::net::split;
use crate::net::stream_io::stream_socket;
use crate::sync::Arc;

/// A Unix-domain stream connection.
pub struct UnixStream {
    io: PollEvented<mio::net::UnixStream>,
}

const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);

impl UnixStream {
    /// Connects to the socket at `path` (on Linux, `"\0name"` is `name` in the abstract
    /// namespace, as for [`UnixListener::bind`](super::UnixListener::bind)).
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = super::socket_addr(path.as_ref())?;
        let stream = UnixStream {
            io: PollEvented::new(mio::net::UnixStream::connect_addr(&addr)?, BOTH)?,
        };
        // A Unix connect usually completes at once; wait for writability to be sure and to
        // pick up a deferred error.
        poll_fn(|cx| {
            stream
                .io
                .poll_io(cx, Direction::Write, Waiter::Exclusive, |s| {
                    match s.take_error()? {
                        Some(err) => Err(err),
                        None => Ok(()),
                    }
                })
        })
        .await?;
        Ok(stream)
    }

    /// A connected pair of streams.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((
            UnixStream {
                io: PollEvented::new(a, BOTH)?,
            },
            UnixStream {
                io: PollEvented::new(b, BOTH)?,
            },
        ))
    }

    pub(crate) fn from_mio(
        stream: mio::net::UnixStream,
        handle: Arc<IoHandle>,
    ) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollEvented::new_with_handle(stream, BOTH, handle)?,
        })
    }

    /// Takes over a connected stream from the standard library (switching it to non-blocking
    /// mode). Must be called inside a runtime with IO enabled.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            io: PollEvented::new(mio::net::UnixStream::from_std(stream), BOTH)?,
        })
    }

    /// Gives the stream back to the standard library (still in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
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

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
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

stream_socket!(UnixStream);

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// As [`UnixStream::from_std`].
    fn try_from(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(stream)
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
