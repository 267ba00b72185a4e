//! `Sender` and `Receiver`: the two handles of a channel.

use std::fmt;
#[cfg(not(loom))]
use std::time::Duration;

use crate::block_on::block_on;
use crate::channel::Chan;
#[cfg(not(loom))]
use crate::error::RecvTimeoutError;
use crate::error::{RecvError, SendError, TryRecvError, TrySendError};
#[cfg(not(loom))]
use crate::futures::RecvTimeoutFuture;
use crate::futures::{ClosedFuture, RecvFuture, SendFuture};
use crate::guard::Backup;
use crate::sync::{Arc, Ordering};
use weir_breaker::{Evaluation, Outcome, State, Transition};

/// The sending half of a channel. Clone it for more producers; the channel closes when the
/// last sender (or the last receiver) is dropped, or when either side calls `close`.
pub struct Sender<T> {
    pub(crate) chan: Arc<Chan<T>>,
}

/// The receiving half of a channel. Clone it for more consumers (each value goes to one).
pub struct Receiver<T> {
    pub(crate) chan: Arc<Chan<T>>,
}

macro_rules! shared_methods {
    () => {
        /// Closes the channel. Idempotent: returns `true` only for the call that closed it.
        ///
        /// After the close, sends fail and return their value; receives drain what is
        /// buffered and then fail with `Closed` at once. Every parked sender and receiver
        /// is woken.
        pub fn close(&self) -> bool {
            self.chan.close()
        }

        /// True once the channel is closed.
        pub fn is_closed(&self) -> bool {
            self.chan.is_closed()
        }

        /// Waits until the channel is closed.
        pub fn closed(&self) -> ClosedFuture<'_, T> {
            ClosedFuture::new(&self.chan)
        }

        /// Number of live senders.
        pub fn sender_count(&self) -> usize {
            self.chan.sender_count()
        }

        /// Number of live receivers.
        pub fn receiver_count(&self) -> usize {
            self.chan.receiver_count()
        }

        /// Values buffered now. A rendezvous channel buffers nothing (it may briefly hold a
        /// value given to a receiver that was cancelled before returning it).
        pub fn len(&self) -> usize {
            self.chan.len()
        }

        /// The buffer's capacity: `Some(0)` for a rendezvous, `None` for unbounded.
        pub fn capacity(&self) -> Option<usize> {
            self.chan.capacity()
        }

        /// True when no value is buffered.
        pub fn is_empty(&self) -> bool {
            self.chan.is_empty()
        }

        /// True when a send would have to wait: the buffer is full. Always true for a
        /// rendezvous channel (it has no room; a send waits for a receiver), never for an
        /// unbounded one.
        pub fn is_full(&self) -> bool {
            self.chan.is_full()
        }

        /// The channel's id: stable for its life, unique in the process, the one probes
        /// report.
        pub fn id(&self) -> u64 {
            self.chan.id
        }

        /// The name given with [`Builder::name`](crate::Builder::name).
        pub fn name(&self) -> Option<&str> {
            self.chan.name.as_deref()
        }

        /// True if `self` and `other` belong to the same channel.
        pub fn same_channel(&self, other: &Self) -> bool {
            Arc::ptr_eq(&self.chan, &other.chan)
        }

        /// The L1 circuit's state; `None` without [`Builder::breaker`](crate::Builder::breaker).
        pub fn breaker_state(&self) -> Option<State> {
            self.chan.guard.as_ref().and_then(|g| g.state())
        }

        /// A full reading of the L1 circuit (counts, probes in flight, transitions).
        pub fn breaker_status(&self) -> Option<weir_breaker::CircuitStatus> {
            self.chan
                .guard
                .as_ref()
                .and_then(|g| g.circuit.as_ref())
                .map(|c| c.status())
        }

        /// The L1 circuit itself, for operator overrides (`force_open`, `disable`, `reset`).
        pub fn circuit(&self) -> Option<&weir_breaker::Circuit> {
            self.chan.guard.as_ref().and_then(|g| g.circuit.as_ref())
        }

        /// The latest L3 evaluation: short and long P99.9, slope, prediction, whether and
        /// since when the channel is degraded. `None` without [`Builder::slo`](crate::Builder::slo)
        /// or before the first evaluation.
        pub fn slo_status(&self) -> Option<Evaluation> {
            self.chan.guard.as_ref().and_then(|g| g.slo_status())
        }

        /// Runs an L3 evaluation now if one is due (evaluations otherwise happen on the send
        /// and receive paths; a status loop on an idle channel calls this).
        pub fn slo_tick(&self) -> Option<Evaluation> {
            self.chan.guard.as_ref().and_then(|g| g.tick(&self.chan))
        }

        /// Messages that were queued on this channel when L3 degraded it and were handed to
        /// the backup since (see [`Builder::backup`](crate::Builder::backup)).
        pub fn migrated_to_backup(&self) -> u64 {
            self.chan.guard.as_ref().map_or(0, |g| g.migrated())
        }

        /// Whether L3 has the channel degraded (sends go to the backup).
        pub fn is_degraded(&self) -> bool {
            self.chan
                .guard
                .as_ref()
                .and_then(|g| g.slo.as_ref())
                .is_some_and(|s| s.is_degraded())
        }

        /// Receivers parked on the channel now (tasks and threads waiting in a receive).
        pub fn waiting_receivers(&self) -> usize {
            self.chan.waiting_receivers()
        }
    };
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room (or, on a rendezvous, for a receiver to take it).
    ///
    /// Fails with the value if the channel is or becomes closed first.
    ///
    /// Cancel-safe: dropping the future before it completes leaves no waiter behind, and on
    /// a buffered channel the value was not sent (it is dropped with the future). On a
    /// rendezvous a waiting sender's value is taken by an arriving receiver, so a send that
    /// is dropped *after* a receiver took its value did happen; a losing `select!` branch is
    /// the exception — the select commits atomically with its partner, so a send branch that
    /// loses delivered nothing. To bound a rendezvous send in time exactly, race it against a
    /// sleep in [`select!`](crate::select!) rather than wrapping it in `time::timeout`.
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture::new(self.target(), value, true)
    }

    /// The channel a new send goes to: the primary, or its backup while L3 has it degraded.
    #[inline]
    fn target(&self) -> &Chan<T> {
        match &self.chan.guard {
            None => &self.chan,
            Some(g) => g.route(&self.chan),
        }
    }

    /// Sends `value`, blocking this thread while the channel is full. Usable from any thread;
    /// inside an async task prefer [`Sender::send`].
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub fn send_blocking(&self, value: T) -> Result<(), SendError<T>> {
        let chan = self.target();
        if chan.chaos_drop() {
            return Err(SendError(value));
        }
        match chan.try_send(value) {
            Ok(()) => Ok(()),
            Err(TrySendError::Closed(v)) => Err(SendError(v)),
            Err(TrySendError::Full(v)) => block_on(SendFuture::new(chan, v, false).probed()),
        }
    }

    /// Sends without waiting: fails with `Full` (no room, or no receiver waiting on a
    /// rendezvous) or `Closed`, returning the value.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let chan = self.target();
        if chan.chaos_drop() {
            return Err(TrySendError::Full(value));
        }
        chan.try_send(value)
    }

    /// This sender as the guard's hold on a backup channel (the same count, moved).
    pub(crate) fn into_backup(self) -> Backup<T> {
        let chan = self.chan.clone();
        // Counted in before this sender goes, so the count never touches zero.
        chan.acquire_sender();
        drop(self);
        Backup::counted(chan)
    }

    shared_methods!();
}

impl<T> Receiver<T> {
    /// Receives a value, waiting for one.
    ///
    /// Once the channel is closed, buffered values are still received; after them this
    /// returns `Err(RecvError::Closed)` at once, without waiting or allocating. Cancel-safe:
    /// dropping the future never loses a value.
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub fn recv(&self) -> RecvFuture<'_, T> {
        RecvFuture::new(&self.chan, true)
    }

    /// Receives a value, blocking this thread while the channel is empty. Usable from any
    /// thread; inside an async task prefer [`Receiver::recv`].
    #[inline]
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub fn recv_blocking(&self) -> Result<T, RecvError> {
        if self.chan.guard.is_some() || self.chan.chaos_stalled() {
            return block_on(RecvFuture::new(&self.chan, false));
        }
        match self.chan.try_recv() {
            Ok(v) => Ok(v),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            // A plain channel never rejects.
            Err(TryRecvError::Empty | TryRecvError::Rejected { .. }) => {
                block_on(RecvFuture::new(&self.chan, false))
            }
        }
    }

    /// Like [`Receiver::recv_blocking`], giving up after `timeout`.
    #[cfg(not(loom))]
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub fn recv_blocking_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let deadline = std::time::Instant::now().checked_add(timeout);
        self.recv_blocking_until(deadline)
    }

    /// Like [`Receiver::recv_blocking`], giving up at `deadline`.
    #[cfg(not(loom))]
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub fn recv_blocking_deadline(
        &self,
        deadline: std::time::Instant,
    ) -> Result<T, RecvTimeoutError> {
        self.recv_blocking_until(Some(deadline))
    }

    #[cfg(not(loom))]
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    fn recv_blocking_until(
        &self,
        deadline: Option<std::time::Instant>,
    ) -> Result<T, RecvTimeoutError> {
        let first = match self.chan.guard {
            None if !self.chan.chaos_stalled() => self.chan.try_recv(),
            // The breaker's admission (and an injected stall) happens in the future.
            _ => Err(TryRecvError::Empty),
        };
        match first {
            Ok(v) => Ok(v),
            Err(TryRecvError::Closed) => Err(RecvTimeoutError::Closed),
            Err(TryRecvError::Rejected { retry_after }) => {
                Err(RecvTimeoutError::Rejected { retry_after })
            }
            Err(TryRecvError::Empty) => {
                let mut fut = std::pin::pin!(RecvFuture::new(&self.chan, false));
                match crate::block_on::block_on_until(fut.as_mut(), deadline) {
                    Some(out) => out.map_err(RecvTimeoutError::from),
                    None => {
                        // L2: a timeout is a failure for L1, as for `recv_timeout`.
                        fut.time_out();
                        Err(RecvTimeoutError::Timeout)
                    }
                }
            }
        }
    }

    /// Receives without waiting: `Empty` if nothing is there (and, on a rendezvous, no sender
    /// waits), `Closed` if the channel is closed and drained.
    ///
    /// On a channel with a breaker, an open circuit makes it fail with `Rejected` at once; a
    /// half-open one lets it through as a probe (an empty channel gives the permit back).
    #[inline]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        if self.chan.chaos_stalled() {
            return if self.chan.is_closed() && self.chan.is_empty() {
                Err(TryRecvError::Closed)
            } else {
                Err(TryRecvError::Empty)
            };
        }
        let Some(guard) = &self.chan.guard else {
            return self.chan.try_recv();
        };
        let permit = guard
            .admit()
            .map_err(|retry_after| TryRecvError::Rejected { retry_after })?;
        match self.chan.try_recv() {
            Ok(v) => {
                guard.delivered(permit);
                Ok(v)
            }
            Err(e) => {
                if let Some(p) = permit {
                    guard.release(p);
                }
                Err(e)
            }
        }
    }

    /// Reports the outcome of the oldest received message whose outcome is still open, to the
    /// channel's L1 circuit: `Outcome::Failure` counts towards `failure_threshold` (and fails a
    /// half-open probe, re-opening the circuit); `Outcome::Success` closes a half-open one. A
    /// received message that is not reported counts as a success when the next receive is
    /// admitted. Returns the transition this report caused; `None` without a breaker.
    pub fn report(&self, outcome: Outcome) -> Option<Transition> {
        self.chan.guard.as_ref().and_then(|g| g.report(outcome))
    }

    /// Receives a value and reports its outcome at once: `verdict(&msg)` returns `true` for a
    /// success, `false` for a failure. Exact even with several consumers (the outcome is tied
    /// to this receive, not to the oldest open one). Without a breaker it is `recv`.
    pub async fn recv_checked(&self, verdict: impl FnOnce(&T) -> bool) -> Result<T, RecvError> {
        let mut fut = std::pin::pin!(RecvFuture::new_checked(&self.chan));
        let value = fut.as_mut().await?;
        let permit = fut.as_mut().take_permit();
        if let Some(guard) = &self.chan.guard {
            let outcome = if verdict(&value) {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            guard.resolve(permit, outcome);
        }
        Ok(value)
    }

    /// Failures and timeouts reported since the last success (the L2 hold's attempt count).
    pub fn failures_since_success(&self) -> u32 {
        self.chan.guard.as_ref().map_or(0, |g| g.retry_attempt())
    }

    /// Receives a value, waiting at most `timeout` on the runtime's timers.
    ///
    /// (Not built under `--cfg loom`, where the channel is built without the runtime.)
    ///
    /// Returns `Err(RecvTimeoutError::Timeout)` if the time runs out first and
    /// `Err(RecvTimeoutError::Closed)` once the channel is closed and drained.
    ///
    /// # Panics
    /// When it has to wait outside a weir runtime with timers enabled (as `time::sleep`).
    #[cfg(not(loom))]
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub fn recv_timeout(&self, timeout: Duration) -> RecvTimeoutFuture<'_, T> {
        let now = weir_runtime::time::Instant::now();
        // `Instant::saturating_add` is crate-private in the runtime: saturate here at a
        // deadline decades away.
        let deadline = now
            .checked_add(timeout)
            .or_else(|| now.checked_add(Duration::from_secs(60 * 60 * 24 * 365 * 30)))
            .unwrap_or(now);
        RecvTimeoutFuture::new(&self.chan, deadline)
    }

    /// Receives a value, waiting until `deadline` at most. See [`Receiver::recv_timeout`].
    #[cfg(not(loom))]
    #[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
    pub fn recv_deadline(&self, deadline: weir_runtime::time::Instant) -> RecvTimeoutFuture<'_, T> {
        RecvTimeoutFuture::new(&self.chan, deadline)
    }

    shared_methods!();
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.acquire_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        // Relaxed: as for `Sender`.
        self.chan.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.release_sender();
    }
}

#[cfg(loom)]
impl<T> Receiver<T> {
    pub(crate) fn hand_over_for_loom(&self) {
        if let Some(guard) = &self.chan.guard {
            guard.last_receiver_gone(&self.chan);
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // AcqRel: as for `Sender`.
        if self.chan.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close();
            // Nobody can receive here any more: what is queued goes to the backup, if any.
            if let Some(guard) = &self.chan.guard {
                guard.last_receiver_gone(&self.chan);
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("id", &self.chan.id)
            .field("name", &self.chan.name)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("id", &self.chan.id)
            .field("name", &self.chan.name)
            .field("closed", &self.is_closed())
            .finish()
    }
}
