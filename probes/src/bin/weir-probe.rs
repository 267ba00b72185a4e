//! `weir-probe`: lists, prints and runs the bpftrace scripts shipped with weir.
//!
//! ```text
//! weir-probe list
//! weir-probe show NAME
//! weir-probe run NAME [ARGS...] (--pid PID | -- CMD ARGS...)
//! weir-probe probes
//! ```

use std::process::ExitCode;

use weir_probes::scripts::{self, SCRIPTS};
use weir_probes::tracer::{Invocation, Target};

const USAGE: &str = "usage:
  weir-probe list                                          the shipped scripts
  weir-probe show NAME                                     print a script
  weir-probe run NAME [ARGS...] (--pid PID | -- CMD ARGS...)  run it under bpftrace
  weir-probe probes                                        the probe table (Markdown)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("list") if args.len() == 1 => {
            for s in &SCRIPTS {
                let usage = format!("{} {}", s.name, s.args);
                println!("{:<22} {}", usage.trim_end(), s.summary());
            }
            ExitCode::SUCCESS
        }
        Some("show") if args.len() == 2 => match scripts::find(&args[1]) {
            Some(s) => {
                print!("{}", s.source);
                ExitCode::SUCCESS
            }
            None => fail(&format!(
                "no script named `{}`; `weir-probe list` shows them",
                args[1]
            )),
        },
        Some("run") if args.len() >= 2 => run(&args[1], &args[2..]),
        Some("probes") if args.len() == 1 => {
            print!("{}", weir_probes::table::markdown());
            ExitCode::SUCCESS
        }
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => fail(USAGE),
    }
}

fn run(name: &str, rest: &[String]) -> ExitCode {
    let (script_args, target) = if let Some(i) = rest.iter().position(|a| a == "--") {
        (&rest[..i], Target::Command(rest[i + 1..].to_vec()))
    } else if let Some(i) = rest.iter().position(|a| a == "--pid") {
        let Some(pid) = rest.get(i + 1) else {
            return fail("--pid needs a process id");
        };
        let Ok(pid) = pid.parse() else {
            return fail(&format!("--pid {pid:?}: not a process id"));
        };
        if rest.len() > i + 2 {
            return fail("nothing may follow --pid PID");
        }
        (&rest[..i], Target::Pid(pid))
    } else {
        return fail("run needs a target: --pid PID, or -- CMD ARGS...");
    };
    if matches!(&target, Target::Command(c) if c.is_empty()) {
        return fail("run needs a command after --");
    }
    let invocation = match Invocation::prepare(name, script_args, &target) {
        Ok(i) => i,
        Err(e) => return fail(&e.to_string()),
    };
    match invocation.run(&mut std::io::stdout().lock()) {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("weir-probe: bpftrace exited with {status}");
            ExitCode::FAILURE
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("weir-probe: {message}");
    ExitCode::from(2)
}
