//! Spawning and joining a no-op task allocates exactly once on weir: the task's own cell.
//!
//! A counting global allocator wraps `System`. After a warm-up (so that slabs, queues and
//! thread-locals have grown), the test spawns and awaits N no-op tasks and asserts that the
//! whole process made exactly N allocations meanwhile, one task at a time and in a batch of N,
//! on:
//! - a current-thread runtime, from `block_on`;
//! - a multi-thread runtime with one worker, from `block_on` (remote spawns);
//! - the same runtime, from inside a task (worker-local spawns).
//!
//! tokio's figures for the same scenarios are printed beside weir's, without assertion.
//!
//! ```text
//! cargo test -p weir-benches --test alloc_count
//! WEIR_ALLOC_TRACE=1 WEIR_ALLOC_TRACE_SKIP=96 cargo test -p weir-benches --test alloc_count
//! ```
//!
//! `WEIR_ALLOC_TRACE=1` prints the size, thread and backtrace of every allocation made inside
//! a measured window, except those whose size `WEIR_ALLOC_TRACE_SKIP` lists (comma-separated
//! byte counts, e.g. the task cell's): that names the code behind an unexpected allocation.
//!
//! Allocations are counted process-wide, so this binary runs without the libtest harness
//! (whose threads allocate on their own schedule): `main` runs the scenarios one after the
//! other and fails by panicking.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};

struct CountingAlloc;

/// Allocations (alloc, alloc_zeroed, realloc) since the process started.
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Print a backtrace for each allocation (set only while a window is open, in trace mode).
static TRACE: AtomicBool = AtomicBool::new(false);
/// Allocation sizes the trace leaves out (0: unused entry).
static TRACE_SKIP: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];

thread_local! {
    /// This thread is printing a trace: its own allocations are not the runtime's.
    static IN_TRACE: Cell<bool> = const { Cell::new(false) };
}

impl CountingAlloc {
    fn record(&self, layout: Layout, kind: &str) {
        if IN_TRACE.try_with(Cell::get).unwrap_or(true) {
            return;
        }
        ALLOCATIONS.fetch_add(1, SeqCst);
        if TRACE.load(SeqCst) && !TRACE_SKIP.iter().any(|s| s.load(SeqCst) == layout.size()) {
            let _ = IN_TRACE.try_with(|t| {
                t.set(true);
                let thread = std::thread::current();
                eprintln!(
                    "--- {kind} of {} bytes on thread {:?}:\n{}",
                    layout.size(),
                    thread.name().unwrap_or("?"),
                    std::backtrace::Backtrace::force_capture()
                );
                t.set(false);
            });
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; counting
// touches only atomics and a const thread-local without destructor, and the trace path's own
// allocations re-enter `record`, which returns at once while `IN_TRACE` is set.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.record(layout, "alloc");
        // SAFETY: forwarded from our caller's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.record(layout, "alloc_zeroed");
        // SAFETY: forwarded from our caller's contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.record(layout, "realloc");
        // SAFETY: forwarded from our caller's contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from our caller's contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Tasks per measured window.
const N: usize = 10_000;
/// Warm-up rounds before the windows (each: N one at a time, then a batch of N).
const WARM_UP_ROUNDS: usize = 3;

/// Counts the allocations the process makes while `f` runs.
async fn count<F: Future<Output = ()>>(f: F) -> u64 {
    let trace = TRACE_REQUESTED.load(SeqCst);
    let before = ALLOCATIONS.load(SeqCst);
    TRACE.store(trace, SeqCst);
    f.await;
    TRACE.store(false, SeqCst);
    ALLOCATIONS.load(SeqCst) - before
}

static TRACE_REQUESTED: AtomicBool = AtomicBool::new(false);

/// Allocations for N spawn+join, measured two ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Figures {
    one_at_a_time: u64,
    batch: u64,
}

/// The measurement, as a future to run inside the runtime under test; `$spawn` is that
/// runtime's free `spawn` function.
macro_rules! measure {
    ($spawn:path) => {
        async {
            // Allocated before any window: the batch's join handles.
            let mut handles = Vec::with_capacity(N);
            for _ in 0..WARM_UP_ROUNDS {
                for _ in 0..N {
                    $spawn(async {}).await.unwrap();
                }
                handles.extend((0..N).map(|_| $spawn(async {})));
                for h in handles.drain(..) {
                    h.await.unwrap();
                }
            }
            let one_at_a_time = count(async {
                for _ in 0..N {
                    $spawn(async {}).await.unwrap();
                }
            })
            .await;
            let batch = count(async {
                for _ in 0..N {
                    handles.push($spawn(async {}));
                }
                for h in handles.drain(..) {
                    h.await.unwrap();
                }
            })
            .await;
            Figures {
                one_at_a_time,
                batch,
            }
        }
    };
}

fn weir_runtime(current_thread: bool) -> weir::Runtime {
    let mut builder = if current_thread {
        weir::runtime::Builder::new_current_thread()
    } else {
        let mut b = weir::runtime::Builder::new_multi_thread();
        b.worker_threads(1);
        b
    };
    builder.enable_all().build().unwrap()
}

fn tokio_runtime(current_thread: bool) -> tokio::runtime::Runtime {
    let mut builder = if current_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(1);
        b
    };
    builder.enable_all().build().unwrap()
}

/// The scenarios, in the order they are printed.
const SCENARIOS: [&str; 3] = [
    "current_thread, from block_on",
    "multi_thread(1), from block_on",
    "multi_thread(1), from a task",
];

fn weir_figures() -> [Figures; 3] {
    let ct = weir_runtime(true).block_on(measure!(weir::spawn));
    let mt = weir_runtime(false).block_on(measure!(weir::spawn));
    let rt = weir_runtime(false);
    let in_task = rt.block_on(rt.spawn(measure!(weir::spawn))).unwrap();
    [ct, mt, in_task]
}

fn tokio_figures() -> [Figures; 3] {
    let ct = tokio_runtime(true).block_on(measure!(tokio::spawn));
    let mt = tokio_runtime(false).block_on(measure!(tokio::spawn));
    let rt = tokio_runtime(false);
    let in_task = rt.block_on(rt.spawn(measure!(tokio::spawn))).unwrap();
    [ct, mt, in_task]
}

fn main() {
    println!("\nrunning 1 test (allocation counting, no libtest harness)");
    TRACE_REQUESTED.store(
        std::env::var_os("WEIR_ALLOC_TRACE").is_some_and(|v| v == "1"),
        SeqCst,
    );
    if let Ok(skip) = std::env::var("WEIR_ALLOC_TRACE_SKIP") {
        let sizes = skip
            .split(',')
            .filter_map(|s| s.trim().parse::<usize>().ok());
        for (slot, size) in TRACE_SKIP.iter().zip(sizes) {
            slot.store(size, SeqCst);
        }
    }

    let weir = weir_figures();
    // tokio is measured without tracing: the trace is for weir's allocations.
    let trace = TRACE_REQUESTED.swap(false, SeqCst);
    let tokio = tokio_figures();
    TRACE_REQUESTED.store(trace, SeqCst);

    println!("allocations for {N} spawn+join of a no-op task, after warm-up (expected: {N}):");
    println!(
        "  {:<32} {:>15} {:>15} {:>15} {:>15}",
        "scenario", "weir 1-by-1", "weir batch", "tokio 1-by-1", "tokio batch"
    );
    for ((name, w), t) in SCENARIOS.iter().zip(&weir).zip(&tokio) {
        println!(
            "  {name:<32} {:>15} {:>15} {:>15} {:>15}",
            w.one_at_a_time, w.batch, t.one_at_a_time, t.batch
        );
    }

    let expected = Figures {
        one_at_a_time: N as u64,
        batch: N as u64,
    };
    let wrong: Vec<String> = SCENARIOS
        .iter()
        .zip(&weir)
        .filter(|(_, f)| **f != expected)
        .map(|(name, f)| format!("{name}: {f:?}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "weir must allocate exactly once per spawned task ({N} per window), but made \
         {wrong:?}; rerun with WEIR_ALLOC_TRACE=1 WEIR_ALLOC_TRACE_SKIP=<task cell size> to \
         see where the others come from"
    );
    println!("test spawn_join_allocates_once_per_task ... ok\n");
}
