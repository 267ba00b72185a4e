//! `yield_now`: Go's `runtime.Gosched` for weir tasks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use weir_probes::{probe, Event, YieldReason};

/// Gives the worker to other tasks: the current task goes to the back of the worker's queue
/// (never the LIFO slot) and runs again after the tasks already queued. When no other task is
/// queued, the IO reactor and the timers are polled (without sleeping) first, so tasks that
/// became ready meanwhile run before this one.
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        probe!(Event::Yield {
            reason: YieldReason::Explicit
        });
        // With nothing else to run, the IO driver and the timers get a turn first: a task
        // that yields while it waits for a socket lets the reactor see it at once.
        crate::runtime::context::turn_driver_if_idle();
        // Woken while running: the scheduler re-queues the task at the back after this poll.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
