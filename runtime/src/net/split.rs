//! Splitting a stream socket into a read half and a write half, borrowed or owned.
//!
//! Each half owns one direction of the socket, so each direction keeps exactly one poller and
//! the socket's one waker per direction suffices. The owned halves share the socket through an
//! `Arc` and can move to different tasks (and workers).

use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::Poll;

use crate::net::stream_io::{split_read, split_write};

pub(crate) mod sealed {
    use std::io::{self, IoSlice};
    use std::task::{Context, Poll};

    use crate::io::ReadBuf;

    /// A stream socket whose directions can be driven through `&self` by one poller each.
    /// Sealed: implemented by weir's stream sockets only.
    #[doc(hidden)]
    pub trait SplitStream {
        fn split_poll_read(
            &self,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>>;
        fn split_poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
        fn split_poll_write_vectored(
            &self,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>>;
        fn split_shutdown_write(&self) -> io::Result<()>;
    }
}

use sealed::SplitStream;

/// The read half of a stream borrowed by `split`.
pub struct ReadHalf<'a, S> {
    pub(crate) stream: &'a S,
}

/// The write half of a stream borrowed by `split`. Shutting it down half-closes the stream.
pub struct WriteHalf<'a, S> {
    pub(crate) stream: &'a S,
}

/// The read half of a stream taken apart by `into_split`.
pub struct OwnedReadHalf<S> {
    pub(crate) stream: Arc<S>,
}

/// The write half of a stream taken apart by `into_split`. Dropping it shuts the write side
/// down (the peer reads the end of the stream), unless [`OwnedWriteHalf::forget`] is used.
pub struct OwnedWriteHalf<S: SplitStream> {
    pub(crate) stream: Arc<S>,
    pub(crate) shutdown_on_drop: bool,
}

/// The halves given to `reunite` came from different streams; here they are back.
pub struct ReuniteError<S: SplitStream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: SplitStream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the read and write halves come from different streams")
    }
}

impl<S: SplitStream> std::error::Error for ReuniteError<S> {}

pub(crate) fn split_owned<S: SplitStream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let stream = Arc::new(stream);
    (
        OwnedReadHalf {
            stream: stream.clone(),
        },
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        },
    )
}

impl<S: SplitStream> OwnedReadHalf<S> {
    /// Puts the stream back together; fails if the halves belong to different streams.
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(self, other)
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// Puts the stream back together; fails if the halves belong to different streams.
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(other, self)
    }

    /// Drops the half without shutting the write side down.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }
}

fn reunite<S: SplitStream>(
    read: OwnedReadHalf<S>,
    mut write: OwnedWriteHalf<S>,
) -> Result<S, ReuniteError<S>> {
    if !Arc::ptr_eq(&read.stream, &write.stream) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    let stream = write.stream.clone();
    drop(write);
    drop(read);
    // Both halves are gone and they held the only two references.
    Ok(Arc::try_unwrap(stream)
        .unwrap_or_else(|_| unreachable!("weir: a split stream had a third reference")))
}

impl<S> AsRef<S> for ReadHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.stream
    }
}

impl<S> AsRef<S> for WriteHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.stream
    }
}

impl<S> AsRef<S> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: SplitStream> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.stream.split_shutdown_write();
        }
    }
}

fn shutdown_result(r: io::Result<()>) -> Poll<io::Result<()>> {
    match r {
        // The peer is already gone: the write side is as shut as it gets.
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
        r => Poll::Ready(r),
    }
}

pub(crate) fn poll_shutdown_write<S: SplitStream>(stream: &S) -> Poll<io::Result<()>> {
    shutdown_result(stream.split_shutdown_write())
}

split_read! {
    ReadHalf<'_, S> => [S: SplitStream] |this| this.stream,
    OwnedReadHalf<S> => [S: SplitStream] |this| this.stream,
}

split_write! {
    WriteHalf<'_, S> => [S: SplitStream] |this| this.stream,
    // Shut down now, so dropping the half has nothing left to shut down.
    OwnedWriteHalf<S> => [S: SplitStream] |this| this.stream; { this.shutdown_on_drop = false; },
}

impl<S: fmt::Debug> fmt::Debug for ReadHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(self.stream).finish()
    }
}

impl<S: fmt::Debug> fmt::Debug for WriteHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf").field(self.stream).finish()
    }
}

impl<S: fmt::Debug> fmt::Debug for OwnedReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&self.stream).finish()
    }
}

impl<S: SplitStream + fmt::Debug> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&self.stream).finish()
    }
}
