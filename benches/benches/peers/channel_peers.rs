//! The peer channels behind the workload traits (`channel_workloads`), shared by the benchmark
//! targets that run them (included with `#[path]`; the peers are dev-dependencies, so they
//! cannot live in the library).

use weir_benches::channel_workloads::{AsyncChannel, BlockingChannel, Cap, Shape};

/// tokio::sync::mpsc: `channel(n)` or `unbounded_channel()`.
pub struct TokioMpsc;

pub enum TokioTx<T> {
    Bounded(tokio::sync::mpsc::Sender<T>),
    Unbounded(tokio::sync::mpsc::UnboundedSender<T>),
}

impl<T> Clone for TokioTx<T> {
    fn clone(&self) -> Self {
        match self {
            TokioTx::Bounded(tx) => TokioTx::Bounded(tx.clone()),
            TokioTx::Unbounded(tx) => TokioTx::Unbounded(tx.clone()),
        }
    }
}

pub enum TokioRx<T> {
    Bounded(tokio::sync::mpsc::Receiver<T>),
    Unbounded(tokio::sync::mpsc::UnboundedReceiver<T>),
}

impl AsyncChannel for TokioMpsc {
    const NAME: &'static str = "tokio_mpsc";
    type Tx<T: Send + 'static> = TokioTx<T>;
    type Rx<T: Send + 'static> = TokioRx<T>;

    fn supports(cap: Cap, shape: Shape) -> bool {
        cap != Cap::Rendezvous && shape != Shape::Mpmc
    }

    fn channel<T: Send + 'static>(cap: Cap) -> (Self::Tx<T>, Self::Rx<T>) {
        match cap.bound() {
            Some(b) => {
                let (tx, rx) = tokio::sync::mpsc::channel(b);
                (TokioTx::Bounded(tx), TokioRx::Bounded(rx))
            }
            None => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                (TokioTx::Unbounded(tx), TokioRx::Unbounded(rx))
            }
        }
    }

    fn clone_rx<T: Send + 'static>(_: &Self::Rx<T>) -> Self::Rx<T> {
        unreachable!("tokio's mpsc has one receiver; mpmc is not run on it")
    }

    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) {
        let ok = match tx {
            TokioTx::Bounded(tx) => tx.send(v).await.is_ok(),
            TokioTx::Unbounded(tx) => tx.send(v).is_ok(),
        };
        assert!(ok, "tokio_mpsc: send on a closed channel");
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> T {
        let v = match rx {
            TokioRx::Bounded(rx) => rx.recv().await,
            TokioRx::Unbounded(rx) => rx.recv().await,
        };
        v.expect("tokio_mpsc: recv on a closed channel")
    }
}

/// kanal, async handles.
pub struct Kanal;

impl AsyncChannel for Kanal {
    const NAME: &'static str = "kanal";
    type Tx<T: Send + 'static> = kanal::AsyncSender<T>;
    type Rx<T: Send + 'static> = kanal::AsyncReceiver<T>;

    fn supports(_: Cap, _: Shape) -> bool {
        true
    }

    fn channel<T: Send + 'static>(cap: Cap) -> (Self::Tx<T>, Self::Rx<T>) {
        match cap.bound() {
            Some(b) => kanal::bounded_async(b),
            None => kanal::unbounded_async(),
        }
    }

    fn clone_rx<T: Send + 'static>(rx: &Self::Rx<T>) -> Self::Rx<T> {
        rx.clone()
    }

    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) {
        tx.send(v).await.expect("kanal: send failed")
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> T {
        rx.recv().await.expect("kanal: recv failed")
    }
}

/// flume, async operations.
///
/// Its async side can hang for good under load with several async receivers: two of our full
/// runs hung, one in `mpmc_bounded0_usize/flume`, one in `mpmc_bounded1_msg32/flume`, every
/// runtime thread asleep, no progress for minutes (flume issue #140 describes a race of its async
/// rendezvous). So flume's rendezvous and `mpmc` run only with `WEIR_BENCH_FLUME_ALL=1`.
pub struct Flume;

impl AsyncChannel for Flume {
    const NAME: &'static str = "flume";
    type Tx<T: Send + 'static> = flume::Sender<T>;
    type Rx<T: Send + 'static> = flume::Receiver<T>;

    fn supports(cap: Cap, shape: Shape) -> bool {
        (cap != Cap::Rendezvous && shape != Shape::Mpmc)
            || std::env::var_os("WEIR_BENCH_FLUME_ALL").is_some_and(|v| v == "1")
    }

    fn channel<T: Send + 'static>(cap: Cap) -> (Self::Tx<T>, Self::Rx<T>) {
        match cap.bound() {
            Some(b) => flume::bounded(b),
            None => flume::unbounded(),
        }
    }

    fn clone_rx<T: Send + 'static>(rx: &Self::Rx<T>) -> Self::Rx<T> {
        rx.clone()
    }

    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) {
        tx.send_async(v).await.expect("flume: send failed")
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> T {
        rx.recv_async().await.expect("flume: recv failed")
    }
}

/// async-channel (no rendezvous: `bounded(0)` panics there).
pub struct AsyncChan;

impl AsyncChannel for AsyncChan {
    const NAME: &'static str = "async_channel";
    type Tx<T: Send + 'static> = async_channel::Sender<T>;
    type Rx<T: Send + 'static> = async_channel::Receiver<T>;

    fn supports(cap: Cap, _: Shape) -> bool {
        cap != Cap::Rendezvous
    }

    fn channel<T: Send + 'static>(cap: Cap) -> (Self::Tx<T>, Self::Rx<T>) {
        match cap.bound() {
            Some(b) => async_channel::bounded(b),
            None => async_channel::unbounded(),
        }
    }

    fn clone_rx<T: Send + 'static>(rx: &Self::Rx<T>) -> Self::Rx<T> {
        rx.clone()
    }

    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) {
        tx.send(v).await.expect("async_channel: send failed")
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> T {
        rx.recv().await.expect("async_channel: recv failed")
    }
}

/// crossbeam-channel, blocking.
pub struct Crossbeam;

impl BlockingChannel for Crossbeam {
    const NAME: &'static str = "crossbeam";
    type Tx<T: Send + 'static> = crossbeam_channel::Sender<T>;
    type Rx<T: Send + 'static> = crossbeam_channel::Receiver<T>;

    fn channel<T: Send + 'static>(cap: Cap) -> (Self::Tx<T>, Self::Rx<T>) {
        match cap.bound() {
            Some(b) => crossbeam_channel::bounded(b),
            None => crossbeam_channel::unbounded(),
        }
    }

    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) {
        tx.send(v).expect("crossbeam: send failed");
    }

    fn recv<T: Send + 'static>(rx: &Self::Rx<T>) -> T {
        rx.recv().expect("crossbeam: recv failed")
    }
}

/// kanal, sync handles.
pub struct KanalSync;

impl BlockingChannel for KanalSync {
    const NAME: &'static str = "kanal_sync";
    type Tx<T: Send + 'static> = kanal::Sender<T>;
    type Rx<T: Send + 'static> = kanal::Receiver<T>;

    fn channel<T: Send + 'static>(cap: Cap) -> (Self::Tx<T>, Self::Rx<T>) {
        match cap.bound() {
            Some(b) => kanal::bounded(b),
            None => kanal::unbounded(),
        }
    }

    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) {
        tx.send(v).expect("kanal_sync: send failed");
    }

    fn recv<T: Send + 'static>(rx: &Self::Rx<T>) -> T {
        rx.recv().expect("kanal_sync: recv failed")
    }
}
