//! Fault injection at the channel's probe points (the `chaos` feature; never in a default
//! build). A [`Faults`] handle is attached with `Builder::chaos` and switched from the test
//! while traffic runs. Every fault is accounted: no message is silently lost.
//!
//! * latency: every message received from the channel looks this much older to L3 (a latency
//!   ramp when raised step by step);
//! * dropped sends: the next `n` sends are refused at the send probe point (before the value
//!   goes in) and give their value back to the sender — `Err(SendError(v))` from `send` and
//!   `send_blocking`, `Err(TrySendError::Full(v))` from `try_send` — although the channel is
//!   open; [`Faults::dropped`] counts them;
//! * stall: while on, every receive form (`try_recv`, `recv`, `recv_timeout`, the blocking
//!   forms, `select!` branches) finds the channel empty — the consumer's view of a stalled
//!   producer — and a waiting receive stays parked until the stall ends (switching it off
//!   wakes them); a closed and drained channel still reports `Closed`;
//! * abrupt close: the channel closes at the send probe point once `n` more sends have gone
//!   in ([`Faults::close_after_sends`]); later sends fail and return their value, buffered
//!   values are still received;
//! * panicking producer: the `n`-th send from now panics at the send probe point
//!   ([`Faults::panic_on_send`]), before its value goes in: the value is dropped with the
//!   unwinding producer (it never entered the channel, so it is returned to its sender in the
//!   only way a panicking sender can take it back) and [`Faults::panicked`] counts it. Inside
//!   a task, the runtime turns the panic into a `JoinError` and keeps running.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::task::Waker;
use std::time::Duration;

/// A disarmed countdown.
const OFF: u64 = u64::MAX;

/// The faults of one channel (see the module doc). All switches are relaxed atomics: a fault
/// that starts a moment late is still a fault.
#[derive(Debug)]
pub struct Faults {
    extra_latency_us: AtomicU64,
    drop_sends: AtomicU64,
    dropped: AtomicU64,
    stall: AtomicBool,
    /// Receives parked by the stall, woken when it ends (chaos only: may allocate).
    stalled_wakers: Mutex<Vec<Waker>>,
    close_countdown: AtomicU64,
    panic_countdown: AtomicU64,
    panicked: AtomicU64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            extra_latency_us: AtomicU64::new(0),
            drop_sends: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            stall: AtomicBool::new(false),
            stalled_wakers: Mutex::new(Vec::new()),
            close_countdown: AtomicU64::new(OFF),
            panic_countdown: AtomicU64::new(OFF),
            panicked: AtomicU64::new(0),
        }
    }
}

/// What the send probe point decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendFault {
    /// No fault: the send goes on.
    None,
    /// Refuse the send: its value goes back to the sender.
    Drop,
    /// Close the channel now (the send then fails and returns its value).
    Close,
}

impl Faults {
    /// No fault switched on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message received from now on looks `extra` older to L3.
    pub fn set_latency(&self, extra: Duration) {
        // Relaxed: see the type's doc.
        self.extra_latency_us.store(
            extra.as_micros().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
    }

    /// Refuses the next `n` sends (they return their value).
    pub fn drop_next_sends(&self, n: u64) {
        // Relaxed: see the type's doc.
        self.drop_sends.store(n, Ordering::Relaxed);
    }

    /// Sends refused so far (each one's value went back to its sender).
    pub fn dropped(&self) -> u64 {
        // Relaxed: a statistic.
        self.dropped.load(Ordering::Relaxed)
    }

    /// Switches the receive stall on or off; off wakes the receives it parked.
    pub fn set_stall(&self, on: bool) {
        // Relaxed: see the type's doc.
        self.stall.store(on, Ordering::Relaxed);
        if !on {
            let wakers = std::mem::take(&mut *self.lock_wakers());
            for w in wakers {
                w.wake();
            }
        }
    }

    /// Closes the channel at the send probe point once `n` more sends have gone in (`0`:
    /// at the next send, which then fails and returns its value).
    pub fn close_after_sends(&self, n: u64) {
        // Relaxed: see the type's doc.
        self.close_countdown.store(n, Ordering::Relaxed);
    }

    /// Makes the send `n` sends from now (`0`: the next one) panic at the send probe point.
    pub fn panic_on_send(&self, n: u64) {
        // Relaxed: see the type's doc.
        self.panic_countdown.store(n, Ordering::Relaxed);
    }

    /// Sends that panicked at the probe point (their value never entered the channel).
    pub fn panicked(&self) -> u64 {
        // Relaxed: a statistic.
        self.panicked.load(Ordering::Relaxed)
    }

    pub(crate) fn extra_latency_us(&self) -> u64 {
        // Relaxed: see the type's doc.
        self.extra_latency_us.load(Ordering::Relaxed)
    }

    pub(crate) fn stalled(&self) -> bool {
        // Relaxed: see the type's doc.
        self.stall.load(Ordering::Relaxed)
    }

    fn lock_wakers(&self) -> std::sync::MutexGuard<'_, Vec<Waker>> {
        // Nothing panics while the lock is held; take the guard even if poisoned.
        match self.stalled_wakers.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Parks a receive until the stall ends. Returns `false` (do not park) if the stall
    /// ended meanwhile.
    pub(crate) fn park_stalled(&self, waker: &Waker) -> bool {
        let mut wakers = self.lock_wakers();
        // Re-checked under the lock `set_stall(false)` drains: no wake-up is lost.
        if !self.stalled() {
            return false;
        }
        if !wakers.iter().any(|w| w.will_wake(waker)) {
            wakers.push(waker.clone());
        }
        true
    }

    /// The send probe point: panics when a panic is due, else says what the send does.
    pub(crate) fn on_send(&self) -> SendFault {
        if countdown(&self.panic_countdown) {
            // Relaxed: a statistic.
            self.panicked.fetch_add(1, Ordering::Relaxed);
            panic!("weir chaos: injected producer panic at the send probe point");
        }
        if countdown(&self.close_countdown) {
            return SendFault::Close;
        }
        // Relaxed: the count is its own only datum; fetch_update keeps it from going below 0.
        let took = self
            .drop_sends
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        if took {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return SendFault::Drop;
        }
        SendFault::None
    }
}

/// Counts an armed countdown down; `true` (and disarmed) when it was at zero.
fn countdown(c: &AtomicU64) -> bool {
    // Relaxed: the countdown is its own only datum.
    if c.load(Ordering::Relaxed) == OFF {
        return false;
    }
    let prev = c.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| match n {
        OFF => None,
        0 => Some(OFF),
        n => Some(n - 1),
    });
    prev == Ok(0)
}
