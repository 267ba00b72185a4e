//! `Split`: a buffered reader's segments between delimiter bytes.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::buf_read_ext::poll_read_until;
use super::AsyncBufRead;

/// The segments of an [`AsyncBufRead`] between `delim` bytes, from
/// [`AsyncBufReadExt::split`](super::AsyncBufReadExt::split), each without its delimiter.
#[derive(Debug)]
#[must_use = "Split does nothing unless next_segment is awaited"]
pub struct Split<R> {
    reader: R,
    delim: u8,
    /// Bytes of the segment read so far (kept across `Pending`).
    bytes: Vec<u8>,
    read: usize,
}

impl<R> Split<R> {
    pub(super) fn new(reader: R, delim: u8) -> Self {
        Split {
            reader,
            delim,
            bytes: Vec::new(),
            read: 0,
        }
    }

    /// The reader; a partly read segment is lost.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead + Unpin> Split<R> {
    /// The next segment, or `None` at the end of the stream. Cancel-safe, as
    /// [`Lines::next_line`](super::Lines::next_line).
    pub async fn next_segment(&mut self) -> io::Result<Option<Vec<u8>>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next_segment(cx)).await
    }

    /// Polls for the next segment, or `None` at the end of the stream.
    pub fn poll_next_segment(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Vec<u8>>>> {
        let this = self.get_mut();
        let n = ready!(poll_read_until(
            &mut this.reader,
            cx,
            this.delim,
            &mut this.bytes,
            &mut this.read
        ))?;
        if n == 0 && this.bytes.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut segment = std::mem::take(&mut this.bytes);
        if segment.last() == Some(&this.delim) {
            segment.pop();
        }
        Poll::Ready(Ok(Some(segment)))
    }
}
