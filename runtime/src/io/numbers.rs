//! Reading and writing fixed-size numbers (`read_u32`, `write_i64_le`, ...): the futures
//! behind those `AsyncReadExt` / `AsyncWriteExt` methods.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::budget::poll_step;
use super::{AsyncRead, AsyncWrite, ReadBuf};

/// Future of the `AsyncReadExt::read_*` number methods: reads exactly `N` bytes and decodes
/// them. An early end of the stream is `UnexpectedEof`.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct ReadNumber<'a, R: ?Sized, T, const N: usize> {
    reader: &'a mut R,
    buf: [u8; N],
    pos: usize,
    decode: fn([u8; N]) -> T,
}

impl<'a, R: ?Sized, T, const N: usize> ReadNumber<'a, R, T, N> {
    pub(super) fn new(reader: &'a mut R, decode: fn([u8; N]) -> T) -> Self {
        ReadNumber {
            reader,
            buf: [0; N],
            pos: 0,
            decode,
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized, T, const N: usize> Future for ReadNumber<'_, R, T, N> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while this.pos < N {
            let mut buf = ReadBuf::new(&mut this.buf[this.pos..]);
            let n = ready!(poll_step(cx, |cx| super::read_ext::poll_read_into(
                this.reader,
                cx,
                &mut buf
            )))?;
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("stream ended after {} of the number's {N} bytes", this.pos),
                )));
            }
            this.pos += n;
        }
        Poll::Ready(Ok((this.decode)(this.buf)))
    }
}

/// Future of the `AsyncWriteExt::write_*` number methods: writes all `N` encoded bytes.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct WriteNumber<'a, W: ?Sized, const N: usize> {
    writer: &'a mut W,
    buf: [u8; N],
    pos: usize,
}

impl<'a, W: ?Sized, const N: usize> WriteNumber<'a, W, N> {
    pub(super) fn new(writer: &'a mut W, buf: [u8; N]) -> Self {
        WriteNumber {
            writer,
            buf,
            pos: 0,
        }
    }
}

impl<W: AsyncWrite + Unpin + ?Sized, const N: usize> Future for WriteNumber<'_, W, N> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut rest = &this.buf[this.pos..];
        let before = rest.len();
        let out = super::write_ext::poll_write_all(this.writer, cx, &mut rest);
        this.pos += before - rest.len();
        out
    }
}

/// `read_*` methods of `AsyncReadExt`, one per `name: type, from_bytes`.
macro_rules! read_numbers {
    ($($(#[$doc:meta])* $name:ident: $t:ty, $from:ident;)*) => {$(
        $(#[$doc])*
        fn $name(&mut self) -> $crate::io::numbers::ReadNumber<'_, Self, $t, { ::std::mem::size_of::<$t>() }>
        where
            Self: Unpin,
        {
            $crate::io::numbers::ReadNumber::new(self, <$t>::$from)
        }
    )*};
}

/// `write_*` methods of `AsyncWriteExt`, one per `name: type, to_bytes`.
macro_rules! write_numbers {
    ($($(#[$doc:meta])* $name:ident: $t:ty, $to:ident;)*) => {$(
        $(#[$doc])*
        fn $name(&mut self, n: $t) -> $crate::io::numbers::WriteNumber<'_, Self, { ::std::mem::size_of::<$t>() }>
        where
            Self: Unpin,
        {
            $crate::io::numbers::WriteNumber::new(self, n.$to())
        }
    )*};
}

pub(super) use {read_numbers, write_numbers};
