//! `Take`: a reader cut off after a number of bytes.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncBufRead, AsyncRead, ReadBuf};

/// Reads at most `limit` bytes of the inner reader, then reports the end of the stream. Made
/// by [`AsyncReadExt::take`](super::AsyncReadExt::take).
#[derive(Debug)]
pub struct Take<R> {
    inner: R,
    limit: u64,
}

impl<R> Take<R> {
    pub(super) fn new(inner: R, limit: u64) -> Self {
        Take { inner, limit }
    }

    /// Bytes that may still be read.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Sets the bytes that may still be read (reaching the end of the stream resets nothing).
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().0
    }

    /// The inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn project(self: Pin<&mut Self>) -> (Pin<&mut R>, &mut u64) {
        // SAFETY: structural pinning of `inner` only: it is never moved out of a pinned
        // `Take` (`into_inner` takes `self` by value), `Take` has no `Drop` impl, and it is
        // `Unpin` only when `R` is. `limit` is never pinned.
        unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.inner), &mut this.limit)
        }
    }
}

impl<R: AsyncRead> AsyncRead for Take<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let (inner, limit) = self.project();
        if *limit == 0 || buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let max = usize::try_from(*limit)
            .unwrap_or(usize::MAX)
            .min(buf.remaining());
        let mut part = buf.take(max);
        let ptr = part.as_ptr();
        ready!(inner.poll_read(cx, &mut part))?;
        if part.as_ptr() != ptr {
            return Poll::Ready(Err(super::read_ext::swapped_buffer()));
        }
        let (n, init) = (part.filled().len(), part.initialized().len());
        // SAFETY: `part` covered the start of `buf`'s unfilled part (its pointer was checked),
        // and its first `init` bytes are initialized.
        unsafe { buf.assume_init(init) };
        buf.advance(n);
        *limit -= n as u64;
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncBufRead> AsyncBufRead for Take<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let (inner, limit) = self.project();
        if *limit == 0 {
            return Poll::Ready(Ok(&[]));
        }
        let available = ready!(inner.poll_fill_buf(cx))?;
        let n = usize::try_from(*limit)
            .unwrap_or(usize::MAX)
            .min(available.len());
        Poll::Ready(Ok(&available[..n]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let (inner, limit) = self.project();
        let amt = usize::try_from(*limit).unwrap_or(usize::MAX).min(amt);
        *limit -= amt as u64;
        inner.consume(amt);
    }
}
