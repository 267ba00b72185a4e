//! `PollEvented`: a mio source registered with the current runtime's reactor, and the loop
//! every socket operation runs: spend a unit of coop budget, wait for readiness, try the
//! syscall, and on `WouldBlock` clear that readiness (if no newer event came) and wait again.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::task::{ready, Context, Poll};

use mio::event::Source;

use super::driver::{self, IoHandle};
use super::scheduled_io::{Direction, ScheduledIo, Waiter, WaiterSlot};
use super::{Interest, ReadBuf, Ready};
use crate::net::socket_calls;
use crate::sync::Arc;

/// A registered mio source. Dropping it deregisters the source, then closes it.
pub(crate) struct PollEvented<E: Source> {
    io: Option<E>,
    handle: Arc<IoHandle>,
    shared: Arc<ScheduledIo>,
}

impl<E: Source> PollEvented<E> {
    /// Registers `io` with the reactor of the current runtime.
    pub(crate) fn new(io: E, interest: mio::Interest) -> io::Result<Self> {
        let handle = driver::current()?;
        Self::new_with_handle(io, interest, handle)
    }

    pub(crate) fn new_with_handle(
        mut io: E,
        interest: mio::Interest,
        handle: Arc<IoHandle>,
    ) -> io::Result<Self> {
        let shared = handle.register(&mut io, interest)?;
        Ok(Self {
            io: Some(io),
            handle,
            shared,
        })
    }

    pub(crate) fn get_ref(&self) -> &E {
        // Only `into_inner` (which consumes self) and `drop` take the source out.
        self.io
            .as_ref()
            .expect("weir: PollEvented used after its source was taken")
    }

    pub(crate) fn handle(&self) -> &Arc<IoHandle> {
        &self.handle
    }

    /// Deregisters and returns the source.
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut io = self
            .io
            .take()
            .expect("weir: PollEvented used after its source was taken");
        self.handle.deregister(&self.shared, &mut io)?;
        Ok(io)
    }

    /// Runs `op` once readiness in `dir` allows, retrying while it says `WouldBlock`, with
    /// `cx`'s waker parked as `waiter` (see `scheduled_io.rs`).
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        waiter: Waiter<'_>,
        op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_drained(cx, dir, waiter, op, |_| false)
    }

    /// As [`PollEvented::poll_io`]; `drained(&result)` says that the operation emptied the
    /// socket's buffer (a short read or write), so the readiness it used is spent: it is
    /// cleared at once (if no newer event came), saving the syscall that would only say
    /// `WouldBlock`.
    fn poll_io_drained<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut waiter: Waiter<'_>,
        mut op: impl FnMut(&E) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        let coop = ready!(crate::coop::poll_proceed(cx));
        let io = self.get_ref();
        loop {
            let event = match ready!(self.shared.poll_ready(cx, dir, waiter.reborrow())) {
                Ok(event) => event,
                Err(_) => return Poll::Ready(Err(driver::shutdown_error())),
            };
            match op(io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.shared.clear_readiness(event, dir);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => {
                    if matches!(&result, Ok(r) if drained(r)) {
                        self.shared.clear_readiness(event, dir);
                    }
                    coop.made_progress();
                    return Poll::Ready(result);
                }
            }
        }
    }

    /// Awaits `op` from a `&self` method: any number of such futures may wait on one
    /// direction at once, and each is woken. `slot` is where the future starts:
    /// `WaiterSlot::Idle` (it may take the fast waker) or, on a stream whose fast waker is its
    /// `&mut` poller's, `WaiterSlot::QueueOnly`.
    pub(crate) async fn shared_io<R>(
        &self,
        dir: Direction,
        slot: WaiterSlot,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut guard = SlotGuard {
            shared: &self.shared,
            dir,
            slot,
        };
        poll_fn(|cx| self.poll_io(cx, dir, Waiter::Future(&mut guard.slot), &mut op)).await
    }

    /// Runs `op` once without waiting: `WouldBlock` (readiness it had is then cleared, unless
    /// newer readiness came) if the socket is not ready for it.
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let event = self
            .shared
            .ready_now(dir)
            .map_err(|_| driver::shutdown_error())?;
        let result = op(self.get_ref());
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.shared.clear_readiness(event, dir);
        }
        result
    }

    /// Ready once `dir` has readiness (or its side is closed), parking `cx`'s waker as
    /// `waiter` until then. Spends a unit of coop budget.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        waiter: Waiter<'_>,
    ) -> Poll<io::Result<Ready>> {
        let coop = ready!(crate::coop::poll_proceed(cx));
        match ready!(self.shared.poll_ready(cx, dir, waiter)) {
            Ok(event) => {
                coop.made_progress();
                Poll::Ready(Ok(Ready::from_bits(event.bits())))
            }
            Err(_) => Poll::Ready(Err(driver::shutdown_error())),
        }
    }

    /// Waits until the socket is ready for any of `interest`; what it is ready for. `slot` is
    /// where each direction's waiting starts, as for [`PollEvented::shared_io`].
    pub(crate) async fn ready(&self, interest: Interest, slot: WaiterSlot) -> io::Result<Ready> {
        let mut read = SlotGuard {
            shared: &self.shared,
            dir: Direction::Read,
            slot: slot.fresh(),
        };
        let mut write = SlotGuard {
            shared: &self.shared,
            dir: Direction::Write,
            slot,
        };
        poll_fn(|cx| {
            let coop = ready!(crate::coop::poll_proceed(cx));
            let mut bits = 0;
            let wanted = [
                (interest.is_readable(), &mut read),
                (interest.is_writable(), &mut write),
            ];
            for (_, guard) in wanted.into_iter().filter(|(wanted, _)| *wanted) {
                let dir = guard.dir;
                match self
                    .shared
                    .poll_ready(cx, dir, Waiter::Future(&mut guard.slot))
                {
                    Poll::Ready(Ok(event)) => bits |= event.bits(),
                    Poll::Ready(Err(_)) => return Poll::Ready(Err(driver::shutdown_error())),
                    Poll::Pending => {}
                }
            }
            if bits == 0 {
                return Poll::Pending;
            }
            coop.made_progress();
            Poll::Ready(Ok(Ready::from_bits(bits)))
        })
        .await
    }
}

/// Gives a `&self` future's hold on a direction back when the future completes or is dropped.
struct SlotGuard<'a> {
    shared: &'a ScheduledIo,
    dir: Direction,
    slot: WaiterSlot,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        self.shared.release(self.dir, &mut self.slot);
    }
}

impl<E: Source + AsRawFd> PollEvented<E> {
    /// Reads from a stream socket into `buf`'s unfilled part, straight into possibly
    /// uninitialized memory.
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_recv_stream(cx, buf, 0, Waiter::Exclusive)
    }

    /// As [`PollEvented::poll_read_stream`], with `recv` flags (`MSG_PEEK`), waiting as
    /// `waiter`.
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub(crate) fn poll_recv_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        flags: i32,
        waiter: Waiter<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let len = buf.remaining();
        // A peek leaves the data there: the readiness is not spent.
        let short = move |&n: &usize| flags & libc::MSG_PEEK == 0 && 0 < n && n < len;
        let out = self.poll_io_drained(
            cx,
            Direction::Read,
            waiter,
            |io| {
                // SAFETY: `recv` only writes into the memory, never reads it, and we tell the
                // ReadBuf how much it wrote (below) only after it returns.
                let dst = unsafe { buf.unfilled_mut() };
                socket_calls::recv_uninit(io.as_raw_fd(), dst, flags)
            },
            short,
        );
        if out.is_pending() {
            self.io_wait_probe(false);
        }
        let n = ready!(out)?;
        // SAFETY: the kernel wrote `n` bytes at the start of the unfilled part.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// The `io_wait` probe of an operation on this socket that returned `Pending`.
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    #[inline]
    fn io_wait_probe(&self, write: bool) {
        #[cfg(any(feature = "usdt", feature = "record"))]
        {
            use weir_probes::Event;
            weir_probes::probe!(Event::IoWait {
                fd: self.get_ref().as_raw_fd() as u64,
                write,
                location: std::panic::Location::caller()
            });
        }
        let _ = write;
    }

    /// Writes to a stream socket; a peer that is gone is `BrokenPipe`, never SIGPIPE.
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub(crate) fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        let short = move |&n: &usize| 0 < n && n < len;
        let out = self.poll_io_drained(
            cx,
            Direction::Write,
            Waiter::Exclusive,
            |io| socket_calls::send(io.as_raw_fd(), buf),
            short,
        );
        if out.is_pending() {
            self.io_wait_probe(true);
        }
        out
    }

    /// Gathers `bufs` into one `sendmsg`.
    pub(crate) fn poll_write_stream_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs[..bufs.len().min(socket_calls::MAX_IOV)]
            .iter()
            .map(|b| b.len())
            .fold(0usize, usize::saturating_add);
        let short = move |&n: &usize| 0 < n && n < len;
        self.poll_io_drained(
            cx,
            Direction::Write,
            Waiter::Exclusive,
            |io| socket_calls::send_vectored(io.as_raw_fd(), bufs),
            short,
        )
    }
}

impl<E: Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            // Deregister before the fd closes, so the slot is free for reuse at once. A
            // failure here (the fd was already gone from the poller) changes nothing.
            let _ = self.handle.deregister(&self.shared, &mut io);
        }
    }
}
