//! `Tracker`: counts the polls and drops of a future, to check that the runtime polls what it
//! should and drops every future exactly once.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::signals::Latch;

#[derive(Clone, Default)]
pub struct Tracker {
    polls: Arc<AtomicUsize>,
    dropped: Latch,
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// Wraps `future` so that its polls and its drop are counted here.
    pub fn track<F: Future>(&self, future: F) -> Tracked<F> {
        Tracked {
            future: Some(Box::pin(future)),
            tracker: self.clone(),
        }
    }

    pub fn polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }

    pub fn drops(&self) -> usize {
        self.dropped.count()
    }

    /// Waits until the tracked future has been dropped.
    pub async fn dropped(&self) {
        self.dropped.wait_for(1).await
    }
}

/// A future whose polls and drop are counted by a [`Tracker`].
pub struct Tracked<F> {
    /// `None` only while being dropped.
    future: Option<Pin<Box<F>>>,
    tracker: Tracker,
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.tracker.polls.fetch_add(1, Ordering::SeqCst);
        self.future
            .as_mut()
            .expect("a tracked future is present until dropped")
            .as_mut()
            .poll(cx)
    }
}

impl<F> Drop for Tracked<F> {
    fn drop(&mut self) {
        // Drop the future first, so that a waiter sees everything it owned already gone.
        drop(self.future.take());
        self.tracker.dropped.arrive();
    }
}
