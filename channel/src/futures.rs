//! The futures of the async operations. Each embeds its waiter node, so waiting allocates
//! nothing; each leaves its queue when dropped (see `waiters.rs` for why that is cancel-safe).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

#[cfg(not(loom))]
use weir_runtime::time::{Instant, Sleep};

use weir_breaker::{Nanos, RawPermit};

use weir_probes::{probe, ChannelOp, Event};

use crate::call_site::CallSite;
use crate::channel::Chan;
#[cfg(not(loom))]
use crate::error::RecvTimeoutError;
#[cfg(not(loom))]
use crate::error::TryRecvError;
use crate::error::{RecvError, SendError};
use crate::guard::Guard;
use crate::runtime_hooks::coop;
use crate::waiters::{Waiter, IDLE};

/// Future of [`Sender::send`](crate::Sender::send).
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, T> {
    chan: &'a Chan<T>,
    node: Waiter<T>,
    waited: bool,
    done: bool,
    coop: bool,
    /// The send probe point's injected faults were consulted already (the `chaos` feature).
    #[cfg_attr(not(feature = "chaos"), allow(dead_code))]
    probed: bool,
    /// Where `send` was called (for the wait probes).
    site: CallSite,
}

/// The wait probes of one poll: the wait starts at the poll that first queued the operation
/// and ends at the poll of a queued operation that returns (cancellation is reported by the
/// channel's `cancel_*`).
#[inline(always)]
fn wait_probes(channel: u64, op: ChannelOp, site: CallSite, was: bool, waits: bool, ready: bool) {
    if !was && waits {
        probe!(Event::ChannelWaitStart {
            channel,
            op,
            location: site.location()
        });
    }
    if waits && ready {
        probe!(Event::ChannelWaitEnd { channel, op });
    }
    let _ = (channel, op, site, was, waits, ready);
}

impl<'a, T> SendFuture<'a, T> {
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub(crate) fn new(chan: &'a Chan<T>, value: T, coop: bool) -> Self {
        SendFuture {
            chan,
            node: Waiter::new(Some(value)),
            waited: false,
            done: false,
            coop,
            probed: false,
            site: CallSite::caller(),
        }
    }

    /// A send whose caller passed the send probe point already (`send_blocking`).
    pub(crate) fn probed(mut self) -> Self {
        self.probed = true;
        self
    }
}

impl<T> SendFuture<'_, T> {
    /// See `Chan::select_state`.
    pub(crate) fn select_state(&self) -> Option<[usize; 2]> {
        self.chan.select_state()
    }
}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `node` is structurally pinned: it is never moved out of the future and is
        // unlinked in `Drop` before the future's memory goes; the other fields are plain data.
        let this = unsafe { self.get_unchecked_mut() };
        if this.done {
            // Polled after completion: the value is gone; report the send as done.
            return Poll::Ready(Ok(()));
        }
        let restore = if this.coop {
            Some(std::task::ready!(coop::poll_proceed(cx)))
        } else {
            None
        };
        // SAFETY: see above.
        let node = unsafe { Pin::new_unchecked(&this.node) };
        // An injected fault refuses the send at its first poll (the `chaos` feature).
        #[cfg(feature = "chaos")]
        if !this.probed && node.state() == IDLE && {
            this.probed = true;
            this.chan.chaos_drop()
        } {
            // SAFETY: the node was never linked (IDLE, first poll): its owner has the slot.
            if let Some(v) = unsafe { node.take_value() } {
                this.done = true;
                return Poll::Ready(Err(SendError(v)));
            }
        }
        let was_waiting = this.waited;
        let out = this.chan.poll_send(node, cx, &mut this.waited);
        wait_probes(
            this.chan.id,
            ChannelOp::Send,
            this.site,
            was_waiting,
            this.waited,
            out.is_ready(),
        );
        if out.is_ready() {
            this.done = true;
            if let Some(r) = restore {
                r.made_progress();
            }
        }
        out
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        let waiting = self.waited && !self.done;
        // A node that is not in a queue and holds no wake-up (IDLE) has nothing to leave or
        // pass on in any flavour: the common case (done at the first poll) stops here.
        if self.node.state() == IDLE && !waiting {
            return;
        }
        // SAFETY: the node was pinned (if ever polled) and is being dropped in place.
        let node = unsafe { Pin::new_unchecked(&self.node) };
        self.chan.cancel_send(node, waiting);
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("channel", &self.chan.id)
            .field("waited", &self.waited)
            .finish()
    }
}

/// Future of [`Receiver::recv`](crate::Receiver::recv).
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a, T> {
    chan: &'a Chan<T>,
    node: Waiter<T>,
    waited: bool,
    done: bool,
    coop: bool,
    /// Breaker bookkeeping; untouched on a plain channel.
    guarded: Guarded,
    /// Where `recv` was called (for the wait probes).
    site: CallSite,
}

/// What a receive on a guarded channel carries between polls.
#[derive(Default)]
struct Guarded {
    /// The circuit was asked (once per receive).
    admitted: bool,
    /// The HalfOpen permit this receive probes with; given back if it ends without a value.
    permit: Option<RawPermit>,
    /// Clock time of the admission (the start of the L3 wait sample).
    started: Nanos,
    /// The receive resolves its own outcome (`recv_checked`): keep the permit on delivery.
    checked: bool,
    /// The L2 hold after a failure (the runtime's yield-and-backoff hook), while it runs.
    #[cfg(not(loom))]
    hold: Option<weir_runtime::task::Backoff>,
}

impl<'a, T> RecvFuture<'a, T> {
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub(crate) fn new(chan: &'a Chan<T>, coop: bool) -> Self {
        RecvFuture {
            chan,
            node: Waiter::new(None),
            waited: false,
            done: false,
            coop,
            guarded: Guarded::default(),
            site: CallSite::caller(),
        }
    }

    /// A receive whose caller resolves the outcome with the permit taken by `take_permit`.
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub(crate) fn new_checked(chan: &'a Chan<T>) -> Self {
        let mut f = Self::new(chan, true);
        f.guarded.checked = true;
        f
    }

    /// The probe permit of a completed checked receive.
    pub(crate) fn take_permit(self: Pin<&mut Self>) -> Option<RawPermit> {
        // SAFETY: only the plain-data `guarded` field is touched; `node` is not moved.
        unsafe { self.get_unchecked_mut() }.guarded.permit.take()
    }

    /// The admission, hold and delivery bookkeeping of a guarded receive, around the plain
    /// poll.
    #[cold]
    fn poll_guarded(
        &mut self,
        guard: &'a Guard<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        if !self.guarded.admitted {
            self.guarded.admitted = true;
            match guard.admit() {
                Ok(permit) => self.guarded.permit = permit,
                Err(retry_after) => return Poll::Ready(Err(RecvError::Rejected { retry_after })),
            }
            self.guarded.started = guard.now();
            // L2: right after a failure, hold the receive unless a value is already there.
            #[cfg(not(loom))]
            if self.coop {
                if let Some(backoff) = guard.hold() {
                    match self.chan.try_recv() {
                        Ok(v) => return Poll::Ready(Ok(self.deliver(guard, v))),
                        Err(TryRecvError::Closed) => return Poll::Ready(self.closed(guard)),
                        Err(_) => self.guarded.hold = Some(backoff),
                    }
                }
            }
        }
        #[cfg(not(loom))]
        if let Some(hold) = &mut self.guarded.hold {
            std::task::ready!(hold.poll_wait(cx));
            self.guarded.hold = None;
        }
        // SAFETY: as in `poll`: the node is structurally pinned.
        let node = unsafe { Pin::new_unchecked(&self.node) };
        match std::task::ready!(self.chan.poll_recv(node, cx, &mut self.waited)) {
            Ok(v) => {
                if self.waited {
                    guard.waited(self.guarded.started);
                }
                Poll::Ready(Ok(self.deliver(guard, v)))
            }
            Err(_) => Poll::Ready(self.closed(guard)),
        }
    }

    fn deliver(&mut self, guard: &Guard<T>, v: T) -> T {
        if !self.guarded.checked {
            guard.delivered(self.guarded.permit.take());
        }
        v
    }

    fn closed(&mut self, guard: &Guard<T>) -> Result<T, RecvError> {
        if let Some(p) = self.guarded.permit.take() {
            guard.release(p);
        }
        Err(RecvError::Closed)
    }

    /// A blocking receive's deadline passed first (`recv_blocking_timeout`): see `timed_out`.
    #[cfg(not(loom))]
    pub(crate) fn time_out(self: Pin<&mut Self>) {
        // SAFETY: `timed_out` touches only the plain-data `guarded` field; `node` is not
        // moved.
        unsafe { self.get_unchecked_mut() }.timed_out();
    }

    /// The deadline passed first: a timeout for L1 (resolving this receive's probe, if any).
    #[cfg(not(loom))]
    fn timed_out(&mut self) {
        if let Some(guard) = &self.chan.guard {
            if self.guarded.admitted {
                let permit = self.guarded.permit.take();
                guard.resolve(permit, weir_breaker::Outcome::Timeout);
            }
        }
    }
}

impl<T> RecvFuture<'_, T> {
    /// See `Chan::select_state`.
    pub(crate) fn select_state(&self) -> Option<[usize; 2]> {
        self.chan.select_state()
    }
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Result<T, RecvError>;

    /// Small enough to inline at the `.await`: a receive that finds the channel closed and
    /// drained before queueing answers here, without a call (whose result, written piecewise
    /// behind the call and copied out whole, stalled on store forwarding).
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: as for `SendFuture`.
        let this = unsafe { self.get_unchecked_mut() };
        if !this.done && !this.waited && this.chan.recv_closed_fast() {
            if this.coop {
                // A closed-and-empty result is progress too (as below).
                std::task::ready!(coop::poll_proceed(cx)).made_progress();
            }
            this.done = true;
            return Poll::Ready(Err(RecvError::Closed));
        }
        this.poll_slow(cx)
    }
}

impl<T> RecvFuture<'_, T> {
    /// The receive path proper (every case but the closed-and-drained answer of `poll`).
    #[inline(never)]
    fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let this = self;
        if this.done {
            // Polled after completion: nothing more to give.
            return Poll::Ready(Err(RecvError::Closed));
        }
        let restore = if this.coop {
            Some(std::task::ready!(coop::poll_proceed(cx)))
        } else {
            None
        };
        let chan = this.chan;
        let was_waiting = this.waited;
        let out = match &chan.guard {
            None => {
                // SAFETY: as for `SendFuture`.
                let node = unsafe { Pin::new_unchecked(&this.node) };
                this.chan.poll_recv(node, cx, &mut this.waited)
            }
            Some(guard) => this.poll_guarded(guard, cx),
        };
        wait_probes(
            chan.id,
            ChannelOp::Recv,
            this.site,
            was_waiting,
            this.waited,
            out.is_ready(),
        );
        if out.is_ready() {
            this.done = true;
            // A closed-and-empty result is progress too: a loop on it still yields when its
            // budget runs out.
            if let Some(r) = restore {
                r.made_progress();
            }
        }
        out
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    /// Small: the common drop (never queued, no permit) is two loads; the queue work is out
    /// of line.
    #[inline]
    fn drop(&mut self) {
        let waiting = self.waited && !self.done;
        // As for `SendFuture`: an IDLE node has nothing to leave or pass on.
        if self.node.state() != IDLE || waiting || self.guarded.permit.is_some() {
            self.leave(waiting);
        }
    }
}

impl<T> RecvFuture<'_, T> {
    /// The drop of a future that queued or holds a probe permit.
    #[inline(never)]
    fn leave(&mut self, waiting: bool) {
        if self.node.state() != IDLE || waiting {
            // SAFETY: as for `SendFuture`.
            let node = unsafe { Pin::new_unchecked(&self.node) };
            self.chan.cancel_recv(node, waiting);
        }
        // A cancelled probe gives its permit back.
        if let (Some(p), Some(guard)) = (self.guarded.permit.take(), &self.chan.guard) {
            guard.release(p);
        }
    }
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture")
            .field("channel", &self.chan.id)
            .field("waited", &self.waited)
            .finish()
    }
}

/// Future of [`Receiver::recv_timeout`](crate::Receiver::recv_timeout) and
/// [`Receiver::recv_deadline`](crate::Receiver::recv_deadline).
#[cfg(not(loom))]
#[must_use = "futures do nothing unless polled"]
pub struct RecvTimeoutFuture<'a, T> {
    recv: RecvFuture<'a, T>,
    sleep: Sleep,
}

#[cfg(not(loom))]
impl<'a, T> RecvTimeoutFuture<'a, T> {
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub(crate) fn new(chan: &'a Chan<T>, deadline: Instant) -> Self {
        RecvTimeoutFuture {
            recv: RecvFuture::new(chan, true),
            sleep: weir_runtime::time::sleep_until(deadline),
        }
    }
}

#[cfg(not(loom))]
impl<T> Future for RecvTimeoutFuture<'_, T> {
    type Output = Result<T, RecvTimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `recv` is structurally pinned (never moved, dropped in place); `sleep` is
        // Unpin.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above.
        let recv = unsafe { Pin::new_unchecked(&mut this.recv) };
        if let Poll::Ready(out) = recv.poll(cx) {
            return Poll::Ready(out.map_err(RecvTimeoutError::from));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => {
                // L2: a timeout is a failure for L1 (and resolves a probe as timed out).
                this.recv.timed_out();
                Poll::Ready(Err(RecvTimeoutError::Timeout))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(not(loom))]
impl<T> fmt::Debug for RecvTimeoutFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvTimeoutFuture")
            .field("recv", &self.recv)
            .field("sleep", &self.sleep)
            .finish()
    }
}

/// Future of `closed()` on either handle.
#[must_use = "futures do nothing unless polled"]
pub struct ClosedFuture<'a, T> {
    chan: &'a Chan<T>,
    node: Waiter<()>,
}

impl<'a, T> ClosedFuture<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>) -> Self {
        ClosedFuture {
            chan,
            node: Waiter::new(None),
        }
    }
}

impl<T> Future for ClosedFuture<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: as for `SendFuture`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as for `SendFuture`.
        let node = unsafe { Pin::new_unchecked(&this.node) };
        this.chan.poll_closed(node, cx)
    }
}

impl<T> Drop for ClosedFuture<'_, T> {
    fn drop(&mut self) {
        // SAFETY: as for `SendFuture`.
        let node = unsafe { Pin::new_unchecked(&self.node) };
        // A close wakes every watcher, so there is no wake-up to pass on.
        self.chan.close_watchers.deregister(node);
    }
}

impl<T> fmt::Debug for ClosedFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClosedFuture")
            .field("channel", &self.chan.id)
            .finish()
    }
}
