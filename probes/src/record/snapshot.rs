//! What [`Recorder::snapshot`](super::Recorder::snapshot) returns: per-channel latency
//! histograms and counts, per-task state, and the renderings (text histogram, SVG heatmap).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::panic::Location;

use super::hist::{fmt_us, Histogram};
use crate::ChannelOp;

/// Heatmap column width (nanoseconds of the recorder's clock).
pub const HEAT_COLUMN_NS: u64 = 250_000_000;
/// Heatmap columns kept per channel and kind (the most recent).
pub const HEAT_COLUMNS: usize = 480;
/// Heatmap rows: one per power of two of microseconds.
pub const HEAT_ROWS: usize = 32;

/// Which latency of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencyKind {
    /// From a send to the receive that took the value.
    SendToRecv,
    /// From the close to the wake of a receiver the close woke.
    CloseToRecv,
    /// How long sends waited (for room or a receiver).
    SendWait,
    /// How long receives waited (for a value).
    RecvWait,
}

impl LatencyKind {
    /// Every kind.
    pub const ALL: [LatencyKind; 4] = [
        LatencyKind::SendToRecv,
        LatencyKind::CloseToRecv,
        LatencyKind::SendWait,
        LatencyKind::RecvWait,
    ];

    /// Its readable name (`send-to-recv`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            LatencyKind::SendToRecv => "send-to-recv",
            LatencyKind::CloseToRecv => "close-to-recv",
            LatencyKind::SendWait => "send-wait",
            LatencyKind::RecvWait => "recv-wait",
        }
    }
}

/// A channel as a snapshot names it: by id (`Receiver::id`) or by the builder's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelRef {
    /// The channel's id.
    Id(u64),
    /// The name given to the builder.
    Name(String),
}

impl From<u64> for ChannelRef {
    fn from(id: u64) -> Self {
        ChannelRef::Id(id)
    }
}

impl From<&str> for ChannelRef {
    fn from(name: &str) -> Self {
        ChannelRef::Name(name.to_owned())
    }
}

/// What the recorder could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// No channel with this id or name was recorded.
    UnknownChannel(ChannelRef),
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordError::UnknownChannel(ChannelRef::Id(id)) => {
                write!(f, "the recorder has seen no channel with id {id}")
            }
            RecordError::UnknownChannel(ChannelRef::Name(n)) => {
                write!(f, "the recorder has seen no channel named {n:?}")
            }
        }
    }
}

impl std::error::Error for RecordError {}

/// A task's state, as the recorder last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Being polled on `worker`.
    Running {
        /// The worker.
        worker: u32,
    },
    /// Scheduled, not yet polled.
    Runnable,
    /// Waiting on a channel.
    Waiting {
        /// The channel.
        channel: u64,
        /// To send or to receive.
        op: ChannelOp,
        /// Where the operation was called.
        at: Option<&'static Location<'static>>,
    },
    /// Sleeping on a timer.
    Sleeping {
        /// Where `sleep` was called.
        at: Option<&'static Location<'static>>,
    },
    /// Waiting for IO readiness.
    Io {
        /// The file descriptor.
        fd: u64,
        /// To write (`true`) or to read.
        write: bool,
        /// Where the operation was called.
        at: Option<&'static Location<'static>>,
    },
    /// Pending on something the recorder does not see (a join handle, a lock, ...).
    Idle,
    /// Finished.
    Done,
}

/// One task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskStats {
    /// Its id (`weir::task::current_id`).
    pub id: u64,
    /// Where it was spawned.
    pub spawned_at: Option<&'static Location<'static>>,
    /// What it is doing.
    pub state: TaskState,
    /// Since when (recorder clock, ns).
    pub since_ns: u64,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Heat {
    first_col: Option<u64>,
    cols: VecDeque<(u64, [u32; HEAT_ROWS])>,
}

fn heat_row(us: u64) -> usize {
    ((64 - us.leading_zeros()) as usize).min(HEAT_ROWS - 1)
}

impl Heat {
    fn record(&mut self, t: u64, us: u64) {
        let col = t / HEAT_COLUMN_NS;
        self.first_col.get_or_insert(col);
        if self.cols.back().is_none_or(|&(c, _)| c < col) {
            self.cols.push_back((col, [0; HEAT_ROWS]));
            if self.cols.len() > HEAT_COLUMNS {
                self.cols.pop_front();
            }
        }
        // Out-of-order values (equal columns) land in the newest column.
        if let Some((_, rows)) = self.cols.back_mut() {
            rows[heat_row(us)] += 1;
        }
    }
}

/// One channel.
#[derive(Debug, Clone, Default)]
pub struct ChannelStats {
    /// Its id.
    pub id: u64,
    /// The name given to the builder.
    pub name: Option<String>,
    /// Where it was built.
    pub location: Option<&'static Location<'static>>,
    /// Its capacity (`usize::MAX` unbounded, 0 rendezvous).
    pub capacity: usize,
    /// Values sent.
    pub sends: u64,
    /// Values received.
    pub recvs: u64,
    /// Closes.
    pub closes: u64,
    hists: [Histogram; 4],
    heat: [Heat; 4],
    /// Tasks that sent on it recently, newest first.
    pub recent_senders: Vec<u64>,
    /// Tasks that received from it recently, newest first.
    pub recent_receivers: Vec<u64>,
}

impl ChannelStats {
    pub(super) fn record(&mut self, kind: LatencyKind, t: u64, us: u64) {
        self.hists[kind as usize].record(us);
        self.heat[kind as usize].record(t, us);
    }

    /// The histogram of one latency.
    pub fn histogram(&self, kind: LatencyKind) -> &Histogram {
        &self.hists[kind as usize]
    }

    /// Its name, or its creation location, or its id.
    pub fn label(&self) -> String {
        match (&self.name, self.location) {
            (Some(n), _) => format!("`{n}`"),
            (None, Some(l)) => format!("channel #{} ({}:{})", self.id, l.file(), l.line()),
            (None, None) => format!("channel #{}", self.id),
        }
    }

    /// A text histogram of one latency, for terminals.
    pub fn text_histogram(&self, kind: LatencyKind) -> String {
        let h = self.histogram(kind);
        let mut out = format!("{} {} ({} values)\n", self.label(), kind.name(), h.count());
        let max = h.buckets().map(|(_, _, c)| c).max().unwrap_or(0);
        for (lo, hi, c) in h.buckets() {
            let bar = (c * 40).div_ceil(max.max(1)) as usize;
            let _ = writeln!(
                out,
                "{:>10} .. {:<10} {:>8} {}",
                fmt_us(lo),
                fmt_us(hi),
                c,
                "#".repeat(bar)
            );
        }
        out
    }

    /// The heatmap of one latency as SVG: time on x, log latency on y, count as colour.
    pub fn heatmap(&self, kind: LatencyKind) -> String {
        let heat = &self.heat[kind as usize];
        let (first, last) = match (heat.cols.front(), heat.cols.back()) {
            (Some(&(f, _)), Some(&(l, _))) => (f, l),
            _ => (0, 0),
        };
        let ncols = (last - first + 1) as usize;
        let used = heat
            .cols
            .iter()
            .flat_map(|(_, r)| r.iter().enumerate().filter(|(_, &c)| c > 0).map(|(i, _)| i));
        let (mut lo_row, mut hi_row) = (HEAT_ROWS, 0);
        for r in used {
            lo_row = lo_row.min(r);
            hi_row = hi_row.max(r);
        }
        if lo_row > hi_row {
            (lo_row, hi_row) = (0, 10);
        }
        let nrows = hi_row - lo_row + 1;
        let max = heat
            .cols
            .iter()
            .flat_map(|(_, r)| r.iter().copied())
            .max()
            .unwrap_or(0)
            .max(1);
        let (left, top, cw, ch) = (90.0, 50.0, (720.0 / ncols as f64).max(1.0), 18.0);
        let width = left + cw * ncols as f64 + 140.0;
        let height = top + ch * nrows as f64 + 60.0;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let title = format!("{} — {} latency heatmap", self.label(), kind.name());
        let _ = writeln!(
            s,
            r#"<text x="{left}" y="25" font-size="16" font-weight="bold">{}</text>"#,
            xml(&title)
        );
        for (col, rows) in &heat.cols {
            let x = left + cw * (col - first) as f64;
            for (r, &c) in rows.iter().enumerate().take(hi_row + 1).skip(lo_row) {
                if c == 0 {
                    continue;
                }
                let y = top + ch * (hi_row - r) as f64;
                let _ = writeln!(
                    s,
                    r#"<rect x="{x:.2}" y="{y:.1}" width="{cw:.2}" height="{ch}" fill="{}"><title>{c}</title></rect>"#,
                    colour(c, max)
                );
            }
        }
        // y labels: each row's lower bound.
        for r in lo_row..=hi_row {
            let y = top + ch * (hi_row - r) as f64 + ch * 0.7;
            let lo = if r == 0 { 0 } else { 1u64 << (r - 1) };
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{y:.1}" text-anchor="end">{}</text>"#,
                left - 6.0,
                xml(&fmt_us(lo))
            );
        }
        // x labels: seconds since the first column.
        let bottom = top + ch * nrows as f64;
        let step = (ncols / 8).max(1);
        for i in (0..ncols).step_by(step) {
            let x = left + cw * i as f64;
            let secs = i as f64 * HEAT_COLUMN_NS as f64 / 1e9;
            let _ = writeln!(
                s,
                r#"<text x="{x:.1}" y="{:.1}">{secs:.1} s</text>"#,
                bottom + 16.0
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{left}" y="{:.1}">time since first value (columns of {} ms); latency on y (log)</text>"#,
            bottom + 36.0,
            HEAT_COLUMN_NS / 1_000_000
        );
        // Legend.
        let lx = left + cw * ncols as f64 + 30.0;
        let _ = writeln!(s, r#"<text x="{lx}" y="{}">count</text>"#, top - 6.0);
        for i in 0..8u32 {
            let c = (u64::from(max) * u64::from(i + 1)).div_ceil(8) as u32;
            let y = top + f64::from(i) * 18.0;
            let _ = writeln!(
                s,
                r#"<rect x="{lx}" y="{y}" width="16" height="16" fill="{}"/><text x="{}" y="{}">{c}</text>"#,
                colour(c, max),
                lx + 22.0,
                y + 12.0
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('`', "")
}

/// Count as colour: light yellow to dark red, log scale.
fn colour(c: u32, max: u32) -> String {
    let f = if max <= 1 {
        1.0
    } else {
        (f64::from(c).ln() / f64::from(max).ln()).clamp(0.0, 1.0)
    };
    let r = 255.0 - 100.0 * f;
    let g = 230.0 * (1.0 - f);
    let b = 120.0 * (1.0 - f);
    format!("rgb({:.0},{:.0},{:.0})", r, g, b)
}

/// The aggregates at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When (recorder clock, ns).
    pub at_ns: u64,
    /// Events lost so far: overwritten in a full ring before the collector read them, or
    /// given up by a producer that found its slot still being written.
    pub dropped: u64,
    /// Every channel seen, by id.
    pub channels: Vec<ChannelStats>,
    /// Every task seen (finished ones: the most recent), by id.
    pub tasks: Vec<TaskStats>,
}

impl Snapshot {
    /// A channel by id or builder name.
    pub fn channel(&self, c: impl Into<ChannelRef>) -> Result<&ChannelStats, RecordError> {
        let c = c.into();
        let found = match &c {
            ChannelRef::Id(id) => self.channels.iter().find(|s| s.id == *id),
            ChannelRef::Name(n) => self
                .channels
                .iter()
                .rev()
                .find(|s| s.name.as_deref() == Some(n)),
        };
        found.ok_or(RecordError::UnknownChannel(c))
    }

    /// A task by id.
    pub fn task(&self, id: u64) -> Option<&TaskStats> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// The SVG heatmap of a channel's latency (see [`ChannelStats::heatmap`]).
    pub fn heatmap(
        &self,
        c: impl Into<ChannelRef>,
        kind: LatencyKind,
    ) -> Result<String, RecordError> {
        Ok(self.channel(c)?.heatmap(kind))
    }

    /// The text histogram of a channel's latency.
    pub fn text_histogram(
        &self,
        c: impl Into<ChannelRef>,
        kind: LatencyKind,
    ) -> Result<String, RecordError> {
        Ok(self.channel(c)?.text_histogram(kind))
    }
}
