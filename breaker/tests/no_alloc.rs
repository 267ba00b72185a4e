//! Every breaker path a channel calls per message allocates nothing: a counting global
//! allocator watches this thread while they run.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use weir_breaker::{
    Admit, BreakerConfig, Circuit, Group, GroupPolicy, ManualClock, Outcome, SloConfig, SloMonitor,
    TokenBucket,
};
use weir_breaker::{Clock, RetryPolicy, RetryState};

struct Counting;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // try_with: the allocator may run while this thread's locals are being torn down.
    let _ = WATCHING.try_with(|w| {
        if w.get() {
            let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; counting
// touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded as received; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: `ptr` was allocated by `System` (through this allocator) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through this allocator) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations `f` makes on this thread.
fn allocations_in(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|a| a.set(0));
    WATCHING.with(|w| w.set(true));
    f();
    WATCHING.with(|w| w.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn the_counter_sees_an_allocation() {
    let n = allocations_in(|| {
        std::hint::black_box(Box::new(5u64));
    });
    assert_eq!(n, 1);
}

#[test]
fn circuit_paths_allocate_nothing() {
    let clock = ManualClock::new(0);
    let group = Arc::new(Group::new());
    let circuit = Circuit::new(BreakerConfig::new().half_open_probes(2), 9)
        .unwrap()
        .with_group(group.clone(), GroupPolicy::Follow);
    let n = allocations_in(|| {
        for round in 0..50u64 {
            assert!(matches!(circuit.admit(clock.now()), Admit::Pass));
            circuit.on_success();
            for _ in 0..5 {
                let _ = circuit.on_failure(clock.now());
            }
            let _ = circuit.on_timeout(clock.now());
            assert!(!circuit.admit(clock.now()).is_admitted());
            clock.advance(30_000_000_000);
            let Admit::Probe(a) = circuit.admit(clock.now()) else {
                panic!("probe expected")
            };
            let Admit::Probe(b) = circuit.admit(clock.now()) else {
                panic!("probe expected")
            };
            drop(a);
            let raw = b.into_raw();
            let outcome = if round % 2 == 0 {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            let _ = circuit.resolve_raw(raw, outcome, clock.now());
            if round % 2 == 1 {
                let _ = circuit.reset();
            }
            let _ = group.snapshot();
            let _ = circuit.status();
            let _ = circuit.force_open();
            let _ = circuit.disable();
            let _ = circuit.reset();
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn slo_paths_allocate_nothing() {
    let clock = ManualClock::new(0);
    // Built outside the watched section: construction may allocate, recording may not.
    let monitor = Box::new(SloMonitor::new(SloConfig::default(), 3, clock.now()).unwrap());
    let bucket = TokenBucket::new(50, 10);
    let policy = RetryPolicy::default();
    let mut retry = RetryState::new();
    let mut evaluations = 0;
    let n = allocations_in(|| {
        for step in 0..3000u64 {
            for k in 0..50u64 {
                monitor.record(Duration::from_micros(100 + step * 1000 + k));
            }
            clock.advance(100_000_000);
            if monitor.evaluate(clock.now()).is_some() {
                evaluations += 1;
            }
            let _ = monitor.admit_primary(clock.now());
            let _ = bucket.try_acquire(clock.now());
            retry.record(Outcome::Timeout);
            let _ = retry.next_delay(&policy);
        }
    });
    assert_eq!(n, 0);
    assert_eq!(evaluations, 3000);
    assert!(
        monitor.is_degraded(),
        "the ramp exercised the degrade path too"
    );
}
