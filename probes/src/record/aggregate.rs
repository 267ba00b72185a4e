//! The collector's aggregates: what the rings fold into (allocating here is fine: this is
//! the collector, not the event path).

use std::collections::{HashMap, VecDeque};
use std::panic::Location;
use std::sync::Mutex;

use super::kind;
use super::ring::{Cursor, Ring, WORDS};
use super::snapshot::{ChannelStats, Snapshot, TaskState, TaskStats};
use crate::ChannelOp;

/// Send stamps kept per channel to match receives (FIFO) against.
const PENDING_CAP: usize = 16_384;
/// Recent senders / receivers kept per channel.
const RECENT: usize = 8;
/// Finished tasks kept for snapshots.
const DONE_KEPT: usize = 1024;

/// Channels announced by `ChannelNew` (out of the rings: they carry a name).
static CHANNELS: Mutex<Vec<(u64, usize, &'static Location<'static>, String)>> =
    Mutex::new(Vec::new());

pub(super) fn register_channel(
    id: u64,
    capacity: usize,
    location: &'static Location<'static>,
    name: &str,
) {
    CHANNELS.lock().unwrap_or_else(|p| p.into_inner()).push((
        id,
        capacity,
        location,
        name.to_owned(),
    ));
}

/// A location word from the ring back to its location.
fn location(word: u64) -> Option<&'static Location<'static>> {
    if word == 0 {
        return None;
    }
    // SAFETY: the recorder writes location words only from `&'static Location` (see
    // `record::loc`), for the kinds decoded here, and `Ring::drain` delivers whole slots only
    // (torn copies are discarded by its seqlock check), so `word` is such a pointer.
    Some(unsafe { &*(word as *const Location<'static>) })
}

#[derive(Default)]
pub(super) struct Chan {
    pub(super) stats: ChannelStats,
    pending: VecDeque<u64>,
    closed_at: Option<u64>,
    /// Receivers parked when the close came.
    close_waiters: Vec<u64>,
}

#[derive(Clone, Copy)]
enum Mark {
    None,
    Sleep(Option<&'static Location<'static>>),
    Io(u64, bool, Option<&'static Location<'static>>),
}

struct Task {
    stats: TaskStats,
    wait: Option<(u64, ChannelOp, Option<&'static Location<'static>>, u64)>,
    mark: Mark,
    woken: bool,
}

impl Task {
    fn new(id: u64, t: u64) -> Task {
        Task {
            stats: TaskStats {
                id,
                spawned_at: None,
                state: TaskState::Runnable,
                since_ns: t,
            },
            wait: None,
            mark: Mark::None,
            woken: false,
        }
    }
    fn set(&mut self, state: TaskState, t: u64) {
        if self.stats.state != state {
            self.stats.state = state;
            self.stats.since_ns = t;
        }
    }
}

#[derive(Default)]
pub(super) struct State {
    cursors: Vec<Cursor>,
    batch: Vec<(u64, usize, [u64; WORDS])>,
    chans: HashMap<u64, Chan>,
    tasks: HashMap<u64, Task>,
    done: VecDeque<u64>,
    dropped: u64,
}

fn push_recent(v: &mut Vec<u64>, task: u64) {
    if task == crate::context::NO_TASK {
        return;
    }
    v.retain(|&t| t != task);
    v.insert(0, task);
    v.truncate(RECENT);
}

impl State {
    /// Drains `rings`, folds the events in time order; returns the channels that tripped.
    pub(super) fn collect<const N: usize>(&mut self, rings: &[Ring<N>], _now: u64) -> Vec<u64> {
        self.cursors.resize(rings.len(), Cursor::default());
        let mut batch = std::mem::take(&mut self.batch);
        batch.clear();
        let mut lost = 0;
        for (i, r) in rings.iter().enumerate() {
            let mut n = 0;
            lost += r.drain(&mut self.cursors[i], |w| {
                batch.push((w[2], n, w));
                n += 1;
            });
        }
        // `drain` counts every position it passes undelivered, the ones a producer gave up on
        // a busy slot included: `Ring::producer_drops` is already in `lost`.
        if lost > 0 {
            // Matching sends to receives is unreliable across a gap: start over.
            for c in self.chans.values_mut() {
                c.pending.clear();
            }
        }
        self.dropped += lost;
        for (id, cap, loc, name) in CHANNELS.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            let c = self.chans.entry(id).or_default();
            c.stats.id = id;
            c.stats.capacity = cap;
            c.stats.location = Some(loc);
            c.stats.name = (!name.is_empty()).then_some(name);
        }
        // Rings are merged by time. Within one coarse tick the order of two threads' events is
        // unknown: wakes are taken to come first, so a task woken and then polled in the same
        // tick reads as polled, not as runnable until its next poll (a wake during a poll in
        // that tick is missed until the task's next poll instead). Stable: events of one ring
        // keep their order.
        batch.sort_by_key(|&(t, n, w)| (t, (w[0] & 0xff) as u8 != kind::WAKE, n));
        let mut trips = Vec::new();
        for &(_, _, w) in &batch {
            self.fold(w, &mut trips);
        }
        self.batch = batch;
        while self.done.len() > DONE_KEPT {
            if let Some(id) = self.done.pop_front() {
                self.tasks.remove(&id);
            }
        }
        trips
    }

    fn chan(&mut self, id: u64) -> &mut Chan {
        let c = self.chans.entry(id).or_default();
        c.stats.id = id;
        c
    }

    fn task(&mut self, id: u64, t: u64) -> &mut Task {
        self.tasks.entry(id).or_insert_with(|| Task::new(id, t))
    }

    fn fold(&mut self, w: [u64; WORDS], trips: &mut Vec<u64>) {
        let k = (w[0] & 0xff) as u8;
        let flag = ((w[0] >> 8) & 0xff) as u8;
        let worker = (w[0] >> 16) as u32;
        let (task, t, a, b) = (w[1], w[2], w[3], w[4]);
        let op = if flag == 1 {
            ChannelOp::Recv
        } else {
            ChannelOp::Send
        };
        match k {
            kind::SPAWN => {
                let tk = self.task(a, t);
                tk.stats.spawned_at = location(b);
                tk.set(TaskState::Runnable, t);
            }
            kind::POLL_START if task != 0 => {
                let tk = self.task(task, t);
                tk.mark = Mark::None;
                tk.woken = false;
                tk.set(TaskState::Running { worker }, t);
            }
            kind::POLL_END if task != 0 => {
                let tk = self.task(task, t);
                if flag == 1 {
                    tk.set(TaskState::Done, t);
                    tk.wait = None;
                } else if tk.woken {
                    tk.set(TaskState::Runnable, t);
                } else if let Some((channel, op, at, since)) = tk.wait {
                    let s = TaskState::Waiting { channel, op, at };
                    if tk.stats.state != s {
                        tk.stats.state = s;
                        tk.stats.since_ns = since;
                    }
                } else {
                    let s = match tk.mark {
                        Mark::Sleep(at) => TaskState::Sleeping { at },
                        Mark::Io(fd, write, at) => TaskState::Io { fd, write, at },
                        Mark::None => TaskState::Idle,
                    };
                    tk.set(s, t);
                }
            }
            kind::WAKE => {
                let tk = self.task(a, t);
                match tk.stats.state {
                    TaskState::Running { .. } => tk.woken = true,
                    TaskState::Done => {}
                    _ => tk.set(TaskState::Runnable, t),
                }
            }
            kind::COMPLETE => {
                let tk = self.task(a, t);
                tk.set(TaskState::Done, t);
                tk.wait = None;
                self.done.push_back(a);
            }
            kind::SEND => {
                let c = self.chan(a);
                c.stats.sends += 1;
                if c.pending.len() == PENDING_CAP {
                    c.pending.pop_front();
                }
                c.pending.push_back(t);
                push_recent(&mut c.stats.recent_senders, task);
            }
            kind::RECV => {
                let c = self.chan(a);
                c.stats.recvs += 1;
                push_recent(&mut c.stats.recent_receivers, task);
                match flag {
                    1 => {
                        c.pending.pop_front();
                        c.stats.record(super::LatencyKind::SendToRecv, t, b / 1000);
                    }
                    2 => c.stats.record(super::LatencyKind::CloseToRecv, t, b / 1000),
                    _ => {
                        if let Some(s) = c.pending.pop_front() {
                            let us = t.saturating_sub(s) / 1000;
                            c.stats.record(super::LatencyKind::SendToRecv, t, us);
                        }
                    }
                }
            }
            kind::CLOSE => {
                let waiters: Vec<u64> = self
                    .tasks
                    .values()
                    .filter(|tk| matches!(tk.wait, Some((ch, ChannelOp::Recv, _, _)) if ch == a))
                    .map(|tk| tk.stats.id)
                    .collect();
                let c = self.chan(a);
                c.stats.closes += 1;
                c.closed_at = Some(t);
                c.close_waiters = waiters;
            }
            kind::WAIT_START if task != 0 => {
                let at = location(b);
                let tk = self.task(task, t);
                tk.wait = Some((a, op, at, t));
            }
            kind::WAIT_END if task != 0 => {
                let tk = self.task(task, t);
                let Some((ch, _, _, since)) = tk.wait.take() else {
                    return;
                };
                let dur = t.saturating_sub(since) / 1000;
                let c = self.chan(ch);
                let kind = match op {
                    ChannelOp::Send => super::LatencyKind::SendWait,
                    ChannelOp::Recv => super::LatencyKind::RecvWait,
                };
                c.stats.record(kind, t, dur);
                if let (Some(closed), true) = (c.closed_at, op == ChannelOp::Recv) {
                    if let Some(i) = c.close_waiters.iter().position(|&x| x == task) {
                        c.close_waiters.swap_remove(i);
                        let us = t.saturating_sub(closed) / 1000;
                        c.stats.record(super::LatencyKind::CloseToRecv, t, us);
                    }
                }
            }
            // From closed (0) to open (1): one trip.
            kind::BREAKER if flag == 0x10 => trips.push(a),
            kind::DEGRADE if flag == 1 => trips.push(a),
            kind::SLEEP if task != 0 => self.task(task, t).mark = Mark::Sleep(location(b)),
            kind::IO if task != 0 => {
                self.task(task, t).mark = Mark::Io(a, flag == 1, location(b));
            }
            _ => {}
        }
    }

    pub(super) fn snapshot(&self, now: u64) -> Snapshot {
        let mut channels: Vec<ChannelStats> =
            self.chans.values().map(|c| c.stats.clone()).collect();
        channels.sort_by_key(|c| c.id);
        let mut tasks: Vec<TaskStats> = self.tasks.values().map(|t| t.stats.clone()).collect();
        tasks.sort_by_key(|t| t.id);
        Snapshot {
            at_ns: now,
            dropped: self.dropped,
            channels,
            tasks,
        }
    }
}
