//! `stdin`, `stdout` and `stderr`: the process's standard streams, read and written on the
//! blocking pool (the OS gives no readiness for them that works everywhere), as tokio does.
//!
//! A write copies up to 16 KiB and returns at once; the copy is written by a blocking-pool
//! thread while the task goes on. The next operation first waits for it and reports its error,
//! if any; `flush` waits for every write before it. A read fills a 16 KiB buffer on the pool
//! and serves reads from it. Dropping a stream with a write in flight lets the write finish.

use std::fmt;
use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncRead, AsyncWrite, ReadBuf};
use crate::task::JoinHandle;

/// The most one blocking call reads or writes.
const MAX_BUF: usize = 16 * 1024;

/// What a blocking call gives back: the stream, the buffer, and how it went.
struct Done<T> {
    inner: T,
    buf: Vec<u8>,
    res: io::Result<usize>,
}

/// A std stream driven on the blocking pool, one call at a time.
struct Blocking<T> {
    /// The stream; `None` while a call has it (or after that call's thread was lost).
    inner: Option<T>,
    /// Read data not yet handed out is `buf[pos..]`; a write's copy travels in it.
    buf: Vec<u8>,
    pos: usize,
    busy: Option<JoinHandle<Done<T>>>,
    /// The call in flight is a flush.
    flushing: bool,
}

fn lost() -> io::Error {
    io::Error::other("weir: the standard stream was lost with a blocking call that panicked")
}

impl<T: Send + 'static> Blocking<T> {
    fn new(inner: T) -> Self {
        Blocking {
            inner: Some(inner),
            buf: Vec::new(),
            pos: 0,
            busy: None,
            flushing: false,
        }
    }

    /// Waits for the call in flight (there must be one) and takes the stream back.
    fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let handle = self.busy.as_mut().expect("weir: a stdio call is in flight");
        let joined = ready!(Pin::new(handle).poll(cx));
        self.busy = None;
        Poll::Ready(match joined {
            Ok(done) => {
                self.inner = Some(done.inner);
                self.buf = done.buf;
                done.res
            }
            Err(_) => Err(lost()),
        })
    }

    fn start(
        &mut self,
        call: impl FnOnce(&mut T, &mut Vec<u8>) -> io::Result<usize> + Send + 'static,
    ) -> io::Result<()> {
        let Some(mut inner) = self.inner.take() else {
            return Err(lost());
        };
        let mut buf = std::mem::take(&mut self.buf);
        self.busy = Some(crate::task::spawn_blocking(move || {
            let res = call(&mut inner, &mut buf);
            Done { inner, buf, res }
        }));
        Ok(())
    }
}

impl<T: Read + Send + 'static> Blocking<T> {
    fn poll_read(&mut self, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if out.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if self.pos < self.buf.len() {
                let n = out.remaining().min(self.buf.len() - self.pos);
                out.put_slice(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                return Poll::Ready(Ok(()));
            }
            if self.busy.is_some() {
                let res = ready!(self.poll_done(cx));
                self.pos = 0;
                match res {
                    Ok(n) => self.buf.truncate(n),
                    Err(e) => {
                        self.buf.clear();
                        return Poll::Ready(Err(e));
                    }
                }
                if self.buf.is_empty() {
                    return Poll::Ready(Ok(())); // End of the stream.
                }
                continue;
            }
            let want = out.remaining().min(MAX_BUF);
            self.start(move |inner, buf| {
                buf.clear();
                buf.resize(want, 0);
                inner.read(buf)
            })?;
        }
    }
}

impl<T: Write + Send + 'static> Blocking<T> {
    fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if self.busy.is_some() {
            let _ = std::mem::take(&mut self.flushing);
            ready!(self.poll_done(cx))?;
        }
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = data.len().min(MAX_BUF);
        self.buf.clear();
        self.buf.extend_from_slice(&data[..n]);
        self.start(|inner, buf| inner.write_all(buf).map(|()| buf.len()))?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if self.busy.is_some() {
                let res = ready!(self.poll_done(cx));
                let was_flush = std::mem::take(&mut self.flushing);
                res?;
                if was_flush {
                    return Poll::Ready(Ok(()));
                }
            }
            self.start(|inner, _| inner.flush().map(|()| 0))?;
            self.flushing = true;
        }
    }
}

macro_rules! stdio {
    ($(#[$doc:meta])* $name:ident, $ctor:ident, $std:ty, $make:expr) => {
        $(#[$doc])*
        pub struct $name(Blocking<$std>);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }

        $(#[$doc])*
        ///
        /// Its operations run on the current runtime's blocking pool, so it is used inside a
        /// runtime (as in tokio).
        pub fn $ctor() -> $name {
            $name(Blocking::new($make))
        }
    };
}

stdio!(
    /// The process's standard input.
    Stdin, stdin, io::Stdin, io::stdin()
);
stdio!(
    /// The process's standard output.
    Stdout, stdout, io::Stdout, io::stdout()
);
stdio!(
    /// The process's standard error.
    Stderr, stderr, io::Stderr, io::stderr()
);

impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_read(cx, buf)
    }
}

macro_rules! write_impl {
    ($name:ident) => {
        impl AsyncWrite for $name {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().0.poll_write(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().0.poll_flush(cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().0.poll_flush(cx)
            }
        }
    };
}

write_impl!(Stdout);
write_impl!(Stderr);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::io::{AsyncReadExt, AsyncWriteExt};

    fn rt() -> crate::Runtime {
        crate::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    }

    /// A writer and reader in memory, to drive the same machinery as the std streams.
    #[derive(Default)]
    struct Mem {
        data: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
        flushes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        fail: bool,
    }

    impl Write for Mem {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.fail {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"));
            }
            self.data.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }
    }

    struct W(Blocking<Mem>);
    impl AsyncWrite for W {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            b: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().0.poll_write(cx, b)
        }
        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.get_mut().0.poll_flush(cx)
        }
        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.get_mut().0.poll_flush(cx)
        }
    }

    struct R(Blocking<io::Cursor<Vec<u8>>>);
    impl AsyncRead for R {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            b: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            self.get_mut().0.poll_read(cx, b)
        }
    }

    #[test]
    fn writes_land_in_order_and_flush_waits_for_them() {
        let mem = Mem::default();
        let (data, flushes) = (mem.data.clone(), mem.flushes.clone());
        rt().block_on(async {
            let mut w = W(Blocking::new(mem));
            let big = vec![7u8; 40_000];
            w.write_all(b"hello ").await.unwrap();
            w.write_all(&big).await.unwrap();
            w.flush().await.unwrap();
            assert_eq!(data.lock().unwrap().len(), 6 + big.len());
            assert_eq!(&data.lock().unwrap()[..6], b"hello ");
            assert_eq!(flushes.load(std::sync::atomic::Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn a_failed_write_is_reported_by_the_next_operation() {
        rt().block_on(async {
            let mut w = W(Blocking::new(Mem {
                fail: true,
                ..Mem::default()
            }));
            // Accepted at once: the write runs on the pool.
            assert_eq!(w.write(b"x").await.unwrap(), 1);
            let err = w.flush().await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        });
    }

    #[test]
    fn reads_are_served_from_the_pool_until_the_end() {
        let input: Vec<u8> = (0..50_000u32).map(|i| i as u8).collect();
        let want = input.clone();
        rt().block_on(async move {
            let mut r = R(Blocking::new(io::Cursor::new(input)));
            let mut got = Vec::new();
            r.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, want);
        });
    }

    #[test]
    fn std_streams_are_reachable() {
        rt().block_on(async {
            let mut out = stdout();
            out.write_all(b"").await.unwrap();
            out.flush().await.unwrap();
            let mut err = stderr();
            err.flush().await.unwrap();
            let _ = format!("{:?}", stdin());
        });
    }
}
