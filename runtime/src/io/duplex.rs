//! `duplex`: two in-memory streams connected to each other, for tests and in-process
//! plumbing. What one writes the other reads; each direction buffers at most `max_buf_size`
//! bytes, and a writer that finds its direction full waits for the reader.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use super::{AsyncRead, AsyncWrite, ReadBuf};
use crate::sync::{Arc, Mutex, MutexGuard};

/// One end of a [`duplex`] pair: reads what the other end writes and writes what it reads.
///
/// Dropping an end (or shutting its writing down) is the end of the stream for the other end's
/// reads; writing to an end whose peer is gone is `BrokenPipe`.
pub struct DuplexStream {
    /// The direction this end reads.
    read: Arc<Mutex<Pipe>>,
    /// The direction this end writes.
    write: Arc<Mutex<Pipe>>,
}

/// A connected pair of in-memory streams, each direction buffering up to `max_buf_size` bytes
/// (a size of 0 is taken as 1: a pipe that can hold nothing would block both ends forever).
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let max = max_buf_size.max(1);
    let a_to_b = Arc::new(Mutex::new(Pipe::new(max)));
    let b_to_a = Arc::new(Mutex::new(Pipe::new(max)));
    (
        DuplexStream {
            read: b_to_a.clone(),
            write: a_to_b.clone(),
        },
        DuplexStream {
            read: a_to_b,
            write: b_to_a,
        },
    )
}

/// One direction: the bytes in flight and who waits on them.
struct Pipe {
    buf: VecDeque<u8>,
    max: usize,
    /// The writing end shut down or is gone: reads end once `buf` is drained.
    write_closed: bool,
    /// The reading end is gone: writes fail.
    read_closed: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl Pipe {
    fn new(max: usize) -> Self {
        Pipe {
            buf: VecDeque::new(),
            max,
            write_closed: false,
            read_closed: false,
            reader: None,
            writer: None,
        }
    }

    fn wake_reader(&mut self) {
        if let Some(w) = self.reader.take() {
            w.wake();
        }
    }

    fn wake_writer(&mut self) {
        if let Some(w) = self.writer.take() {
            w.wake();
        }
    }
}

fn lock(pipe: &Mutex<Pipe>) -> MutexGuard<'_, Pipe> {
    // A panic while holding the lock leaves the byte queue consistent (every update is a
    // single call), so a poisoned pipe is still usable.
    pipe.lock().unwrap_or_else(|p| p.into_inner())
}

fn broken_pipe() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the other end of the duplex stream is gone or this end shut its writing down",
    )
}

impl AsyncRead for DuplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let coop = ready!(crate::coop::poll_proceed(cx));
        let mut pipe = lock(&self.read);
        if buf.remaining() == 0 {
            coop.made_progress();
            return Poll::Ready(Ok(()));
        }
        if pipe.buf.is_empty() {
            if pipe.write_closed {
                coop.made_progress();
                return Poll::Ready(Ok(()));
            }
            pipe.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.remaining().min(pipe.buf.len());
        let (front, back) = pipe.buf.as_slices();
        let from_front = n.min(front.len());
        buf.put_slice(&front[..from_front]);
        buf.put_slice(&back[..n - from_front]);
        pipe.buf.drain(..n);
        pipe.wake_writer();
        coop.made_progress();
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for DuplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let coop = ready!(crate::coop::poll_proceed(cx));
        let mut pipe = lock(&self.write);
        if pipe.read_closed || pipe.write_closed {
            coop.made_progress();
            return Poll::Ready(Err(broken_pipe()));
        }
        if data.is_empty() {
            coop.made_progress();
            return Poll::Ready(Ok(0));
        }
        let room = pipe.max - pipe.buf.len();
        if room == 0 {
            pipe.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(data.len());
        pipe.buf.extend(&data[..n]);
        pipe.wake_reader();
        coop.made_progress();
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut pipe = lock(&self.write);
        pipe.write_closed = true;
        pipe.wake_reader();
        Poll::Ready(Ok(()))
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        let mut write = lock(&self.write);
        write.write_closed = true;
        write.wake_reader();
        drop(write);
        let mut read = lock(&self.read);
        read.read_closed = true;
        read.wake_writer();
    }
}

impl fmt::Debug for DuplexStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DuplexStream")
            .field("readable_bytes", &lock(&self.read).buf.len())
            .field("max_buf_size", &lock(&self.write).max)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::io::{AsyncReadExt, AsyncWriteExt};

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn bytes_cross_and_a_full_direction_waits_for_the_reader() {
        block_on(async {
            let (mut a, mut b) = duplex(4);
            let writer = crate::spawn(async move {
                a.write_all(b"hello, duplex").await.unwrap();
                a.shutdown().await.unwrap();
                let mut back = Vec::new();
                a.read_to_end(&mut back).await.unwrap();
                back
            });
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"hello, duplex");
            b.write_all(b"reply").await.unwrap();
            drop(b);
            assert_eq!(writer.await.unwrap(), b"reply");
        });
    }

    #[test]
    fn writing_to_a_dropped_peer_is_broken_pipe() {
        block_on(async {
            let (mut a, b) = duplex(8);
            drop(b);
            let err = a.write_all(b"x").await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
            let mut buf = [0; 4];
            assert_eq!(a.read(&mut buf).await.unwrap(), 0);
        });
    }
}
