//! `Lines`: a buffered reader's lines, one `String` at a time.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::buf_read_ext::poll_read_until;
use super::AsyncBufRead;

/// The lines of an [`AsyncBufRead`], from
/// [`AsyncBufReadExt::lines`](super::AsyncBufReadExt::lines): each without its `\n` (or
/// `\r\n`). A line that is not UTF-8 is `InvalidData`.
#[derive(Debug)]
#[must_use = "Lines does nothing unless next_line is awaited"]
pub struct Lines<R> {
    reader: R,
    /// Bytes of the line read so far (kept across `Pending`).
    bytes: Vec<u8>,
    read: usize,
}

impl<R> Lines<R> {
    pub(super) fn new(reader: R) -> Self {
        Lines {
            reader,
            bytes: Vec::new(),
            read: 0,
        }
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// The reader; a partly read line is lost.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    /// The next line, or `None` at the end of the stream. Cancel-safe: a line partly read
    /// when the future is dropped is completed by the next call.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next_line(cx)).await
    }

    /// Polls for the next line, or `None` at the end of the stream.
    pub fn poll_next_line(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<String>>> {
        let this = self.get_mut();
        let n = ready!(poll_read_until(
            &mut this.reader,
            cx,
            b'\n',
            &mut this.bytes,
            &mut this.read
        ))?;
        if n == 0 && this.bytes.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut bytes = std::mem::take(&mut this.bytes);
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        match String::from_utf8(bytes) {
            Ok(line) => Poll::Ready(Ok(Some(line))),
            Err(e) => Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e))),
        }
    }
}
