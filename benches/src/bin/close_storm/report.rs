//! What one storm measured: printed for a person, and as one `storm-result` line that the
//! parent process reads back to put weir and tokio side by side.

use std::time::Duration;

use weir_benches::channel_workloads::Percentiles;
use weir_benches::storm_log::StormFigures;

use crate::driver::mib;

/// The prefix of the machine-readable line.
pub const RESULT_PREFIX: &str = "storm-result ";

/// One runtime's storm.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub runtime: String,
    pub tasks: usize,
    pub channels: usize,
    pub workers: usize,
    /// Size of one receiver's future (what the task stores besides the runtime's header).
    pub future_bytes: usize,
    pub figures: StormFigures,
    /// How long the closer took to close every channel.
    pub closing: Duration,
    /// The first close until the driver saw every receiver's answer (polled every 1 ms; the
    /// receivers' own stamps give `figures.all_closed_after`).
    pub observed: Duration,
    /// From the first spawn until every receiver was parked (and settled).
    pub parked_in: Duration,
    pub rss_start: u64,
    pub rss_channels: u64,
    pub rss_parked: u64,
    /// VmHWM at the end, or the largest VmRSS read if that is higher.
    pub peak_rss: u64,
}

impl Outcome {
    /// Resident bytes per parked receiving task: the growth from "channels built" to "every
    /// task parked", over the tasks.
    pub fn bytes_per_task(&self) -> f64 {
        self.rss_parked.saturating_sub(self.rss_channels) as f64 / self.tasks as f64
    }

    /// The same, counting the channels' memory too (tokio needs one channel per receiver).
    pub fn bytes_per_task_with_channels(&self) -> f64 {
        self.rss_parked.saturating_sub(self.rss_start) as f64 / self.tasks as f64
    }

    /// Whether every receiver saw "closed".
    pub fn all_saw_closed(&self) -> bool {
        self.figures.saw_closed == self.tasks
    }

    /// The human-readable report.
    pub fn print(&self) {
        let f = &self.figures;
        println!(
            "== {}: {} tasks, {} channels, {} workers ==",
            self.runtime, self.tasks, self.channels, self.workers
        );
        println!(
            "  saw Closed: {} / {}{}",
            f.saw_closed,
            self.tasks,
            if self.all_saw_closed() {
                ""
            } else {
                "  <-- NOT ALL"
            }
        );
        println!("  close-to-wake latency: {}", percentiles(&f.latency));
        println!(
            "  every receiver saw Closed {:.2?} after the first close (closing all channels took {:.2?})",
            f.all_closed_after, self.closing
        );
        if let Some((g, reaction)) = &f.guarded {
            println!(
                "  guarded receivers ({}): {}; breaker reaction (first close to the last guarded answer) {:.2?}",
                g.count,
                percentiles(g),
                reaction
            );
        }
        println!(
            "  memory: {:.0} B per parked task ({:.0} B counting the channels); future {} B",
            self.bytes_per_task(),
            self.bytes_per_task_with_channels(),
            self.future_bytes
        );
        println!(
            "  RSS: start {:.1} MiB, channels built {:.1} MiB, all parked {:.1} MiB, peak {:.1} MiB",
            mib(self.rss_start),
            mib(self.rss_channels),
            mib(self.rss_parked),
            mib(self.peak_rss)
        );
        println!(
            "  spawn + park took {:.2?}; the driver saw every answer {:.2?} after the first close",
            self.parked_in, self.observed
        );
    }

    /// The machine-readable line.
    pub fn to_line(&self) -> String {
        let f = &self.figures;
        let (g_p999, reaction) = f
            .guarded
            .map_or((0, 0), |(g, r)| (g.p999.as_nanos(), r.as_nanos()));
        format!(
            "{RESULT_PREFIX}runtime={} tasks={} saw_closed={} p50_ns={} p99_ns={} p999_ns={} max_ns={} \
             all_closed_ns={} guarded_p999_ns={g_p999} reaction_ns={reaction} bytes_per_task={:.0} \
             bytes_per_task_with_channels={:.0} peak_rss={} future_bytes={}",
            self.runtime,
            self.tasks,
            f.saw_closed,
            f.latency.p50.as_nanos(),
            f.latency.p99.as_nanos(),
            f.latency.p999.as_nanos(),
            f.latency.max.as_nanos(),
            f.all_closed_after.as_nanos(),
            self.bytes_per_task(),
            self.bytes_per_task_with_channels(),
            self.peak_rss,
            self.future_bytes,
        )
    }
}

fn percentiles(p: &Percentiles) -> String {
    format!(
        "P50 {:.1?}  P99 {:.1?}  P99.9 {:.1?}  max {:.1?}",
        p.p50, p.p99, p.p999, p.max
    )
}

/// A parsed `storm-result` line: its `key=value` pairs.
pub struct ResultLine(Vec<(String, String)>);

impl ResultLine {
    pub fn parse(line: &str) -> Option<ResultLine> {
        let rest = line.strip_prefix(RESULT_PREFIX)?;
        Some(ResultLine(
            rest.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn number(&self, key: &str) -> Option<f64> {
        self.get(key)?.parse().ok()
    }
}

/// A side-by-side row: label, result key, how to show the value.
type Row = (&'static str, &'static str, fn(f64) -> String);

/// Prints weir beside tokio with the ratio weir / tokio (below 1: weir is ahead).
pub fn print_side_by_side(weir: &ResultLine, tokio: &ResultLine) {
    println!("== side by side (weir / tokio below 1.00: weir ahead) ==");
    println!(
        "  {:<34} {:>14} {:>14} {:>8}",
        "figure", "weir", "tokio", "ratio"
    );
    let rows: [Row; 8] = [
        ("close-to-wake P50", "p50_ns", fmt_ns),
        ("close-to-wake P99", "p99_ns", fmt_ns),
        ("close-to-wake P99.9", "p999_ns", fmt_ns),
        ("close-to-wake max", "max_ns", fmt_ns),
        ("all saw Closed after", "all_closed_ns", fmt_ns),
        ("bytes per parked task", "bytes_per_task", fmt_bytes),
        (
            "  counting the channels",
            "bytes_per_task_with_channels",
            fmt_bytes,
        ),
        ("peak RSS", "peak_rss", fmt_mib),
    ];
    for (label, key, show) in rows {
        if let (Some(w), Some(t)) = (weir.number(key), tokio.number(key)) {
            let ratio = if t > 0.0 {
                format!("{:.2}", w / t)
            } else {
                "-".to_string()
            };
            println!("  {label:<34} {:>14} {:>14} {ratio:>8}", show(w), show(t));
        }
    }
    if let Some(r) = weir.number("reaction_ns").filter(|&r| r > 0.0) {
        println!("  {:<34} {:>14}", "weir breaker reaction", fmt_ns(r));
    }
}

fn fmt_ns(ns: f64) -> String {
    format!("{:.2?}", Duration::from_nanos(ns as u64))
}

fn fmt_bytes(b: f64) -> String {
    format!("{b:.0} B")
}

fn fmt_mib(b: f64) -> String {
    format!("{:.1} MiB", mib(b as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_parse_back() {
        let line = format!("{RESULT_PREFIX}runtime=weir tasks=10 p50_ns=1500");
        let r = ResultLine::parse(&line).expect("a result line");
        assert_eq!(r.get("runtime"), Some("weir"));
        assert_eq!(r.number("p50_ns"), Some(1500.0));
        assert!(r.number("missing").is_none());
        assert!(ResultLine::parse("progress 10 / 20").is_none());
    }
}
