//! The runtime interface the workloads are written against, and weir's implementation of it.
//!
//! Every workload is generic over [`BenchRuntime`], so weir and its peers run the very same
//! code: only the runtime differs. Peer runtimes (tokio) implement the trait in the benchmark
//! targets, where they are dev-dependencies.

use std::fmt;
use std::future::Future;

/// What a scheduler benchmark needs from a runtime.
pub trait BenchRuntime: Send + Sync + Sized + 'static {
    /// The name criterion reports the runtime under (`<workload>/<NAME>`).
    const NAME: &'static str;

    /// The runtime's join handle.
    type JoinHandle<T: Send + 'static>: Future<Output = Result<T, Self::JoinError>>
        + Send
        + Unpin
        + 'static;

    /// Why a join failed.
    type JoinError: fmt::Debug;

    /// A multi-thread runtime with `workers` worker threads and timers enabled.
    fn multi_thread(workers: usize) -> Self;

    /// Runs `future` to completion on the calling thread, inside the runtime's context.
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// Spawns through the runtime's handle (a remote spawn when called off the runtime).
    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns on the runtime of the calling thread's context and detaches the task.
    fn spawn_detached<F>(future: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// The runtime's `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;
}

impl BenchRuntime for weir::Runtime {
    const NAME: &'static str = "weir";

    type JoinHandle<T: Send + 'static> = weir::task::JoinHandle<T>;
    type JoinError = weir::task::JoinError;

    fn multi_thread(workers: usize) -> Self {
        match weir::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(err) => panic!("weir-benches: cannot build a weir runtime: {err}"),
        }
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        weir::Runtime::block_on(self, future)
    }

    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        weir::Runtime::spawn(self, future)
    }

    fn spawn_detached<F>(future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(weir::spawn(future));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        weir::task::yield_now()
    }
}

/// Worker threads for the benchmarks: `WEIR_BENCH_WORKERS`, default 4 (tokio's benchmark
/// setting).
///
/// # Panics
/// When the variable is set to something other than a positive integer.
pub fn workers_from_env() -> usize {
    match std::env::var("WEIR_BENCH_WORKERS") {
        Err(std::env::VarError::NotPresent) => 4,
        Ok(s) => match s.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("WEIR_BENCH_WORKERS must be a positive integer, got {s:?}"),
        },
        Err(err) => panic!("WEIR_BENCH_WORKERS is unreadable: {err}"),
    }
}
