//! The futures of the async operations. Each embeds its waiter node, so waiting allocates
//! nothing; each leaves its queue when dropped (see `waiters.rs` for why that is cancel-safe).

use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
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
use crate::error::{RecvError, SendError, TryRecvError, TrySendError};
use crate::guard::Guard;
use crate::runtime_hooks::coop;
use crate::waiters::{WaitState, Waiter};

/// Future of [`Sender::send`](crate::Sender::send).
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, T> {
    chan: &'a Chan<T>,
    /// The value, until the send completes or queues (its value then moves into the node).
    value: Option<T>,
    /// The waiter node, built at the first poll that has to queue (and at once for a
    /// rendezvous): a send that completes at once never writes it. `ManuallyDrop` so the
    /// common drop (never queued) is one inline test, not a call into drop glue.
    slow: ManuallyDrop<Option<SendSlow<T>>>,
    done: bool,
    coop: bool,
    /// The send probe point's injected faults were consulted already (the `chaos` feature).
    #[cfg_attr(not(feature = "chaos"), allow(dead_code))]
    probed: bool,
    /// Where `send` was called (for the wait probes).
    site: CallSite,
}

/// The part of a send that queued.
struct SendSlow<T> {
    node: Waiter<T>,
    waited: bool,
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

/// Spends one coop unit when `coop` (a `Pending` here means the budget is spent).
#[inline(always)]
fn charge(coop: bool, cx: &mut Context<'_>) -> Poll<Option<coop::RestoreOnPending>> {
    if coop {
        coop::poll_proceed(cx).map(Some)
    } else {
        Poll::Ready(None)
    }
}

/// The operation completed (a closed answer is progress too: a loop on it still yields when
/// its budget runs out).
#[inline(always)]
fn progress(restore: Option<coop::RestoreOnPending>) {
    if let Some(r) = restore {
        r.made_progress();
    }
}

impl<'a, T> SendFuture<'a, T> {
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    #[inline]
    pub(crate) fn new(chan: &'a Chan<T>, value: T, coop: bool) -> Self {
        SendFuture {
            chan,
            value: Some(value),
            slow: ManuallyDrop::new(None),
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

    /// Inline: the first poll of a send that finds room completes here, at the `.await`,
    /// without building a waiter node; everything else is out of line (`poll_queued`).
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `slow` (the waiter node) is structurally pinned: it is written once, while
        // still `None`, never moved out of the future, and unlinked in `Drop` before the
        // future's memory goes; the other fields are plain data and never pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if this.done {
            // Polled after completion: the value is gone; report the send as done.
            return Poll::Ready(Ok(()));
        }
        let restore = std::task::ready!(charge(this.coop, cx));
        if this.slow.is_none() {
            let Some(value) = this.value.take() else {
                // Unreachable: a send that has not queued nor completed holds its value.
                this.done = true;
                return Poll::Ready(Ok(()));
            };
            // An injected fault refuses the send at its first poll (the `chaos` feature).
            #[cfg(feature = "chaos")]
            if !this.probed && {
                this.probed = true;
                this.chan.chaos_drop()
            } {
                this.done = true;
                return Poll::Ready(Err(SendError(value)));
            }
            match this.chan.try_send_fresh(value) {
                Ok(()) => {
                    this.done = true;
                    progress(restore);
                    return Poll::Ready(Ok(()));
                }
                Err(TrySendError::Closed(v)) => {
                    this.done = true;
                    progress(restore);
                    return Poll::Ready(Err(SendError(v)));
                }
                Err(TrySendError::Full(v)) => {
                    *this.slow = Some(SendSlow {
                        node: Waiter::new(Some(v)),
                        waited: false,
                    });
                }
            }
        }
        this.poll_queued(cx, restore)
    }
}

impl<T> SendFuture<'_, T> {
    /// The flavour's wait protocol, once the send has a node.
    #[inline(never)]
    fn poll_queued(
        &mut self,
        cx: &mut Context<'_>,
        restore: Option<coop::RestoreOnPending>,
    ) -> Poll<Result<(), SendError<T>>> {
        let chan = self.chan;
        let Some(slow) = self.slow.as_mut() else {
            // Unreachable: `poll` built the node.
            return Poll::Ready(Ok(()));
        };
        // SAFETY: see `poll`: the node is structurally pinned.
        let node = unsafe { Pin::new_unchecked(&slow.node) };
        let was_waiting = slow.waited;
        let out = chan.poll_send(node, cx, &mut slow.waited);
        wait_probes(
            chan.id,
            ChannelOp::Send,
            self.site,
            was_waiting,
            slow.waited,
            out.is_ready(),
        );
        if out.is_ready() {
            self.done = true;
            progress(restore);
        }
        out
    }
}

impl<T> Drop for SendFuture<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // A send that never queued has nothing to leave (its value drops with the future).
        if self.slow.is_some() {
            self.leave();
        }
    }
}

impl<T> SendFuture<'_, T> {
    /// The drop of a send that has a node.
    #[inline(never)]
    fn leave(&mut self) {
        if let Some(slow) = &*self.slow {
            let waiting = slow.waited && !self.done;
            // A node that is not in a queue and holds no wake-up (Idle) has nothing to leave
            // or pass on in any flavour.
            if slow.node.state() != WaitState::Idle || waiting {
                // SAFETY: the node was pinned and is being dropped in place.
                let node = unsafe { Pin::new_unchecked(&slow.node) };
                self.chan.cancel_send(node, waiting);
            }
        }
        // SAFETY: dropped once, here, in place (the node is unlinked by now); `slow` is not
        // touched again.
        unsafe { ManuallyDrop::drop(&mut self.slow) };
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("channel", &self.chan.id)
            .field("waited", &self.slow.as_ref().is_some_and(|s| s.waited))
            .finish()
    }
}

/// Future of [`Receiver::recv`](crate::Receiver::recv).
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a, T> {
    chan: &'a Chan<T>,
    /// The waiter node and the breaker's bookkeeping, built at the first poll that has to
    /// queue (at once on a guarded channel or a rendezvous): a plain receive that completes
    /// at once never writes them. `ManuallyDrop` as for `SendFuture`.
    slow: ManuallyDrop<Option<RecvSlow<T>>>,
    done: bool,
    coop: bool,
    /// The receive resolves its own outcome (`recv_checked`): keep the permit on delivery.
    checked: bool,
    /// Where `recv` was called (for the wait probes).
    site: CallSite,
}

/// The part of a receive that queued or is guarded.
struct RecvSlow<T> {
    node: Waiter<T>,
    waited: bool,
    /// Breaker bookkeeping; untouched on a plain channel.
    guarded: Guarded,
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
    /// The L2 hold after a failure (the runtime's yield-and-backoff hook), while it runs.
    #[cfg(not(loom))]
    hold: Option<weir_runtime::task::Backoff>,
}

impl Guarded {
    fn deliver<T>(&mut self, guard: &Guard<T>, checked: bool, v: T) -> T {
        if !checked {
            guard.delivered(self.permit.take());
        }
        v
    }

    fn closed<T>(&mut self, guard: &Guard<T>) -> Result<T, RecvError> {
        if let Some(p) = self.permit.take() {
            guard.release(p);
        }
        Err(RecvError::Closed)
    }
}

impl<'a, T> RecvFuture<'a, T> {
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    #[inline]
    pub(crate) fn new(chan: &'a Chan<T>, coop: bool) -> Self {
        RecvFuture {
            chan,
            slow: ManuallyDrop::new(None),
            done: false,
            coop,
            checked: false,
            site: CallSite::caller(),
        }
    }

    /// A receive whose caller resolves the outcome with the permit taken by `take_permit`.
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub(crate) fn new_checked(chan: &'a Chan<T>) -> Self {
        let mut f = Self::new(chan, true);
        f.checked = true;
        f
    }

    /// The probe permit of a completed checked receive.
    pub(crate) fn take_permit(self: Pin<&mut Self>) -> Option<RawPermit> {
        // SAFETY: only the plain-data `guarded` field is touched; the node is not moved.
        let this = unsafe { self.get_unchecked_mut() };
        this.slow.as_mut().and_then(|s| s.guarded.permit.take())
    }

    /// A blocking receive's deadline passed first (`recv_blocking_timeout`): see `timed_out`.
    #[cfg(not(loom))]
    pub(crate) fn time_out(self: Pin<&mut Self>) {
        // SAFETY: `timed_out` touches only the plain-data `guarded` field; the node is not
        // moved.
        unsafe { self.get_unchecked_mut() }.timed_out();
    }

    /// The deadline passed first: a timeout for L1 (resolving this receive's probe, if any).
    #[cfg(not(loom))]
    fn timed_out(&mut self) {
        if let (Some(guard), Some(slow)) = (&self.chan.guard, self.slow.as_mut()) {
            if slow.guarded.admitted {
                let permit = slow.guarded.permit.take();
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

    /// Inline: the first poll of a plain receive that finds a value, or the channel closed
    /// and drained, answers here, at the `.await`, without building a waiter node (whose
    /// piecewise writes, copied out whole, stalled on store forwarding) and without a call.
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: as for `SendFuture`.
        let this = unsafe { self.get_unchecked_mut() };
        if this.done {
            // Polled after completion: nothing more to give.
            return Poll::Ready(Err(RecvError::Closed));
        }
        let restore = std::task::ready!(charge(this.coop, cx));
        if this.slow.is_none() {
            if this.chan.guard.is_none() && !this.chan.chaos_stalled() {
                match this.chan.try_recv_fresh() {
                    Ok(v) => {
                        this.done = true;
                        progress(restore);
                        return Poll::Ready(Ok(v));
                    }
                    Err(TryRecvError::Closed) => {
                        this.done = true;
                        progress(restore);
                        return Poll::Ready(Err(RecvError::Closed));
                    }
                    Err(_) => {}
                }
            }
            *this.slow = Some(RecvSlow {
                node: Waiter::new(None),
                waited: false,
                guarded: Guarded::default(),
            });
        }
        this.poll_queued(cx, restore)
    }
}

impl<T> RecvFuture<'_, T> {
    /// The receive path proper: the flavour's wait protocol and the guard's bookkeeping.
    #[inline(never)]
    fn poll_queued(
        &mut self,
        cx: &mut Context<'_>,
        restore: Option<coop::RestoreOnPending>,
    ) -> Poll<Result<T, RecvError>> {
        let chan = self.chan;
        let Some(slow) = self.slow.as_mut() else {
            // Unreachable: `poll` built it.
            return Poll::Ready(Err(RecvError::Closed));
        };
        let was_waiting = slow.waited;
        let out = match &chan.guard {
            None => {
                // SAFETY: as for `SendFuture`.
                let node = unsafe { Pin::new_unchecked(&slow.node) };
                chan.poll_recv(node, cx, &mut slow.waited)
            }
            Some(guard) => slow.poll_guarded(chan, guard, self.coop, self.checked, cx),
        };
        wait_probes(
            chan.id,
            ChannelOp::Recv,
            self.site,
            was_waiting,
            slow.waited,
            out.is_ready(),
        );
        if out.is_ready() {
            self.done = true;
            progress(restore);
        }
        out
    }
}

impl<T> RecvSlow<T> {
    /// The admission, hold and delivery bookkeeping of a guarded receive, around the plain
    /// poll.
    #[cold]
    #[cfg_attr(loom, allow(unused_variables))]
    fn poll_guarded(
        &mut self,
        chan: &Chan<T>,
        guard: &Guard<T>,
        coop: bool,
        checked: bool,
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
            if coop {
                if let Some(backoff) = guard.hold() {
                    match chan.try_recv() {
                        Ok(v) => return Poll::Ready(Ok(self.guarded.deliver(guard, checked, v))),
                        Err(TryRecvError::Closed) => {
                            return Poll::Ready(self.guarded.closed(guard))
                        }
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
        // SAFETY: as for `SendFuture`: the node is structurally pinned.
        let node = unsafe { Pin::new_unchecked(&self.node) };
        match std::task::ready!(chan.poll_recv(node, cx, &mut self.waited)) {
            Ok(v) => {
                if self.waited {
                    guard.waited(self.guarded.started);
                }
                Poll::Ready(Ok(self.guarded.deliver(guard, checked, v)))
            }
            Err(_) => Poll::Ready(self.guarded.closed(guard)),
        }
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    /// Small: the common drop (never queued) is one test; the queue work is out of line.
    #[inline]
    fn drop(&mut self) {
        if self.slow.is_some() {
            self.leave();
        }
    }
}

impl<T> RecvFuture<'_, T> {
    /// The drop of a receive that has a node (queued, or on a guarded channel).
    #[inline(never)]
    fn leave(&mut self) {
        if let Some(slow) = &mut *self.slow {
            let waiting = slow.waited && !self.done;
            // As for `SendFuture`: an Idle node has nothing to leave or pass on.
            if slow.node.state() != WaitState::Idle || waiting {
                // SAFETY: as for `SendFuture`.
                let node = unsafe { Pin::new_unchecked(&slow.node) };
                self.chan.cancel_recv(node, waiting);
            }
            // A cancelled probe gives its permit back.
            if let (Some(p), Some(guard)) = (slow.guarded.permit.take(), &self.chan.guard) {
                guard.release(p);
            }
        }
        // SAFETY: as for `SendFuture::leave`.
        unsafe { ManuallyDrop::drop(&mut self.slow) };
    }
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture")
            .field("channel", &self.chan.id)
            .field("waited", &self.slow.as_ref().is_some_and(|s| s.waited))
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
