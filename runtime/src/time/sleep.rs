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
#[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now().saturating_add(duration))
}

/// Waits until `deadline`.
#[cfg_attr(any(feature = "usdt", feature = "record"), track_caller)]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        entry: None,
        #[cfg(any(feature = "usdt", feature = "record"))]
        site: std::panic::Location::caller(),
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
    /// Where the sleep was made (for the `timer_sleep` probe).
    #[cfg(any(feature = "usdt", feature = "record"))]
    site: &'static std::panic::Location<'static>,
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
        } else {
            #[cfg(any(feature = "usdt", feature = "record"))]
            {
                use weir_probes::Event;
                weir_probes::probe!(Event::TimerSleep {
                    location: this.site
                });
            }
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

#[cfg(all(test, not(loom)))]
mod tests {
    use std::future::{poll_fn, Future};
    use std::pin::Pin;
    use std::task::Poll;
    use std::time::Duration;

    use super::{sleep, Sleep};
    use crate::runtime::Builder;
    use crate::time::{interval, timeout};

    /// Polls `s` once inside the current task, expecting it to be pending.
    async fn poll_pending(s: &mut Sleep) {
        poll_fn(|cx| {
            assert!(Pin::new(&mut *s).poll(cx).is_pending());
            Poll::Ready(())
        })
        .await
    }

    #[test]
    fn the_wheel_holds_exactly_the_live_registered_sleeps() {
        let rt = Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            let driver = Sleep::driver();
            let hour = Duration::from_secs(3600);

            // Registered on the first poll, removed on drop.
            let mut s = sleep(hour);
            assert_eq!(
                driver.num_entries(),
                0,
                "a sleep registers only when polled"
            );
            poll_pending(&mut s).await;
            assert_eq!(driver.num_entries(), 1);
            poll_pending(&mut s).await;
            assert_eq!(driver.num_entries(), 1, "a re-poll reuses the entry");
            drop(s);
            assert_eq!(driver.num_entries(), 0);

            // A fired sleep keeps its entry while it lives (a reset re-arms it), not after.
            let mut s = sleep(Duration::from_millis(1));
            poll_pending(&mut s).await;
            (&mut s).await;
            assert_eq!(driver.num_entries(), 1);
            drop(s);
            assert_eq!(driver.num_entries(), 0);

            // Many at once, dropped in another order than registered.
            let mut many: Vec<Sleep> = (1..=100).map(|i| sleep(hour * i)).collect();
            for s in &mut many {
                poll_pending(s).await;
            }
            assert_eq!(driver.num_entries(), 100);
            while !many.is_empty() {
                let s = many.swap_remove(many.len() / 3);
                drop(s);
            }
            assert_eq!(driver.num_entries(), 0);

            // A timeout that completes first leaves nothing behind; one that elapses neither.
            assert_eq!(timeout(hour, crate::task::yield_now()).await, Ok(()));
            assert_eq!(driver.num_entries(), 0);
            assert!(
                timeout(Duration::from_millis(1), std::future::pending::<()>())
                    .await
                    .is_err()
            );
            assert_eq!(driver.num_entries(), 0);

            // An interval holds one entry while it lives.
            let mut iv = interval(Duration::from_millis(1));
            iv.tick().await;
            iv.tick().await;
            assert_eq!(driver.num_entries(), 1);
            drop(iv);
            assert_eq!(driver.num_entries(), 0);
        });
    }

    #[test]
    fn aborted_and_shut_down_tasks_leave_no_timer_behind() {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let driver = rt.block_on(async { Sleep::driver() });
        let started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let started = started.clone();
                rt.spawn(async move {
                    let mut s = sleep(Duration::from_secs(3600));
                    poll_pending(&mut s).await;
                    started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    s.await
                })
            })
            .collect();
        rt.block_on(async {
            while started.load(std::sync::atomic::Ordering::SeqCst) < 20 {
                crate::task::yield_now().await;
            }
        });
        assert_eq!(driver.num_entries(), 20);
        for h in &handles[..10] {
            h.abort();
        }
        for h in handles.into_iter().take(10) {
            assert!(rt.block_on(h).unwrap_err().is_cancelled());
        }
        assert_eq!(driver.num_entries(), 10);
        drop(rt);
        assert_eq!(driver.num_entries(), 0);
    }
}
