//! The probe vocabulary: one enum for every event weir reports.
//!
//! Events are small `Copy` values: building one never allocates. Task ids are not fields
//! except where an event names a task other than the current one: every event is stamped with
//! the current task and worker ([`crate::Stamp`]) after its probe's is-enabled check passed.
//! [`crate::Probe`] names the variants without their fields (one probe per variant), and
//! [`crate::table`] documents every field as each backend sees it.

use core::panic::Location;

/// Why a task gave up the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YieldReason {
    /// The coop budget ran out and an operation returned `Pending`.
    Budget,
    /// The task called `yield_now`.
    Explicit,
    /// The task waited in the yield-and-backoff hook.
    Backoff,
}

/// Which channel operation a wait event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelOp {
    /// A send waiting for room or a receiver.
    Send,
    /// A receive waiting for a value.
    Recv,
}

/// How long a receive's answer took to arrive (see [`Event::ChannelRecv`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvLatency {
    /// Not measured: a value from a channel that does not stamp its sends.
    Unmeasured,
    /// A value that was sent `nanos` before this receive took it (send-to-receive delay;
    /// measured where send stamps are on, at the stamps' resolution).
    Queued {
        /// Send-to-receive delay in nanoseconds.
        nanos: u64,
    },
    /// No value: the channel was closed and drained, and this receive returned `nanos` after
    /// the close. For a receiver that the close woke, that is the close-to-wake latency.
    AfterClose {
        /// Close-to-return delay in nanoseconds.
        nanos: u64,
    },
}

impl RecvLatency {
    /// The kind as a number (the USDT argument): 0 unmeasured, 1 queued, 2 after close.
    pub const fn code(self) -> u64 {
        match self {
            RecvLatency::Unmeasured => 0,
            RecvLatency::Queued { .. } => 1,
            RecvLatency::AfterClose { .. } => 2,
        }
    }

    /// The delay in nanoseconds (0 when unmeasured).
    pub const fn nanos(self) -> u64 {
        match self {
            RecvLatency::Unmeasured => 0,
            RecvLatency::Queued { nanos } | RecvLatency::AfterClose { nanos } => nanos,
        }
    }
}

/// Everything the runtime, the timers and the channels report.
///
/// Adding a variant: add it to [`crate::Probe`] and [`crate::table::PROBES`] too (the
/// compiler's exhaustiveness checks in the backends point at the rest).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A task was spawned at `location`.
    TaskSpawn {
        /// The new task.
        task: u64,
        /// Where `spawn` was called.
        location: &'static Location<'static>,
    },
    /// A worker starts polling the current task.
    PollStart,
    /// A worker finished polling the current task.
    PollEnd {
        /// Whether the future completed in this poll.
        complete: bool,
    },
    /// `task` was woken (from any thread).
    TaskWake {
        /// The woken task.
        task: u64,
    },
    /// `task` finished (completed, cancelled or panicked) and released its future.
    TaskComplete {
        /// The finished task.
        task: u64,
    },
    /// A worker found nothing to run and parks.
    WorkerPark {
        /// The parking worker.
        worker: u32,
    },
    /// A parked worker was woken.
    WorkerUnpark {
        /// The unparked worker.
        worker: u32,
    },
    /// A worker stole tasks from another.
    WorkerSteal {
        /// The thief.
        worker: u32,
        /// The worker stolen from.
        victim: u32,
    },
    /// The current task yielded the worker.
    Yield {
        /// Why it yielded.
        reason: YieldReason,
    },
    /// The timer driver fired `count` timers in one pass.
    TimerFire {
        /// Timers fired.
        count: u32,
    },
    /// A channel was created.
    ChannelNew {
        /// The channel's stable id.
        channel: u64,
        /// Its capacity (`usize::MAX` for unbounded, 0 for rendezvous).
        capacity: usize,
        /// Where it was created.
        location: &'static Location<'static>,
        /// The name given to the builder (`""` when unnamed); valid while the event is handled.
        name: &'a str,
    },
    /// A value was sent on a channel.
    ChannelSend {
        /// The channel.
        channel: u64,
    },
    /// A receive returned: with a value, or with `Closed` once the channel was closed and
    /// drained (`latency` tells which).
    ChannelRecv {
        /// The channel.
        channel: u64,
        /// Send-to-receive or close-to-return delay.
        latency: RecvLatency,
    },
    /// A channel was closed, waking `woken` parked tasks and threads.
    ChannelClose {
        /// The channel.
        channel: u64,
        /// Parked senders and receivers woken by the close.
        woken: u32,
    },
    /// The current task starts waiting on a channel.
    ChannelWaitStart {
        /// The channel.
        channel: u64,
        /// What it waits to do.
        op: ChannelOp,
        /// Where the operation was called (the `#[track_caller]` location of the `.await`).
        location: &'static Location<'static>,
    },
    /// The current task stops waiting on a channel.
    ChannelWaitEnd {
        /// The channel.
        channel: u64,
        /// What it waited to do.
        op: ChannelOp,
    },
    /// A channel's breaker moved between states (encoded by `weir-breaker`).
    BreakerTransition {
        /// The channel.
        channel: u64,
        /// State before.
        from: u8,
        /// State after.
        to: u8,
    },
    /// A channel's SLO was evaluated.
    SloEvaluation {
        /// The channel.
        channel: u64,
        /// Short-window P99.9 in microseconds.
        p999_us: u64,
        /// Whether the evaluation found the SLO breached.
        breached: bool,
    },
    /// A channel entered (`true`) or left (`false`) degraded mode.
    SloDegrade {
        /// The channel.
        channel: u64,
        /// Degraded after this event.
        degraded: bool,
    },
    /// The current task's timer sleep returned `Pending` (it sleeps).
    TimerSleep {
        /// Where `sleep`/`sleep_until` was called.
        location: &'static Location<'static>,
    },
    /// The current task's IO operation returned `Pending` (it waits for readiness).
    IoWait {
        /// The file descriptor.
        fd: u64,
        /// Waiting to write (`true`) or to read.
        write: bool,
        /// Where the operation was called.
        location: &'static Location<'static>,
    },
}

impl YieldReason {
    /// The reason as a number (the USDT argument): 0 budget, 1 explicit, 2 backoff.
    pub const fn code(self) -> u64 {
        match self {
            YieldReason::Budget => 0,
            YieldReason::Explicit => 1,
            YieldReason::Backoff => 2,
        }
    }
}

impl ChannelOp {
    /// The operation as a number (the USDT argument): 0 send, 1 receive.
    pub const fn code(self) -> u64 {
        match self {
            ChannelOp::Send => 0,
            ChannelOp::Recv => 1,
        }
    }
}

impl Event<'_> {
    /// The probe this event is emitted on.
    pub const fn probe(&self) -> crate::Probe {
        use crate::Probe as P;
        match self {
            Event::TaskSpawn { .. } => P::TaskSpawn,
            Event::PollStart => P::PollStart,
            Event::PollEnd { .. } => P::PollEnd,
            Event::TaskWake { .. } => P::TaskWake,
            Event::TaskComplete { .. } => P::TaskComplete,
            Event::WorkerPark { .. } => P::WorkerPark,
            Event::WorkerUnpark { .. } => P::WorkerUnpark,
            Event::WorkerSteal { .. } => P::WorkerSteal,
            Event::Yield { .. } => P::Yield,
            Event::TimerFire { .. } => P::TimerFire,
            Event::ChannelNew { .. } => P::ChannelNew,
            Event::ChannelSend { .. } => P::ChannelSend,
            Event::ChannelRecv { .. } => P::ChannelRecv,
            Event::ChannelClose { .. } => P::ChannelClose,
            Event::ChannelWaitStart { .. } => P::ChannelWaitStart,
            Event::ChannelWaitEnd { .. } => P::ChannelWaitEnd,
            Event::BreakerTransition { .. } => P::BreakerTransition,
            Event::SloEvaluation { .. } => P::SloEvaluation,
            Event::SloDegrade { .. } => P::SloDegrade,
            Event::TimerSleep { .. } => P::TimerSleep,
            Event::IoWait { .. } => P::IoWait,
        }
    }
}
