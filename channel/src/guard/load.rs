//! Whether the primary's consumers keep up with the offered load: the recovery gate of L3.
//!
//! While the channel is degraded its primary only gets the trickle, so a consumer that is
//! merely too slow (service time drifted above the arrival interval) looks healthy: every
//! trickle message is served at once. Recovering then sends the full load back, the queue
//! grows again and the channel flaps. So recovery is judged on the trickle's *service* as well
//! as its latency: the time from a delivery to the next receive the consumers start is one
//! message's service time (with the other consumers parked, as they are while only a trickle
//! arrives), divided by the consumers that were there (those parked plus the one served). The
//! channel recovers only while `offered rate x service time per consumer` stays at or below
//! `SloConfig::recovery_load_percent`.
//!
//! Everything here is statistics read and written with Relaxed atomics: no value's safety
//! depends on it.

use weir_breaker::Nanos;

use crate::sync::{AtomicU64, Ordering};

pub(crate) struct Load {
    /// Clock time of the last delivery while degraded (0: none waits for its next receive).
    delivered_at: AtomicU64,
    /// Consumers at that delivery (parked receivers plus the one served).
    consumers: AtomicU64,
    /// Smoothed service time per consumer, plus one (0: no measurement yet).
    per_message_ns: AtomicU64,
    /// Sends routed to the backup while degraded.
    routed: AtomicU64,
    /// Offered sends counted at the last evaluation, and when (evaluator's state).
    last_total: AtomicU64,
    last_at: AtomicU64,
    /// Smoothed offered rate, in messages per second.
    rate_per_sec: AtomicU64,
}

impl Load {
    pub(crate) fn new() -> Self {
        Load {
            delivered_at: AtomicU64::new(0),
            consumers: AtomicU64::new(1),
            per_message_ns: AtomicU64::new(0),
            routed: AtomicU64::new(0),
            last_total: AtomicU64::new(0),
            last_at: AtomicU64::new(0),
            rate_per_sec: AtomicU64::new(0),
        }
    }

    /// A send went to the backup.
    #[inline]
    pub(crate) fn routed(&self) {
        // Relaxed: a statistic (see the module doc).
        self.routed.fetch_add(1, Ordering::Relaxed);
    }

    /// A value was delivered from the primary at `now` while degraded, with `parked` other
    /// receivers waiting.
    #[inline]
    pub(crate) fn delivered(&self, now: Nanos, parked: usize) {
        // Relaxed: see the module doc.
        self.consumers.store(parked as u64 + 1, Ordering::Relaxed);
        self.delivered_at.store(now.max(1), Ordering::Relaxed);
    }

    /// A receive started at `now` while degraded: closes the service time of the last
    /// delivery, if one is open.
    #[inline]
    pub(crate) fn started(&self, now: Nanos) {
        // Relaxed: see the module doc.
        if self.delivered_at.load(Ordering::Relaxed) == 0 {
            return;
        }
        let at = self.delivered_at.swap(0, Ordering::Relaxed);
        if at == 0 {
            return;
        }
        let consumers = self.consumers.load(Ordering::Relaxed).max(1);
        let sample = now.saturating_sub(at) / consumers;
        let old = self.per_message_ns.load(Ordering::Relaxed);
        let smoothed = if old == 0 || sample < (old - 1) / 4 {
            // First sample, or a consumer that is fast again after a stall (whose one long
            // sample must not hold recovery back for dozens of trickle messages).
            sample
        } else {
            // A quarter of each new sample: a few trickle messages follow a change.
            ((old - 1) * 3 + sample) / 4
        };
        self.per_message_ns.store(smoothed + 1, Ordering::Relaxed);
    }

    /// Whether the consumers keep up at `now` (utilisation at most `max_percent`), given
    /// `primary_sent` values sent to the primary so far. Called once per evaluation.
    pub(crate) fn can_recover(&self, now: Nanos, primary_sent: u64, max_percent: u64) -> bool {
        // Relaxed throughout: see the module doc.
        let total = primary_sent + self.routed.load(Ordering::Relaxed);
        let last_total = self.last_total.swap(total, Ordering::Relaxed);
        let last_at = self.last_at.swap(now, Ordering::Relaxed);
        let elapsed = now.saturating_sub(last_at);
        let mut rate = self.rate_per_sec.load(Ordering::Relaxed);
        if last_at != 0 && elapsed > 0 {
            let sample =
                (total.saturating_sub(last_total) as u128 * 1_000_000_000 / elapsed as u128) as u64;
            rate = if rate == 0 {
                sample
            } else {
                (rate * 3 + sample) / 4
            };
            self.rate_per_sec.store(rate, Ordering::Relaxed);
        }
        if rate == 0 {
            return true;
        }
        let per = self.per_message_ns.load(Ordering::Relaxed);
        if per == 0 {
            // No trickle message was served and released yet: no evidence of capacity.
            return false;
        }
        let mut per = per - 1;
        // A delivery still waiting for its next receive is a service time of at least this.
        let open = self.delivered_at.load(Ordering::Relaxed);
        if open != 0 {
            let consumers = self.consumers.load(Ordering::Relaxed).max(1);
            per = per.max(now.saturating_sub(open) / consumers);
        }
        // utilisation = rate [1/s] x per [ns] / 1e9, in percent.
        (rate as u128 * per as u128 * 100) <= max_percent as u128 * 1_000_000_000
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;

    /// Offers `rate` messages per ms for `ms` and serves the trickle with `service` per message.
    fn drive(load: &Load, now: &mut Nanos, sent: &mut u64, rate: u64, service: Nanos, ms: u64) {
        for _ in 0..ms {
            load.delivered(*now, 0);
            load.started(*now + service);
            *sent += rate;
            *now += MS;
        }
    }

    #[test]
    fn recovery_waits_for_service_to_keep_up_with_the_offered_rate() {
        let load = Load::new();
        let (mut now, mut sent) = (MS, 0);
        assert!(
            load.can_recover(now, sent, 90),
            "no traffic: nothing to keep up with"
        );
        // 1 message per ms offered, 1.2 ms of service each: overloaded.
        for _ in 0..20 {
            drive(&load, &mut now, &mut sent, 1, 1_200_000, 20);
            assert!(!load.can_recover(now, sent, 90));
        }
        // Service back to 0.2 ms: it keeps up after a few trickle messages.
        drive(&load, &mut now, &mut sent, 1, 200_000, 20);
        load.can_recover(now, sent, 90);
        drive(&load, &mut now, &mut sent, 1, 200_000, 20);
        assert!(load.can_recover(now, sent, 90));
        // A consumer that hangs on the message it got: the open delivery counts.
        load.delivered(now, 0);
        now += 50 * MS;
        sent += 50;
        assert!(!load.can_recover(now, sent, 90));
    }
}
