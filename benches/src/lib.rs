//! Shared drivers for the side-by-side benchmarks in `benches/`.
//!
//! - [`bench_runtime`]: the [`BenchRuntime`] interface every workload is written against, and
//!   weir's implementation (peers implement it in the benchmark targets);
//! - [`scheduler_workloads`]: the scheduler workloads of `benches/rt_multi_threaded.rs`;
//! - [`channel_workloads`]: the channel workloads of `benches/channels.rs` (seq, spsc, mpsc,
//!   mpmc over every capacity), generic over the channel under test;
//! - [`oneshot`]: a runtime-neutral oneshot channel, so ping-pong compares schedulers only;
//! - [`storm_log`] and [`process_memory`]: the close storm's bookkeeping and memory readings
//!   (`src/bin/close_storm`).

pub mod bench_runtime;
pub mod channel_workloads;
pub mod oneshot;
pub mod process_memory;
pub mod scheduler_workloads;
pub mod storm_log;

pub use bench_runtime::{workers_from_env, BenchRuntime};
pub use scheduler_workloads::Workload;
