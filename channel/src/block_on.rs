//! `block_on`: the blocking forms of the channel operations (`send_blocking`,
//! `recv_blocking`, the oneshot's `blocking_recv`) poll the same futures as the async forms,
//! on the calling thread, parking it while they are pending.

use std::future::Future;
#[cfg(not(loom))]
use std::pin::pin;
#[cfg(not(loom))]
use std::task::{Context, Poll};

/// Runs `future` to completion on this thread, parking it while the future is pending.
///
/// Used by the blocking forms: they poll the same operation futures as the async forms, with
/// a waker that unparks this thread. The waker is made once per thread, so a blocking wait
/// allocates nothing in steady state. The future is polled without a coop budget.
#[cfg(not(loom))]
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    match block_on_until(future, None) {
        Some(out) => out,
        // Unreachable: without a deadline `block_on_until` only returns `Some`.
        None => unreachable_without_deadline(),
    }
}

#[cfg(not(loom))]
#[cold]
fn unreachable_without_deadline() -> ! {
    unreachable!("block_on_until returned without a deadline")
}

/// Like [`block_on`], giving up at `deadline` (the future is then dropped, which leaves any
/// queue it waited in).
#[cfg(not(loom))]
pub(crate) fn block_on_until<F: Future>(
    future: F,
    deadline: Option<std::time::Instant>,
) -> Option<F::Output> {
    let mut future = pin!(future);
    thread_waker::with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return Some(out);
            }
            match deadline {
                None => std::thread::park(),
                Some(deadline) => {
                    let now = std::time::Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    std::thread::park_timeout(deadline - now);
                }
            }
        }
    })
}

/// Under loom the blocking forms run on loom's executor, which parks loom threads.
#[cfg(loom)]
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    loom::future::block_on(future)
}

#[cfg(not(loom))]
mod thread_waker {
    use std::sync::Arc;
    use std::task::{Wake, Waker};
    use std::thread::Thread;

    struct Unparker(Thread);

    impl Wake for Unparker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }

    thread_local! {
        static WAKER: Waker = Waker::from(Arc::new(Unparker(std::thread::current())));
    }

    /// Runs `f` with this thread's unparking waker.
    pub(super) fn with<R>(f: impl FnOnce(&Waker) -> R) -> R {
        let mut f = Some(f);
        let out = WAKER.try_with(|w| (f.take().expect("called once"))(w));
        match out {
            Ok(r) => r,
            // Thread-local storage is being torn down: make a one-off waker.
            Err(_) => {
                let waker = Waker::from(Arc::new(Unparker(std::thread::current())));
                (f.take().expect("not called yet"))(&waker)
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn block_on_parks_until_woken() {
        let (tx, rx) = std::sync::mpsc::channel::<Waker>();
        let t = std::thread::spawn(move || {
            let w = rx.recv().unwrap();
            w.wake();
        });
        let mut sent = Some(tx);
        let out = block_on(std::future::poll_fn(|cx| match sent.take() {
            Some(tx) => {
                tx.send(cx.waker().clone()).unwrap();
                Poll::Pending
            }
            None => Poll::Ready(5),
        }));
        assert_eq!(out, 5);
        t.join().unwrap();
        let timed_out = block_on_until(
            std::future::pending::<()>(),
            Some(std::time::Instant::now() + std::time::Duration::from_millis(2)),
        );
        assert!(timed_out.is_none());
    }
}
