//! `AsyncBufReadExt`: `read_until` and `read_line` as futures.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::budget::poll_step;
use super::read_ext::push_utf8;
use super::AsyncBufRead;

/// Line- and delimiter-oriented reading for every [`AsyncBufRead`].
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Appends bytes to `buf` up to and including `delim` (or the end of the stream); returns
    /// how many it appended (0 at the end of the stream).
    fn read_until<'a>(&'a mut self, delim: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        ReadUntil {
            reader: self,
            delim,
            buf,
            read: 0,
        }
    }

    /// Appends one line, with its `\n`, to `buf`; returns how many bytes it appended (0 at
    /// the end of the stream). A line that is not UTF-8 is `InvalidData` and is not appended.
    /// On an IO error, the bytes read before it stay appended if they are valid UTF-8 (as
    /// with std's `read_line`).
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        ReadLine {
            reader: self,
            out: buf,
            bytes: Vec::new(),
        }
    }

    /// The reader's lines, each without its `\n` or `\r\n`
    /// ([`Lines::next_line`](super::Lines::next_line)).
    fn lines(self) -> super::Lines<Self>
    where
        Self: Sized,
    {
        super::Lines::new(self)
    }

    /// The reader's segments between `delim` bytes
    /// ([`Split::next_segment`](super::Split::next_segment)).
    fn split(self, delim: u8) -> super::Split<Self>
    where
        Self: Sized,
    {
        super::Split::new(self, delim)
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

pub(super) fn poll_read_until<R: AsyncBufRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    delim: u8,
    buf: &mut Vec<u8>,
    read: &mut usize,
) -> Poll<io::Result<usize>> {
    loop {
        let (done, used) = {
            let available = ready!(poll_step(cx, |cx| Pin::new(&mut *reader).poll_fill_buf(cx)))?;
            match available.iter().position(|&b| b == delim) {
                Some(i) => {
                    buf.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(available);
                    (available.is_empty(), available.len())
                }
            }
        };
        Pin::new(&mut *reader).consume(used);
        *read += used;
        if done {
            return Poll::Ready(Ok(std::mem::take(read)));
        }
    }
}

/// Future of [`AsyncBufReadExt::read_until`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct ReadUntil<'a, R: ?Sized> {
    reader: &'a mut R,
    delim: u8,
    buf: &'a mut Vec<u8>,
    read: usize,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_read_until(this.reader, cx, this.delim, this.buf, &mut this.read)
    }
}

/// Future of [`AsyncBufReadExt::read_line`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct ReadLine<'a, R: ?Sized> {
    reader: &'a mut R,
    out: &'a mut String,
    bytes: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut read = 0;
        match ready!(poll_read_until(
            this.reader,
            cx,
            b'\n',
            &mut this.bytes,
            &mut read
        )) {
            Ok(_) => Poll::Ready(push_utf8(this.out, std::mem::take(&mut this.bytes))),
            Err(e) => {
                // As std's `read_line`: the bytes read before the error stay appended when they
                // are valid UTF-8 (a partial line is not thrown away), otherwise none are.
                let _ = push_utf8(this.out, std::mem::take(&mut this.bytes));
                Poll::Ready(Err(e))
            }
        }
    }
}
