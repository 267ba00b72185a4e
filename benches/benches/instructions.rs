//! One channel workload run once, for counting instructions per message under callgrind
//! (`benches/instructions.sh` runs it at two message counts and takes the difference, so the
//! start-up cost cancels out).
//!
//! ```text
//! instructions <channel> <shape>_<cap> <messages>
//!   channel: weir, weir_on_tokio, tokio_mpsc, kanal, flume, async_channel (each also as
//!            <peer>_on_weir), weir_blocking, kanal_sync, crossbeam
//!   e.g.     instructions kanal spsc_bounded1024 200000
//! instructions <weir|tokio_mpsc|kanal> closed_await <receives>
//!            `recv().await` on a closed, empty channel, in a loop in `block_on`
//! ```
//!
//! Runtimes get `WEIR_BENCH_WORKERS` workers (the script uses 1, so the count does not depend
//! on how the threads interleave). Without arguments (as `cargo bench` runs it) it does nothing.

use std::process::ExitCode;

use weir_benches::channel_workloads::{
    run_async, run_blocking, AsyncChannel, BlockingChannel, Cap, Shape, Weir, WeirBlocking,
};
use weir_benches::{workers_from_env, BenchRuntime};

#[path = "peers/channel_peers.rs"]
mod channel_peers;
#[path = "peers/tokio_runtime.rs"]
mod tokio_runtime;
use channel_peers::{AsyncChan, Crossbeam, Flume, Kanal, KanalSync, TokioMpsc};
use tokio_runtime::Tokio;

const USAGE: &str = "usage: instructions <channel> <shape>_<cap> <messages>";

/// `seq_large` -> (Seq, Large).
fn workload(name: &str) -> Option<(Shape, Cap)> {
    let (shape, cap) = name.split_once('_')?;
    let shape = Shape::ALL.into_iter().find(|s| s.name() == shape)?;
    let cap = Cap::ALL.into_iter().find(|c| c.name() == cap)?;
    Some((shape, cap))
}

fn on<R: BenchRuntime, C: AsyncChannel>(shape: Shape, cap: Cap, n: usize) -> Result<(), String> {
    if !C::supports(cap, shape) || !shape.fits(cap, n) {
        return Err(format!(
            "{} does not run {}_{} with {n} messages",
            C::NAME,
            shape.name(),
            cap.name()
        ));
    }
    let rt = R::multi_thread(workers_from_env());
    run_async::<R, C, usize>(&rt, shape, cap, n);
    Ok(())
}

fn blocking<C: BlockingChannel>(shape: Shape, cap: Cap, n: usize) -> Result<(), String> {
    if !shape.fits(cap, n) {
        return Err(format!(
            "{}_{} does not fit {n} messages",
            shape.name(),
            cap.name()
        ));
    }
    run_blocking::<C, usize>(shape, cap, n);
    Ok(())
}

/// `n` receives awaited on a closed, empty channel inside one `block_on`.
fn closed_await(channel: &str, n: usize) -> Result<(), String> {
    use std::hint::black_box;
    match channel {
        "weir" => {
            let (tx, rx) = weir::channel::bounded::<usize>(16);
            tx.close();
            let rt = <weir::Runtime as BenchRuntime>::multi_thread(workers_from_env());
            rt.block_on(async {
                for _ in 0..n {
                    black_box(rx.recv().await).ok();
                }
            });
        }
        "tokio_mpsc" => {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<usize>(16);
            drop(tx);
            let rt = Tokio::multi_thread(workers_from_env());
            rt.block_on(async {
                for _ in 0..n {
                    black_box(rx.recv().await);
                }
            });
        }
        "kanal" => {
            let (tx, rx) = kanal::bounded_async::<usize>(16);
            tx.close().map_err(|e| format!("kanal close: {e:?}"))?;
            let rt = Tokio::multi_thread(workers_from_env());
            rt.block_on(async {
                for _ in 0..n {
                    black_box(rx.recv().await).ok();
                }
            });
        }
        other => return Err(format!("closed_await: unknown channel {other:?}")),
    }
    Ok(())
}

fn run(channel: &str, shape: Shape, cap: Cap, n: usize) -> Result<(), String> {
    type W = weir::Runtime;
    match channel {
        "weir" => on::<W, Weir>(shape, cap, n),
        "weir_on_tokio" => on::<Tokio, Weir>(shape, cap, n),
        "tokio_mpsc" => on::<Tokio, TokioMpsc>(shape, cap, n),
        "tokio_mpsc_on_weir" => on::<W, TokioMpsc>(shape, cap, n),
        "kanal" => on::<Tokio, Kanal>(shape, cap, n),
        "kanal_on_weir" => on::<W, Kanal>(shape, cap, n),
        "flume" => on::<Tokio, Flume>(shape, cap, n),
        "flume_on_weir" => on::<W, Flume>(shape, cap, n),
        "async_channel" => on::<Tokio, AsyncChan>(shape, cap, n),
        "async_channel_on_weir" => on::<W, AsyncChan>(shape, cap, n),
        "weir_blocking" => blocking::<WeirBlocking>(shape, cap, n),
        "kanal_sync" => blocking::<KanalSync>(shape, cap, n),
        "crossbeam" => blocking::<Crossbeam>(shape, cap, n),
        other => Err(format!("unknown channel {other:?}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [channel, name, n] = &args[..] else {
        if args.is_empty() {
            // `cargo bench` runs every target; this one only runs when asked.
            return ExitCode::SUCCESS;
        }
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if name == "closed_await" {
        let Ok(n) = n.parse::<usize>() else {
            eprintln!("{USAGE}\n  cannot read the count {n:?}");
            return ExitCode::from(2);
        };
        return match closed_await(channel, n) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("instructions: {err}");
                ExitCode::from(2)
            }
        };
    }
    let (Some((shape, cap)), Ok(n)) = (workload(name), n.parse::<usize>()) else {
        eprintln!("{USAGE}\n  cannot read the workload {name:?} or the count {n:?}");
        return ExitCode::from(2);
    };
    match run(channel, shape, cap, n) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("instructions: {err}");
            ExitCode::from(2)
        }
    }
}
