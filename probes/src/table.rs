//! The probe table: every USDT probe's arguments, in order, with meaning and unit.
//!
//! This is the one documentation of the probe interface: `weir-probe probes` prints it, the
//! shipped scripts use these argument numbers, the note-layout test checks each probe's
//! argument count against it, and `probes/PROBES.md` is generated from it (a test keeps the
//! file and the table equal).
//!
//! Every probe carries the same first two arguments ([`COMMON`]): the current task id and the
//! current worker id. Names and source locations travel as one NUL-terminated string each
//! (`file:line`), which a bpftrace script reads with `str(argN)`: bpftrace 0.17 reads only the
//! first six arguments of a USDT probe on x86_64, so no probe has more.

use crate::Probe;

/// One argument of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    /// Its name (also the `Event` field it comes from, where there is one).
    pub name: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// Its unit or encoding.
    pub unit: &'static str,
}

/// One probe's documentation.
#[derive(Debug, Clone, Copy)]
pub struct ProbeDoc {
    /// The probe.
    pub probe: Probe,
    /// When it fires.
    pub fires: &'static str,
    /// Its own arguments, after [`COMMON`] (so the first is `arg2`).
    pub args: &'static [Arg],
}

impl ProbeDoc {
    /// Number of USDT arguments of this probe ([`COMMON`] included).
    pub const fn arg_count(&self) -> usize {
        COMMON.len() + self.args.len()
    }
}

const fn arg(name: &'static str, meaning: &'static str, unit: &'static str) -> Arg {
    Arg {
        name,
        meaning,
        unit,
    }
}

/// `arg0` and `arg1` of every probe.
pub const COMMON: &[Arg] = &[
    arg(
        "task",
        "task being polled on the emitting thread",
        "id, 0 = none",
    ),
    arg(
        "worker",
        "runtime worker of the emitting thread",
        "index, 4294967295 = none",
    ),
];

const CHANNEL: Arg = arg("channel", "the channel", "id");

/// A source location: `file:line` as a NUL-terminated string.
const fn location_arg(meaning: &'static str) -> Arg {
    arg("location", meaning, "C string `file:line`")
}

const SPAWN: [Arg; 2] = [
    arg("new_task", "the spawned task", "id"),
    location_arg("where `spawn` was called"),
];

const CHANNEL_NEW: [Arg; 4] = [
    CHANNEL,
    arg(
        "capacity",
        "buffer size",
        "messages, 0 = rendezvous, 2^64-1 = unbounded",
    ),
    arg(
        "label",
        "name given to the builder, else where it was built",
        "C string",
    ),
    location_arg("where the channel was built"),
];

const WAIT_START: [Arg; 3] = [
    CHANNEL,
    arg("op", "what it waits to do", "0 send, 1 receive"),
    location_arg("where the waiting operation was called (the `.await`)"),
];

/// Every probe, in [`Probe`] order.
pub const PROBES: [ProbeDoc; Probe::COUNT] = [
    ProbeDoc {
        probe: Probe::TaskSpawn,
        fires: "a task was spawned",
        args: &SPAWN,
    },
    ProbeDoc {
        probe: Probe::PollStart,
        fires: "a worker starts polling the current task",
        args: &[],
    },
    ProbeDoc {
        probe: Probe::PollEnd,
        fires: "a worker finished polling the current task",
        args: &[arg("complete", "the future completed", "0/1")],
    },
    ProbeDoc {
        probe: Probe::TaskWake,
        fires: "a task was woken (from any thread)",
        args: &[arg("woken_task", "the woken task", "id")],
    },
    ProbeDoc {
        probe: Probe::TaskComplete,
        fires: "a task finished (completed, cancelled or panicked)",
        args: &[arg("done_task", "the finished task", "id")],
    },
    ProbeDoc {
        probe: Probe::WorkerPark,
        fires: "a worker found nothing to run and parks",
        args: &[arg("parking", "the parking worker", "index")],
    },
    ProbeDoc {
        probe: Probe::WorkerUnpark,
        fires: "a parked worker woke",
        args: &[arg("unparked", "the woken worker", "index")],
    },
    ProbeDoc {
        probe: Probe::WorkerSteal,
        fires: "a worker stole tasks from another",
        args: &[
            arg("thief", "the stealing worker", "index"),
            arg("victim", "the worker stolen from", "index"),
        ],
    },
    ProbeDoc {
        probe: Probe::Yield,
        fires: "the current task gave up the worker",
        args: &[arg(
            "reason",
            "why",
            "0 coop budget, 1 yield_now, 2 backoff",
        )],
    },
    ProbeDoc {
        probe: Probe::TimerFire,
        fires: "the timer driver fired timers in one pass",
        args: &[arg("count", "timers fired", "timers")],
    },
    ProbeDoc {
        probe: Probe::ChannelNew,
        fires: "a channel was built",
        args: &CHANNEL_NEW,
    },
    ProbeDoc {
        probe: Probe::ChannelSend,
        fires: "a value went into a channel",
        args: &[CHANNEL],
    },
    ProbeDoc {
        probe: Probe::ChannelRecv,
        fires: "a receive returned a value, or `Closed` after the close",
        args: &[
            CHANNEL,
            arg(
                "latency_kind",
                "what `latency_ns` measures",
                "0 unmeasured, 1 send-to-receive, 2 close-to-return (Closed)",
            ),
            arg("latency_ns", "the delay", "ns"),
        ],
    },
    ProbeDoc {
        probe: Probe::ChannelClose,
        fires: "a channel was closed (by the call that closed it)",
        args: &[
            CHANNEL,
            arg(
                "woken",
                "parked senders, receivers and close watchers woken",
                "count",
            ),
        ],
    },
    ProbeDoc {
        probe: Probe::ChannelWaitStart,
        fires: "the current task starts waiting on a channel",
        args: &WAIT_START,
    },
    ProbeDoc {
        probe: Probe::ChannelWaitEnd,
        fires: "the current task stops waiting on a channel (served, closed or cancelled)",
        args: &[
            CHANNEL,
            arg("op", "what it waited to do", "0 send, 1 receive"),
        ],
    },
    ProbeDoc {
        probe: Probe::BreakerTransition,
        fires: "a channel's L1 breaker changed state",
        args: &[
            CHANNEL,
            arg("from", "state before", "0 closed, 1 open, 2 half-open"),
            arg("to", "state after", "0 closed, 1 open, 2 half-open"),
        ],
    },
    ProbeDoc {
        probe: Probe::SloEvaluation,
        fires: "a channel's L3 SLO was evaluated",
        args: &[
            CHANNEL,
            arg("p999_us", "short-window P99.9", "µs"),
            arg("breached", "the SLO is breached", "0/1"),
        ],
    },
    ProbeDoc {
        probe: Probe::SloDegrade,
        fires: "a channel entered or left degraded mode",
        args: &[CHANNEL, arg("degraded", "degraded after this event", "0/1")],
    },
];

/// The documentation of one probe.
pub fn doc(probe: Probe) -> &'static ProbeDoc {
    &PROBES[probe as usize]
}

/// The table as Markdown (the content of `probes/PROBES.md`).
pub fn markdown() -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "# weir USDT probes\n\n\
         Generated from `probes/src/table.rs` (`weir-probe probes` prints it; a test keeps this \
         file equal to it).\n\n\
         Provider `weir`; attach with `usdt:/path/to/binary:weir:NAME`. Every argument is a \
         64-bit unsigned integer. Every probe starts with `arg0` = task and `arg1` = worker. \
         Names and source locations are NUL-terminated strings (at most 63 bytes; `file:line`, a long path keeping its end): read them with `str(argN)`. No probe has more than six arguments: bpftrace 0.17 reads only `arg0`..`arg5` on x86_64.\n\n\
         | probe | arg | name | meaning | unit |\n|---|---|---|---|---|\n",
    );
    for p in &PROBES {
        let _ = writeln!(out, "| `{}` | | | {} | |", p.probe.name(), p.fires);
        for (i, a) in COMMON.iter().chain(p.args).enumerate() {
            let _ = writeln!(
                out,
                "| | `arg{i}` | {} | {} | {} |",
                a.name, a.meaning, a.unit
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_probe_order() {
        for (i, d) in PROBES.iter().enumerate() {
            assert_eq!(d.probe as usize, i, "{:?}", d.probe);
        }
    }

    /// bpftrace 0.17 (Debian's) reads only `arg0`..`arg5` of a USDT probe on x86_64.
    #[test]
    fn every_argument_is_readable_by_bpftrace_0_17() {
        for d in &PROBES {
            assert!(d.arg_count() <= 6, "{:?}", d.probe);
        }
    }

    #[test]
    fn probes_md_is_the_table() {
        let file = include_str!("../PROBES.md");
        assert!(
            file == markdown(),
            "probes/PROBES.md is stale: regenerate it with `weir-probe probes > probes/PROBES.md`"
        );
    }
}
