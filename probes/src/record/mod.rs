//! The in-process recorder (`--features record`).
//!
//! * Recording: every event is packed into five words and pushed into a fixed-size lock-free
//!   ring ([`ring`]): one per runtime worker (`worker % WORKER_RINGS`) and one fallback ring for
//!   threads outside the runtime. The rings are statics: the event path allocates nothing and
//!   takes no lock; a full ring drops its oldest events and counts them.
//! * Collecting: [`Recorder::collect`] folds the rings into aggregates ([`aggregate`]). The
//!   runtime calls [`runtime_tick`] from its own timer path (each maintenance pass and after
//!   each park, where it refreshes the coarse clock); a tick collects at most every
//!   [`COLLECT_EVERY_NS`]. A snapshot collects first, so it is always up to date. No thread of
//!   its own: the probes crate cannot see the runtime, and a worker that is already awake for
//!   maintenance costs nothing extra to wake.
//! * Time: events are stamped with the clock the runtime registers (its coarse clock, one
//!   relaxed load), never the system clock on the event path.

mod aggregate;
mod chain;
mod hist;
pub mod ring;
mod snapshot;
pub(crate) mod sync;

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::{Event, Probe, Stamp};

pub use chain::{BlockingReport, Chain, ChainEnd, RootKind, Step};
pub use hist::{bucket_bounds, Histogram};
pub use snapshot::{
    ChannelRef, ChannelStats, LatencyKind, RecordError, Snapshot, TaskState, TaskStats,
};

/// Slots per ring (a power of two).
pub const RING_SLOTS: usize = 4096;
/// Rings for runtime workers (worker `w` uses ring `w % WORKER_RINGS`).
pub const WORKER_RINGS: usize = 16;
/// The shortest interval between two collections driven by [`runtime_tick`].
pub const COLLECT_EVERY_NS: u64 = 5_000_000;

/// The recorder's runtime switch. On by default: building with `record` asks for it.
static ON: AtomicBool = AtomicBool::new(true);
static EMITTED: AtomicU64 = AtomicU64::new(0);
static LAST_COLLECT: AtomicU64 = AtomicU64::new(0);
/// The registered event clock (`fn() -> u64` as an address; 0 = none yet).
static CLOCK: AtomicUsize = AtomicUsize::new(0);
/// The registered precise clock, same origin, read by snapshots only (0 = none yet).
static PRECISE: AtomicUsize = AtomicUsize::new(0);

#[cfg(not(loom))]
static RINGS: [ring::Ring<RING_SLOTS>; WORKER_RINGS + 1] =
    [const { ring::Ring::new() }; WORKER_RINGS + 1];

/// The is-enabled check of every probe site for this backend: one relaxed load.
#[inline(always)]
pub(crate) fn is_on(_probe: Probe) -> bool {
    // Relaxed: a switch; an event racing with the flip may be kept or missed.
    !cfg!(loom) && ON.load(Ordering::Relaxed)
}

/// Event kinds in the ring (word 0, low byte).
pub(crate) mod kind {
    pub const SPAWN: u8 = 1;
    pub const POLL_START: u8 = 2;
    pub const POLL_END: u8 = 3;
    pub const WAKE: u8 = 4;
    pub const COMPLETE: u8 = 5;
    pub const YIELD: u8 = 6;
    pub const SEND: u8 = 7;
    pub const RECV: u8 = 8;
    pub const CLOSE: u8 = 9;
    pub const WAIT_START: u8 = 10;
    pub const WAIT_END: u8 = 11;
    pub const BREAKER: u8 = 12;
    pub const DEGRADE: u8 = 13;
    pub const SLEEP: u8 = 14;
    pub const IO: u8 = 15;
}

/// Calls the clock registered in `slot` (0 when none is).
#[inline]
fn read(slot: &AtomicUsize) -> u64 {
    // Relaxed: the address is the only payload.
    match slot.load(Ordering::Relaxed) {
        0 => 0,
        f => {
            // SAFETY: only `register_clock` stores into CLOCK and PRECISE, and it stores a
            // `fn() -> u64` there.
            let f: fn() -> u64 = unsafe { core::mem::transmute::<usize, fn() -> u64>(f) };
            f()
        }
    }
}

/// The event clock: the runtime's coarse clock (one relaxed load).
#[inline]
fn now() -> u64 {
    read(&CLOCK)
}

/// Now on the precise clock, for collections and snapshots: the coarse clock stands still
/// while every worker but a busy one is parked, and "running for N ms" must not.
fn precise_now() -> u64 {
    read(&PRECISE).max(now())
}

fn loc(l: &'static core::panic::Location<'static>) -> u64 {
    l as *const core::panic::Location<'static> as u64
}

/// Takes one stamped event: packs it and pushes it into this thread's ring.
#[inline]
pub(crate) fn record(stamp: Stamp, event: &Event<'_>) {
    #[cfg(not(loom))]
    {
        use crate::{ChannelOp, RecvLatency};
        // (kind, flag, a, b)
        let (k, flag, a, b): (u8, u8, u64, u64) = match *event {
            Event::TaskSpawn { task, location } => (kind::SPAWN, 0, task, loc(location)),
            Event::PollStart => (kind::POLL_START, 0, 0, 0),
            Event::PollEnd { complete } => (kind::POLL_END, u8::from(complete), 0, 0),
            Event::TaskWake { task } => (kind::WAKE, 0, task, 0),
            Event::TaskComplete { task } => (kind::COMPLETE, 0, task, 0),
            Event::Yield { reason } => (kind::YIELD, reason.code() as u8, 0, 0),
            Event::ChannelNew {
                channel,
                capacity,
                location,
                name,
            } => {
                // Channel creation allocates the channel already; its name is copied here,
                // out of the rings (a name does not fit a slot).
                aggregate::register_channel(channel, capacity, location, name);
                return;
            }
            Event::ChannelSend { channel } => (kind::SEND, 0, channel, 0),
            Event::ChannelRecv { channel, latency } => {
                let code = latency.code() as u8;
                let nanos = match latency {
                    RecvLatency::Unmeasured => 0,
                    l => l.nanos(),
                };
                (kind::RECV, code, channel, nanos)
            }
            Event::ChannelClose { channel, woken } => (kind::CLOSE, 0, channel, u64::from(woken)),
            Event::ChannelWaitStart {
                channel,
                op,
                location,
            } => (
                kind::WAIT_START,
                u8::from(op == ChannelOp::Recv),
                channel,
                loc(location),
            ),
            Event::ChannelWaitEnd { channel, op } => {
                (kind::WAIT_END, u8::from(op == ChannelOp::Recv), channel, 0)
            }
            Event::BreakerTransition { channel, from, to } => {
                (kind::BREAKER, (from & 0xf) | (to << 4), channel, 0)
            }
            Event::SloDegrade { channel, degraded } => {
                (kind::DEGRADE, u8::from(degraded), channel, 0)
            }
            Event::TimerSleep { location } => (kind::SLEEP, 0, 0, loc(location)),
            Event::IoWait {
                fd,
                write,
                location,
            } => (kind::IO, u8::from(write), fd, loc(location)),
            _ => return,
        };
        let w0 = u64::from(k) | (u64::from(flag) << 8) | (u64::from(stamp.worker) << 16);
        let ring = if stamp.worker == crate::context::NO_WORKER {
            &RINGS[WORKER_RINGS]
        } else {
            &RINGS[stamp.worker as usize % WORKER_RINGS]
        };
        ring.push([w0, stamp.task, now(), a, b]);
        // Relaxed: a statistic.
        EMITTED.fetch_add(1, Ordering::Relaxed);
    }
    #[cfg(loom)]
    let _ = (stamp, event);
}

pub(crate) fn emitted() -> u64 {
    // Relaxed: a statistic.
    EMITTED.load(Ordering::Relaxed)
}

/// Registers the clocks, in nanoseconds since one fixed origin: `events` stamps every event
/// (the runtime's coarse clock), `precise` dates collections and snapshots.
pub fn register_clock(events: fn() -> u64, precise: fn() -> u64) {
    // Relaxed: the addresses are the only payload.
    CLOCK.store(events as usize, Ordering::Relaxed);
    PRECISE.store(precise as usize, Ordering::Relaxed);
}

/// Called by the runtime on its timer path with the coarse time: registers the clocks and
/// collects when [`COLLECT_EVERY_NS`] passed since the last collection.
pub fn runtime_tick(now_ns: u64, events: fn() -> u64, precise: fn() -> u64) {
    // Relaxed: the address is the only payload.
    if CLOCK.load(Ordering::Relaxed) != events as usize {
        register_clock(events, precise);
    }
    // Relaxed: a rate limit; the CAS makes one caller the collector of this interval.
    let last = LAST_COLLECT.load(Ordering::Relaxed);
    if now_ns.saturating_sub(last) < COLLECT_EVERY_NS
        || LAST_COLLECT
            .compare_exchange(last, now_ns, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    recorder().collect_nonblocking();
}

type TripHook = Box<dyn Fn(&BlockingReport) + Send + Sync>;

/// The recorder: its switch, its collector and its aggregates.
pub struct Recorder {
    state: Mutex<aggregate::State>,
    hook: Mutex<Option<TripHook>>,
}

/// The process-wide recorder.
pub fn recorder() -> &'static Recorder {
    static R: OnceLock<Recorder> = OnceLock::new();
    R.get_or_init(|| Recorder {
        state: Mutex::new(aggregate::State::default()),
        hook: Mutex::new(None),
    })
}

impl Recorder {
    /// Turns recording on or off (on by default with the `record` feature).
    pub fn set_on(&self, on: bool) {
        // Relaxed: a switch.
        ON.store(on, Ordering::Relaxed);
    }

    /// Whether recording is on.
    pub fn is_on(&self) -> bool {
        // Relaxed: a switch.
        ON.load(Ordering::Relaxed)
    }

    /// Folds every ring into the aggregates now (waiting for a collection in progress).
    pub fn collect(&self) {
        let guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.collect_with(guard);
    }

    fn collect_nonblocking(&self) {
        if let Ok(guard) = self.state.try_lock() {
            self.collect_with(guard);
        }
    }

    fn collect_with(&self, mut state: std::sync::MutexGuard<'_, aggregate::State>) {
        #[cfg(not(loom))]
        let trips = state.collect(&RINGS, precise_now());
        #[cfg(loom)]
        let trips: Vec<u64> = Vec::new();
        if trips.is_empty() {
            return;
        }
        let snap = state.snapshot(precise_now());
        drop(state);
        for ch in trips {
            if let Ok(report) = snap.blocking_report(ch) {
                let hook = self.hook.lock().unwrap_or_else(|p| p.into_inner());
                match &*hook {
                    Some(f) => f(&report),
                    None => eprintln!("{report}"),
                }
            }
        }
    }

    /// Collects, then copies the aggregates out.
    pub fn snapshot(&self) -> Snapshot {
        let guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.collect_with(guard);
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.snapshot(precise_now())
    }
}

/// The blocking chain from `channel` now (see [`BlockingReport`]).
pub fn blocking_report(channel: impl Into<ChannelRef>) -> Result<BlockingReport, RecordError> {
    recorder().snapshot().blocking_report(channel)
}

/// Replaces what happens with the blocking report when a channel's L1 breaker opens (from
/// closed) or its L3 SLO degrades: once per trip, from the collector. The default prints it
/// to stderr.
pub fn on_trip(hook: impl Fn(&BlockingReport) + Send + Sync + 'static) {
    *recorder().hook.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(hook));
}
