//! `PollEvented`: a mio source registered with the current runtime's reactor, and the loop
//! every socket operation runs: spend a unit of coop budget, wait for readiness, try the
//! syscall, and on `WouldBlock` clear that readiness (if no newer event came) and wait again.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::task::{ready, Context, Poll};

use mio::event::Source;
use mio::Interest;

use super::driver::{self, IoHandle};
use super::scheduled_io::{Direction, ScheduledIo, WaiterSlot};
use super::ReadBuf;
use crate::sync::Arc;

/// A registered mio source. Dropping it deregisters the source, then closes it.
pub(crate) struct PollEvented<E: Source> {
    io: Option<E>,
    handle: Arc<IoHandle>,
    shared: Arc<ScheduledIo>,
}

impl<E: Source> PollEvented<E> {
    /// Registers `io` with the reactor of the current runtime.
    pub(crate) fn new(io: E, interest: Interest) -> io::Result<Self> {
        let handle = driver::current()?;
        Self::new_with_handle(io, interest, handle)
    }

    pub(crate) fn new_with_handle(
        mut io: E,
        interest: Interest,
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

    /// Runs `op` once readiness in `dir` allows, retrying while it says `WouldBlock`.
    ///
    /// `slot` is `None` when the caller has exclusive access to `dir` (through `&mut`), and
    /// the future's own slot for futures of `&self` methods (see `scheduled_io.rs`).
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        slot: Option<&mut WaiterSlot>,
        op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_drained(cx, dir, slot, op, |_| false)
    }

    /// As [`PollEvented::poll_io`]; `drained(&result)` says that the operation emptied the
    /// socket's buffer (a short read or write), so the readiness it used is spent: it is
    /// cleared at once (if no newer event came), saving the syscall that would only say
    /// `WouldBlock`.
    fn poll_io_drained<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut slot: Option<&mut WaiterSlot>,
        mut op: impl FnMut(&E) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        let coop = ready!(crate::coop::poll_proceed(cx));
        let io = self.get_ref();
        loop {
            let event = match ready!(self.shared.poll_ready(cx, dir, slot.as_deref_mut())) {
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
    /// direction at once, and each is woken.
    pub(crate) async fn shared_io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut guard = SlotGuard {
            shared: &self.shared,
            dir,
            slot: WaiterSlot::Idle,
        };
        poll_fn(|cx| self.poll_io(cx, dir, Some(&mut guard.slot), &mut op)).await
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
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let len = buf.remaining();
        let short = move |&n: &usize| 0 < n && n < len;
        let n = ready!(self.poll_io_drained(
            cx,
            Direction::Read,
            None,
            |io| {
                // SAFETY: `recv` only writes into the memory, never reads it, and we tell the
                // ReadBuf how much it wrote (below) only after it returns.
                let dst = unsafe { buf.unfilled_mut() };
                // SAFETY: `dst` is valid for writes of `dst.len()` bytes for the whole call, and
                // the fd is open (we hold the source).
                byte_count(unsafe {
                    libc::recv(io.as_raw_fd(), dst.as_mut_ptr().cast(), dst.len(), 0)
                })
            },
            short
        ))?;
        // SAFETY: the kernel wrote `n` bytes at the start of the unfilled part.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// Writes to a stream socket; a peer that is gone is `BrokenPipe`, never SIGPIPE.
    pub(crate) fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        let short = move |&n: &usize| 0 < n && n < len;
        self.poll_io_drained(
            cx,
            Direction::Write,
            None,
            |io| {
                // SAFETY: `buf` is valid for reads of `buf.len()` bytes; the fd is open.
                byte_count(unsafe {
                    libc::send(
                        io.as_raw_fd(),
                        buf.as_ptr().cast(),
                        buf.len(),
                        libc::MSG_NOSIGNAL,
                    )
                })
            },
            short,
        )
    }

    /// Gathers `bufs` into one `sendmsg`.
    pub(crate) fn poll_write_stream_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let count = bufs.len().min(MAX_IOV);
        let len = bufs[..count]
            .iter()
            .map(|b| b.len())
            .fold(0usize, usize::saturating_add);
        let short = move |&n: &usize| 0 < n && n < len;
        self.poll_io_drained(
            cx,
            Direction::Write,
            None,
            |io| {
                // SAFETY: an all-zero msghdr is a valid empty message.
                let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
                // `IoSlice` is ABI-compatible with `iovec` on Unix (std guarantees it); sendmsg
                // only reads through the pointer.
                msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
                msg.msg_iovlen = count as _;
                // SAFETY: `msg` points at `count` valid iovecs that outlive the call; the fd is
                // open.
                byte_count(unsafe { libc::sendmsg(io.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) })
            },
            short,
        )
    }
}

/// A byte-count syscall's result: negative is the OS error in `errno`.
fn byte_count(n: libc::ssize_t) -> io::Result<usize> {
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Most buffers one `sendmsg` takes (Linux's IOV_MAX).
const MAX_IOV: usize = 1024;

impl<E: Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            // Deregister before the fd closes, so the slot is free for reuse at once. A
            // failure here (the fd was already gone from the poller) changes nothing.
            let _ = self.handle.deregister(&self.shared, &mut io);
        }
    }
}
