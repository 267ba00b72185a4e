//! `split`: any stream that reads and writes, as a read half and a write half that can move to
//! different tasks.
//!
//! The halves share the stream behind a lock taken for the length of one poll. weir's own
//! sockets have lock-free halves (`TcpStream::into_split`); this is for every other stream
//! (TLS, `duplex`, a user's type).

use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite, ReadBuf};
use crate::sync::{Arc, Mutex, MutexGuard};

/// The read half of a stream taken apart by [`split`].
pub struct ReadHalf<T> {
    inner: Arc<Mutex<T>>,
}

/// The write half of a stream taken apart by [`split`].
pub struct WriteHalf<T> {
    inner: Arc<Mutex<T>>,
}

/// Splits `stream` into a read half and a write half; [`ReadHalf::unsplit`] puts it back.
pub fn split<T: AsyncRead + AsyncWrite>(stream: T) -> (ReadHalf<T>, WriteHalf<T>) {
    let inner = Arc::new(Mutex::new(stream));
    (
        ReadHalf {
            inner: inner.clone(),
        },
        WriteHalf { inner },
    )
}

fn lock<T>(inner: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic inside the stream's poll leaves it as that stream's own code left it; the lock
    // adds no state of its own to corrupt.
    inner.lock().unwrap_or_else(|p| p.into_inner())
}

/// Polls the shared stream in place.
fn with_pinned<T, R>(inner: &Mutex<T>, f: impl FnOnce(Pin<&mut T>) -> R) -> R {
    let mut guard = lock(inner);
    // SAFETY: the stream lives in the `Arc` allocation and does not move while the halves
    // exist; the only way out is `unsplit`, which needs `T: Unpin`.
    f(unsafe { Pin::new_unchecked(&mut *guard) })
}

impl<T> ReadHalf<T> {
    /// Whether `other` is the write half of the same stream.
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Puts the stream back together.
    ///
    /// # Panics
    /// If `write` is not the other half of this stream (a bug in the caller: check with
    /// [`ReadHalf::is_pair_of`]).
    pub fn unsplit(self, write: WriteHalf<T>) -> T
    where
        T: Unpin,
    {
        assert!(
            self.is_pair_of(&write),
            "ReadHalf::unsplit: the write half belongs to another stream"
        );
        drop(write);
        match Arc::try_unwrap(self.inner) {
            Ok(m) => m.into_inner().unwrap_or_else(|p| p.into_inner()),
            Err(_) => unreachable!("weir: a split stream had a third reference"),
        }
    }
}

impl<T: AsyncRead> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        with_pinned(&self.inner, |s| s.poll_read(cx, buf))
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        with_pinned(&self.inner, |s| s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        with_pinned(&self.inner, |s| s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        lock(&self.inner).is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        with_pinned(&self.inner, |s| s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        with_pinned(&self.inner, |s| s.poll_shutdown(cx))
    }
}

impl<T> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("io::ReadHalf(..)")
    }
}

impl<T> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("io::WriteHalf(..)")
    }
}
