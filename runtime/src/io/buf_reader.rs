//! `BufReader`: fewer, larger reads from an inner reader.

use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};

const DEFAULT_CAPACITY: usize = 8 * 1024;

/// Buffers the reads of `R`: small reads are served from memory, and [`AsyncBufRead`] lets the
/// caller scan the buffer (`read_line`, `read_until`). Writes pass straight through.
pub struct BufReader<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    cap: usize,
}

impl<R: AsyncRead> BufReader<R> {
    /// With an 8 KiB buffer.
    pub fn new(inner: R) -> Self {
        Self::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// With a buffer of `capacity` bytes (at least 1).
    pub fn with_capacity(capacity: usize, inner: R) -> Self {
        Self {
            inner,
            buf: vec![0; capacity.max(1)].into_boxed_slice(),
            pos: 0,
            cap: 0,
        }
    }
}

impl<R> BufReader<R> {
    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably. Reading from it directly skips buffered data.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().0
    }

    /// The buffered, not yet consumed bytes.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.cap]
    }

    /// The inner reader; buffered data is dropped.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Splits into the pinned inner reader and the buffer state.
    fn project(self: Pin<&mut Self>) -> (Pin<&mut R>, &mut Box<[u8]>, &mut usize, &mut usize) {
        // SAFETY: structural pinning of `inner` only: it is never moved out of a pinned
        // `BufReader` (`into_inner` takes `self` by value, which needs it unpinned or `Unpin`),
        // `BufReader` has no `Drop` impl, and it is `Unpin` only when `R` is (auto trait, the
        // other fields are `Unpin`). The other fields are never pinned.
        unsafe {
            let this = self.get_unchecked_mut();
            (
                Pin::new_unchecked(&mut this.inner),
                &mut this.buf,
                &mut this.pos,
                &mut this.cap,
            )
        }
    }
}

impl<R: AsyncRead> AsyncRead for BufReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Nothing buffered and a big read: skip the copy.
        if self.pos == self.cap && buf.remaining() >= self.buf.len() {
            let (inner, _, pos, cap) = self.project();
            *pos = 0;
            *cap = 0;
            return inner.poll_read(cx, buf);
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncRead> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let (inner, buf, pos, cap) = self.project();
        if *pos >= *cap {
            let mut read_buf = ReadBuf::new(buf);
            let ptr = read_buf.as_ptr();
            ready!(inner.poll_read(cx, &mut read_buf))?;
            if read_buf.as_ptr() != ptr {
                return Poll::Ready(Err(super::read_ext::swapped_buffer()));
            }
            *cap = read_buf.filled().len();
            *pos = 0;
        }
        Poll::Ready(Ok(&buf[*pos..*cap]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let (_, _, pos, cap) = self.project();
        *pos = (*pos + amt).min(*cap);
    }
}

impl<R: AsyncRead + AsyncWrite> AsyncWrite for BufReader<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_shutdown(cx)
    }
}

impl<R: fmt::Debug> fmt::Debug for BufReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufReader")
            .field("inner", &self.inner)
            .field("buffered", &(self.cap - self.pos))
            .field("capacity", &self.buf.len())
            .finish()
    }
}
