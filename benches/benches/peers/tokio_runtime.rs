//! tokio's multi-thread runtime behind the benchmark interface, shared by the benchmark targets
//! that compare against it (included with `#[path]`; tokio is a dev-dependency, so it cannot
//! live in the library).

use std::future::Future;

use weir_benches::BenchRuntime;

/// tokio's multi-thread runtime behind the benchmark interface.
pub struct Tokio(tokio::runtime::Runtime);

impl BenchRuntime for Tokio {
    const NAME: &'static str = "tokio";

    type JoinHandle<T: Send + 'static> = tokio::task::JoinHandle<T>;
    type JoinError = tokio::task::JoinError;

    fn multi_thread(workers: usize) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .expect("tokio runtime");
        Tokio(rt)
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(future)
    }

    fn spawn_detached<F>(future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(tokio::spawn(future));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}
