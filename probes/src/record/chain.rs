//! The blocking chain: from a channel, who waits on it, who could unblock them, and what
//! *those* tasks are doing, transitively, down to the root(s) that wait on no channel.

use std::fmt;
use std::panic::Location;

use super::hist::fmt_us;
use super::snapshot::{ChannelRef, RecordError, Snapshot, TaskState, TaskStats};
use crate::ChannelOp;

const MAX_DEPTH: usize = 32;
const MAX_CHAINS: usize = 64;

/// One step of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A task, with its state at the report.
    Task(TaskStats),
    /// A channel, and what the task before it waits to do on it (`None`: the start channel,
    /// followed to its receivers).
    Channel {
        /// The channel id.
        id: u64,
        /// Its label (name, creation location or id).
        label: String,
        /// What the previous task waits to do.
        op: Option<ChannelOp>,
    },
}

/// Why a root is not progressing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    /// Sleeping on a timer (where `sleep` was called).
    Asleep(Option<&'static Location<'static>>),
    /// Waiting for IO.
    Io {
        /// The file descriptor.
        fd: u64,
        /// To write (`true`) or read.
        write: bool,
        /// Where.
        at: Option<&'static Location<'static>>,
    },
    /// Running on a worker without yielding for `for_ns`.
    Busy {
        /// The worker.
        worker: u32,
        /// For how long.
        for_ns: u64,
    },
    /// Runnable, not polled for `for_ns`: the scheduler is starved.
    Runnable {
        /// For how long.
        for_ns: u64,
    },
    /// Pending on something the recorder does not see.
    Idle,
    /// Finished (it will never send or receive again).
    Done,
}

/// How a chain ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEnd {
    /// Its last task is the root.
    Root(RootKind),
    /// Its last task is one that appears earlier in the chain: a deadlock.
    Deadlock,
    /// Its last channel has no known task on the other side.
    NoCounterpart,
}

/// One path from the start channel to a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// Tasks and channels, in order.
    pub steps: Vec<Step>,
    /// How it ends.
    pub end: ChainEnd,
}

impl Chain {
    /// The task ids of the chain, in order.
    pub fn task_ids(&self) -> Vec<u64> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Task(t) => Some(t.id),
                Step::Channel { .. } => None,
            })
            .collect()
    }

    /// The channel ids of the chain, in order.
    pub fn channel_ids(&self) -> Vec<u64> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Channel { id, .. } => Some(*id),
                Step::Task(_) => None,
            })
            .collect()
    }

    /// The root task (the last one) when the chain ends at a root.
    pub fn root(&self) -> Option<(&TaskStats, RootKind)> {
        match (&self.end, self.steps.last()) {
            (ChainEnd::Root(k), Some(Step::Task(t))) => Some((t, *k)),
            _ => None,
        }
    }
}

/// The blocking report of one channel (see [`Snapshot::blocking_report`]).
#[derive(Debug, Clone)]
pub struct BlockingReport {
    /// The channel's id.
    pub channel: u64,
    /// Its label.
    pub label: String,
    /// When (recorder clock, ns).
    pub at_ns: u64,
    /// Every chain found.
    pub chains: Vec<Chain>,
}

impl BlockingReport {
    /// Whether a chain is a cycle.
    pub fn deadlocked(&self) -> bool {
        self.chains.iter().any(|c| c.end == ChainEnd::Deadlock)
    }

    /// The roots found.
    pub fn roots(&self) -> Vec<(&TaskStats, RootKind)> {
        self.chains.iter().filter_map(Chain::root).collect()
    }
}

impl Snapshot {
    fn counterparts(&self, ch: u64, op: Option<ChannelOp>) -> Vec<&TaskStats> {
        // A waiting sender is unblocked by receivers; a waiting receiver by senders.
        let want = match op {
            Some(ChannelOp::Recv) => ChannelOp::Send,
            _ => ChannelOp::Recv,
        };
        let mut out: Vec<&TaskStats> = self
            .tasks
            .iter()
            .filter(|t| matches!(t.state, TaskState::Waiting { channel, op, .. } if channel == ch && op == want))
            .collect();
        if let Ok(c) = self.channel(ch) {
            let recent = match want {
                ChannelOp::Recv => &c.recent_receivers,
                ChannelOp::Send => &c.recent_senders,
            };
            for id in recent {
                if let Some(t) = self.task(*id) {
                    if t.state != TaskState::Done && !out.iter().any(|o| o.id == t.id) {
                        out.push(t);
                    }
                }
            }
        }
        out
    }

    fn label(&self, ch: u64) -> String {
        self.channel(ch)
            .map_or_else(|_| format!("channel #{ch}"), |c| c.label())
    }

    fn expand(&self, ch: u64, op: Option<ChannelOp>, path: &mut Vec<Step>, out: &mut Vec<Chain>) {
        path.push(Step::Channel {
            id: ch,
            label: self.label(ch),
            op,
        });
        let next = self.counterparts(ch, op);
        if next.is_empty() || path.len() > 2 * MAX_DEPTH {
            out.push(Chain {
                steps: path.clone(),
                end: ChainEnd::NoCounterpart,
            });
        }
        for t in next {
            if out.len() >= MAX_CHAINS || path.len() > 2 * MAX_DEPTH {
                break;
            }
            let seen = path
                .iter()
                .any(|s| matches!(s, Step::Task(p) if p.id == t.id));
            path.push(Step::Task(t.clone()));
            if seen {
                out.push(Chain {
                    steps: path.clone(),
                    end: ChainEnd::Deadlock,
                });
            } else if let TaskState::Waiting { channel, op, .. } = t.state {
                self.expand(channel, Some(op), path, out);
            } else {
                let age = self.at_ns.saturating_sub(t.since_ns);
                let kind = match t.state {
                    TaskState::Sleeping { at } => RootKind::Asleep(at),
                    TaskState::Io { fd, write, at } => RootKind::Io { fd, write, at },
                    TaskState::Running { worker } => RootKind::Busy {
                        worker,
                        for_ns: age,
                    },
                    TaskState::Runnable => RootKind::Runnable { for_ns: age },
                    TaskState::Done => RootKind::Done,
                    TaskState::Idle | TaskState::Waiting { .. } => RootKind::Idle,
                };
                out.push(Chain {
                    steps: path.clone(),
                    end: ChainEnd::Root(kind),
                });
            }
            path.pop();
        }
        path.pop();
    }

    /// The blocking chains from `channel`: the tasks waiting on it (or, when none, its
    /// receivers), followed transitively through the channels they wait on (a waiting
    /// sender to that channel's receivers, a waiting receiver to its senders), cycle-safe.
    pub fn blocking_report(
        &self,
        channel: impl Into<ChannelRef>,
    ) -> Result<BlockingReport, RecordError> {
        let c = self.channel(channel)?;
        let mut chains = Vec::new();
        let waiters: Vec<&TaskStats> = self
            .tasks
            .iter()
            .filter(|t| matches!(t.state, TaskState::Waiting { channel, .. } if channel == c.id))
            .collect();
        let mut path = Vec::new();
        if waiters.is_empty() {
            self.expand(c.id, None, &mut path, &mut chains);
        }
        for w in waiters {
            let TaskState::Waiting { op, .. } = w.state else {
                continue;
            };
            path.push(Step::Task(w.clone()));
            self.expand(c.id, Some(op), &mut path, &mut chains);
            path.pop();
        }
        Ok(BlockingReport {
            channel: c.id,
            label: c.label(),
            at_ns: self.at_ns,
            chains,
        })
    }
}

fn at(l: Option<&'static Location<'static>>) -> String {
    l.map_or_else(|| "?".into(), |l| format!("{}:{}", l.file(), l.line()))
}

fn ago(now: u64, since: u64) -> String {
    fmt_us(now.saturating_sub(since) / 1000)
}

impl fmt::Display for BlockingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "weir blocking report for {} (#{}):",
            self.label, self.channel
        )?;
        if self.chains.is_empty() {
            writeln!(f, "  nothing waits on it")?;
        }
        for (i, c) in self.chains.iter().enumerate() {
            let mut line = String::new();
            for s in &c.steps {
                if !line.is_empty() {
                    line.push_str(" → ");
                }
                match s {
                    Step::Task(t) => line.push_str(&format!("task {}", t.id)),
                    Step::Channel { label, .. } => line.push_str(label),
                }
            }
            let verdict = match c.end {
                ChainEnd::Deadlock => "DEADLOCK (cycle)".to_string(),
                ChainEnd::NoCounterpart => "no task on the other side".to_string(),
                ChainEnd::Root(_) => "root".to_string(),
            };
            writeln!(f, "  chain {}: {line}  [{verdict}]", i + 1)?;
            for s in &c.steps {
                let Step::Task(t) = s else { continue };
                let what = match t.state {
                    TaskState::Waiting { channel, op, at: a } => format!(
                        "waiting to {} on {} for {} at {}",
                        if op == ChannelOp::Send {
                            "send"
                        } else {
                            "receive"
                        },
                        self.chains
                            .iter()
                            .flat_map(|c| &c.steps)
                            .find_map(|s| match s {
                                Step::Channel { id, label, .. } if *id == channel =>
                                    Some(label.clone()),
                                _ => None,
                            })
                            .unwrap_or_else(|| format!("channel #{channel}")),
                        ago(self.at_ns, t.since_ns),
                        at(a)
                    ),
                    TaskState::Sleeping { at: a } => {
                        format!("asleep for {} at {}", ago(self.at_ns, t.since_ns), at(a))
                    }
                    TaskState::Io { fd, write, at: a } => format!(
                        "waiting on IO (fd {fd}, {}) for {} at {}",
                        if write { "write" } else { "read" },
                        ago(self.at_ns, t.since_ns),
                        at(a)
                    ),
                    TaskState::Running { worker } => format!(
                        "busy on the CPU (worker {worker}) for {} without yielding",
                        ago(self.at_ns, t.since_ns)
                    ),
                    TaskState::Runnable => format!(
                        "runnable, not polled for {} (scheduler starved)",
                        ago(self.at_ns, t.since_ns)
                    ),
                    TaskState::Idle => format!(
                        "pending on something unrecorded for {}",
                        ago(self.at_ns, t.since_ns)
                    ),
                    TaskState::Done => "finished".to_string(),
                };
                let is_root = matches!(c.root(), Some((r, _)) if r.id == t.id);
                writeln!(
                    f,
                    "    {}task {} (spawned at {}): {what}",
                    if is_root { "ROOT " } else { "" },
                    t.id,
                    at(t.spawned_at)
                )?;
            }
        }
        Ok(())
    }
}
