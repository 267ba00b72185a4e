//! The multi-thread scheduler, weir beside tokio in one criterion run.
//!
//! Each workload is a criterion group with one function per runtime
//! (`spawn_many_local/weir`, `spawn_many_local/tokio`, ...). Both runtimes run the same
//! generic workload code from `weir_benches::scheduler_workloads` with the same number of
//! workers: `WEIR_BENCH_WORKERS`, default 4. One runtime is built, measured and shut down
//! before the other starts, so they never compete for the CPU.
//!
//! ```text
//! cargo bench -p weir-benches --bench rt_multi_threaded
//! WEIR_BENCH_WORKERS=8 cargo bench -p weir-benches --bench rt_multi_threaded
//! ```

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use weir_benches::scheduler_workloads::{
    ChainedSpawn, PingPong, SpawnManyBlockOn, SpawnManyLocal, SpawnManyRemoteBusy1,
    SpawnManyRemoteBusy2, SpawnManyRemoteIdle, YieldMany,
};
use weir_benches::{workers_from_env, Workload};

#[path = "peers/tokio_runtime.rs"]
mod tokio_runtime;
use tokio_runtime::Tokio;

/// Benchmarks workload `W` on weir, then `T` (the same workload) on tokio, as one group.
fn compare<W: Workload, T: Workload>(c: &mut Criterion, name: &str) {
    let workers = workers_from_env();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(W::ELEMENTS));
    {
        let mut weir = W::setup(workers);
        group.bench_function(W::RUNTIME, |b| b.iter(|| weir.run()));
    }
    {
        let mut tokio = T::setup(workers);
        group.bench_function(T::RUNTIME, |b| b.iter(|| tokio.run()));
    }
    group.finish();
}

fn spawn_many_local(c: &mut Criterion) {
    compare::<SpawnManyLocal<weir::Runtime>, SpawnManyLocal<Tokio>>(c, "spawn_many_local");
}

fn spawn_many_block_on(c: &mut Criterion) {
    compare::<SpawnManyBlockOn<weir::Runtime>, SpawnManyBlockOn<Tokio>>(c, "spawn_many_block_on");
}

fn spawn_many_remote_idle(c: &mut Criterion) {
    compare::<SpawnManyRemoteIdle<weir::Runtime>, SpawnManyRemoteIdle<Tokio>>(
        c,
        "spawn_many_remote_idle",
    );
}

fn spawn_many_remote_busy1(c: &mut Criterion) {
    compare::<SpawnManyRemoteBusy1<weir::Runtime>, SpawnManyRemoteBusy1<Tokio>>(
        c,
        "spawn_many_remote_busy1",
    );
}

fn spawn_many_remote_busy2(c: &mut Criterion) {
    compare::<SpawnManyRemoteBusy2<weir::Runtime>, SpawnManyRemoteBusy2<Tokio>>(
        c,
        "spawn_many_remote_busy2",
    );
}

fn ping_pong(c: &mut Criterion) {
    compare::<PingPong<weir::Runtime>, PingPong<Tokio>>(c, "ping_pong");
}

fn yield_many(c: &mut Criterion) {
    compare::<YieldMany<weir::Runtime>, YieldMany<Tokio>>(c, "yield_many");
}

fn chained_spawn(c: &mut Criterion) {
    compare::<ChainedSpawn<weir::Runtime>, ChainedSpawn<Tokio>>(c, "chained_spawn");
}

/// Short runs: the whole file (16 functions) stays within a few minutes on 2 cores.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = scheduler;
    config = config();
    targets = spawn_many_local, spawn_many_block_on, spawn_many_remote_idle,
        spawn_many_remote_busy1, spawn_many_remote_busy2, ping_pong, yield_many, chained_spawn
}
criterion_main!(scheduler);
