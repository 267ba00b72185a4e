//! The cost of the breaker layers on a channel: a receive with L1 on and Closed beside the same
//! channel without a breaker, the L3 per-message cost (stamp on send, record on receive), and
//! the raw `SloMonitor::record` and `Circuit::admit` costs. Memory per monitored channel is
//! printed once (`size_of`). Zero allocation on these paths is shown by the counting-allocator
//! test `channel/tests/breaker_alloc.rs`, not here.
//!
//! ```text
//! cargo bench -p weir-benches --bench breaker
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use weir::breaker::{BreakerConfig, Circuit, Clock, ManualClock, SloConfig, SloMonitor};
use weir::channel::Builder;

/// One send and one receive per iteration, on a buffered channel kept near empty.
fn recv_l1(c: &mut Criterion) {
    let mut g = c.benchmark_group("recv_l1_closed");
    g.throughput(Throughput::Elements(1));
    let (tx, rx) = weir::channel::bounded::<u64>(64);
    g.bench_function("plain", |b| {
        b.iter(|| {
            tx.try_send(black_box(1)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    let (tx, rx) = Builder::bounded(64)
        .breaker(BreakerConfig::default())
        .build::<u64>();
    g.bench_function("breaker", |b| {
        b.iter(|| {
            tx.try_send(black_box(1)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    let clock = Arc::new(ManualClock::new(0));
    let (tx, rx) = Builder::bounded(64)
        .slo(SloConfig::default())
        .clock(clock)
        .build::<u64>();
    g.bench_function("slo_manual_clock", |b| {
        b.iter(|| {
            tx.try_send(black_box(1)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    let (tx, rx) = Builder::bounded(64)
        .breaker(BreakerConfig::default())
        .slo(SloConfig::default())
        .build::<u64>();
    g.bench_function("breaker_slo_coarse_clock", |b| {
        b.iter(|| {
            tx.try_send(black_box(1)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    g.finish();
}

fn raw_costs(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker_raw");
    g.throughput(Throughput::Elements(1));
    let clock = ManualClock::new(0);
    let slo = SloMonitor::new(SloConfig::default(), 1, clock.now()).unwrap();
    g.bench_function("slo_record", |b| {
        b.iter(|| slo.record(black_box(Duration::from_micros(1234))))
    });
    let circuit = Circuit::new(BreakerConfig::default(), 1).unwrap();
    g.bench_function("circuit_admit_closed", |b| {
        b.iter(|| black_box(circuit.admit(black_box(0)).is_admitted()))
    });
    g.finish();
    println!(
        "memory per monitored channel: SloMonitor {} B, Circuit {} B",
        std::mem::size_of::<SloMonitor>(),
        std::mem::size_of::<Circuit>()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = recv_l1, raw_costs
}
criterion_main!(benches);
