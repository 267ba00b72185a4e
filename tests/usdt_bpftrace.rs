//! The USDT backend end to end: bpftrace lists every probe of the vocabulary in this test's
//! own binary, and each shipped script, run through `weir-probe`'s `Invocation`, counts what
//! the workload below did.
//!
//! `cargo test --features usdt --test usdt_bpftrace` (as root, with bpftrace installed).
//! Under `CI=true` a missing bpftrace or root is a failure; elsewhere the test says why it
//! did not run. The binary re-runs itself with `workload` as the traced program.

use std::process::{Command, ExitCode};
use std::time::Duration;

use weir::breaker::{BreakerConfig, Outcome};
use weir::channel::Builder;
use weir::probes::tracer::{Invocation, Target, TraceError};
use weir::probes::{scripts, Probe};

/// Values sent and received on the channel named `probe-sends`.
const SENDS: usize = 1000;
/// Tasks the workload spawns.
const SPAWNS: usize = 40;
/// Receivers parked on `probe-close` when it closes.
const CLOSE_WAITERS: usize = 8;
/// How long a receive on `probe-slow` waits (the `blocked` script's threshold is half of it).
const SLOW_MS: u64 = 60;

fn workload() {
    let rt = weir::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // N sends and receives on a named channel.
        let (tx, rx) = Builder::bounded(16).name("probe-sends").build::<usize>();
        let producer = weir::spawn(async move {
            for i in 0..SENDS {
                tx.send(i).await.expect("send");
            }
        });
        let consumer = weir::spawn(async move {
            let mut n = 0;
            while rx.recv().await.is_ok() {
                n += 1;
            }
            n
        });
        producer.await.expect("producer");
        assert_eq!(consumer.await.expect("consumer"), SENDS);

        // K receivers parked on one channel, woken by one close.
        let (ctx, crx) = Builder::unbounded().name("probe-close").build::<u8>();
        let mut waiters = Vec::new();
        for _ in 0..CLOSE_WAITERS {
            let crx = crx.clone();
            waiters.push(weir::spawn(async move { crx.recv().await.is_err() }));
        }
        while crx.waiting_receivers() < CLOSE_WAITERS {
            weir::time::sleep(Duration::from_millis(1)).await;
        }
        ctx.close();
        for w in waiters {
            assert!(w.await.expect("waiter"), "a parked receiver saw a value");
        }
        drop(crx);

        // One receive that waits SLOW_MS.
        let (stx, srx) = Builder::bounded(1).name("probe-slow").build::<u8>();
        let slow = weir::spawn(async move {
            weir::time::sleep(Duration::from_millis(SLOW_MS)).await;
            stx.send(1).await.expect("slow send");
        });
        assert_eq!(srx.recv().await, Ok(1));
        slow.await.expect("slow");

        // An L1 trip: three failures open the breaker.
        let (btx, brx) = Builder::bounded(8)
            .name("probe-breaker")
            .breaker(BreakerConfig::new().failure_threshold(3))
            .build::<u8>();
        for _ in 0..3 {
            btx.send(0).await.expect("breaker send");
            brx.recv().await.expect("breaker recv");
            brx.report(Outcome::Failure);
        }

        // The rest of the spawns, each a trivial task.
        let spawned = 2 + CLOSE_WAITERS + 1;
        for _ in spawned..SPAWNS {
            weir::spawn(async {}).await.expect("task");
        }
    });
}

/// The line of this file that holds `marker` (the scripts name creation and wait sites).
fn line_of(marker: &str) -> usize {
    let source = include_str!("usdt_bpftrace.rs");
    1 + source
        .lines()
        .position(|l| l.contains(marker) && !l.contains("line_of"))
        .expect("marker in source")
}

/// Runs `script` against this binary's workload and returns bpftrace's output.
fn trace(script: &str, args: &[&str]) -> String {
    let exe = std::env::current_exe().expect("current exe");
    let target = Target::Command(vec![exe.display().to_string(), "workload".into()]);
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let inv = Invocation::prepare(script, &args, &target).expect("prepare");
    let mut out = Vec::new();
    let status = inv.run(&mut out).expect("run bpftrace");
    let out = String::from_utf8_lossy(&out).into_owned();
    assert!(status.success(), "{script}: bpftrace {status}\n{out}");
    println!("---- {script} ----\n{out}");
    out
}

/// The value of `@map[key]: value` in bpftrace's output (the key as bpftrace prints it).
fn map_value(out: &str, map: &str, key: &str) -> Option<u64> {
    let prefix = format!("@{map}[{key}]: ");
    out.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

/// Sum of the counts in the histogram `@map[key]:` (the `[lo, hi) count |@@@|` rows).
fn hist_total(out: &str, map: &str, key: &str) -> u64 {
    let head = format!("@{map}[{key}]:");
    let mut lines = out.lines().skip_while(|l| !l.starts_with(&head)).skip(1);
    let mut total = 0;
    for l in lines.by_ref() {
        let l = l.trim();
        if !l.starts_with('[') && !l.starts_with('(') {
            break;
        }
        let count = l.split(']').nth(1).or_else(|| l.split(')').nth(1));
        if let Some(n) = count.and_then(|s| s.split_whitespace().next()) {
            total += n.parse::<u64>().unwrap_or(0);
        }
    }
    total
}

fn check() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // Every probe of the vocabulary is in the binary, as bpftrace sees it.
    let listed = Command::new("bpftrace")
        .args(["-l", &format!("usdt:{}:weir:*", exe.display())])
        .output()
        .map_err(|e| format!("bpftrace -l: {e}"))?;
    let listed = String::from_utf8_lossy(&listed.stdout);
    for p in Probe::ALL {
        let want = format!(":weir:{}", p.name());
        if !listed.lines().any(|l| l.ends_with(&want)) {
            return Err(format!(
                "bpftrace -l does not list weir:{}\n{listed}",
                p.name()
            ));
        }
    }

    let out = trace("send-recv", &[]);
    let key = "probe-sends";
    assert_eq!(map_value(&out, "sends", key), Some(SENDS as u64), "{out}");
    assert_eq!(map_value(&out, "recvs", key), Some(SENDS as u64), "{out}");
    // A receive that overtakes its sender's stamp reports no delay (see the script).
    let measured = hist_total(&out, "send_to_recv_us", key);
    assert!(
        (SENDS as u64 * 9 / 10..=SENDS as u64).contains(&measured),
        "{measured} of {SENDS} delays\n{out}"
    );

    let out = trace("close-latency", &[]);
    let key = "probe-close";
    assert_eq!(map_value(&out, "closes", key), Some(1), "{out}");
    assert_eq!(
        map_value(&out, "woken_by_close", key),
        Some(CLOSE_WAITERS as u64),
        "{out}"
    );
    assert_eq!(
        map_value(&out, "closed_recvs", key),
        Some(CLOSE_WAITERS as u64),
        "{out}"
    );
    assert_eq!(
        hist_total(&out, "close_to_recv_us", key),
        CLOSE_WAITERS as u64,
        "{out}"
    );

    let out = trace("blocked", &[&(SLOW_MS / 2).to_string()]);
    let line = out
        .lines()
        .find(|l| l.contains("(probe-slow)"))
        .unwrap_or_else(|| panic!("no blocked wait on probe-slow\n{out}"));
    assert!(line.contains("to receive"), "{line}");
    let at = format!("tests/usdt_bpftrace.rs:{}", line_of("srx.recv().await"));
    assert!(line.contains(&at), "{line}");
    assert_eq!(
        map_value(&out, "blocked_waits", "probe-slow, receive"),
        Some(1),
        "{out}"
    );

    let out = trace("breaker", &[]);
    assert!(out.contains("L1 probe-breaker: closed -> open"), "{out}");
    assert_eq!(
        map_value(&out, "transitions", "probe-breaker"),
        Some(1),
        "{out}"
    );

    let out = trace("sched", &[]);
    assert_eq!(
        out.lines().find_map(|l| l.strip_prefix("@spawns: ")),
        Some("40"),
        "{out}"
    );
    assert!(out.contains("@polls["), "{out}");
    assert!(out.contains("@poll_us:"), "{out}");
    Ok(())
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("workload") {
        workload();
        return ExitCode::SUCCESS;
    }
    // libtest's arguments (`--list`, filters) are not ours: list nothing for `--list`.
    if std::env::args().any(|a| a == "--list") {
        return ExitCode::SUCCESS;
    }
    let ci = std::env::var("CI").as_deref() == Ok("true");
    match Invocation::prepare("sched", &[], &Target::Pid(std::process::id())) {
        Err(e @ (TraceError::BpftraceMissing | TraceError::NotRoot)) if !ci => {
            println!("usdt_bpftrace: not run: {e}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("usdt_bpftrace: {e}");
            return ExitCode::FAILURE;
        }
        Ok(_) => {}
    }
    assert!(scripts::SCRIPTS.len() >= 5);
    match check() {
        Ok(()) => {
            println!("usdt_bpftrace: ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("usdt_bpftrace: {e}");
            ExitCode::FAILURE
        }
    }
}
