//! `copy`: pump a reader into a writer until the end of the stream.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::budget::poll_step;
use super::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};

const BUFFER: usize = 8 * 1024;

/// Copies everything `reader` yields into `writer`, then flushes it; returns the byte count.
///
/// It does not shut `writer` down: call [`AsyncWriteExt::shutdown`](super::AsyncWriteExt)
/// after it to pass the end of the stream on (half-close an echo, say). Whenever the reader
/// has to wait, what was written so far is flushed first, so a buffered writer never sits on
/// data its peer is waiting for.
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut state = Copy::new();
    poll_fn(|cx| state.poll(cx, reader, writer)).await
}

/// Copies everything `reader` buffers into `writer` without a buffer of its own, then flushes
/// it; returns the byte count.
pub async fn copy_buf<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut total = 0u64;
    poll_fn(|cx| loop {
        let data = ready!(poll_step(cx, |cx| Pin::new(&mut *reader).poll_fill_buf(cx)))?;
        if data.is_empty() {
            ready!(Pin::new(&mut *writer).poll_flush(cx))?;
            return Poll::Ready(Ok(total));
        }
        let n = ready!(poll_step(cx, |cx| Pin::new(&mut *writer).poll_write(cx, data)))?;
        if n == 0 {
            return Poll::Ready(Err(write_zero()));
        }
        Pin::new(&mut *reader).consume(n);
        total += n as u64;
    })
    .await
}

fn write_zero() -> io::Error {
    io::Error::new(io::ErrorKind::WriteZero, "copy: the writer took no bytes")
}

/// The state of one direction of a copy: a buffer and how much of it is still to write.
pub(super) struct Copy {
    buf: Box<[u8]>,
    pos: usize,
    cap: usize,
    total: u64,
    read_done: bool,
    /// Bytes were written since the last flush.
    need_flush: bool,
}

impl Copy {
    pub(super) fn new() -> Self {
        Copy {
            buf: vec![0; BUFFER].into_boxed_slice(),
            pos: 0,
            cap: 0,
            total: 0,
            read_done: false,
            need_flush: false,
        }
    }

    /// Copies until the reader's end, then flushes; the byte count.
    pub(super) fn poll<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        reader: &mut R,
        writer: &mut W,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        loop {
            if self.pos == self.cap && !self.read_done {
                let mut buf = ReadBuf::new(&mut self.buf);
                let read = poll_step(cx, |cx| {
                    super::read_ext::poll_read_into(reader, cx, &mut buf)
                });
                let n = match read {
                    Poll::Ready(n) => n?,
                    Poll::Pending => {
                        if self.need_flush {
                            ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                };
                if n == 0 {
                    self.read_done = true;
                } else {
                    self.pos = 0;
                    self.cap = n;
                }
            }
            while self.pos < self.cap {
                let chunk = &self.buf[self.pos..self.cap];
                let n = ready!(poll_step(cx, |cx| Pin::new(&mut *writer).poll_write(cx, chunk)))?;
                if n == 0 {
                    return Poll::Ready(Err(write_zero()));
                }
                self.pos += n.min(self.cap - self.pos);
                self.total += n as u64;
                self.need_flush = true;
            }
            if self.read_done {
                ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                self.need_flush = false;
                return Poll::Ready(Ok(self.total));
            }
        }
    }
}
