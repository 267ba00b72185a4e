//! Probe names: one per [`Event`](crate::Event) variant, without its fields, and the
//! is-enabled check every call site makes before it builds its event.

/// One probe per [`Event`](crate::Event) variant (same name; the USDT probe is its snake_case
/// form, see [`Probe::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[allow(missing_docs)] // each variant is documented on the `Event` variant of the same name
pub enum Probe {
    TaskSpawn,
    PollStart,
    PollEnd,
    TaskWake,
    TaskComplete,
    WorkerPark,
    WorkerUnpark,
    WorkerSteal,
    Yield,
    TimerFire,
    ChannelNew,
    ChannelSend,
    ChannelRecv,
    ChannelClose,
    ChannelWaitStart,
    ChannelWaitEnd,
    BreakerTransition,
    SloEvaluation,
    SloDegrade,
    TimerSleep,
    IoWait,
}

impl Probe {
    /// Number of probes.
    pub const COUNT: usize = Probe::ALL.len();

    /// Every probe, in declaration order (`ALL[p as usize] == p`).
    pub const ALL: [Probe; 21] = [
        Probe::TaskSpawn,
        Probe::PollStart,
        Probe::PollEnd,
        Probe::TaskWake,
        Probe::TaskComplete,
        Probe::WorkerPark,
        Probe::WorkerUnpark,
        Probe::WorkerSteal,
        Probe::Yield,
        Probe::TimerFire,
        Probe::ChannelNew,
        Probe::ChannelSend,
        Probe::ChannelRecv,
        Probe::ChannelClose,
        Probe::ChannelWaitStart,
        Probe::ChannelWaitEnd,
        Probe::BreakerTransition,
        Probe::SloEvaluation,
        Probe::SloDegrade,
        Probe::TimerSleep,
        Probe::IoWait,
    ];

    /// The USDT probe name (provider `weir`): the variant in snake_case.
    pub const fn name(self) -> &'static str {
        match self {
            Probe::TaskSpawn => "task_spawn",
            Probe::PollStart => "poll_start",
            Probe::PollEnd => "poll_end",
            Probe::TaskWake => "task_wake",
            Probe::TaskComplete => "task_complete",
            Probe::WorkerPark => "worker_park",
            Probe::WorkerUnpark => "worker_unpark",
            Probe::WorkerSteal => "worker_steal",
            Probe::Yield => "yield",
            Probe::TimerFire => "timer_fire",
            Probe::ChannelNew => "channel_new",
            Probe::ChannelSend => "channel_send",
            Probe::ChannelRecv => "channel_recv",
            Probe::ChannelClose => "channel_close",
            Probe::ChannelWaitStart => "channel_wait_start",
            Probe::ChannelWaitEnd => "channel_wait_end",
            Probe::BreakerTransition => "breaker_transition",
            Probe::SloEvaluation => "slo_evaluation",
            Probe::SloDegrade => "slo_degrade",
            Probe::TimerSleep => "timer_sleep",
            Probe::IoWait => "io_wait",
        }
    }

    /// Whether a compiled-in backend wants this probe's events now: the probe's USDT
    /// semaphore is non-zero (a tracer is attached) or the recorder is on. One load and one
    /// branch per backend; nothing else is read. Always `false` without a backend feature.
    #[inline(always)]
    pub fn is_enabled(self) -> bool {
        #[cfg(all(feature = "usdt", weir_usdt))]
        if crate::usdt::is_attached(self) {
            return true;
        }
        // ---- record backend: its "enabled" is the recorder's own runtime flag ----
        #[cfg(feature = "record")]
        if crate::record::is_on(self) {
            return true;
        }
        let _ = self;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_probe_in_order() {
        for (i, p) in Probe::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i, "{p:?}");
        }
    }

    #[test]
    fn names_are_unique_snake_case() {
        let mut names: Vec<_> = Probe::ALL.iter().map(|p| p.name()).collect();
        for n in &names {
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{n}"
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Probe::COUNT);
    }
}
