//! `copy_bidirectional`: a proxy's inner loop, both directions of two streams at once.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::copy::Copy;
use super::{AsyncRead, AsyncWrite};

/// Copies `a`'s reads into `b` and `b`'s reads into `a` at the same time. When one side's
/// reads end, the other side's writing is flushed and shut down (the end of the stream is
/// passed on) while the other direction carries on. Returns the bytes copied `(a to b, b to
/// a)` once both directions are done, or the first error.
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let mut a_to_b = Transfer::Running(Copy::new());
    let mut b_to_a = Transfer::Running(Copy::new());
    poll_fn(|cx| {
        let ab = a_to_b.poll(cx, a, b)?;
        let ba = b_to_a.poll(cx, b, a)?;
        let (Poll::Ready(ab), Poll::Ready(ba)) = (ab, ba) else {
            return Poll::Pending;
        };
        Poll::Ready(Ok((ab, ba)))
    })
    .await
}

/// One direction of a bidirectional copy.
enum Transfer {
    Running(Copy),
    /// The reader ended after this many bytes; the writer is being shut down.
    ShuttingDown(u64),
    Done(u64),
}

impl Transfer {
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
            match self {
                Transfer::Running(copy) => {
                    let n = ready!(copy.poll(cx, reader, writer))?;
                    *self = Transfer::ShuttingDown(n);
                }
                Transfer::ShuttingDown(n) => {
                    ready!(Pin::new(&mut *writer).poll_shutdown(cx))?;
                    *self = Transfer::Done(*n);
                }
                Transfer::Done(n) => return Poll::Ready(Ok(*n)),
            }
        }
    }
}
