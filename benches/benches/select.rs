//! The cost of one `select!`: 2 and 4 branches over bounded channels, with one branch ready
//! (the others empty) and with every branch empty and a `default`. Each iteration builds the
//! select and polls it once with a no-op waker, outside any task (no coop budget); the ready
//! cases refill their channel with a `try_send`, measured alone in `baseline`.
//!
//! ```text
//! cargo bench -p weir-benches --bench select
//! ```

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use weir::channel::select;

fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let f = pin!(f);
    f.poll(&mut Context::from_waker(Waker::noop()))
}

fn expect<T>(p: Poll<T>) -> T {
    match p {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the select did not complete at its first poll"),
    }
}

fn select_cost(c: &mut Criterion) {
    let mut g = c.benchmark_group("select");
    g.throughput(Throughput::Elements(1));
    let (tx0, rx0) = weir::channel::bounded::<u64>(64);
    let (_tx1, rx1) = weir::channel::bounded::<u64>(64);
    let (_tx2, rx2) = weir::channel::bounded::<u64>(64);
    let (_tx3, rx3) = weir::channel::bounded::<u64>(64);

    g.bench_function("baseline_try_send_recv", |b| {
        b.iter(|| {
            tx0.try_send(black_box(1)).unwrap();
            black_box(expect(poll_once(rx0.recv())).unwrap())
        })
    });
    g.bench_function("2_branches_one_ready", |b| {
        b.iter(|| {
            tx0.try_send(black_box(1)).unwrap();
            black_box(expect(poll_once(async {
                select! {
                    v = rx1.recv() => v.unwrap_or(0),
                    v = rx0.recv() => v.unwrap_or(0),
                }
            })))
        })
    });
    g.bench_function("2_branches_default", |b| {
        b.iter(|| {
            black_box(expect(poll_once(async {
                select! {
                    v = rx1.recv() => v.unwrap_or(0),
                    v = rx2.recv() => v.unwrap_or(0),
                    default => 7,
                }
            })))
        })
    });
    g.bench_function("4_branches_one_ready", |b| {
        b.iter(|| {
            tx0.try_send(black_box(1)).unwrap();
            black_box(expect(poll_once(async {
                select! {
                    v = rx1.recv() => v.unwrap_or(0),
                    v = rx2.recv() => v.unwrap_or(0),
                    v = rx0.recv() => v.unwrap_or(0),
                    v = rx3.recv() => v.unwrap_or(0),
                }
            })))
        })
    });
    g.bench_function("4_branches_default", |b| {
        b.iter(|| {
            black_box(expect(poll_once(async {
                select! {
                    v = rx1.recv() => v.unwrap_or(0),
                    v = rx2.recv() => v.unwrap_or(0),
                    v = rx3.recv() => v.unwrap_or(0),
                    v = rx1.recv() => v.unwrap_or(0),
                    default => 7,
                }
            })))
        })
    });
    g.finish();
}

criterion_group!(benches, select_cost);
criterion_main!(benches);
