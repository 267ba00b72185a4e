//! `AsyncReadExt`: `read`, `read_exact`, `read_to_end`, `read_to_string` as futures.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::budget::poll_step;
use super::{AsyncRead, ReadBuf};

/// The reading methods people `.await`, for every [`AsyncRead`].
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; `Ok(0)` means the end of the stream (or an empty `buf`).
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Reads exactly `buf.len()` bytes; an early end of stream is `UnexpectedEof`.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact {
            reader: self,
            buf,
            pos: 0,
        }
    }

    /// Reads until the end of the stream, appending to `buf`; returns how many bytes it read.
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        let start = buf.len();
        ReadToEnd {
            reader: self,
            buf,
            start,
        }
    }

    /// Reads until the end of the stream and appends it to `buf` if it is UTF-8 (otherwise
    /// `InvalidData`, and `buf` is left as it was). Returns how many bytes it appended.
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        ReadToString {
            reader: self,
            out: buf,
            bytes: Vec::new(),
        }
    }

    /// A reader of at most `limit` of this reader's bytes.
    fn take(self, limit: u64) -> super::Take<Self>
    where
        Self: Sized,
    {
        super::Take::new(self, limit)
    }

    /// A reader of this reader's bytes, then `next`'s.
    fn chain<R: AsyncRead>(self, next: R) -> super::Chain<Self, R>
    where
        Self: Sized,
    {
        super::Chain::new(self, next)
    }

    super::numbers::read_numbers! {
        /// Reads an unsigned byte.
        read_u8: u8, from_be_bytes;
        /// Reads a signed byte.
        read_i8: i8, from_be_bytes;
        /// Reads a big-endian `u16`.
        read_u16: u16, from_be_bytes;
        /// Reads a big-endian `i16`.
        read_i16: i16, from_be_bytes;
        /// Reads a big-endian `u32`.
        read_u32: u32, from_be_bytes;
        /// Reads a big-endian `i32`.
        read_i32: i32, from_be_bytes;
        /// Reads a big-endian `u64`.
        read_u64: u64, from_be_bytes;
        /// Reads a big-endian `i64`.
        read_i64: i64, from_be_bytes;
        /// Reads a big-endian `u128`.
        read_u128: u128, from_be_bytes;
        /// Reads a big-endian `i128`.
        read_i128: i128, from_be_bytes;
        /// Reads a big-endian `f32`.
        read_f32: f32, from_be_bytes;
        /// Reads a big-endian `f64`.
        read_f64: f64, from_be_bytes;
        /// Reads a little-endian `u16`.
        read_u16_le: u16, from_le_bytes;
        /// Reads a little-endian `i16`.
        read_i16_le: i16, from_le_bytes;
        /// Reads a little-endian `u32`.
        read_u32_le: u32, from_le_bytes;
        /// Reads a little-endian `i32`.
        read_i32_le: i32, from_le_bytes;
        /// Reads a little-endian `u64`.
        read_u64_le: u64, from_le_bytes;
        /// Reads a little-endian `i64`.
        read_i64_le: i64, from_le_bytes;
        /// Reads a little-endian `u128`.
        read_u128_le: u128, from_le_bytes;
        /// Reads a little-endian `i128`.
        read_i128_le: i128, from_le_bytes;
        /// Reads a little-endian `f32`.
        read_f32_le: f32, from_le_bytes;
        /// Reads a little-endian `f64`.
        read_f64_le: f64, from_le_bytes;
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Polls one read into `buf`'s unfilled part; the number of bytes it added.
pub(crate) fn poll_read_into<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<usize>> {
    let before = buf.filled().len();
    let ptr = buf.as_ptr();
    ready!(Pin::new(reader).poll_read(cx, buf))?;
    if buf.as_ptr() != ptr {
        return Poll::Ready(Err(swapped_buffer()));
    }
    Poll::Ready(Ok(buf.filled().len().saturating_sub(before)))
}

pub(crate) fn swapped_buffer() -> io::Error {
    io::Error::other("weir: an AsyncRead implementation replaced the ReadBuf it was given")
}

/// Future of [`AsyncReadExt::read`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut buf = ReadBuf::new(this.buf);
        poll_read_into(this.reader, cx, &mut buf)
    }
}

/// Future of [`AsyncReadExt::read_exact`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
    pos: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while this.pos < this.buf.len() {
            let mut buf = ReadBuf::new(&mut this.buf[this.pos..]);
            let n = ready!(poll_step(cx, |cx| poll_read_into(
                this.reader,
                cx,
                &mut buf
            )))?;
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "stream ended after {} of {} bytes",
                        this.pos,
                        this.buf.len()
                    ),
                )));
            }
            this.pos += n;
        }
        Poll::Ready(Ok(this.pos))
    }
}

/// Future of [`AsyncReadExt::read_to_end`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    start: usize,
}

/// Bytes of the probe read that `read_to_end` makes when the `Vec` is full, before it grows it.
const PROBE: usize = 32;

/// Appends reads to `vec` until the end of the stream.
///
/// A `Vec` whose spare capacity holds the rest of the stream is never reallocated: when it is
/// full, a small probe read into a stack buffer tells the end of the stream (no growth) from
/// more data (doubling growth, from 32 bytes).
pub(crate) fn poll_read_to_end<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    vec: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    loop {
        if vec.len() == vec.capacity() {
            let mut probe = [0u8; PROBE];
            let mut buf = ReadBuf::new(&mut probe);
            let n = ready!(poll_step(cx, |cx| poll_read_into(reader, cx, &mut buf)))?;
            if n == 0 {
                return Poll::Ready(Ok(()));
            }
            vec.reserve(vec.len().max(PROBE));
            vec.extend_from_slice(buf.filled());
            continue;
        }
        let len = vec.len();
        let spare = vec.spare_capacity_mut();
        let spare_len = spare.len();
        let mut buf = ReadBuf::uninit(spare);
        let n = ready!(poll_step(cx, |cx| poll_read_into(reader, cx, &mut buf)))?;
        if n == 0 {
            return Poll::Ready(Ok(()));
        }
        let n = n.min(spare_len);
        // SAFETY: the ReadBuf is the one over `vec`'s spare capacity (its pointer was checked
        // by `poll_read_into`), and its first `n` bytes are filled, hence initialized.
        unsafe { vec.set_len(len + n) };
    }
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_read_to_end(this.reader, cx, this.buf))?;
        Poll::Ready(Ok(this.buf.len() - this.start))
    }
}

/// Future of [`AsyncReadExt::read_to_string`]. Bytes read before it is dropped unfinished are
/// lost, as with a dropped `read`.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    out: &'a mut String,
    bytes: Vec<u8>,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_read_to_end(this.reader, cx, &mut this.bytes))?;
        Poll::Ready(push_utf8(this.out, std::mem::take(&mut this.bytes)))
    }
}

/// Appends `bytes` to `out` if they are UTF-8 (else `InvalidData`, and `out` is left as it
/// was); returns how many bytes it appended.
pub(super) fn push_utf8(out: &mut String, bytes: Vec<u8>) -> io::Result<usize> {
    match String::from_utf8(bytes) {
        Ok(s) => {
            out.push_str(&s);
            Ok(s.len())
        }
        Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e)),
    }
}
