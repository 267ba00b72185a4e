//! The time driver: the timing wheel behind a mutex, and the clock it is read against.
//!
//! A `Sleep` registers an entry on its first poll, checks it on later polls and removes it
//! when dropped, so the wheel never holds an entry whose owner is gone. The worker holding the
//! scheduler's driver sleeps until the earliest deadline; a registration earlier than that
//! cuts the sleep short through `unpark`. Registration and firing take the lock; polls and
//! wakes of unrelated tasks never do.

use std::task::{Poll, Waker};
use std::time::Duration;

use weir_probes::{probe, Event};

use super::clock::Clock;
use super::wheel::Wheel;
use super::Instant;
use crate::scheduler::driver::Unpark;
use crate::scheduler::park::ParkThread;
use crate::sync::{Arc, Mutex, MutexGuard};

pub(crate) struct TimeDriver {
    clock: Clock,
    inner: Mutex<Inner>,
    unpark: Unpark,
}

struct Inner {
    wheel: Wheel<Option<Waker>>,
    /// The wheel time (ms) the driver sleeps towards; an earlier registration must wake it.
    next_wake: u64,
    shutdown: bool,
    /// Reused buffer for the wakers of one firing pass.
    fired: Vec<Waker>,
}

impl TimeDriver {
    pub(crate) fn new(unpark: Arc<ParkThread>) -> Self {
        Self::with_unpark(Unpark::Thread(unpark))
    }

    /// A time driver whose sleeper is woken through `unpark` (a condvar or the IO reactor).
    pub(crate) fn with_unpark(unpark: Unpark) -> Self {
        Self {
            clock: Clock::new(),
            inner: Mutex::new(Inner {
                wheel: Wheel::new(),
                next_wake: u64::MAX,
                shutdown: false,
                fired: Vec::new(),
            }),
            unpark,
        }
    }

    /// The clock timers are read against (paused in tests, see `clock.rs`).
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wheel time of `deadline`, rounded up so that the timer never fires early.
    fn deadline_ms(&self, deadline: Instant) -> u64 {
        let d = deadline
            .into_std()
            .saturating_duration_since(self.clock.origin());
        let ms = d.as_millis() as u64;
        if d > Duration::from_millis(ms) {
            ms + 1
        } else {
            ms
        }
    }

    /// Wheel time now, rounded down.
    fn now_ms(&self) -> u64 {
        let now = self.clock.now().into_std();
        now.saturating_duration_since(self.clock.origin())
            .as_millis() as u64
    }

    pub(crate) fn register(&self, deadline: Instant, waker: &Waker) -> usize {
        let ms = self.deadline_ms(deadline);
        let mut inner = self.lock();
        let key = inner.wheel.insert(ms, Some(waker.clone()));
        self.wake_driver_if_earlier(&mut inner, ms);
        key
    }

    fn wake_driver_if_earlier(&self, inner: &mut Inner, ms: u64) {
        if ms < inner.next_wake {
            inner.next_wake = ms;
            self.unpark.unpark();
        }
    }

    /// `Ready` once the entry fired; otherwise stores `waker` for the firing.
    pub(crate) fn poll_entry(&self, key: usize, waker: &Waker) -> Poll<()> {
        let mut inner = self.lock();
        if !inner.wheel.is_armed(key) {
            return Poll::Ready(());
        }
        if let Some(slot) = inner.wheel.get_mut(key) {
            match slot {
                Some(w) if w.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        }
        Poll::Pending
    }

    pub(crate) fn is_fired(&self, key: usize) -> bool {
        !self.lock().wheel.is_armed(key)
    }

    pub(crate) fn reset(&self, key: usize, deadline: Instant) {
        if deadline <= self.clock.now() {
            // Due already: fire it here, so the next poll completes. (Re-armed, it would wait
            // for the driver's next turn, and for the millisecond it is rounded up to.)
            let waker = {
                let mut inner = self.lock();
                inner.wheel.disarm(key);
                inner.wheel.get_mut(key).and_then(Option::take)
            };
            drop(waker);
            return;
        }
        let ms = self.deadline_ms(deadline);
        let mut inner = self.lock();
        inner.wheel.reset(key, ms);
        self.wake_driver_if_earlier(&mut inner, ms);
    }

    pub(crate) fn deregister(&self, key: usize) {
        self.lock().wheel.remove(key);
    }

    /// Entries in the wheel (fired or not) whose `Sleep` is still alive.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn num_entries(&self) -> usize {
        self.lock().wheel.len()
    }

    /// Fires every timer whose deadline has passed. The wakers run outside the lock.
    pub(crate) fn process(&self) {
        let now = self.now_ms();
        let mut inner = self.lock();
        if inner.shutdown {
            return;
        }
        let mut fired = std::mem::take(&mut inner.fired);
        inner.wheel.advance(now, |_, waker| {
            if let Some(w) = waker.take() {
                fired.push(w);
            }
        });
        if inner.next_wake <= now {
            inner.next_wake = u64::MAX;
        }
        drop(inner);
        if !fired.is_empty() {
            probe!(Event::TimerFire {
                count: fired.len() as u32
            });
            for w in fired.drain(..) {
                w.wake();
            }
        }
        let mut inner = self.lock();
        if inner.fired.capacity() < fired.capacity() {
            inner.fired = fired;
        }
    }

    /// How long the driver may sleep before the next timer is due (`None`: no timers).
    pub(crate) fn next_timeout(&self) -> Option<Duration> {
        let mut inner = self.lock();
        let next = match inner.wheel.next_deadline() {
            Some(next) if !inner.shutdown => next,
            _ => {
                inner.next_wake = u64::MAX;
                return None;
            }
        };
        inner.next_wake = next;
        drop(inner);
        let due = self.clock.origin() + Duration::from_millis(next);
        Some(due.saturating_duration_since(self.clock.now().into_std()))
    }

    /// Stops firing: the runtime is going away and every task is being dropped.
    pub(crate) fn shutdown(&self) {
        self.lock().shutdown = true;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn entries_fire_once_due_and_leave_when_deregistered() {
        let driver = TimeDriver::new(Arc::new(ParkThread::new()));
        let waker = Waker::noop();
        let now = Instant::now();
        let due = driver.register(now, waker);
        let later = driver.register(now + Duration::from_secs(3600), waker);
        assert_eq!(driver.num_entries(), 2);
        // Rounded up to the next millisecond: fires once a millisecond has passed.
        std::thread::sleep(Duration::from_millis(2));
        driver.process();
        assert!(driver.is_fired(due));
        assert!(!driver.is_fired(later));
        assert!(driver.poll_entry(due, waker).is_ready());
        assert!(driver.poll_entry(later, waker).is_pending());
        driver.deregister(due);
        driver.deregister(later);
        assert_eq!(driver.num_entries(), 0);
        assert_eq!(driver.next_timeout(), None);
    }
}
