//! The probe vocabulary: one enum for every event weir reports.
//!
//! Events are small `Copy` values: building one never allocates. Task ids are not fields
//! except where an event names a task other than the current one; the backend stamps every
//! event with [`crate::context::current_task`].

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

/// Everything the runtime, the timers and the channels report.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event {
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
    },
    /// A value was sent on a channel.
    ChannelSend {
        /// The channel.
        channel: u64,
    },
    /// A value was received from a channel.
    ChannelRecv {
        /// The channel.
        channel: u64,
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
}
