//! The IO traits' helpers on in-memory readers and writers: exact reads, reads to the end,
//! buffering, lines, copy, and what happens with a misbehaving `AsyncRead`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use weir_runtime::io::{
    copy, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
    BufWriter, ReadBuf,
};
use weir_runtime::runtime::Builder;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    Builder::new_current_thread().build().unwrap().block_on(f)
}

/// Hands out at most `chunk` bytes per read, and is `Pending` every other poll.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
    flip: bool,
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.flip = !self.flip;
        if self.flip {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let n = self
            .chunk
            .min(buf.remaining())
            .min(self.data.len() - self.pos);
        let start = self.pos;
        buf.put_slice(&self.data[start..start + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

fn trickle(data: &[u8], chunk: usize) -> Trickle {
    Trickle {
        data: data.to_vec(),
        pos: 0,
        chunk,
        flip: false,
    }
}

#[test]
fn read_exact_and_read_to_end() {
    block_on(async {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        let mut r = trickle(&data, 33);
        let mut head = [0u8; 100];
        assert_eq!(r.read_exact(&mut head).await.unwrap(), 100);
        assert_eq!(&head[..], &data[..100]);
        let mut rest = vec![1, 2, 3];
        assert_eq!(r.read_to_end(&mut rest).await.unwrap(), 9_900);
        assert_eq!(&rest[..3], &[1, 2, 3]);
        assert_eq!(&rest[3..], &data[100..]);

        let mut short = trickle(b"abc", 2);
        let mut buf = [0u8; 4];
        let err = short.read_exact(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    });
}

#[test]
fn read_to_string_rejects_invalid_utf8_and_keeps_the_string() {
    block_on(async {
        let mut s = String::from("kept:");
        let mut ok = &b"fine"[..];
        assert_eq!(ok.read_to_string(&mut s).await.unwrap(), 4);
        assert_eq!(s, "kept:fine");
        let mut bad = &[0xff, 0xfe][..];
        let err = bad.read_to_string(&mut s).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(s, "kept:fine");
    });
}

#[test]
fn buf_reader_lines_and_delimiters() {
    block_on(async {
        let text = b"alpha\nbeta\n\ngamma;delta";
        let mut r = BufReader::with_capacity(3, trickle(text, 2));
        let mut line = String::new();
        assert_eq!(r.read_line(&mut line).await.unwrap(), 6);
        assert_eq!(line, "alpha\n");
        line.clear();
        r.read_line(&mut line).await.unwrap();
        assert_eq!(line, "beta\n");
        line.clear();
        r.read_line(&mut line).await.unwrap();
        assert_eq!(line, "\n");
        let mut part = Vec::new();
        assert_eq!(r.read_until(b';', &mut part).await.unwrap(), 6);
        assert_eq!(part, b"gamma;");
        let mut tail = Vec::new();
        r.read_to_end(&mut tail).await.unwrap();
        assert_eq!(tail, b"delta");
        assert_eq!(r.read_line(&mut line).await.unwrap(), 0);
    });
}

/// Counts the writes that reach it.
#[derive(Default)]
struct CountingWriter {
    data: Vec<u8>,
    writes: usize,
    shut: bool,
}

impl AsyncWrite for CountingWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.writes += 1;
        // Takes at most 5 bytes at a time, like a congested socket.
        let n = buf.len().min(5);
        self.data.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shut = true;
        Poll::Ready(Ok(()))
    }
}

#[test]
fn buf_writer_batches_until_flush_and_shutdown_flushes() {
    block_on(async {
        let mut w = BufWriter::with_capacity(64, CountingWriter::default());
        for i in 0..10u8 {
            w.write_all(&[i; 3]).await.unwrap();
        }
        assert_eq!(w.get_ref().writes, 0, "small writes should stay buffered");
        assert_eq!(w.buffer().len(), 30);
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().writes, 6);
        // A write larger than the buffer goes straight through.
        w.write_all(&[0xaa; 100]).await.unwrap();
        w.write_all(b"tail").await.unwrap();
        w.shutdown().await.unwrap();
        let inner = w.into_inner();
        assert!(inner.shut);
        let mut want: Vec<u8> = (0..10u8).flat_map(|i| [i; 3]).collect();
        want.extend([0xaa; 100]);
        want.extend(b"tail");
        assert_eq!(inner.data, want);
    });
}

#[test]
fn copy_moves_everything_and_counts_it() {
    block_on(async {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut r = trickle(&data, 4096);
        let mut w = CountingWriter::default();
        assert_eq!(copy(&mut r, &mut w).await.unwrap(), 100_000);
        assert_eq!(w.data, data);
        // An empty reader copies nothing.
        let mut empty = &b""[..];
        let mut out = Vec::new();
        assert_eq!(copy(&mut empty, &mut out).await.unwrap(), 0);
    });
}

/// A writer that refuses every byte.
struct Full;

impl AsyncWrite for Full {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(0))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn a_writer_that_takes_nothing_is_write_zero() {
    block_on(async {
        let err = Full.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
        let err = copy(&mut &b"data"[..], &mut Full).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    });
}

/// Replaces the buffer it is given with one of its own: a broken `AsyncRead`.
struct Swapper;

static OTHER: std::sync::Mutex<[u8; 4]> = std::sync::Mutex::new([9; 4]);

impl AsyncRead for Swapper {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let other: &'static mut [u8; 4] = Box::leak(Box::new(*OTHER.lock().unwrap()));
        let mut replacement = ReadBuf::new(other);
        replacement.advance(4);
        *buf = replacement;
        Poll::Ready(Ok(()))
    }
}

#[test]
fn a_read_buf_swapped_by_the_reader_is_an_error_not_a_panic() {
    block_on(async {
        let mut v = Vec::new();
        let err = Swapper.read_to_end(&mut v).await.unwrap_err();
        assert!(err.to_string().contains("replaced the ReadBuf"), "{err}");
        assert!(v.is_empty());
        let mut b = [0u8; 4];
        assert!(Swapper.read(&mut b).await.is_err());
    });
}

/// Always ready, one byte per read: a reader that never makes a task wait.
struct Dribble {
    left: usize,
}

impl AsyncRead for Dribble {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.left > 0 && buf.remaining() > 0 {
            buf.put_slice(b"x");
            self.left -= 1;
        }
        Poll::Ready(Ok(()))
    }
}

/// Always ready, one byte per write.
struct OneByte(usize);

impl AsyncWrite for OneByte {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(1);
        self.0 += n;
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Runs `work` on a current-thread runtime next to a task that only raises a flag, and checks
/// that `work` let that task run before it finished: it spent its coop budget and yielded.
fn lets_others_run<F: std::future::Future<Output = ()>>(name: &str, work: F) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    block_on(async {
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let other = weir_runtime::spawn(async move { flag.store(true, Ordering::SeqCst) });
        work.await;
        let saw = ran.load(Ordering::SeqCst);
        other.await.unwrap();
        assert!(
            saw,
            "{name} over always-ready IO never yielded to the other task"
        );
    });
}

const LOOPS: usize = 5_000;

#[test]
fn util_futures_over_ready_io_spend_the_coop_budget() {
    lets_others_run("copy", async {
        let n = copy(&mut Dribble { left: LOOPS }, &mut OneByte(0)).await;
        assert_eq!(n.unwrap(), LOOPS as u64);
    });
    lets_others_run("read_exact", async {
        let mut buf = vec![0; LOOPS];
        let n = Dribble { left: LOOPS }.read_exact(&mut buf).await;
        assert_eq!(n.unwrap(), LOOPS);
    });
    lets_others_run("read_to_end", async {
        let mut v = Vec::with_capacity(LOOPS);
        let n = Dribble { left: LOOPS }.read_to_end(&mut v).await;
        assert_eq!(n.unwrap(), LOOPS);
    });
    lets_others_run("read_to_string", async {
        let mut s = String::new();
        let n = Dribble { left: LOOPS }.read_to_string(&mut s).await;
        assert_eq!(n.unwrap(), LOOPS);
    });
    lets_others_run("read_line", async {
        let mut s = String::new();
        let mut r = BufReader::with_capacity(1, Dribble { left: LOOPS });
        assert_eq!(r.read_line(&mut s).await.unwrap(), LOOPS);
    });
    lets_others_run("read_until", async {
        let mut v = Vec::new();
        let mut r = BufReader::with_capacity(1, Dribble { left: LOOPS });
        assert_eq!(r.read_until(b'\n', &mut v).await.unwrap(), LOOPS);
    });
    lets_others_run("write_all", async {
        let mut w = OneByte(0);
        w.write_all(&[7; LOOPS]).await.unwrap();
        assert_eq!(w.0, LOOPS);
    });
}

/// Hands out `data` in `chunk`-byte reads, then fails with `ConnectionReset`.
struct ThenFail {
    data: &'static [u8],
    chunk: usize,
}

impl AsyncRead for ThenFail {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.data.is_empty() {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        let n = self.chunk.min(self.data.len()).min(buf.remaining());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(()))
    }
}

#[test]
fn read_line_keeps_the_valid_utf8_prefix_on_an_io_error() {
    block_on(async {
        let mut line = String::from("kept:");
        let mut r = BufReader::with_capacity(
            4,
            ThenFail {
                data: "partiæl line".as_bytes(),
                chunk: 3,
            },
        );
        let err = r.read_line(&mut line).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(line, "kept:partiæl line");

        // Bytes that are not UTF-8 are not appended, error or not.
        let mut line = String::from("kept:");
        let mut r = BufReader::new(ThenFail {
            data: &[b'a', 0xff],
            chunk: 2,
        });
        let err = r.read_line(&mut line).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(line, "kept:");
    });
}

#[test]
fn read_to_end_does_not_reallocate_a_vec_that_fits() {
    block_on(async {
        let data = [5u8; 100];
        let mut v = Vec::with_capacity(100);
        let before = v.as_ptr();
        assert_eq!((&data[..]).read_to_end(&mut v).await.unwrap(), 100);
        assert_eq!(v.capacity(), 100, "a Vec that fit the stream was grown");
        assert_eq!(v.as_ptr(), before);
        // An empty stream into an empty Vec allocates nothing.
        let mut empty = Vec::new();
        assert_eq!((&b""[..]).read_to_end(&mut empty).await.unwrap(), 0);
        assert_eq!(empty.capacity(), 0);
        // And a Vec that does not fit still grows to take everything, from a trickle too.
        let big: Vec<u8> = (0..5_000u32).map(|i| i as u8).collect();
        let mut v = Vec::with_capacity(10);
        trickle(&big, 7).read_to_end(&mut v).await.unwrap();
        assert_eq!(v, big);
    });
}
