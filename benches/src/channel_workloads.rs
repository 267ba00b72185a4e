//! The channel workloads of `benches/channels.rs`, written once and run on every channel.
//!
//! The shapes are those of the rust-channel-benchmarks suite: `seq` (one task sends `n`, then
//! receives `n`), `spsc` (one producer, one consumer), `mpsc` ([`PRODUCERS`] producers, one
//! consumer) and `mpmc` ([`PRODUCERS`] producers, [`CONSUMERS`] consumers), each over a
//! rendezvous, a `bounded(1)`, a `bounded(1024)`, a `bounded(1_000_000)` ("large") and an
//! unbounded channel.
//!
//! Async channels implement [`AsyncChannel`] and run on a [`BenchRuntime`] (weir on weir,
//! the peers on tokio); blocking channels implement [`BlockingChannel`] and run on OS threads.
//! The peers implement both traits in the benchmark target, where they are dev-dependencies.
//!
//! Each run builds its channel before the clock starts and drops it after the clock stops, so
//! what is timed is the message passing (with the task or thread spawns), not the allocation
//! of a million-slot buffer that some flavours make up front and others grow lazily.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::bench_runtime::BenchRuntime;

/// Producers in the `mpsc` and `mpmc` shapes.
pub const PRODUCERS: usize = 4;
/// Consumers in the `mpmc` shape.
pub const CONSUMERS: usize = 4;
/// The capacity of the "large" bounded channel.
pub const LARGE: usize = 1_000_000;
/// The capacity of the mid-sized bounded channel (a typical pipeline buffer).
pub const MEDIUM: usize = 1024;

/// The channel's capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    /// `bounded(0)`: a send completes only when a receiver takes the value.
    Rendezvous,
    /// `bounded(1)`.
    One,
    /// `bounded(`[`MEDIUM`]`)`.
    Medium,
    /// `bounded(`[`LARGE`]`)`.
    Large,
    /// No bound.
    Unbounded,
}

impl Cap {
    /// Every capacity, in the order the report lists them.
    pub const ALL: [Cap; 5] = [
        Cap::Rendezvous,
        Cap::One,
        Cap::Medium,
        Cap::Large,
        Cap::Unbounded,
    ];

    /// The name used in benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Cap::Rendezvous => "bounded0",
            Cap::One => "bounded1",
            Cap::Medium => "bounded1024",
            Cap::Large => "large",
            Cap::Unbounded => "unbounded",
        }
    }

    /// The bound, `None` when unbounded.
    pub fn bound(self) -> Option<usize> {
        match self {
            Cap::Rendezvous => Some(0),
            Cap::One => Some(1),
            Cap::Medium => Some(MEDIUM),
            Cap::Large => Some(LARGE),
            Cap::Unbounded => None,
        }
    }
}

/// Who sends and who receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One task sends every message, then receives every message (needs room for all).
    Seq,
    /// One producer, one consumer.
    Spsc,
    /// [`PRODUCERS`] producers, one consumer.
    Mpsc,
    /// [`PRODUCERS`] producers, [`CONSUMERS`] consumers.
    Mpmc,
}

impl Shape {
    /// Every shape, in the order the report lists them.
    pub const ALL: [Shape; 4] = [Shape::Seq, Shape::Spsc, Shape::Mpsc, Shape::Mpmc];

    /// The name used in benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Seq => "seq",
            Shape::Spsc => "spsc",
            Shape::Mpsc => "mpsc",
            Shape::Mpmc => "mpmc",
        }
    }

    /// Whether the shape can run on a channel of capacity `cap` with `n` messages: `seq`
    /// buffers all `n` messages, so it needs a bound of at least `n`.
    pub fn fits(self, cap: Cap, n: usize) -> bool {
        match self {
            Shape::Seq => cap.bound().is_none_or(|b| b >= n),
            _ => true,
        }
    }
}

/// A message type: `usize`, or a 32-byte payload.
pub trait Message: Send + 'static {
    /// The name used in benchmark ids.
    const NAME: &'static str;
    /// The `i`th message.
    fn make(i: usize) -> Self;
}

impl Message for usize {
    const NAME: &'static str = "usize";
    fn make(i: usize) -> Self {
        i
    }
}

/// A 32-byte message.
#[derive(Clone, Copy, Debug)]
pub struct Msg32(pub [u8; 32]);

impl Message for Msg32 {
    const NAME: &'static str = "msg32";
    fn make(i: usize) -> Self {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
        Msg32(bytes)
    }
}

/// An async channel under test.
pub trait AsyncChannel: 'static {
    /// The name criterion reports the channel under.
    const NAME: &'static str;
    /// The sending handle.
    type Tx<T: Send + 'static>: Clone + Send + Sync + 'static;
    /// The receiving handle.
    type Rx<T: Send + 'static>: Send + 'static;

    /// Whether the channel has this capacity and supports `shape` (an MPSC channel has no
    /// `mpmc`; some channels have no rendezvous).
    fn supports(cap: Cap, shape: Shape) -> bool;

    /// A new channel of capacity `cap` (only called when [`AsyncChannel::supports`] it).
    fn channel<T: Send + 'static>(cap: Cap) -> (Self::Tx<T>, Self::Rx<T>);

    /// A second receiving handle (only called for `mpmc`).
    fn clone_rx<T: Send + 'static>(rx: &Self::Rx<T>) -> Self::Rx<T>;

    /// Sends `v`, waiting for room. Panics if the channel is closed (it never is here).
    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> impl Future<Output = ()> + Send + '_;

    /// Receives a value. Panics if the channel is closed (it never is here).
    fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> impl Future<Output = T> + Send + '_;
}

/// A blocking channel under test, driven from OS threads.
pub trait BlockingChannel: 'static {
    /// The name criterion reports the channel under.
    const NAME: &'static str;
    /// The sending handle.
    type Tx<T: Send + 'static>: Clone + Send + Sync + 'static;
    /// The receiving handle.
    type Rx<T: Send + 'static>: Clone + Send + Sync + 'static;

    /// A new channel of capacity `cap`.
    fn channel<T: Send + 'static>(cap: Cap) -> (Self::Tx<T>, Self::Rx<T>);
    /// Sends `v`, blocking while there is no room.
    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T);
    /// Receives a value, blocking while there is none.
    fn recv<T: Send + 'static>(rx: &Self::Rx<T>) -> T;
}

/// Splits `n` messages among `parts` workers: part `i` gets `n / parts`, plus one of the
/// remainder for the first `n % parts`.
fn share(n: usize, parts: usize, i: usize) -> usize {
    n / parts + usize::from(i < n % parts)
}

/// Runs `shape` once with `n` messages of type `T` on channel `C` in runtime `rt` and returns
/// the time from the first spawn until every task finished.
///
/// # Panics
/// When a task fails, or `C` does not support `shape` on `cap`.
pub fn run_async<R, C, T>(rt: &R, shape: Shape, cap: Cap, n: usize) -> Duration
where
    R: BenchRuntime,
    C: AsyncChannel,
    T: Message,
{
    assert!(C::supports(cap, shape) && shape.fits(cap, n));
    let (tx, rx) = C::channel::<T>(cap);
    let mut receivers = Vec::new();
    if shape == Shape::Mpmc {
        for _ in 1..CONSUMERS {
            receivers.push(C::clone_rx(&rx));
        }
    }
    receivers.push(rx);

    let start = Instant::now();
    rt.block_on(async {
        match shape {
            Shape::Seq => {
                let mut rx = receivers.pop().expect("one receiver");
                let tx = tx.clone();
                let task = rt.spawn(async move {
                    for i in 0..n {
                        C::send(&tx, T::make(i)).await;
                    }
                    for _ in 0..n {
                        std::hint::black_box(C::recv(&mut rx).await);
                    }
                });
                task.await.expect("seq task");
            }
            Shape::Spsc | Shape::Mpsc | Shape::Mpmc => {
                let producers = if shape == Shape::Spsc { 1 } else { PRODUCERS };
                let consumers = receivers.len();
                let mut tasks = Vec::with_capacity(producers + consumers);
                for p in 0..producers {
                    let tx = tx.clone();
                    let count = share(n, producers, p);
                    tasks.push(rt.spawn(async move {
                        for i in 0..count {
                            C::send(&tx, T::make(i)).await;
                        }
                    }));
                }
                for (c, mut rx) in receivers.drain(..).enumerate() {
                    let count = share(n, consumers, c);
                    tasks.push(rt.spawn(async move {
                        for _ in 0..count {
                            std::hint::black_box(C::recv(&mut rx).await);
                        }
                    }));
                }
                for task in tasks {
                    task.await.expect("channel task");
                }
            }
        }
    });
    let elapsed = start.elapsed();
    drop(tx);
    elapsed
}

/// [`run_async`] for a blocking channel on OS threads: one thread per producer and consumer
/// (`seq` runs on the calling thread).
///
/// # Panics
/// When a thread panics, or `shape` does not fit `cap`.
pub fn run_blocking<C, T>(shape: Shape, cap: Cap, n: usize) -> Duration
where
    C: BlockingChannel,
    T: Message,
{
    assert!(shape.fits(cap, n));
    let (tx, rx) = C::channel::<T>(cap);
    let start = Instant::now();
    match shape {
        Shape::Seq => {
            for i in 0..n {
                C::send(&tx, T::make(i));
            }
            for _ in 0..n {
                std::hint::black_box(C::recv(&rx));
            }
        }
        Shape::Spsc | Shape::Mpsc | Shape::Mpmc => {
            let producers = if shape == Shape::Spsc { 1 } else { PRODUCERS };
            let consumers = if shape == Shape::Mpmc { CONSUMERS } else { 1 };
            std::thread::scope(|s| {
                for p in 0..producers {
                    let tx = &tx;
                    s.spawn(move || {
                        for i in 0..share(n, producers, p) {
                            C::send(tx, T::make(i));
                        }
                    });
                }
                for c in 0..consumers {
                    let rx = &rx;
                    s.spawn(move || {
                        for _ in 0..share(n, consumers, c) {
                            std::hint::black_box(C::recv(rx));
                        }
                    });
                }
            });
        }
    }
    let elapsed = start.elapsed();
    drop((tx, rx));
    elapsed
}

/// weir's channel, async.
pub struct Weir;

impl AsyncChannel for Weir {
    const NAME: &'static str = "weir";
    type Tx<T: Send + 'static> = weir::channel::Sender<T>;
    type Rx<T: Send + 'static> = weir::channel::Receiver<T>;

    fn supports(_: Cap, _: Shape) -> bool {
        true
    }

    fn channel<T: Send + 'static>(cap: Cap) -> (Self::Tx<T>, Self::Rx<T>) {
        match cap.bound() {
            Some(b) => weir::channel::bounded(b),
            None => weir::channel::unbounded(),
        }
    }

    fn clone_rx<T: Send + 'static>(rx: &Self::Rx<T>) -> Self::Rx<T> {
        rx.clone()
    }

    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) {
        if tx.send(v).await.is_err() {
            panic!("weir: send on a closed channel");
        }
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> T {
        match rx.recv().await {
            Ok(v) => v,
            Err(err) => panic!("weir: recv failed: {err}"),
        }
    }
}

/// weir's channel, blocking forms (`send_blocking` / `recv_blocking`) on OS threads.
pub struct WeirBlocking;

impl BlockingChannel for WeirBlocking {
    const NAME: &'static str = "weir_blocking";
    type Tx<T: Send + 'static> = weir::channel::Sender<T>;
    type Rx<T: Send + 'static> = weir::channel::Receiver<T>;

    fn channel<T: Send + 'static>(cap: Cap) -> (Self::Tx<T>, Self::Rx<T>) {
        Weir::channel(cap)
    }

    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) {
        if tx.send_blocking(v).is_err() {
            panic!("weir: send_blocking on a closed channel");
        }
    }

    fn recv<T: Send + 'static>(rx: &Self::Rx<T>) -> T {
        match rx.recv_blocking() {
            Ok(v) => v,
            Err(err) => panic!("weir: recv_blocking failed: {err}"),
        }
    }
}

/// Percentiles of a set of latencies.
#[derive(Clone, Copy, Debug)]
pub struct Percentiles {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
    /// Largest sample.
    pub max: Duration,
}

impl Percentiles {
    /// The nearest-rank percentiles of `samples` (sorted in place); `None` when empty.
    pub fn of(samples: &mut [Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let rank = |q: f64| {
            let idx = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[idx - 1]
        };
        Some(Percentiles {
            count: samples.len(),
            p50: rank(0.50),
            p99: rank(0.99),
            p999: rank(0.999),
            max: samples[samples.len() - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_splits_every_message() {
        for n in [0, 1, 7, 100_000] {
            for parts in 1..6 {
                let total: usize = (0..parts).map(|i| share(n, parts, i)).sum();
                assert_eq!(total, n, "n = {n}, parts = {parts}");
            }
        }
    }

    #[test]
    fn seq_needs_room_for_every_message() {
        assert!(Shape::Seq.fits(Cap::Unbounded, 100_000));
        assert!(Shape::Seq.fits(Cap::Large, 100_000));
        assert!(!Shape::Seq.fits(Cap::One, 100_000));
        assert!(!Shape::Seq.fits(Cap::Medium, 100_000));
        assert!(Shape::Seq.fits(Cap::Medium, 1000));
        assert!(!Shape::Seq.fits(Cap::Rendezvous, 1));
        assert!(Shape::Spsc.fits(Cap::Rendezvous, 100_000));
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=1000).rev().map(Duration::from_nanos).collect();
        let p = Percentiles::of(&mut samples).expect("non-empty");
        assert_eq!(p.count, 1000);
        assert_eq!(p.p50, Duration::from_nanos(500));
        assert_eq!(p.p99, Duration::from_nanos(990));
        assert_eq!(p.p999, Duration::from_nanos(999));
        assert_eq!(p.max, Duration::from_nanos(1000));
        assert!(Percentiles::of(&mut []).is_none());
    }

    #[test]
    fn every_shape_moves_every_message_blocking() {
        for cap in Cap::ALL {
            for shape in Shape::ALL {
                if shape.fits(cap, 1000) {
                    run_blocking::<WeirBlocking, usize>(shape, cap, 1000);
                }
            }
        }
    }

    #[test]
    fn every_shape_moves_every_message_on_weir() {
        let rt = <weir::Runtime as BenchRuntime>::multi_thread(2);
        for cap in Cap::ALL {
            for shape in Shape::ALL {
                if shape.fits(cap, 1000) {
                    // Completes only if every message sent is received.
                    run_async::<_, Weir, usize>(&rt, shape, cap, 1000);
                    run_async::<_, Weir, Msg32>(&rt, shape, cap, 1000);
                }
            }
        }
    }
}
