//! hyper 1.x on weir: the IO, executor and timer adapters hyper asks a runtime for.
//!
//! Kept out of weir's own dependencies: `examples/http_hello.rs` and the HTTP comparison in
//! `benches/http/` include this file as a module.
//!
//! - [`WeirIo`] wraps any weir `AsyncRead + AsyncWrite` (a `TcpStream`) as `hyper::rt::Read`
//!   and `hyper::rt::Write`. Reads go straight into hyper's (possibly uninitialized) buffer.
//! - [`WeirExecutor`] spawns hyper's background futures (HTTP/2 streams) as weir tasks.
//! - [`WeirTimer`] gives hyper sleeps on weir's timer wheel (header-read and keep-alive
//!   timeouts).

#![allow(dead_code)] // Each includer uses its own part of it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use weir::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A weir stream as hyper IO.
#[derive(Debug)]
pub struct WeirIo<T> {
    inner: T,
}

impl<T> WeirIo<T> {
    pub fn new(inner: T) -> Self {
        Self { inner }
    }

    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for WeirIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut cursor: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: the weir ReadBuf only writes initialized bytes into this memory (never
        // de-initializes it), and we pass its filled length to `advance` only after checking
        // that the reader filled this very buffer.
        let unfilled = unsafe { cursor.as_mut() };
        let start = unfilled.as_ptr();
        let len = unfilled.len();
        let mut buf = ReadBuf::uninit(unfilled);
        match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => {
                let filled = buf.filled();
                if filled.as_ptr() != start.cast() || filled.len() > len {
                    return Poll::Ready(Err(io::Error::other(
                        "the reader filled a different buffer than the one it was given",
                    )));
                }
                let n = filled.len();
                // SAFETY: the first `n` bytes of the cursor's memory are initialized (they are
                // the ReadBuf's filled part, checked above to be this memory).
                unsafe { cursor.advance(n) };
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for WeirIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
}

/// Runs hyper's background futures as weir tasks.
#[derive(Clone, Copy, Debug, Default)]
pub struct WeirExecutor;

impl<F> hyper::rt::Executor<F> for WeirExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        drop(weir::spawn(fut));
    }
}

/// hyper's timeouts on weir's timer wheel.
#[derive(Clone, Copy, Debug, Default)]
pub struct WeirTimer;

/// A weir `Sleep` as a `hyper::rt::Sleep`.
pub struct WeirSleep(weir::time::Sleep);

impl Future for WeirSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for WeirSleep {}

impl hyper::rt::Timer for WeirTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(WeirSleep(weir::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(WeirSleep(weir::time::sleep_until(
            weir::time::Instant::from_std(deadline),
        )))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<WeirSleep>() {
            Some(mut s) => {
                Pin::new(&mut s.0).reset(weir::time::Instant::from_std(new_deadline));
            }
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
