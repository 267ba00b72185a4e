//! The readiness of one registered IO resource, and who waits for it.
//!
//! Invariants (the readiness protocol):
//!
//! - `readiness` is one word: the ready bits (`READABLE`, `WRITABLE`, `READ_CLOSED`,
//!   `WRITE_CLOSED`, `ERROR`), a 16-bit `tick` and the `SHUTDOWN` bit. Only the reactor sets
//!   ready bits, and every time it does it bumps the tick.
//! - A poller that saw ready bits with tick `t` and then got `WouldBlock` from the OS clears
//!   those bits only if the tick is still `t`. If the reactor delivered an event in between, the
//!   tick moved and the bits stay: readiness that arrived while the poller was busy is never
//!   lost. Closed bits are never cleared (the end of a stream stays the end).
//! - Each direction (read, write) has one `AtomicWaker`. Whoever polls a direction through
//!   `&mut` access (a stream's `poll_read`, a write half) uses it directly; futures returned by
//!   `&self` methods (`accept`, `recv`, `send_to`) first *claim* it, and a second such future
//!   waiting at the same time parks its waker in the direction's overflow list instead of
//!   replacing the first one's. On a stream, whose fast waker belongs to the `&mut` poller,
//!   `&self` futures (`readable`, `peek`) go to the overflow list at once (`QueueOnly`).
//!   `&self` poll methods (`poll_recv`, `poll_accept`), which have no future to keep a slot
//!   in, keep one waker per direction in the overflow list's `poller` place, the latest
//!   caller's. The reactor wakes the fast waker and, when the overflow flag is set, every
//!   overflow waker and the poller.
//! - The overflow flag is true whenever the overflow list holds a waker to wake: every
//!   registration sets it under the list's mutex, and the reactor clears it under that mutex
//!   once it has taken them all (so a socket whose waiters are gone costs no lock per event).
//! - Lost wake-ups: the reactor publishes readiness (SeqCst RMW) before it takes wakers; a
//!   poller registers its waker before it re-reads readiness (SeqCst load). `AtomicWaker`
//!   orders register against take, and for the overflow list the SeqCst flag and the mutex do:
//!   either the reactor sees the waker or the poller sees the readiness.
//!
//! The readiness lives here, not in any worker, so a task that moves to another worker between
//! two polls finds its readiness where it left it.

use std::task::{Context, Poll, Waker};

use atomic_waker::AtomicWaker;
use slab::Slab;

use crate::sync::{AtomicBool, AtomicUsize, Mutex, Ordering};

pub(crate) const READABLE: usize = 1 << 0;
pub(crate) const WRITABLE: usize = 1 << 1;
pub(crate) const READ_CLOSED: usize = 1 << 2;
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
pub(crate) const ERROR: usize = 1 << 4;
const READY_MASK: usize = READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | ERROR;
const TICK_SHIFT: u32 = 8;
const TICK_MASK: usize = 0xFFFF;
const SHUTDOWN: usize = 1 << 24;

/// Which half of a resource an operation waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The direction an interest waits on: reading if it includes readable.
    pub(crate) fn of(interest: crate::io::Interest) -> Direction {
        if interest.is_readable() {
            Direction::Read
        } else {
            Direction::Write
        }
    }

    /// Ready bits that let an operation in this direction make progress (or fail).
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }

    /// Ready bits a `WouldBlock` in this direction proves stale.
    fn clearable(self) -> usize {
        match self {
            Direction::Read => READABLE | ERROR,
            Direction::Write => WRITABLE | ERROR,
        }
    }
}

/// Readiness a poller observed: the bits for its direction and the tick they carried.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    ready: usize,
    tick: usize,
}

impl ReadyEvent {
    /// The ready bits seen.
    pub(crate) fn bits(&self) -> usize {
        self.ready
    }
}

/// The resource's runtime shut down: no readiness will ever come.
#[derive(Debug)]
pub(crate) struct Shutdown;

/// Who waits on a direction (see the module comment).
#[derive(Debug)]
pub(crate) enum Waiter<'a> {
    /// The one poller with `&mut` access: it owns the fast waker.
    Exclusive,
    /// A `&self` future, with its slot.
    Future(&'a mut WaiterSlot),
    /// A `&self` poll method: one waker per direction, the latest caller's.
    Poller,
}

impl Waiter<'_> {
    /// The same waiter, borrowed again (for a loop that polls more than once).
    pub(crate) fn reborrow(&mut self) -> Waiter<'_> {
        match self {
            Waiter::Exclusive => Waiter::Exclusive,
            Waiter::Future(slot) => Waiter::Future(slot),
            Waiter::Poller => Waiter::Poller,
        }
    }
}

/// What a `&self` future holds of a direction (see the module comment).
#[derive(Debug, Default)]
pub(crate) enum WaiterSlot {
    /// Not waiting (never registered, or released).
    #[default]
    Idle,
    /// Not waiting yet, and never to claim the fast waker (a stream's `&self` future: the
    /// fast waker is its `&mut` poller's).
    QueueOnly,
    /// Owns the direction's `AtomicWaker`.
    Fast,
    /// Its waker sits in the overflow list under this key.
    Overflow(usize),
}

impl WaiterSlot {
    /// A slot that has not waited yet, of the same kind (`Idle` or `QueueOnly`).
    pub(crate) fn fresh(&self) -> WaiterSlot {
        match self {
            WaiterSlot::QueueOnly => WaiterSlot::QueueOnly,
            _ => WaiterSlot::Idle,
        }
    }
}

struct Waiters {
    fast: AtomicWaker,
    /// A `&self` future owns `fast`.
    claimed: AtomicBool,
    /// The overflow list may hold a waker to wake (see the module comment).
    has_overflow: AtomicBool,
    overflow: Mutex<Overflow>,
}

/// The wakers beyond the fast one.
#[derive(Default)]
struct Overflow {
    /// `&self` futures' wakers, by the key in their slot; `None` once woken.
    futures: Slab<Option<Waker>>,
    /// The latest `&self` poll method caller's waker.
    poller: Option<Waker>,
}

impl Waiters {
    fn new() -> Self {
        Self {
            fast: AtomicWaker::new(),
            claimed: AtomicBool::new(false),
            has_overflow: AtomicBool::new(false),
            overflow: Mutex::new(Overflow::default()),
        }
    }

    fn overflow(&self) -> crate::sync::MutexGuard<'_, Overflow> {
        self.overflow.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves every waiting waker into `out` (the reactor wakes them after its locks are gone).
    fn take_all(&self, out: &mut Vec<Waker>) {
        if let Some(w) = self.fast.take() {
            out.push(w);
        }
        // SeqCst: the other half of the Dekker pair with `register` (see the module comment).
        if self.has_overflow.load(Ordering::SeqCst) {
            let mut overflow = self.overflow();
            for (_, slot) in overflow.futures.iter_mut() {
                if let Some(w) = slot.take() {
                    out.push(w);
                }
            }
            if let Some(w) = overflow.poller.take() {
                out.push(w);
            }
            // Nothing is left to wake; a registration after this sets the flag again under
            // the mutex. SeqCst like every access to the flag.
            self.has_overflow.store(false, Ordering::SeqCst);
        }
    }

    /// Parks `waker` as the direction's poll-method waker, replacing the previous caller's.
    fn register_poller(&self, waker: &Waker) {
        let mut overflow = self.overflow();
        match &overflow.poller {
            Some(w) if w.will_wake(waker) => {}
            _ => overflow.poller = Some(waker.clone()),
        }
        // SeqCst: ordered before the caller's readiness re-check.
        self.has_overflow.store(true, Ordering::SeqCst);
    }

    /// Parks `waker` in the overflow list under a new key.
    fn queue(&self, waker: &Waker) -> WaiterSlot {
        let mut overflow = self.overflow();
        let key = overflow.futures.insert(Some(waker.clone()));
        // SeqCst: ordered before the caller's readiness re-check.
        self.has_overflow.store(true, Ordering::SeqCst);
        WaiterSlot::Overflow(key)
    }

    fn register(&self, waker: &Waker, waiter: Waiter<'_>) {
        let slot = match waiter {
            // Exclusive (`&mut`) access to this direction: the fast waker is ours.
            Waiter::Exclusive => return self.fast.register(waker),
            Waiter::Poller => return self.register_poller(waker),
            Waiter::Future(slot) => slot,
        };
        match *slot {
            WaiterSlot::Fast => self.fast.register(waker),
            WaiterSlot::Idle => {
                // Acquire: see the previous owner's release; Relaxed failure, we go to overflow.
                if self
                    .claimed
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    *slot = WaiterSlot::Fast;
                    self.fast.register(waker);
                } else {
                    *slot = self.queue(waker);
                }
            }
            WaiterSlot::QueueOnly => *slot = self.queue(waker),
            WaiterSlot::Overflow(key) => {
                let mut overflow = self.overflow();
                if let Some(entry) = overflow.futures.get_mut(key) {
                    match entry {
                        Some(w) if w.will_wake(waker) => {}
                        _ => *entry = Some(waker.clone()),
                    }
                }
                // SeqCst: the reactor may have cleared the flag when it woke this entry;
                // ordered before the caller's readiness re-check.
                self.has_overflow.store(true, Ordering::SeqCst);
            }
        }
    }

    fn release(&self, slot: &mut WaiterSlot) {
        match std::mem::take(slot) {
            WaiterSlot::Idle | WaiterSlot::QueueOnly => {}
            // Release: hand the fast waker over; a stale waker left in it only costs a
            // spurious wake-up of a future that is gone.
            WaiterSlot::Fast => self.claimed.store(false, Ordering::Release),
            WaiterSlot::Overflow(key) => {
                let mut overflow = self.overflow();
                if overflow.futures.contains(key) {
                    overflow.futures.remove(key);
                }
                if overflow.futures.is_empty() && overflow.poller.is_none() {
                    // SeqCst: pairs with the reactor's load; a stale `true` only costs a lock.
                    self.has_overflow.store(false, Ordering::SeqCst);
                }
            }
        }
    }
}

/// One registration's shared state: readiness word and waiters.
pub(crate) struct ScheduledIo {
    /// The mio token this registration was given (slab key and generation).
    token: usize,
    readiness: AtomicUsize,
    reader: Waiters,
    writer: Waiters,
}

impl ScheduledIo {
    pub(crate) fn new(token: usize) -> Self {
        Self {
            token,
            readiness: AtomicUsize::new(0),
            reader: Waiters::new(),
            writer: Waiters::new(),
        }
    }

    pub(crate) fn token(&self) -> usize {
        self.token
    }

    fn waiters(&self, dir: Direction) -> &Waiters {
        match dir {
            Direction::Read => &self.reader,
            Direction::Write => &self.writer,
        }
    }

    /// Reactor side: adds `ready` bits, bumps the tick, and collects the wakers to wake.
    pub(crate) fn set_readiness(&self, ready: usize, wakers: &mut Vec<Waker>) {
        let ready = ready & READY_MASK;
        // SeqCst: publish readiness before taking wakers (see the module comment). The closure
        // always returns `Some`, so the update cannot fail.
        let _ = self
            .readiness
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |cur| {
                let tick = ((cur >> TICK_SHIFT) + 1) & TICK_MASK;
                Some((cur & !(TICK_MASK << TICK_SHIFT)) | ready | (tick << TICK_SHIFT))
            });
        if ready & Direction::Read.mask() != 0 {
            self.reader.take_all(wakers);
        }
        if ready & Direction::Write.mask() != 0 {
            self.writer.take_all(wakers);
        }
    }

    /// The runtime is going away: every poll from now on fails, every waiter is woken.
    pub(crate) fn shutdown(&self, wakers: &mut Vec<Waker>) {
        // SeqCst: as for readiness.
        self.readiness.fetch_or(SHUTDOWN, Ordering::SeqCst);
        self.reader.take_all(wakers);
        self.writer.take_all(wakers);
    }

    fn check(cur: usize, dir: Direction) -> Option<Result<ReadyEvent, Shutdown>> {
        let ready = cur & dir.mask();
        if ready != 0 {
            return Some(Ok(ReadyEvent {
                ready,
                tick: (cur >> TICK_SHIFT) & TICK_MASK,
            }));
        }
        if cur & SHUTDOWN != 0 {
            return Some(Err(Shutdown));
        }
        None
    }

    /// Ready when `dir` has readiness; otherwise registers `cx`'s waker as `waiter` and
    /// returns `Pending`. A `Waiter::Future` slot is released with [`ScheduledIo::release`].
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        waiter: Waiter<'_>,
    ) -> Poll<Result<ReadyEvent, Shutdown>> {
        // Acquire: see what the reactor's thread saw before it published the readiness.
        if let Some(r) = Self::check(self.readiness.load(Ordering::Acquire), dir) {
            return Poll::Ready(r);
        }
        self.waiters(dir).register(cx.waker(), waiter);
        // SeqCst: the re-check after registering (see the module comment).
        match Self::check(self.readiness.load(Ordering::SeqCst), dir) {
            Some(r) => Poll::Ready(r),
            None => Poll::Pending,
        }
    }

    /// The readiness of `dir` now, without waiting (possibly empty): what a `try_*`
    /// operation clears when the OS says `WouldBlock`.
    pub(crate) fn ready_now(&self, dir: Direction) -> Result<ReadyEvent, Shutdown> {
        // Acquire: as in `poll_ready`.
        let cur = self.readiness.load(Ordering::Acquire);
        match Self::check(cur, dir) {
            Some(r) => r,
            None => Ok(ReadyEvent {
                ready: 0,
                tick: (cur >> TICK_SHIFT) & TICK_MASK,
            }),
        }
    }

    /// A `&self` future is done with the direction (completed or dropped).
    pub(crate) fn release(&self, dir: Direction, slot: &mut WaiterSlot) {
        self.waiters(dir).release(slot);
    }

    /// The operation got `WouldBlock` after `event`: forget that readiness unless newer
    /// readiness arrived since.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent, dir: Direction) {
        let clear = event.ready & dir.clearable();
        // AcqRel: a successful clear is ordered with the reactor's updates; failure (the tick
        // moved) leaves the word alone, so Relaxed.
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |cur| {
                if (cur >> TICK_SHIFT) & TICK_MASK != event.tick {
                    return None;
                }
                Some(cur & !clear)
            });
    }

    /// Current ready bits (tests).
    #[cfg(test)]
    pub(crate) fn ready_bits(&self) -> usize {
        self.readiness.load(Ordering::SeqCst) & READY_MASK
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::sync::Arc as StdArc;
    use std::task::Wake;

    struct CountWake(StdAtomicUsize);
    impl Wake for CountWake {
        fn wake(self: StdArc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn counting() -> (StdArc<CountWake>, Waker) {
        let c = StdArc::new(CountWake(StdAtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    fn wake_all(v: &mut Vec<Waker>) {
        for w in v.drain(..) {
            w.wake();
        }
    }

    #[test]
    fn stale_clear_keeps_newer_readiness() {
        let io = ScheduledIo::new(7);
        let mut wakers = Vec::new();
        io.set_readiness(READABLE, &mut wakers);
        let (_, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let ev = match io.poll_ready(&mut cx, Direction::Read, Waiter::Exclusive) {
            Poll::Ready(Ok(ev)) => ev,
            other => panic!("expected readiness, got {other:?}"),
        };
        // New readiness arrives while the poller works on the old one.
        io.set_readiness(READABLE, &mut wakers);
        io.clear_readiness(ev, Direction::Read);
        assert_eq!(
            io.ready_bits() & READABLE,
            READABLE,
            "newer readiness was lost"
        );
        // A clear with the current tick does clear.
        let ev = match io.poll_ready(&mut cx, Direction::Read, Waiter::Exclusive) {
            Poll::Ready(Ok(ev)) => ev,
            other => panic!("expected readiness, got {other:?}"),
        };
        io.clear_readiness(ev, Direction::Read);
        assert_eq!(io.ready_bits() & READABLE, 0);
    }

    #[test]
    fn closed_bits_survive_a_clear_and_directions_are_separate() {
        let io = ScheduledIo::new(1);
        let mut wakers = Vec::new();
        io.set_readiness(READABLE | READ_CLOSED, &mut wakers);
        let (_, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert!(io
            .poll_ready(&mut cx, Direction::Write, Waiter::Exclusive)
            .is_pending());
        let Poll::Ready(Ok(ev)) = io.poll_ready(&mut cx, Direction::Read, Waiter::Exclusive) else {
            panic!("read direction should be ready");
        };
        io.clear_readiness(ev, Direction::Read);
        assert_eq!(io.ready_bits(), READ_CLOSED);
        assert!(io
            .poll_ready(&mut cx, Direction::Read, Waiter::Exclusive)
            .is_ready());
    }

    #[test]
    fn pending_poll_is_woken_by_readiness_and_by_shutdown() {
        let io = ScheduledIo::new(1);
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert!(io
            .poll_ready(&mut cx, Direction::Read, Waiter::Exclusive)
            .is_pending());
        let mut wakers = Vec::new();
        io.set_readiness(WRITABLE, &mut wakers);
        assert!(wakers.is_empty(), "a write event must not wake the reader");
        io.set_readiness(READABLE, &mut wakers);
        wake_all(&mut wakers);
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1);

        let io = ScheduledIo::new(2);
        assert!(io
            .poll_ready(&mut cx, Direction::Write, Waiter::Exclusive)
            .is_pending());
        io.shutdown(&mut wakers);
        wake_all(&mut wakers);
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert!(matches!(
            io.poll_ready(&mut cx, Direction::Write, Waiter::Exclusive),
            Poll::Ready(Err(Shutdown))
        ));
    }

    #[test]
    fn concurrent_shared_waiters_are_all_woken() {
        let io = ScheduledIo::new(3);
        let (a_count, a) = counting();
        let (b_count, b) = counting();
        let mut slot_a = WaiterSlot::Idle;
        let mut slot_b = WaiterSlot::Idle;
        assert!(io
            .poll_ready(
                &mut Context::from_waker(&a),
                Direction::Read,
                Waiter::Future(&mut slot_a)
            )
            .is_pending());
        assert!(io
            .poll_ready(
                &mut Context::from_waker(&b),
                Direction::Read,
                Waiter::Future(&mut slot_b)
            )
            .is_pending());
        assert!(matches!(slot_a, WaiterSlot::Fast));
        assert!(matches!(slot_b, WaiterSlot::Overflow(_)));
        let mut wakers = Vec::new();
        io.set_readiness(READABLE, &mut wakers);
        wake_all(&mut wakers);
        assert_eq!(a_count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(b_count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        io.release(Direction::Read, &mut slot_a);
        io.release(Direction::Read, &mut slot_b);
        assert!(matches!(slot_a, WaiterSlot::Idle));
        assert!(!io.reader.claimed.load(Ordering::SeqCst));
        assert!(!io.reader.has_overflow.load(Ordering::SeqCst));
        // The released fast slot can be claimed again.
        let mut slot_c = WaiterSlot::Idle;
        let (_, c) = counting();
        io.clear_readiness(
            match io.poll_ready(
                &mut Context::from_waker(&c),
                Direction::Read,
                Waiter::Exclusive,
            ) {
                Poll::Ready(Ok(ev)) => ev,
                other => panic!("expected readiness, got {other:?}"),
            },
            Direction::Read,
        );
        assert!(io
            .poll_ready(
                &mut Context::from_waker(&c),
                Direction::Read,
                Waiter::Future(&mut slot_c)
            )
            .is_pending());
        assert!(matches!(slot_c, WaiterSlot::Fast));
        io.release(Direction::Read, &mut slot_c);
    }
}
