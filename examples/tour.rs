//! A tour of the weir runtime: tasks, a fan-out/fan-in with `JoinSet`, timers, timeouts,
//! backoff, the blocking pool and the runtime's metrics.
//!
//! Run it with `cargo run --release --example tour`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weir::task::{Backoff, JoinSet};
use weir::time::{interval, sleep, timeout, Instant, MissedTickBehavior};

#[weir::main(worker_threads = 4)]
async fn main() {
    let started = Instant::now();

    // 1. Fan out 100_000 tasks across the workers and fan them back in.
    let counter = Arc::new(AtomicU64::new(0));
    let mut set = JoinSet::new();
    for i in 0..100_000u64 {
        let counter = counter.clone();
        set.spawn(async move {
            counter.fetch_add(i, Ordering::Relaxed);
            i % 7
        });
    }
    let mut sevens = 0u64;
    while let Some(res) = set.join_next().await {
        sevens += res.expect("no task panics");
    }
    println!(
        "fan-out: 100000 tasks joined in {:?} (sum {}, mod-7 sum {sevens})",
        started.elapsed(),
        counter.load(Ordering::Relaxed)
    );

    // 2. Timers: an interval ticking every 10 ms, and a timeout that expires.
    let mut ticks = interval(Duration::from_millis(10));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let t0 = Instant::now();
    for _ in 0..5 {
        ticks.tick().await;
    }
    println!("interval: 5 ticks of 10 ms took {:?}", t0.elapsed());
    let slow = timeout(Duration::from_millis(20), sleep(Duration::from_secs(10))).await;
    println!("timeout: a 10 s sleep bounded by 20 ms -> {slow:?}");

    // 3. Backoff: a retry loop that waits 5, 10, 20 ms (with jitter) between attempts.
    let mut backoff = Backoff::new(Duration::from_millis(5));
    let t0 = Instant::now();
    for attempt in 0..3 {
        backoff.wait().await;
        println!(
            "backoff: attempt {attempt} retried after {:?}",
            t0.elapsed()
        );
    }

    // 4. The blocking pool: a closure that blocks its thread, not a worker.
    let blocking = weir::task::spawn_blocking(|| {
        std::thread::sleep(Duration::from_millis(20));
        std::thread::current().name().map(str::to_owned)
    });
    println!("spawn_blocking ran on {:?}", blocking.await.unwrap());

    // 5. A panic in a task is an error for its joiner, not a crash. (Quiet the default hook,
    // which would print a backtrace for this deliberate panic.)
    std::panic::set_hook(Box::new(|info| eprintln!("(task panicked: {info})")));
    let panicked = weir::spawn(async { panic!("boom") }).await;
    println!("a panicking task -> {panicked:?}");

    // 6. The runtime's counters.
    let m = weir::runtime::Handle::current().metrics();
    let polls: u64 = (0..m.num_workers()).map(|w| m.worker_poll_count(w)).sum();
    let steals: u64 = (0..m.num_workers()).map(|w| m.worker_steal_count(w)).sum();
    println!(
        "metrics: {} workers, {} tasks spawned, {polls} polls, {steals} stolen, {} forced yields, {} alive",
        m.num_workers(),
        m.spawned_tasks_count(),
        m.forced_yield_count(),
        m.num_alive_tasks()
    );
    println!("tour finished in {:?}", started.elapsed());
}
