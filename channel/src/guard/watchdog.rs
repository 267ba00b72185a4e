//! The runtime timer's part of L3: a channel that is idle with a backlog (no sends, no
//! receives: its consumer hangs and its producers stopped) is still evaluated, tripped and
//! migrated, so that no application has to drive L3 with a status loop.
//!
//! One small task per monitored channel with a backup, spawned when the channel is built
//! inside a weir runtime. It holds only a weak reference: it ends when the channel is dropped,
//! or once the channel is closed and drained. It sleeps a quarter of the head-age limit while
//! values wait (so a value is moved at most that long after it reaches the limit) and half of
//! it while the channel is empty (the first check of a new value comes before it reaches the
//! limit). The runtime must have its timers enabled (as for `recv_timeout`).

use std::sync::Weak;
use std::time::Duration;

use crate::channel::Chan;
use crate::sync::Arc;

/// Shortest sleep: the timer wheel's resolution.
const MIN_PERIOD: Duration = Duration::from_millis(1);

/// Starts the watchdog of `chan` if it is monitored with a backup and a runtime is current.
pub(crate) fn spawn<T: Send + 'static>(chan: &Arc<Chan<T>>) {
    let Some(slo) = chan.guard.as_ref().and_then(|g| g.watched_slo()) else {
        return;
    };
    let Ok(handle) = weir_runtime::runtime::Handle::try_current() else {
        return;
    };
    let bucket = slo.config().short_bucket;
    let limit = Duration::from_micros(slo.head_age_limit_us());
    let (busy, idle) = if limit.is_zero() {
        (bucket, bucket)
    } else {
        (
            (limit / 4).clamp(MIN_PERIOD, bucket.max(MIN_PERIOD)),
            (limit / 2).clamp(MIN_PERIOD, bucket.max(MIN_PERIOD)),
        )
    };
    let weak: Weak<Chan<T>> = Arc::downgrade(chan);
    drop(handle.spawn(async move {
        loop {
            let period = match weak.upgrade() {
                None => return,
                Some(chan) if chan.is_closed() && chan.is_empty() => return,
                Some(chan) if chan.is_empty() => idle,
                Some(_) => busy,
            };
            weir_runtime::time::sleep(period).await;
            let Some(chan) = weak.upgrade() else {
                return;
            };
            if let Some(guard) = &chan.guard {
                guard.tick(&chan);
            }
        }
    }));
}
