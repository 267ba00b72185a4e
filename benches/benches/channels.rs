//! weir's channels beside tokio::sync::mpsc, kanal, flume, async-channel and crossbeam-channel,
//! in one criterion run.
//!
//! Groups (one function per implementation in each):
//! - `<shape>_<cap>_<msg>`: the rust-channel-benchmarks shapes (`seq`, `spsc`, `mpsc` with 4
//!   producers, `mpmc` with 4 producers and 4 consumers) over `bounded0` (rendezvous),
//!   `bounded1`, `bounded1024`, `large` (bounded 1 000 000) and `unbounded`, with `usize` and
//!   32-byte messages, [`N`] messages per iteration. Each channel runs on its usual runtime
//!   (`weir` on weir; `tokio_mpsc`, `kanal`, `flume`, `async_channel` on tokio) and on the
//!   other one (`weir_on_tokio`, `<peer>_on_weir`), so the channel's cost can be told from the
//!   scheduler's; both runtimes have `WEIR_BENCH_WORKERS` workers (default 4). The blocking
//!   forms run on OS threads: `weir_blocking`, `kanal_sync`, `crossbeam`.
//!   tokio's mpsc has no `mpmc` and no rendezvous, async-channel no rendezvous: skipped there.
//!   flume's async side can hang with several receivers (see [`Flume`]): its rendezvous and
//!   `mpmc` run only with `WEIR_BENCH_FLUME_ALL=1`.
//! - `sync_mpsc_<case>`: the contention and uncontended cases of tokio's own
//!   `benches/sync_mpsc.rs` (6 workers, as there), weir against tokio only.
//! - `closed_empty_<op>`: one receive on a closed, empty channel (`try_recv`, the blocking
//!   receive, and `recv().await` in a loop inside `block_on`, on both runtimes);
//!   `closed_drained_recv_await`: the same `recv().await` on a channel that carried messages,
//!   all received, then closed (weir, tokio mpsc and kanal, on both runtimes).
//!
//! After criterion, `close_latency` (not a criterion measurement) parks 10 000 tasks on one
//! channel, closes it and prints the P50/P99/P99.9 of the time each task took to observe the
//! close, per implementation. It runs when no filter is given or a filter names it.
//!
//! ```text
//! cargo bench -p weir-benches --bench channels
//! cargo bench -p weir-benches --bench channels -- mpsc_bounded1   # a subset (no close_latency)
//! cargo bench -p weir-benches --bench channels -- close_latency   # close latency only
//! ```

use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use weir_benches::channel_workloads::{
    run_async, run_blocking, AsyncChannel, BlockingChannel, Cap, Message, Msg32, Percentiles,
    Shape, Weir, WeirBlocking,
};
use weir_benches::{workers_from_env, BenchRuntime};

#[path = "peers/channel_peers.rs"]
mod channel_peers;
#[path = "peers/tokio_runtime.rs"]
mod tokio_runtime;
use channel_peers::{AsyncChan, Crossbeam, Flume, Kanal, KanalSync, TokioMpsc};
use tokio_runtime::Tokio;

/// Messages per iteration of the shape workloads. The suite's usual 1 000 000 makes the full
/// matrix take far too long on a small machine; the ratios are what matter.
const N: usize = 100_000;

// ---------------------------------------------------------------------------------------------
// The shape matrix.

/// Both runtimes, built once: the idle one parks its workers while the other is measured.
struct Runtimes {
    weir: weir::Runtime,
    tokio: Tokio,
}

/// Criterion settings for workloads whose iterations take milliseconds.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
}

/// Benchmarks channel `C` on runtime `rt` under the name `id`.
fn bench_async<R: BenchRuntime, C: AsyncChannel, T: Message>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    rt: &R,
    shape: Shape,
    cap: Cap,
) {
    if C::supports(cap, shape) {
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| run_async::<R, C, T>(rt, shape, cap, N))
                    .sum()
            })
        });
    }
}

/// Channel `C` on its usual runtime (named `C::NAME`) and on the other one
/// (`<C::NAME>_on_<runtime>`).
fn bench_on_both<C: AsyncChannel, T: Message>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rts: &Runtimes,
    native_is_weir: bool,
    shape: Shape,
    cap: Cap,
) {
    let on_weir = format!("{}_on_weir", C::NAME);
    let on_tokio = format!("{}_on_tokio", C::NAME);
    if native_is_weir {
        bench_async::<_, C, T>(group, C::NAME, &rts.weir, shape, cap);
        bench_async::<_, C, T>(group, &on_tokio, &rts.tokio, shape, cap);
    } else {
        bench_async::<_, C, T>(group, C::NAME, &rts.tokio, shape, cap);
        bench_async::<_, C, T>(group, &on_weir, &rts.weir, shape, cap);
    }
}

fn bench_blocking<C: BlockingChannel, T: Message>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    shape: Shape,
    cap: Cap,
) {
    group.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| run_blocking::<C, T>(shape, cap, N))
                .sum()
        })
    });
}

fn shapes<T: Message>(c: &mut Criterion, rts: &Runtimes) {
    for shape in Shape::ALL {
        for cap in Cap::ALL {
            if !shape.fits(cap, N) {
                continue;
            }
            let mut group =
                c.benchmark_group(format!("{}_{}_{}", shape.name(), cap.name(), T::NAME));
            configure(&mut group);
            group.throughput(Throughput::Elements(N as u64));
            bench_on_both::<Weir, T>(&mut group, rts, true, shape, cap);
            bench_on_both::<TokioMpsc, T>(&mut group, rts, false, shape, cap);
            bench_on_both::<Kanal, T>(&mut group, rts, false, shape, cap);
            bench_on_both::<Flume, T>(&mut group, rts, false, shape, cap);
            bench_on_both::<AsyncChan, T>(&mut group, rts, false, shape, cap);
            bench_blocking::<WeirBlocking, T>(&mut group, shape, cap);
            bench_blocking::<KanalSync, T>(&mut group, shape, cap);
            bench_blocking::<Crossbeam, T>(&mut group, shape, cap);
            group.finish();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// tokio's sync_mpsc cases, weir against tokio. As in tokio's file: 6 workers, the channel is
// created inside the timed iteration, the receiving loop runs in `block_on`.

/// Workers of tokio's `benches/sync_mpsc.rs`.
const SYNC_MPSC_WORKERS: usize = 6;

async fn weir_contention(tx: weir::channel::Sender<usize>, rx: weir::channel::Receiver<usize>) {
    for _ in 0..5 {
        let tx = tx.clone();
        drop(weir::spawn(async move {
            for i in 0..1000 {
                tx.send(i).await.expect("weir: send");
            }
        }));
    }
    for _ in 0..1_000 * 5 {
        let _ = black_box(rx.recv().await);
    }
}

async fn weir_uncontended(tx: weir::channel::Sender<usize>, rx: weir::channel::Receiver<usize>) {
    for i in 0..5000 {
        tx.send(i).await.expect("weir: send");
    }
    for _ in 0..5_000 {
        let _ = black_box(rx.recv().await);
    }
}

fn sync_mpsc(c: &mut Criterion) {
    use tokio::sync::mpsc;

    let weir_rt = <weir::Runtime as BenchRuntime>::multi_thread(SYNC_MPSC_WORKERS);
    let tokio_rt = Tokio::multi_thread(SYNC_MPSC_WORKERS);

    // (case, weir's channel, tokio's bounded capacity or None for unbounded, contended)
    let cases: [(&str, Option<usize>, bool); 5] = [
        ("contention_bounded", Some(1_000_000), true),
        ("contention_bounded_full", Some(100), true),
        ("contention_unbounded", None, true),
        ("uncontented_bounded", Some(1_000_000), false),
        ("uncontented_unbounded", None, false),
    ];
    for (name, cap, contended) in cases {
        let mut group = c.benchmark_group(format!("sync_mpsc_{name}"));
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        group.throughput(Throughput::Elements(5_000));
        group.bench_function("weir", |b| {
            b.iter(|| {
                weir_rt.block_on(async {
                    let (tx, rx) = match cap {
                        Some(n) => weir::channel::bounded::<usize>(n),
                        None => weir::channel::unbounded::<usize>(),
                    };
                    if contended {
                        weir_contention(tx, rx).await;
                    } else {
                        weir_uncontended(tx, rx).await;
                    }
                })
            })
        });
        group.bench_function("tokio_mpsc", |b| {
            b.iter(|| {
                tokio_rt.block_on(async {
                    match (cap, contended) {
                        (Some(n), true) => {
                            let (tx, mut rx) = mpsc::channel::<usize>(n);
                            for _ in 0..5 {
                                let tx = tx.clone();
                                tokio::spawn(async move {
                                    for i in 0..1000 {
                                        tx.send(i).await.expect("tokio: send");
                                    }
                                });
                            }
                            for _ in 0..1_000 * 5 {
                                let _ = black_box(rx.recv().await);
                            }
                        }
                        (None, true) => {
                            let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
                            for _ in 0..5 {
                                let tx = tx.clone();
                                tokio::spawn(async move {
                                    for i in 0..1000 {
                                        tx.send(i).expect("tokio: send");
                                    }
                                });
                            }
                            for _ in 0..1_000 * 5 {
                                let _ = black_box(rx.recv().await);
                            }
                        }
                        (Some(n), false) => {
                            let (tx, mut rx) = mpsc::channel::<usize>(n);
                            for i in 0..5000 {
                                tx.send(i).await.expect("tokio: send");
                            }
                            for _ in 0..5_000 {
                                let _ = black_box(rx.recv().await);
                            }
                        }
                        (None, false) => {
                            let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
                            for i in 0..5000 {
                                tx.send(i).expect("tokio: send");
                            }
                            for _ in 0..5_000 {
                                let _ = black_box(rx.recv().await);
                            }
                        }
                    }
                })
            })
        });
        group.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// Receive on a closed, empty channel.

fn closed_group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(1));
    group
}

/// Times `iters` awaits of `op` inside one `block_on`.
fn await_loop<R: BenchRuntime, F, Fut>(rt: &R, iters: u64, op: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: Future,
{
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(op().await);
        }
        start.elapsed()
    })
}

fn closed_empty(c: &mut Criterion, rts: &Runtimes) {
    let (wtx, wrx) = weir::channel::bounded::<usize>(16);
    wtx.close();
    let (ttx, mut trx) = tokio::sync::mpsc::channel::<usize>(16);
    drop(ttx);
    let (ktx, krx) = kanal::bounded_async::<usize>(16);
    ktx.close().expect("kanal: close");
    let (ftx, frx) = flume::bounded::<usize>(16);
    drop(ftx);
    let (atx, arx) = async_channel::bounded::<usize>(16);
    atx.close();
    let (ctx, crx) = crossbeam_channel::bounded::<usize>(16);
    drop(ctx);

    let mut group = closed_group(c, "closed_empty_try_recv");
    group.bench_function("weir", |b| b.iter(|| black_box(wrx.try_recv())));
    group.bench_function("tokio_mpsc", |b| b.iter(|| black_box(trx.try_recv())));
    group.bench_function("kanal", |b| b.iter(|| black_box(krx.try_recv())));
    group.bench_function("flume", |b| b.iter(|| black_box(frx.try_recv())));
    group.bench_function("async_channel", |b| b.iter(|| black_box(arx.try_recv())));
    group.bench_function("crossbeam", |b| b.iter(|| black_box(crx.try_recv())));
    group.finish();

    let mut group = closed_group(c, "closed_empty_recv_blocking");
    group.bench_function("weir", |b| b.iter(|| black_box(wrx.recv_blocking())));
    group.bench_function("tokio_mpsc", |b| b.iter(|| black_box(trx.blocking_recv())));
    group.bench_function("kanal", |b| b.iter(|| black_box(krx.as_sync().recv())));
    group.bench_function("flume", |b| b.iter(|| black_box(frx.recv())));
    group.bench_function("async_channel", |b| {
        b.iter(|| black_box(arx.recv_blocking()))
    });
    group.bench_function("crossbeam", |b| b.iter(|| black_box(crx.recv())));
    group.finish();

    let mut group = closed_group(c, "closed_empty_recv_await");
    group.bench_function("weir", |b| {
        b.iter_custom(|iters| await_loop(&rts.weir, iters, || wrx.recv()))
    });
    group.bench_function("weir_on_tokio", |b| {
        b.iter_custom(|iters| await_loop(&rts.tokio, iters, || wrx.recv()))
    });
    group.bench_function("tokio_mpsc", |b| {
        b.iter_custom(|iters| tokio_await_loop(&rts.tokio, iters, &mut trx))
    });
    group.bench_function("tokio_mpsc_on_weir", |b| {
        b.iter_custom(|iters| tokio_await_loop(&rts.weir, iters, &mut trx))
    });
    group.bench_function("kanal", |b| {
        b.iter_custom(|iters| await_loop(&rts.tokio, iters, || krx.recv()))
    });
    group.bench_function("kanal_on_weir", |b| {
        b.iter_custom(|iters| await_loop(&rts.weir, iters, || krx.recv()))
    });
    group.bench_function("flume", |b| {
        b.iter_custom(|iters| await_loop(&rts.tokio, iters, || frx.recv_async()))
    });
    group.bench_function("async_channel", |b| {
        b.iter_custom(|iters| await_loop(&rts.tokio, iters, || arx.recv()))
    });
    group.finish();
}

/// Times `iters` awaits of tokio's `recv` inside one `block_on` (it takes `&mut`).
fn tokio_await_loop<R: BenchRuntime>(
    rt: &R,
    iters: u64,
    rx: &mut tokio::sync::mpsc::Receiver<usize>,
) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(rx.recv().await);
        }
        start.elapsed()
    })
}

/// Messages each channel carries (all received) before it is closed.
const DRAINED: usize = 3;

/// `recv().await` on a channel that carried [`DRAINED`] messages, all received, then closed:
/// the closed answer with the ring's indices away from zero.
fn closed_drained(c: &mut Criterion, rts: &Runtimes) {
    let (wtx, wrx) = weir::channel::bounded::<usize>(16);
    for i in 0..DRAINED {
        wtx.try_send(i).expect("weir: fill");
        wrx.try_recv().expect("weir: drain");
    }
    wtx.close();
    let (ttx, mut trx) = tokio::sync::mpsc::channel::<usize>(16);
    for i in 0..DRAINED {
        ttx.try_send(i).expect("tokio: fill");
        trx.try_recv().expect("tokio: drain");
    }
    drop(ttx);
    let (ktx, krx) = kanal::bounded_async::<usize>(16);
    for i in 0..DRAINED {
        ktx.try_send(i).expect("kanal: fill");
        krx.try_recv().expect("kanal: drain");
    }
    ktx.close().expect("kanal: close");

    let mut group = closed_group(c, "closed_drained_recv_await");
    group.bench_function("weir", |b| {
        b.iter_custom(|iters| await_loop(&rts.weir, iters, || wrx.recv()))
    });
    group.bench_function("weir_on_tokio", |b| {
        b.iter_custom(|iters| await_loop(&rts.tokio, iters, || wrx.recv()))
    });
    group.bench_function("tokio_mpsc", |b| {
        b.iter_custom(|iters| tokio_await_loop(&rts.tokio, iters, &mut trx))
    });
    group.bench_function("tokio_mpsc_on_weir", |b| {
        b.iter_custom(|iters| tokio_await_loop(&rts.weir, iters, &mut trx))
    });
    group.bench_function("kanal", |b| {
        b.iter_custom(|iters| await_loop(&rts.tokio, iters, || krx.recv()))
    });
    group.bench_function("kanal_on_weir", |b| {
        b.iter_custom(|iters| await_loop(&rts.weir, iters, || krx.recv()))
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Close latency: 10 000 tasks parked on one channel, then a close.

/// Tasks parked per round.
const PARKED: usize = 10_000;
/// Rounds per implementation (each round is a fresh channel and fresh tasks).
const ROUNDS: usize = 10;

/// A channel whose close is observed by parked tasks.
trait CloseWatch: 'static {
    const NAME: &'static str;
    /// What closes the channel.
    type Closer;
    /// What each parked task holds.
    type Waiter: Send + 'static;
    /// A channel with `waiters` waiting handles.
    fn setup(waiters: usize) -> (Self::Closer, Vec<Self::Waiter>);
    /// Parks until the close is observed (panics on any other outcome).
    fn wait(w: Self::Waiter) -> impl Future<Output = ()> + Send;
    /// Closes the channel.
    fn close(closer: Self::Closer);
}

struct WeirClose;
impl CloseWatch for WeirClose {
    const NAME: &'static str = "weir (tx.close(), receivers parked in recv)";
    type Closer = weir::channel::Sender<usize>;
    type Waiter = weir::channel::Receiver<usize>;
    fn setup(waiters: usize) -> (Self::Closer, Vec<Self::Waiter>) {
        let (tx, rx) = weir::channel::bounded(16);
        (tx, vec![rx; waiters])
    }
    async fn wait(w: Self::Waiter) {
        assert!(w.recv().await.is_err(), "weir: received a value");
    }
    fn close(closer: Self::Closer) {
        assert!(closer.close());
    }
}

struct AsyncChanClose;
impl CloseWatch for AsyncChanClose {
    const NAME: &'static str = "async_channel (tx.close(), receivers parked in recv)";
    type Closer = async_channel::Sender<usize>;
    type Waiter = async_channel::Receiver<usize>;
    fn setup(waiters: usize) -> (Self::Closer, Vec<Self::Waiter>) {
        let (tx, rx) = async_channel::bounded(16);
        (tx, vec![rx; waiters])
    }
    async fn wait(w: Self::Waiter) {
        assert!(w.recv().await.is_err(), "async_channel: received a value");
    }
    fn close(closer: Self::Closer) {
        assert!(closer.close());
    }
}

struct KanalClose;
impl CloseWatch for KanalClose {
    const NAME: &'static str = "kanal (tx.close(), receivers parked in recv)";
    type Closer = kanal::AsyncSender<usize>;
    type Waiter = kanal::AsyncReceiver<usize>;
    fn setup(waiters: usize) -> (Self::Closer, Vec<Self::Waiter>) {
        let (tx, rx) = kanal::bounded_async(16);
        (tx, vec![rx; waiters])
    }
    async fn wait(w: Self::Waiter) {
        assert!(w.recv().await.is_err(), "kanal: received a value");
    }
    fn close(closer: Self::Closer) {
        closer.close().expect("kanal: close");
    }
}

struct FlumeClose;
impl CloseWatch for FlumeClose {
    const NAME: &'static str = "flume (no close(): the only sender is dropped)";
    type Closer = flume::Sender<usize>;
    type Waiter = flume::Receiver<usize>;
    fn setup(waiters: usize) -> (Self::Closer, Vec<Self::Waiter>) {
        let (tx, rx) = flume::bounded(16);
        (tx, vec![rx; waiters])
    }
    async fn wait(w: Self::Waiter) {
        assert!(w.recv_async().await.is_err(), "flume: received a value");
    }
    fn close(closer: Self::Closer) {
        drop(closer);
    }
}

struct TokioClose;
impl CloseWatch for TokioClose {
    const NAME: &'static str =
        "tokio_mpsc (one receiver: rx.close(), senders parked in send on a full bounded(1))";
    type Closer = tokio::sync::mpsc::Receiver<usize>;
    type Waiter = tokio::sync::mpsc::Sender<usize>;
    fn setup(waiters: usize) -> (Self::Closer, Vec<Self::Waiter>) {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tx.try_send(0).expect("tokio: fill");
        (rx, vec![tx; waiters])
    }
    async fn wait(w: Self::Waiter) {
        assert!(w.send(1).await.is_err(), "tokio_mpsc: sent a value");
    }
    fn close(mut closer: Self::Closer) {
        closer.close();
    }
}

/// `ROUNDS` rounds of `parked` tasks: returns every task's close-to-observed latency.
fn close_latency<R: BenchRuntime, C: CloseWatch>(
    rt: &R,
    parked: usize,
    rounds: usize,
) -> Percentiles {
    let mut samples = Vec::with_capacity(parked * rounds);
    for _ in 0..rounds {
        let (closer, waiters) = C::setup(parked);
        let started = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = waiters
            .into_iter()
            .map(|w| {
                let started = started.clone();
                rt.spawn(async move {
                    // Relaxed: a progress count; the sleep below gives the tasks time to park.
                    started.fetch_add(1, Ordering::Relaxed);
                    C::wait(w).await;
                    Instant::now()
                })
            })
            .collect();
        while started.load(Ordering::Relaxed) < parked {
            std::thread::sleep(Duration::from_millis(1));
        }
        // Every task has started; give the last ones time to reach their park.
        std::thread::sleep(Duration::from_millis(50));
        let closed_at = Instant::now();
        C::close(closer);
        let observed: Vec<Instant> = rt.block_on(async {
            let mut out = Vec::with_capacity(handles.len());
            for h in handles {
                out.push(h.await.expect("close-latency task"));
            }
            out
        });
        samples.extend(
            observed
                .into_iter()
                .map(|t| t.saturating_duration_since(closed_at)),
        );
    }
    Percentiles::of(&mut samples).expect("samples")
}

fn print_close_latency(name: &str, p: Percentiles) {
    println!(
        "close_latency/{name}: n={} P50={:.1?} P99={:.1?} P99.9={:.1?} max={:.1?}",
        p.count, p.p50, p.p99, p.p999, p.max
    );
}

fn close_latency_report(quick: bool) {
    let workers = workers_from_env();
    let (parked, rounds) = if quick { (1_000, 1) } else { (PARKED, ROUNDS) };
    println!("close_latency: {parked} parked tasks x {rounds} rounds, {workers} workers");
    {
        let rt = <weir::Runtime as BenchRuntime>::multi_thread(workers);
        print_close_latency(
            WeirClose::NAME,
            close_latency::<_, WeirClose>(&rt, parked, rounds),
        );
    }
    let rt = Tokio::multi_thread(workers);
    print_close_latency(
        AsyncChanClose::NAME,
        close_latency::<_, AsyncChanClose>(&rt, parked, rounds),
    );
    print_close_latency(
        KanalClose::NAME,
        close_latency::<_, KanalClose>(&rt, parked, rounds),
    );
    print_close_latency(
        FlumeClose::NAME,
        close_latency::<_, FlumeClose>(&rt, parked, rounds),
    );
    print_close_latency(
        TokioClose::NAME,
        close_latency::<_, TokioClose>(&rt, parked, rounds),
    );
}

// ---------------------------------------------------------------------------------------------

/// Command-line words that are not options: criterion's filters (and option values).
fn positional_args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let workers = workers_from_env();
    let rts = Runtimes {
        weir: <weir::Runtime as BenchRuntime>::multi_thread(workers),
        tokio: Tokio::multi_thread(workers),
    };
    shapes::<usize>(&mut c, &rts);
    shapes::<Msg32>(&mut c, &rts);
    closed_empty(&mut c, &rts);
    closed_drained(&mut c, &rts);
    drop(rts);
    sync_mpsc(&mut c);
    c.final_summary();

    let filters = positional_args();
    if filters.is_empty() || filters.iter().any(|f| f.contains("close_latency")) {
        let quick = std::env::args().any(|a| a == "--test" || a == "--list");
        close_latency_report(quick);
    }
}
