//! `AsyncWriteExt`: `write`, `write_all`, `flush`, `shutdown` as futures.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::budget::poll_step;
use super::AsyncWrite;

/// The writing methods people `.await`, for every [`AsyncWrite`].
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some of `buf`; returns how many bytes were taken.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write { writer: self, buf }
    }

    /// Writes all of `buf`. A writer that takes nothing is `WriteZero`.
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll { writer: self, buf }
    }

    /// Flushes buffered data.
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush { writer: self }
    }

    /// Flushes, then closes the writing side (a socket sends FIN).
    fn shutdown(&mut self) -> Shutdown<'_, Self>
    where
        Self: Unpin,
    {
        Shutdown { writer: self }
    }

    super::numbers::write_numbers! {
        /// Writes an unsigned byte.
        write_u8: u8, to_be_bytes;
        /// Writes a signed byte.
        write_i8: i8, to_be_bytes;
        /// Writes a big-endian `u16`.
        write_u16: u16, to_be_bytes;
        /// Writes a big-endian `i16`.
        write_i16: i16, to_be_bytes;
        /// Writes a big-endian `u32`.
        write_u32: u32, to_be_bytes;
        /// Writes a big-endian `i32`.
        write_i32: i32, to_be_bytes;
        /// Writes a big-endian `u64`.
        write_u64: u64, to_be_bytes;
        /// Writes a big-endian `i64`.
        write_i64: i64, to_be_bytes;
        /// Writes a big-endian `u128`.
        write_u128: u128, to_be_bytes;
        /// Writes a big-endian `i128`.
        write_i128: i128, to_be_bytes;
        /// Writes a big-endian `f32`.
        write_f32: f32, to_be_bytes;
        /// Writes a big-endian `f64`.
        write_f64: f64, to_be_bytes;
        /// Writes a little-endian `u16`.
        write_u16_le: u16, to_le_bytes;
        /// Writes a little-endian `i16`.
        write_i16_le: i16, to_le_bytes;
        /// Writes a little-endian `u32`.
        write_u32_le: u32, to_le_bytes;
        /// Writes a little-endian `i32`.
        write_i32_le: i32, to_le_bytes;
        /// Writes a little-endian `u64`.
        write_u64_le: u64, to_le_bytes;
        /// Writes a little-endian `i64`.
        write_i64_le: i64, to_le_bytes;
        /// Writes a little-endian `u128`.
        write_u128_le: u128, to_le_bytes;
        /// Writes a little-endian `i128`.
        write_i128_le: i128, to_le_bytes;
        /// Writes a little-endian `f32`.
        write_f32_le: f32, to_le_bytes;
        /// Writes a little-endian `f64`.
        write_f64_le: f64, to_le_bytes;
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// Future of [`AsyncWriteExt::write`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Write<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Write<'_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write(cx, this.buf)
    }
}

/// Future of [`AsyncWriteExt::write_all`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct WriteAll<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

pub(crate) fn poll_write_all<W: AsyncWrite + Unpin + ?Sized>(
    writer: &mut W,
    cx: &mut Context<'_>,
    buf: &mut &[u8],
) -> Poll<io::Result<()>> {
    while !buf.is_empty() {
        let chunk: &[u8] = buf;
        let n = ready!(poll_step(cx, |cx| Pin::new(&mut *writer).poll_write(cx, chunk)))?;
        if n == 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the writer took no bytes",
            )));
        }
        *buf = &buf[n.min(buf.len())..];
    }
    Poll::Ready(Ok(()))
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteAll<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_write_all(this.writer, cx, &mut this.buf)
    }
}

/// Future of [`AsyncWriteExt::flush`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Flush<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Flush<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_flush(cx)
    }
}

/// Future of [`AsyncWriteExt::shutdown`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Shutdown<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Shutdown<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_shutdown(cx)
    }
}
