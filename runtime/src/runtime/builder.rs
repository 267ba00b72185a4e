//! `Builder`: configures and starts a runtime. Bad values are refused by `build()` with an
//! error that names the field.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::Runtime;

type Callback = std::sync::Arc<dyn Fn() + Send + Sync + 'static>;
type NameFn = std::sync::Arc<dyn Fn() -> String + Send + Sync + 'static>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    CurrentThread,
    MultiThread,
}

/// Builds a [`Runtime`] with custom settings.
///
/// ```
/// let rt = weir_runtime::runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .enable_all()
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub struct Builder {
    kind: Kind,
    worker_threads: Option<usize>,
    thread_name: NameFn,
    thread_stack_size: Option<usize>,
    on_thread_start: Option<Callback>,
    on_thread_stop: Option<Callback>,
    on_thread_park: Option<Callback>,
    on_thread_unpark: Option<Callback>,
    enable_time: bool,
    enable_io: bool,
    start_paused: bool,
    global_queue_interval: u32,
    event_interval: u32,
    max_blocking_threads: usize,
    thread_keep_alive: Duration,
}

/// The settings a running scheduler reads.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) worker_threads: usize,
    pub(crate) thread_name: NameFn,
    pub(crate) thread_stack_size: Option<usize>,
    pub(crate) on_thread_start: Option<Callback>,
    pub(crate) on_thread_stop: Option<Callback>,
    pub(crate) on_thread_park: Option<Callback>,
    pub(crate) on_thread_unpark: Option<Callback>,
    pub(crate) enable_time: bool,
    pub(crate) enable_io: bool,
    pub(crate) start_paused: bool,
    pub(crate) global_queue_interval: u32,
    pub(crate) event_interval: u32,
    pub(crate) max_blocking_threads: usize,
    pub(crate) thread_keep_alive: Duration,
}

/// Why `Builder::build` refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// A setting has a value the runtime cannot run with.
    InvalidConfig {
        /// The builder method whose value is wrong.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The operating system refused a resource (a thread, a poller).
    Io(io::Error),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::InvalidConfig { field, reason } => {
                write!(f, "invalid runtime configuration: `{field}` {reason}")
            }
            BuildError::Io(err) => write!(f, "could not start the runtime: {err}"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Io(err) => Some(err),
            BuildError::InvalidConfig { .. } => None,
        }
    }
}

impl From<BuildError> for io::Error {
    fn from(err: BuildError) -> io::Error {
        match err {
            BuildError::Io(err) => err,
            other => io::Error::new(io::ErrorKind::InvalidInput, other.to_string()),
        }
    }
}

impl Builder {
    /// A multi-thread, work-stealing runtime (one worker per CPU by default).
    pub fn new_multi_thread() -> Builder {
        Builder::new(Kind::MultiThread)
    }

    /// A runtime that runs every task on the thread that calls `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::new(Kind::CurrentThread)
    }

    fn new(kind: Kind) -> Builder {
        Builder {
            kind,
            worker_threads: None,
            thread_name: std::sync::Arc::new(|| {
                static NEXT: AtomicUsize = AtomicUsize::new(0);
                format!("weir-worker-{}", NEXT.fetch_add(1, Ordering::Relaxed))
            }),
            thread_stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
            on_thread_park: None,
            on_thread_unpark: None,
            enable_time: false,
            enable_io: false,
            start_paused: false,
            global_queue_interval: 31,
            event_interval: 61,
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
        }
    }

    /// Number of worker threads (multi-thread only). Must be at least 1.
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.worker_threads = Some(n);
        self
    }

    /// Name of the runtime's threads.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.thread_name = std::sync::Arc::new(move || name.clone());
        self
    }

    /// A function that names each new thread.
    pub fn thread_name_fn(&mut self, f: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.thread_name = std::sync::Arc::new(f);
        self
    }

    /// Stack size of the runtime's threads, in bytes.
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// Runs on each worker and blocking thread when it starts.
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_start = Some(std::sync::Arc::new(f));
        self
    }

    /// Runs on each worker and blocking thread before it exits.
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_stop = Some(std::sync::Arc::new(f));
        self
    }

    /// Runs on a worker thread just before it parks (finds no work and sleeps).
    pub fn on_thread_park(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_park = Some(std::sync::Arc::new(f));
        self
    }

    /// Runs on a worker thread just after it wakes from parking.
    pub fn on_thread_unpark(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_unpark = Some(std::sync::Arc::new(f));
        self
    }

    /// Enables the timer wheel (`sleep`, `timeout`, `interval`, `Backoff`).
    pub fn enable_time(&mut self) -> &mut Self {
        self.enable_time = true;
        self
    }

    /// Enables the IO reactor (`net`, `signal`): an idle worker then sleeps in the OS poller,
    /// woken by socket readiness, timers and new work alike.
    pub fn enable_io(&mut self) -> &mut Self {
        self.enable_io = true;
        self
    }

    /// Starts the runtime with its clock paused (see [`crate::time::pause`]): for tests.
    /// Needs the current-thread runtime and `enable_time`.
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// Enables every driver.
    pub fn enable_all(&mut self) -> &mut Self {
        self.enable_time().enable_io()
    }

    /// Ticks between checks of the global queue before the local one. Must be at least 1.
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        self.global_queue_interval = ticks;
        self
    }

    /// Ticks between maintenance passes (timers, metrics) of a busy worker. At least 1.
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        self.event_interval = ticks;
        self
    }

    /// Most threads `spawn_blocking` may start. Must be at least 1.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before it exits.
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Self {
        self.thread_keep_alive = keep_alive;
        self
    }

    fn config(&self) -> Result<Config, BuildError> {
        let invalid = |field, reason| Err(BuildError::InvalidConfig { field, reason });
        let worker_threads = match (self.kind, self.worker_threads) {
            (Kind::CurrentThread, _) => 1,
            (Kind::MultiThread, Some(0)) => return invalid("worker_threads", "must be at least 1"),
            (Kind::MultiThread, Some(n)) if n > MAX_WORKERS => {
                return invalid("worker_threads", "must be at most 4096")
            }
            (Kind::MultiThread, Some(n)) => n,
            (Kind::MultiThread, None) => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(MAX_WORKERS),
        };
        if self.global_queue_interval == 0 {
            return invalid("global_queue_interval", "must be at least 1");
        }
        if self.event_interval == 0 {
            return invalid("event_interval", "must be at least 1");
        }
        if self.max_blocking_threads == 0 {
            return invalid("max_blocking_threads", "must be at least 1");
        }
        if self.start_paused && self.kind == Kind::MultiThread {
            return invalid(
                "start_paused",
                "needs the current-thread runtime (Builder::new_current_thread)",
            );
        }
        if self.start_paused && !self.enable_time {
            return invalid("start_paused", "needs enable_time() or enable_all()");
        }
        if self.thread_stack_size == Some(0) {
            return invalid("thread_stack_size", "must be more than 0 bytes");
        }
        Ok(Config {
            worker_threads,
            thread_name: self.thread_name.clone(),
            thread_stack_size: self.thread_stack_size,
            on_thread_start: self.on_thread_start.clone(),
            on_thread_stop: self.on_thread_stop.clone(),
            on_thread_park: self.on_thread_park.clone(),
            on_thread_unpark: self.on_thread_unpark.clone(),
            enable_time: self.enable_time,
            enable_io: self.enable_io,
            start_paused: self.start_paused,
            global_queue_interval: self.global_queue_interval,
            event_interval: self.event_interval,
            max_blocking_threads: self.max_blocking_threads,
            thread_keep_alive: self.thread_keep_alive,
        })
    }

    /// Starts the runtime.
    pub fn build(&mut self) -> Result<Runtime, BuildError> {
        let config = self.config()?;
        match self.kind {
            Kind::CurrentThread => Runtime::new_current_thread(config).map_err(BuildError::Io),
            Kind::MultiThread => Runtime::new_multi_thread(config).map_err(BuildError::Io),
        }
    }
}

/// The idle word packs the searching count in 16 bits; stay well inside it.
const MAX_WORKERS: usize = 4096;

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("kind", &self.kind)
            .field("worker_threads", &self.worker_threads)
            .field("enable_time", &self.enable_time)
            .field("enable_io", &self.enable_io)
            .field("start_paused", &self.start_paused)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .finish_non_exhaustive()
    }
}
