//! A runtime-neutral oneshot channel for the ping-pong workload.
//!
//! Both runtimes under comparison use this same channel, so a ping-pong measures the
//! scheduler (wake, queue, poll) and not two different channel implementations. It is a plain
//! `Mutex` around the slot: one uncontended lock per operation, one `Arc` per channel, and
//! nothing that needs a loom model.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Creates a oneshot channel: one value from the [`Sender`] to the [`Receiver`].
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
        sender_gone: false,
        receiver_gone: false,
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

type Shared<T> = Arc<Mutex<Slot<T>>>;

fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, Slot<T>> {
    // A panic never happens while the lock is held (no user code runs under it), so a
    // poisoned lock still guards a consistent slot.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// The sending half.
pub struct Sender<T> {
    shared: Shared<T>,
}

/// The receiving half: a future that resolves to the value, or [`Closed`] when the sender was
/// dropped without sending.
pub struct Receiver<T> {
    shared: Shared<T>,
}

/// The other half is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the other half of the oneshot channel was dropped")
    }
}

impl std::error::Error for Closed {}

impl<T> Sender<T> {
    /// Sends `value`; gives it back when the receiver is already gone.
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut slot = lock(&self.shared);
            if slot.receiver_gone {
                return Err(value);
            }
            slot.value = Some(value);
            slot.waker.take()
        };
        // Wake outside the lock: the woken task may run at once on another thread.
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
        // Dropping `self` now marks the sender gone; the value is already in the slot, so
        // the receiver still gets it.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = lock(&self.shared);
            slot.sender_gone = true;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = lock(&self.shared);
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Ok(value));
        }
        if slot.sender_gone {
            return Poll::Ready(Err(Closed));
        }
        match &mut slot.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            w => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut slot = lock(&self.shared);
        slot.receiver_gone = true;
        // Drop a sent value and our waker now rather than with the last `Arc`.
        slot.waker = None;
        slot.value = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll_once<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Result<T, Closed>> {
        Pin::new(rx).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn value_sent_before_poll_is_ready() {
        let (tx, mut rx) = channel();
        tx.send(7).unwrap();
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        assert_eq!(poll_once(&mut rx, &waker), Poll::Ready(Ok(7)));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn send_wakes_a_waiting_receiver() {
        let (tx, mut rx) = channel();
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        assert_eq!(poll_once(&mut rx, &waker), Poll::Pending);
        tx.send("ping").unwrap();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll_once(&mut rx, &waker), Poll::Ready(Ok("ping")));
    }

    #[test]
    fn dropped_sender_closes_and_wakes() {
        let (tx, mut rx) = channel::<u8>();
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        assert_eq!(poll_once(&mut rx, &waker), Poll::Pending);
        drop(tx);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll_once(&mut rx, &waker), Poll::Ready(Err(Closed)));
    }

    #[test]
    fn send_to_dropped_receiver_gives_the_value_back() {
        let (tx, rx) = channel();
        drop(rx);
        assert_eq!(tx.send(String::from("lost?")), Err(String::from("lost?")));
    }
}
