//! The million-task close storm: N tasks parked in a receive over K channels (some weir
//! channels with a breaker and an SLO monitor), every channel closed at once; per-receiver
//! close-to-wake latency, the time until every receiver saw Closed, the breaker's reaction
//! time, memory per parked task and peak RSS, on weir and on tokio in the same run.
//!
//! ```text
//! cargo run --release -p weir-benches --bin close_storm -- --tasks 1000000 --channels 64
//! ```
//!
//! With `--runtime both` (the default) each runtime runs in a child process of its own (this
//! binary again), one after the other, so that each peak RSS (`VmHWM`) is that runtime's; the
//! parent prints both reports and the figures side by side. Progress goes to stderr, the
//! reports to stdout. The exit status is non-zero if any receiver saw anything but Closed, or
//! the storm did not finish within `--timeout-s`.

mod args;
mod driver;
mod report;
mod tokio_storm;
mod weir_storm;

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};

use args::{Args, Which};
use report::ResultLine;

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    let outcome = match args.which {
        Which::Both => return run_both(&args),
        Which::Weir => driver::run::<weir_storm::WeirStorm>(&args),
        Which::Tokio => driver::run::<tokio_storm::TokioStorm>(&args),
    };
    outcome.print();
    println!("{}", outcome.to_line());
    if outcome.all_saw_closed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs weir, then tokio, each in a child process; echoes their reports and compares them.
fn run_both(args: &Args) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => {
            eprintln!("close_storm: cannot find its own executable: {err}");
            return ExitCode::from(2);
        }
    };
    let mut results = Vec::new();
    let mut failed = false;
    for which in [Which::Weir, Which::Tokio] {
        let child = Command::new(&exe)
            .args(args.child_words(which))
            .stdout(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(err) => {
                eprintln!("close_storm: cannot start the {} run: {err}", which.name());
                return ExitCode::from(2);
            }
        };
        let mut result = None;
        if let Some(out) = child.stdout.take() {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                println!("{line}");
                if let Some(r) = ResultLine::parse(&line) {
                    result = Some(r);
                }
            }
        }
        let status = child.wait();
        if !status.as_ref().is_ok_and(|s| s.success()) {
            eprintln!("close_storm: the {} run failed: {status:?}", which.name());
            failed = true;
        }
        results.push(result);
    }
    if let [Some(weir), Some(tokio)] = &results[..] {
        report::print_side_by_side(weir, tokio);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
