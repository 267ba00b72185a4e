//! `Sleep`: a future that completes at a deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::driver::TimeDriver;
use super::Instant;
use crate::coop;
use crate::runtime::context;
use crate::sync::Arc;

/// Waits until `duration` has passed.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now().saturating_add(duration))
}

/// Waits until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        entry: None,
    }
}

/// Future returned by [`sleep`] and [`sleep_until`]. It registers with the runtime's timer
/// wheel when first polled and leaves it when dropped.
///
/// # Panics
/// Polling it panics outside a weir runtime, or in one built without `enable_time`.
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    deadline: Instant,
    entry: Option<Entry>,
}

struct Entry {
    driver: Arc<TimeDriver>,
    key: usize,
}

impl Sleep {
    /// When the sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline has passed (and, if registered, the timer fired).
    pub fn is_elapsed(&self) -> bool {
        match &self.entry {
            Some(e) => e.driver.is_fired(e.key),
            None => self.deadline <= Instant::now(),
        }
    }

    /// Moves the deadline; the sleep becomes pending again if it had completed.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        if let Some(e) = &this.entry {
            e.driver.reset(e.key, deadline);
        }
    }

    fn driver() -> Arc<TimeDriver> {
        let driver = context::with_handle(|h| h.driver().time().cloned());
        match driver {
            Ok(Some(driver)) => driver,
            Ok(None) => panic!(
                "weir: timers are disabled in this runtime; build it with \
                 Builder::enable_time() or enable_all()"
            ),
            Err(err) => panic!("weir::time: {err}"),
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let restore = std::task::ready!(coop::poll_proceed(cx));
        let ready = match &this.entry {
            Some(e) => e.driver.poll_entry(e.key, cx.waker()),
            None if this.deadline <= Instant::now() => Poll::Ready(()),
            None => {
                let driver = Sleep::driver();
                let key = driver.register(this.deadline, cx.waker());
                this.entry = Some(Entry { driver, key });
                Poll::Pending
            }
        };
        if ready.is_ready() {
            restore.made_progress();
        }
        ready
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(e) = self.entry.take() {
            e.driver.deregister(e.key);
        }
    }
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.entry.is_some())
            .finish()
    }
}
