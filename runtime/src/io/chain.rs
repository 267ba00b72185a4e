//! `Chain`: one reader, then another.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncBufRead, AsyncRead, ReadBuf};

/// Reads the first reader to its end, then the second. Made by
/// [`AsyncReadExt::chain`](super::AsyncReadExt::chain).
#[derive(Debug)]
pub struct Chain<A, B> {
    first: A,
    second: B,
    first_done: bool,
}

impl<A, B> Chain<A, B> {
    pub(super) fn new(first: A, second: B) -> Self {
        Chain {
            first,
            second,
            first_done: false,
        }
    }

    /// Both readers.
    pub fn get_ref(&self) -> (&A, &B) {
        (&self.first, &self.second)
    }

    /// Both readers, mutably.
    pub fn get_mut(&mut self) -> (&mut A, &mut B) {
        (&mut self.first, &mut self.second)
    }

    /// Both readers, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> (Pin<&mut A>, Pin<&mut B>) {
        let (a, b, _) = self.project();
        (a, b)
    }

    /// Both readers.
    pub fn into_inner(self) -> (A, B) {
        (self.first, self.second)
    }

    fn project(self: Pin<&mut Self>) -> (Pin<&mut A>, Pin<&mut B>, &mut bool) {
        // SAFETY: structural pinning of both readers: neither is moved out of a pinned
        // `Chain` (`into_inner` takes `self` by value), `Chain` has no `Drop` impl, and it is
        // `Unpin` only when both are. The flag is never pinned.
        unsafe {
            let this = self.get_unchecked_mut();
            (
                Pin::new_unchecked(&mut this.first),
                Pin::new_unchecked(&mut this.second),
                &mut this.first_done,
            )
        }
    }
}

impl<A: AsyncRead, B: AsyncRead> AsyncRead for Chain<A, B> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let (first, second, first_done) = self.project();
        if !*first_done {
            let before = buf.filled().len();
            ready!(first.poll_read(cx, buf))?;
            if buf.filled().len() > before || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            *first_done = true;
        }
        second.poll_read(cx, buf)
    }
}

impl<A: AsyncBufRead, B: AsyncBufRead> AsyncBufRead for Chain<A, B> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let (first, second, first_done) = self.project();
        if !*first_done {
            let available = ready!(first.poll_fill_buf(cx))?;
            if !available.is_empty() {
                return Poll::Ready(Ok(available));
            }
            *first_done = true;
        }
        second.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let (first, second, first_done) = self.project();
        if *first_done {
            second.consume(amt)
        } else {
            first.consume(amt)
        }
    }
}
