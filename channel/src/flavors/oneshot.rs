//! Oneshot channel: one value, one sender, one receiver, no lock.
//!
//! # Invariants
//!
//! * `state` bits: `VALUE` (the value is in the cell and the receiver may take it), `CLOSED`
//!   (the sender went away without sending, or the receiver closed or went away), `TAKEN` (the
//!   receiver took the value).
//! * Only the sender writes the cell, and only before it sets `VALUE`; `VALUE` is set by a CAS
//!   that fails if `CLOSED` is set, in which case the sender takes its value back. So a value
//!   is either handed over (`VALUE`) or returned, never both.
//! * Only the receiver reads the cell, after seeing `VALUE` (Acquire), and then sets `TAKEN`
//!   (receiver-only). A value still in the cell when the last handle goes is dropped there.
//!
//! # No lost wake-up
//!
//! Each side registers its waker in an [`AtomicWaker`] and then re-reads `state`; the other
//! side changes `state` with an RMW and then wakes through the same `AtomicWaker`, whose own
//! RMWs order the registration against the wake (either the wake finds the waker, or the
//! registrant's re-read finds the new state).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::{RecvError, SendError, TryRecvError};
use crate::runtime_hooks::coop;
use crate::sync::{Arc, AtomicUsize, AtomicWaker, Ordering, UnsafeCell};

const VALUE: usize = 1;
const CLOSED: usize = 2;
const TAKEN: usize = 4;

struct Inner<T> {
    state: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    /// The receiver waits here for a value or close.
    rx_waker: AtomicWaker,
    /// The sender waits here (`closed()`) for the receiver to go.
    tx_waker: AtomicWaker,
}

// SAFETY: the value cell is handed from the sender to the receiver under the state protocol.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

/// Creates a oneshot channel.
pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: AtomicWaker::new(),
        tx_waker: AtomicWaker::new(),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner },
    )
}

/// Sends the one value of a [`oneshot`] channel.
pub struct Sender<T> {
    inner: Option<Arc<Inner<T>>>,
}

/// Receives the one value of a [`oneshot`] channel. It is a future itself.
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`. Fails, returning it, if the receiver closed or went away first.
    pub fn send(mut self, value: T) -> Result<(), SendError<T>> {
        let inner = match self.inner.take() {
            Some(i) => i,
            None => return Err(SendError(value)),
        };
        // SAFETY: only the sender writes the cell, and only before VALUE is set.
        inner.value.with_mut(|p| unsafe { *p = Some(value) });
        // Acquire: nothing to read yet, but keeps the CAS loop's reads fresh.
        let mut s = inner.state.load(Ordering::Acquire);
        loop {
            if s & CLOSED != 0 {
                // SAFETY: VALUE was never set, so the receiver never reads the cell.
                let v = inner.value.with_mut(|p| unsafe { (*p).take() });
                return match v {
                    Some(v) => Err(SendError(v)),
                    None => Ok(()),
                };
            }
            // AcqRel: Release publishes the value to the receiver's Acquire.
            match inner
                .state
                .compare_exchange(s, s | VALUE, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        inner.rx_waker.wake();
        Ok(())
    }

    /// True if the receiver closed or went away: a send would fail.
    pub fn is_closed(&self) -> bool {
        match &self.inner {
            // Acquire: pairs with the receiver's close.
            Some(i) => i.state.load(Ordering::Acquire) & CLOSED != 0,
            None => true,
        }
    }

    /// Waits until the receiver closes or goes away.
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| {
            let inner = match &self.inner {
                Some(i) => i,
                None => return Poll::Ready(()),
            };
            // Acquire: pairs with the receiver's close (the check before registering).
            if inner.state.load(Ordering::Acquire) & CLOSED != 0 {
                return Poll::Ready(());
            }
            inner.tx_waker.register(cx.waker());
            // Acquire: the re-check after registering (see the module docs).
            if inner.state.load(Ordering::Acquire) & CLOSED != 0 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // AcqRel: Release orders our last accesses before the receiver's wake-up.
            inner.state.fetch_or(CLOSED, Ordering::AcqRel);
            inner.rx_waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        // Acquire: pairs with the sender's Release of VALUE, making the cell visible.
        let s = self.inner.state.load(Ordering::Acquire);
        if s & VALUE != 0 && s & TAKEN == 0 {
            // SAFETY: VALUE is set, the sender no longer touches the cell, and TAKEN (ours
            // alone to set) is clear.
            let v = self.inner.value.with_mut(|p| unsafe { (*p).take() });
            // AcqRel: keeps TAKEN ordered with our read; only we set it.
            self.inner.state.fetch_or(TAKEN, Ordering::AcqRel);
            if let Some(v) = v {
                return Ok(v);
            }
        }
        if s & (CLOSED | TAKEN) != 0 {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        match self.try_recv() {
            Ok(v) => return Poll::Ready(Ok(v)),
            Err(TryRecvError::Closed) => return Poll::Ready(Err(RecvError::Closed)),
            // Flavours never reject (only the breaker guard does).
            Err(TryRecvError::Empty | TryRecvError::Rejected { .. }) => {}
        }
        self.inner.rx_waker.register(cx.waker());
        match self.try_recv() {
            Ok(v) => Poll::Ready(Ok(v)),
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError::Closed)),
            Err(TryRecvError::Empty | TryRecvError::Rejected { .. }) => Poll::Pending,
        }
    }

    /// Waits for the value on this thread (usable outside the runtime).
    pub fn recv_blocking(mut self) -> Result<T, RecvError> {
        crate::block_on::block_on(std::future::poll_fn(|cx| self.poll_inner(cx)))
    }

    /// Closes the channel: a later send fails and returns its value. A value sent before
    /// the close can still be received. Returns `true` if this call closed it.
    pub fn close(&mut self) -> bool {
        // AcqRel: Release orders the close before the sender's Acquire of the state.
        let prev = self.inner.state.fetch_or(CLOSED, Ordering::AcqRel);
        self.inner.tx_waker.wake();
        prev & CLOSED == 0
    }

    /// True if the sender went away without sending, the receiver closed, or the value was
    /// taken.
    pub fn is_closed(&self) -> bool {
        // Acquire: pairs with the sender's RMWs.
        self.inner.state.load(Ordering::Acquire) & (CLOSED | TAKEN) != 0
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let restore = std::task::ready!(coop::poll_proceed(cx));
        let out = this.poll_inner(cx);
        if out.is_ready() {
            restore.made_progress();
        }
        out
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // AcqRel: as in `close`.
        self.inner.state.fetch_or(CLOSED, Ordering::AcqRel);
        // The receiver is going away: its waker goes now, not with the last handle.
        drop(self.inner.rx_waker.take());
        self.inner.tx_waker.wake();
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("oneshot::Receiver")
            .field("closed", &self.is_closed())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn value_then_closed() {
        let (tx, mut rx) = oneshot::<u8>();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert!(!tx.is_closed());
        tx.send(3).unwrap();
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert!(rx.is_closed());
    }

    #[test]
    fn dropped_sender_closes() {
        let (tx, rx) = oneshot::<u8>();
        drop(tx);
        assert_eq!(rx.recv_blocking(), Err(RecvError::Closed));
    }

    #[test]
    fn close_before_send_returns_the_value() {
        let (tx, mut rx) = oneshot::<u8>();
        assert!(rx.close());
        assert!(!rx.close());
        assert!(tx.is_closed());
        assert_eq!(tx.send(4), Err(SendError(4)));
    }

    #[test]
    fn value_sent_before_close_is_still_received() {
        let (tx, mut rx) = oneshot::<u8>();
        tx.send(5).unwrap();
        rx.close();
        assert_eq!(rx.try_recv(), Ok(5));
    }

    #[test]
    fn unreceived_value_is_dropped() {
        let v = std::sync::Arc::new(());
        let (tx, rx) = oneshot();
        tx.send(v.clone()).unwrap();
        assert_eq!(std::sync::Arc::strong_count(&v), 2);
        drop(rx);
        assert_eq!(std::sync::Arc::strong_count(&v), 1);
    }

    #[test]
    fn async_recv_and_closed() {
        let rt = weir_runtime::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, rx) = oneshot::<u32>();
            let t = weir_runtime::spawn(rx);
            weir_runtime::task::yield_now().await;
            tx.send(8).unwrap();
            assert_eq!(t.await.unwrap(), Ok(8));

            let (mut tx, rx) = oneshot::<u32>();
            let t = weir_runtime::spawn(async move {
                tx.closed().await;
                tx.is_closed()
            });
            drop(rx);
            assert!(t.await.unwrap());
        });
    }
}
