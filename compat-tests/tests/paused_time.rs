//! Tests on a paused clock: time only moves when every task waits on a timer (auto-advance),
//! or when the test advances it.

use weir::time::{self, interval, sleep, timeout, Duration, Instant, MissedTickBehavior};

#[weir::test(start_paused = true)]
async fn a_long_sleep_takes_no_real_time() {
    let real = std::time::Instant::now();
    let start = Instant::now();
    sleep(Duration::from_secs(24 * 3600)).await;
    assert!(start.elapsed() >= Duration::from_secs(24 * 3600));
    assert!(real.elapsed() < Duration::from_secs(60));
}

#[weir::test(start_paused = true)]
async fn timeout_fires_on_the_paused_clock() {
    let never = std::future::pending::<()>();
    let res = timeout(Duration::from_secs(5), never).await;
    assert!(res.is_err());
    let quick = timeout(Duration::from_secs(5), async { 3 }).await;
    assert_eq!(quick.unwrap(), 3);
}

#[weir::test(start_paused = true)]
async fn advance_moves_the_clock() {
    let start = Instant::now();
    let task = weir::spawn(async { sleep(Duration::from_millis(500)).await });
    // Let the task start its sleep (as in tokio, a spawned task has not run yet).
    weir::task::yield_now().await;
    time::advance(Duration::from_millis(499)).await;
    assert!(!task.is_finished());
    time::advance(Duration::from_millis(1)).await;
    task.await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}

#[weir::test(start_paused = true)]
async fn interval_ticks_and_resets() {
    let start = Instant::now();
    let mut ticker = interval(Duration::from_secs(10));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker.tick().await; // at once
    ticker.tick().await;
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    ticker.reset_after(Duration::from_secs(1));
    ticker.tick().await;
    assert_eq!(start.elapsed(), Duration::from_secs(11));
    ticker.reset();
    ticker.tick().await;
    assert_eq!(start.elapsed(), Duration::from_secs(21));
    ticker.reset_immediately();
    ticker.tick().await;
    assert_eq!(start.elapsed(), Duration::from_secs(21));
}

#[weir::test(flavor = "current_thread", start_paused = true)]
async fn retry_with_backoff_on_paused_time() {
    let start = Instant::now();
    let mut delay = Duration::from_millis(100);
    let mut attempts = 0;
    loop {
        attempts += 1;
        if attempts == 5 {
            break;
        }
        sleep(delay).await;
        delay *= 2;
    }
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(100 + 200 + 400 + 800)
    );
}

#[weir::test(flavor = "local")]
async fn local_flavor_runs_spawn_local() {
    use std::rc::Rc;
    let shared = Rc::new(5);
    let inner = shared.clone();
    let out = weir::task::spawn_local(async move { *inner * 2 })
        .await
        .unwrap();
    assert_eq!(out, 10);
    assert_eq!(Rc::strong_count(&shared), 1);
}

#[weir::test]
async fn task_ids_and_budget() {
    let outer = weir::task::try_id();
    // The block_on body is not a task (as in tokio).
    assert!(outer.is_none());
    let id = weir::spawn(async { weir::task::id() });
    let want = id.id();
    assert_eq!(id.await.unwrap(), want);
    for _ in 0..1000 {
        weir::task::consume_budget().await;
    }
}
