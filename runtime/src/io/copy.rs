//! `copy`: pump a reader into a writer until the end of the stream.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::budget::poll_step;
use super::{AsyncRead, AsyncWrite, ReadBuf};

const BUFFER: usize = 8 * 1024;

/// Copies everything `reader` yields into `writer`, then flushes it; returns the byte count.
///
/// It does not shut `writer` down: call [`AsyncWriteExt::shutdown`](super::AsyncWriteExt)
/// after it to pass the end of the stream on (half-close an echo, say).
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut state = Copy {
        buf: vec![0; BUFFER].into_boxed_slice(),
        pos: 0,
        cap: 0,
        total: 0,
        read_done: false,
    };
    poll_fn(|cx| state.poll(cx, reader, writer)).await
}

struct Copy {
    buf: Box<[u8]>,
    pos: usize,
    cap: usize,
    total: u64,
    read_done: bool,
}

impl Copy {
    fn poll<R, W>(
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
                let n = ready!(poll_step(cx, |cx| super::read_ext::poll_read_into(
                    reader, cx, &mut buf
                )))?;
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
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "copy: the writer took no bytes",
                    )));
                }
                self.pos += n.min(self.cap - self.pos);
                self.total += n as u64;
            }
            if self.read_done {
                ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                return Poll::Ready(Ok(self.total));
            }
        }
    }
}
