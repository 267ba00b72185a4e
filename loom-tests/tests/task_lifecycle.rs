//! Real tasks, driven by a current-thread runtime on the model's main thread, while other loom
//! threads wake, abort and join them. Everything below the public API is the shipped code:
//! the raw task (`task/raw.rs`), its state word (`task/state.rs`), the join handle and the
//! current-thread scheduler's remote queue and driver parking.
//!
//! What each model checks, in every interleaving loom explores:
//! - no lost wake-up: the model finishes (loom fails a run in which every thread is blocked);
//! - the task's future and output are each dropped exactly once;
//! - the task is freed: every `Arc` made under loom must be gone when an execution ends (loom
//!   reports a leak otherwise), and each task holds one (its scheduler handle) until freed.
#![cfg(loom)]

use loom::thread;
use weir_loom_tests::{model, model_with, DropCount, Signal};
use weir_runtime::runtime::Builder;
use weir_runtime::Runtime;

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime with defaults builds")
}

/// A task parked on a signal is woken (`Waker::wake`) from another thread, possibly while it
/// is being polled: the wake must not be lost and the task must finish.
#[test]
fn wake_by_val_from_other_thread() {
    model(|| {
        let rt = current_thread();
        let gate = Signal::new();
        let future_drops = DropCount::new();
        let (g, tag) = (gate.clone(), future_drops.tag());
        let join = rt.spawn(async move {
            let _tag = tag;
            g.wait().await;
            7
        });
        let waker = thread::spawn(move || gate.set());
        assert_eq!(rt.block_on(join).expect("the task completes"), 7);
        waker.join().unwrap();
        drop(rt);
        assert_eq!(future_drops.get(), 1);
    });
}

/// As above with `Waker::wake_by_ref` (the waker's reference is dropped separately).
#[test]
fn wake_by_ref_from_other_thread() {
    model(|| {
        let rt = current_thread();
        let gate = Signal::new();
        let future_drops = DropCount::new();
        let (g, tag) = (gate.clone(), future_drops.tag());
        let join = rt.spawn(async move {
            let _tag = tag;
            g.wait().await;
            7
        });
        let waker = thread::spawn(move || gate.set_by_ref());
        assert_eq!(rt.block_on(join).expect("the task completes"), 7);
        waker.join().unwrap();
        drop(rt);
        assert_eq!(future_drops.get(), 1);
    });
}

/// `JoinHandle::abort` from another thread lands before the first poll, during a poll or while
/// the task is idle; in each case the task completes as cancelled, its future is dropped once,
/// and the aborting thread's join (its waker registered racing the completion) returns.
#[test]
fn abort_from_other_thread() {
    model(|| {
        let rt = current_thread();
        let never = Signal::new();
        let done = Signal::new();
        let future_drops = DropCount::new();
        let (n, tag) = (never.clone(), future_drops.tag());
        let join = rt.spawn(async move {
            let _tag = tag;
            n.wait().await;
        });
        let d = done.clone();
        let aborter = thread::spawn(move || {
            join.abort();
            let res = loom::future::block_on(join);
            assert!(res
                .expect_err("the task never finishes on its own")
                .is_cancelled());
            d.set();
        });
        rt.block_on(done.wait());
        aborter.join().unwrap();
        assert_eq!(future_drops.get(), 1);
        drop(rt);
    });
}

/// An abort races a wake that lets the task finish: the join result is the output or a
/// cancellation, never both and never lost; the future is dropped once.
#[test]
fn abort_races_wake() {
    // Three threads: preemption bound 1 (about 10^6 executions at 2).
    model_with(Some(1), || {
        let rt = current_thread();
        let gate = Signal::new();
        let done = Signal::new();
        let future_drops = DropCount::new();
        let (g, tag) = (gate.clone(), future_drops.tag());
        let join = rt.spawn(async move {
            let _tag = tag;
            g.wait().await;
            7
        });
        let d = done.clone();
        let aborter = thread::spawn(move || {
            join.abort();
            match loom::future::block_on(join) {
                Ok(v) => assert_eq!(v, 7),
                Err(e) => assert!(e.is_cancelled()),
            }
            d.set();
        });
        let waker = thread::spawn(move || gate.set());
        rt.block_on(done.wait());
        aborter.join().unwrap();
        waker.join().unwrap();
        assert_eq!(future_drops.get(), 1);
    });
}

/// The join handle is dropped on another thread while the task completes: exactly one side
/// drops the output (the completing task if interest was gone, else the handle).
#[test]
fn join_handle_drop_races_completion() {
    model(|| {
        let rt = current_thread();
        let done = Signal::new();
        let future_drops = DropCount::new();
        let output_drops = DropCount::new();
        let (d, tag, out) = (done.clone(), future_drops.tag(), output_drops.tag());
        let join = rt.spawn(async move {
            let _tag = tag;
            // Set before the task completes; `block_on` polls its own future only between
            // task polls, so it returns after the completion.
            d.set();
            out
        });
        let dropper = thread::spawn(move || drop(join));
        rt.block_on(done.wait());
        dropper.join().unwrap();
        assert_eq!(future_drops.get(), 1);
        assert_eq!(output_drops.get(), 1);
        drop(rt);
        assert_eq!(output_drops.get(), 1);
    });
}

/// The join handle is awaited on another thread: its waker registration races the
/// completion, and the joiner must be woken with the output.
#[test]
fn join_on_other_thread_races_completion() {
    model(|| {
        let rt = current_thread();
        let done = Signal::new();
        let output_drops = DropCount::new();
        let out = output_drops.tag();
        let join = rt.spawn(async move { out });
        let d = done.clone();
        let joiner = thread::spawn(move || {
            let out = loom::future::block_on(join).expect("the task completes");
            drop(out);
            d.set();
        });
        rt.block_on(done.wait());
        joiner.join().unwrap();
        assert_eq!(output_drops.get(), 1);
    });
}

/// The runtime shuts down while another thread wakes its idle task: the wake either queues the
/// task before shutdown drains the queue, or finds the runtime shut and drops its reference.
/// Either way the future is dropped once, the task is freed and its handle reports it
/// cancelled.
#[test]
fn shutdown_races_wake() {
    model(|| {
        let rt = current_thread();
        let gate = Signal::new();
        let polled = Signal::new();
        let future_drops = DropCount::new();
        let (g, p, tag) = (gate.clone(), polled.clone(), future_drops.tag());
        let join = rt.spawn(async move {
            let _tag = tag;
            p.set();
            g.wait().await;
        });
        // Poll the task once so that it waits on the gate.
        rt.block_on(polled.wait());
        let waker = thread::spawn(move || gate.set());
        drop(rt);
        waker.join().unwrap();
        assert_eq!(future_drops.get(), 1);
        // The task never ran past its wait: shutdown cancelled it.
        let res = loom::future::block_on(join);
        assert!(res.expect_err("the task was cancelled").is_cancelled());
    });
}
