//! The state shared by every handle of a channel, and the operations dispatched to its
//! flavour.

use std::pin::Pin;
use std::task::{Context, Poll};

use weir_probes::{probe, ChannelOp, Event, RecvLatency};

use crate::error::{RecvError, SendError, TryRecvError, TrySendError};
use crate::flavors::{array::Array, list::List, zero::Zero};
use crate::guard::{Closing, Guard};
use crate::sync::{AtomicUsize, Ordering};
use crate::waiters::{WaitQueue, WaitState, Waiter};

pub(crate) enum Flavor<T> {
    Array(Array<T>),
    List(List<T>),
    Zero(Zero<T>),
}

pub(crate) struct Chan<T> {
    pub(crate) flavor: Flavor<T>,
    /// `closed()` futures of either side.
    pub(crate) close_watchers: WaitQueue<()>,
    pub(crate) senders: AtomicUsize,
    pub(crate) receivers: AtomicUsize,
    pub(crate) id: u64,
    pub(crate) name: Option<Box<str>>,
    /// The breaker layers; `None` on a plain channel (its only cost: this test).
    pub(crate) guard: Option<Box<Guard<T>>>,
    /// Injected faults (the `chaos` feature).
    #[cfg(feature = "chaos")]
    pub(crate) chaos: Option<std::sync::Arc<crate::chaos::Faults>>,
    /// Close time and send stamps for the probes' latency fields.
    #[cfg(any(feature = "usdt", feature = "record"))]
    pub(crate) probe_stamps: crate::probe_stamps::ProbeStamps,
}

/// Hands out channel ids: stable for the channel's life, unique in the process.
pub(crate) fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    // Relaxed: uniqueness is all that is needed.
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl<T> Chan<T> {
    pub(crate) fn new(flavor: Flavor<T>, name: Option<Box<str>>) -> Self {
        Chan {
            close_watchers: WaitQueue::new(),
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
            id: next_id(),
            name,
            guard: None,
            #[cfg(feature = "chaos")]
            chaos: None,
            #[cfg(any(feature = "usdt", feature = "record"))]
            probe_stamps: crate::probe_stamps::ProbeStamps::new(match &flavor {
                Flavor::Array(a) => Some(a.capacity()),
                Flavor::List(_) => None,
                Flavor::Zero(_) => Some(0),
            }),
            flavor,
        }
    }

    /// Parked receivers (tasks and threads waiting in `recv`).
    pub(crate) fn waiting_receivers(&self) -> usize {
        match &self.flavor {
            Flavor::Array(a) => a.receivers.waiting(),
            Flavor::List(l) => l.receivers.waiting(),
            Flavor::Zero(z) => z.waiting_receivers(),
        }
    }

    /// The send probe and the guard's observer hook.
    #[inline(always)]
    fn sent_hooks(&self) {
        probe!(Event::ChannelSend { channel: self.id });
        #[cfg(any(feature = "usdt", feature = "record"))]
        self.probe_stamps.sent();
        if let Some(g) = &self.guard {
            g.sent(self);
        }
    }

    /// The receive probe and the guard's observer hook.
    #[inline(always)]
    fn received_hooks(&self) {
        probe!(Event::ChannelRecv {
            channel: self.id,
            latency: self.queued_latency()
        });
        if let Some(g) = &self.guard {
            g.received(self, self.chaos_latency_us());
        }
    }

    /// The send-to-receive delay of the value just taken (behind `channel_recv`'s check).
    #[inline]
    fn queued_latency(&self) -> RecvLatency {
        #[cfg(any(feature = "usdt", feature = "record"))]
        return self.probe_stamps.received();
        #[cfg(not(any(feature = "usdt", feature = "record")))]
        RecvLatency::Unmeasured
    }

    /// A receive answers `Closed`: `channel_recv` with the close-to-return delay.
    #[inline]
    fn answered_closed(&self) {
        probe!(Event::ChannelRecv {
            channel: self.id,
            latency: self.after_close_latency()
        });
    }

    #[inline]
    fn after_close_latency(&self) -> RecvLatency {
        #[cfg(any(feature = "usdt", feature = "record"))]
        return self.probe_stamps.after_close();
        #[cfg(not(any(feature = "usdt", feature = "record")))]
        RecvLatency::Unmeasured
    }

    /// The send probe point of the `chaos` feature: `true` when an injected fault refuses
    /// this send (its value goes back to the sender). An injected close closes the channel
    /// here (the send then finds it closed); an injected producer panic panics here.
    #[inline]
    pub(crate) fn chaos_drop(&self) -> bool {
        #[cfg(feature = "chaos")]
        if let Some(f) = &self.chaos {
            match f.on_send() {
                crate::chaos::SendFault::None => {}
                crate::chaos::SendFault::Drop => return true,
                crate::chaos::SendFault::Close => {
                    self.close();
                }
            }
        }
        false
    }

    /// Whether an injected stall hides the channel's values from receives.
    #[inline]
    pub(crate) fn chaos_stalled(&self) -> bool {
        #[cfg(feature = "chaos")]
        if let Some(f) = &self.chaos {
            return f.stalled();
        }
        false
    }

    /// A receive polled during an injected stall: `Some(out)` answers it (`Pending` parked
    /// until the stall ends, `Closed` once the channel is closed and drained), `None` lets it
    /// go on (no stall).
    #[inline]
    #[cfg_attr(not(feature = "chaos"), allow(unused_variables))]
    fn chaos_stalled_recv(&self, cx: &mut Context<'_>) -> Option<Poll<Result<T, RecvError>>> {
        #[cfg(feature = "chaos")]
        if let Some(f) = &self.chaos {
            if f.stalled() {
                if self.is_closed() && self.is_empty() {
                    return Some(Poll::Ready(Err(RecvError::Closed)));
                }
                if f.park_stalled(cx.waker()) {
                    return Some(Poll::Pending);
                }
            }
        }
        None
    }

    /// Injected extra latency, in microseconds, that L3 adds to each sample.
    #[inline]
    pub(crate) fn chaos_latency_us(&self) -> u64 {
        #[cfg(feature = "chaos")]
        if let Some(f) = &self.chaos {
            return f.extra_latency_us();
        }
        0
    }

    #[inline]
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match &self.flavor {
            Flavor::Array(a) => a.send_now(value, || self.sent_hooks()),
            Flavor::List(l) => l.send_now(value, || self.sent_hooks()),
            Flavor::Zero(z) => {
                z.try_send(value)?;
                self.sent_hooks();
                Ok(())
            }
        }
    }

    #[inline]
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        if let Some(v) = self.guard.as_ref().and_then(|g| g.take_stash()) {
            return Ok(v);
        }
        let res = match &self.flavor {
            Flavor::Array(a) => a.recv_now(|| self.received_hooks()),
            Flavor::List(l) => l.recv_now(|| self.received_hooks()),
            Flavor::Zero(z) => z.try_recv().inspect(|_| self.received_hooks()),
        };
        match res {
            Ok(v) => Ok(v),
            // Rebuilt rather than passed through: the common case (closed or empty) then
            // writes the caller's result directly instead of copying a partly written one.
            Err(TryRecvError::Closed) => match &self.guard {
                None => {
                    self.answered_closed();
                    Err(TryRecvError::Closed)
                }
                Some(g) => match g.on_closed() {
                    Closing::Value(v) => Ok(v),
                    // A move to the backup is in flight: not drained yet.
                    Closing::Settling => Err(TryRecvError::Empty),
                    Closing::Closed => {
                        self.answered_closed();
                        Err(TryRecvError::Closed)
                    }
                },
            },
            Err(e) => Err(e),
        }
    }

    /// A receive for the guard's own moves: the flavour's, waking a sender, with no guard
    /// hooks (the guard keeps its own books).
    pub(crate) fn try_recv_plain(&self) -> Result<T, TryRecvError> {
        // Pops the value's probe stamp too, so later receives stay paired with their sends.
        let probe = || {
            probe!(Event::ChannelRecv {
                channel: self.id,
                latency: self.queued_latency()
            })
        };
        match &self.flavor {
            Flavor::Array(a) => a.recv_now(probe),
            Flavor::List(l) => l.recv_now(probe),
            Flavor::Zero(z) => z.try_recv().inspect(|_| probe()),
        }
    }

    /// A send for the guard's own moves (a value put back): the flavour's, waking a receiver,
    /// with no guard hooks.
    pub(crate) fn try_send_plain(&self, value: T) -> Result<(), TrySendError<T>> {
        let probe = || {
            probe!(Event::ChannelSend { channel: self.id });
            // Stamped like any send (from now): receives pair stamps by sequence.
            #[cfg(any(feature = "usdt", feature = "record"))]
            self.probe_stamps.sent();
        };
        match &self.flavor {
            Flavor::Array(a) => a.send_now(value, probe),
            Flavor::List(l) => l.send_now(value, probe),
            Flavor::Zero(z) => z.try_send(value).inspect(|()| probe()),
        }
    }

    /// The words whose values decide every operation's readiness, for `select!`'s moment
    /// of decision: two equal reads mean no send, receive or close completed in between.
    /// `None` on a guarded channel (its admission depends on more than the channel).
    pub(crate) fn select_state(&self) -> Option<[usize; 2]> {
        if self.guard.is_some() {
            return None;
        }
        match &self.flavor {
            Flavor::Array(a) => Some(a.state_words()),
            Flavor::List(l) => Some(l.state_words()),
            Flavor::Zero(z) => Some(z.state_words()),
        }
    }

    /// The first try of a plain receive that has not queued (ring and list; a rendezvous
    /// pairs under its lock in `poll_recv`, so it answers `Empty` here and goes there).
    /// One dispatch on the flavour for the receive and the sender's wake-up; the result is
    /// rebuilt rather than passed through, so it is written whole.
    #[inline(always)]
    pub(crate) fn try_recv_fresh(&self) -> Result<T, TryRecvError> {
        let res = match &self.flavor {
            Flavor::Array(a) => a.recv_now(|| self.received_hooks()),
            Flavor::List(l) => l.recv_now(|| self.received_hooks()),
            Flavor::Zero(_) => return Err(TryRecvError::Empty),
        };
        match res {
            Ok(v) => Ok(v),
            Err(TryRecvError::Closed) => {
                self.answered_closed();
                Err(TryRecvError::Closed)
            }
            Err(_) => Err(TryRecvError::Empty),
        }
    }

    /// The first try of a send that has not queued (ring and list; a rendezvous answers
    /// `Full` here and pairs in `poll_send`). One dispatch, as for `try_recv_fresh`.
    #[inline(always)]
    pub(crate) fn try_send_fresh(&self, value: T) -> Result<(), TrySendError<T>> {
        match &self.flavor {
            Flavor::Array(a) => a.send_now(value, || self.sent_hooks()),
            Flavor::List(l) => l.send_now(value, || self.sent_hooks()),
            Flavor::Zero(_) => Err(TrySendError::Full(value)),
        }
    }

    /// Polls a send whose value is in `node`'s slot.
    pub(crate) fn poll_send(
        &self,
        node: Pin<&Waiter<T>>,
        cx: &mut Context<'_>,
        waited: &mut bool,
    ) -> Poll<Result<(), SendError<T>>> {
        match &self.flavor {
            Flavor::Zero(z) => {
                let out = z.poll_send(node, cx, waited);
                if let Poll::Ready(Ok(())) = out {
                    self.sent_hooks();
                }
                out
            }
            Flavor::List(l) => l.poll_send(node, || self.sent_hooks()),
            Flavor::Array(a) => a.poll_send(node, cx, waited, || self.sent_hooks()),
        }
    }

    /// Polls a receive; rendezvous values arrive in `node`'s slot.
    pub(crate) fn poll_recv(
        &self,
        node: Pin<&Waiter<T>>,
        cx: &mut Context<'_>,
        waited: &mut bool,
    ) -> Poll<Result<T, RecvError>> {
        // An injected stall (the `chaos` feature) holds every receive: one parked on the
        // queue before the stall leaves it first (passing on a wake-up it got), except on a
        // rendezvous, where a value may already sit in its node.
        if self.chaos_stalled() {
            if node.state() != WaitState::Idle && !matches!(self.flavor, Flavor::Zero(_)) {
                self.cancel_recv(node, false);
            }
            if node.state() == WaitState::Idle {
                if let Some(out) = self.chaos_stalled_recv(cx) {
                    return out;
                }
            }
        }
        // A value left by a migration race (see `Guard::migrate`) goes first; a node that is
        // linked already finds it when it completes (below).
        if node.state() == WaitState::Idle {
            if let Some(v) = self.guard.as_ref().and_then(|g| g.take_stash()) {
                return Poll::Ready(Ok(v));
            }
        }
        let out = match &self.flavor {
            Flavor::Zero(z) => {
                let out = z.poll_recv(node, cx, waited);
                if let Poll::Ready(Ok(_)) = out {
                    probe!(Event::ChannelRecv {
                        channel: self.id,
                        latency: self.queued_latency()
                    });
                    if let Some(g) = &self.guard {
                        g.received(self, self.chaos_latency_us());
                    }
                }
                out
            }
            Flavor::List(l) => l.poll_recv(node, cx, waited, || self.received_hooks()),
            Flavor::Array(a) => a.poll_recv(node, cx, waited, || self.received_hooks()),
        };
        let out = match (out, &self.guard) {
            (Poll::Ready(Err(RecvError::Closed)), Some(g)) => match g.on_closed() {
                Closing::Value(v) => Poll::Ready(Ok(v)),
                // A move to the backup is in flight (see `guard/migrate.rs`): poll again.
                Closing::Settling => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Closing::Closed => Poll::Ready(Err(RecvError::Closed)),
            },
            (out, _) => out,
        };
        if let Poll::Ready(Err(RecvError::Closed)) = out {
            self.answered_closed();
        }
        out
    }

    /// A send future is dropped (after or without completing).
    pub(crate) fn cancel_send(&self, node: Pin<&Waiter<T>>, waited: bool) {
        match &self.flavor {
            Flavor::Zero(z) => z.cancel_send(node),
            // A wake-up the future will not use goes to the next sender.
            Flavor::Array(a) => a.cancel_send(node),
            Flavor::List(_) => {}
        }
        if waited {
            probe!(Event::ChannelWaitEnd {
                channel: self.id,
                op: ChannelOp::Send
            });
        }
    }

    /// A receive future is dropped (after or without completing).
    pub(crate) fn cancel_recv(&self, node: Pin<&Waiter<T>>, waited: bool) {
        match &self.flavor {
            Flavor::Zero(z) => z.cancel_recv(node),
            Flavor::Array(a) => a.cancel_recv(node),
            Flavor::List(l) => l.cancel_recv(node),
        }
        if waited {
            probe!(Event::ChannelWaitEnd {
                channel: self.id,
                op: ChannelOp::Recv
            });
        }
    }

    /// Closes the channel; `true` for the call that closed it.
    pub(crate) fn close(&self) -> bool {
        // Before the close itself, so that a receiver the close wakes reads the time.
        #[cfg(any(feature = "usdt", feature = "record"))]
        self.probe_stamps.closed();
        let woken = match &self.flavor {
            Flavor::Array(a) => a.close_and_wake(),
            Flavor::List(l) => l.close_and_wake(),
            Flavor::Zero(z) => match z.close() {
                (false, _) => None,
                (true, n) => Some(n),
            },
        };
        let Some(woken) = woken else {
            return false;
        };
        let woken = woken + self.close_watchers.notify_all();
        probe!(Event::ChannelClose {
            channel: self.id,
            woken: u32::try_from(woken).unwrap_or(u32::MAX)
        });
        let _ = woken;
        true
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        match &self.flavor {
            Flavor::Array(a) => a.is_closed(),
            Flavor::List(l) => l.is_closed(),
            Flavor::Zero(z) => z.is_closed(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.flavor {
            Flavor::Array(a) => a.len(),
            Flavor::List(l) => l.len(),
            Flavor::Zero(z) => z.len(),
        }
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        match &self.flavor {
            Flavor::Array(a) => Some(a.capacity()),
            Flavor::List(_) => None,
            Flavor::Zero(_) => Some(0),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match &self.flavor {
            Flavor::Array(a) => a.is_empty(),
            Flavor::List(l) => l.is_empty(),
            Flavor::Zero(z) => z.len() == 0,
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        match &self.flavor {
            Flavor::Array(a) => a.is_full(),
            Flavor::List(_) => false,
            Flavor::Zero(_) => true,
        }
    }

    /// Polls a `closed()` future.
    pub(crate) fn poll_closed(&self, node: Pin<&Waiter<()>>, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_closed() {
            self.close_watchers.deregister(node);
            return Poll::Ready(());
        }
        if node.state() != WaitState::Idle && self.close_watchers.poll_linked(node, cx.waker()) {
            return Poll::Pending;
        }
        self.close_watchers.register(node, cx.waker());
        // The close sets its mark before taking the watchers' lock, so either it finds us
        // linked or this re-check (after our locked registration) sees the mark.
        if self.is_closed() {
            self.close_watchers.deregister(node);
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Counts in one more sender (a clone of a live one, or the guard's hold on a backup).
    #[inline]
    pub(crate) fn acquire_sender(&self) {
        // Relaxed: the new sender is derived from a live one, so the count cannot be zero.
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    /// A sender goes; the last one closes the channel.
    #[inline]
    pub(crate) fn release_sender(&self) {
        // AcqRel: the last sender's close happens after every other sender's operations.
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close();
        }
    }

    pub(crate) fn sender_count(&self) -> usize {
        // SeqCst: a plain snapshot; counts change with clones and drops.
        self.senders.load(Ordering::SeqCst)
    }

    pub(crate) fn receiver_count(&self) -> usize {
        // SeqCst: as above.
        self.receivers.load(Ordering::SeqCst)
    }
}
