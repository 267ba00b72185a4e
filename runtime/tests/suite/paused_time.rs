//! Paused time: `pause`, `advance`, `resume`, `Builder::start_paused` and auto-advance (a
//! paused runtime with nothing to do jumps to its next timer).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir_runtime::runtime::{BuildError, Builder, Runtime};
use weir_runtime::task;
use weir_runtime::time::{self, Instant};

fn paused() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn an_hour_of_sleep_auto_advances_to_its_deadline() {
    paused().block_on(async {
        let start = Instant::now();
        time::sleep(Duration::from_secs(3600)).await;
        let slept = start.elapsed();
        // The clock jumps to the deadline, rounded up to the timer resolution at most.
        assert!(slept >= Duration::from_secs(3600), "{slept:?}");
        assert!(slept < Duration::from_secs(3600) + MS, "{slept:?}");
    });
}

#[test]
fn timers_fire_in_deadline_order() {
    paused().block_on(async {
        let order = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = [3u64, 1, 2, 5, 4]
            .into_iter()
            .map(|secs| {
                let order = order.clone();
                weir_runtime::spawn(async move {
                    time::sleep(Duration::from_secs(secs)).await;
                    order.lock().unwrap().push(secs);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [1, 2, 3, 4, 5]);
    });
}

#[test]
fn advance_moves_the_clock_and_fires_what_became_due() {
    paused().block_on(async {
        let start = Instant::now();
        let sleeper = weir_runtime::spawn(time::sleep(Duration::from_secs(10)));
        task::yield_now().await; // The sleeper registers its timer.
        time::advance(Duration::from_secs(5)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        assert!(!sleeper.is_finished());
        time::advance(Duration::from_secs(5)).await;
        assert!(sleeper.is_finished());
        sleeper.await.unwrap();
        // Paused: the clock stands still between calls.
        let now = Instant::now();
        task::yield_now().await;
        assert_eq!(Instant::now(), now);
    });
}

#[test]
fn timeouts_and_intervals_follow_the_paused_clock() {
    paused().block_on(async {
        let start = Instant::now();
        let out = time::timeout(Duration::from_secs(30), std::future::pending::<()>()).await;
        assert!(out.is_err());
        assert!(start.elapsed() >= Duration::from_secs(30));

        let mut iv = time::interval(Duration::from_millis(250));
        let first = iv.tick().await;
        for n in 1..=4u32 {
            assert_eq!(iv.tick().await - first, Duration::from_millis(250) * n);
        }
    });
}

#[test]
fn a_running_blocking_closure_holds_auto_advance_back() {
    paused().block_on(async {
        // Auto-advance would fire the timeout at once; the closure finishes in real time
        // first because the clock waits for it.
        let work = task::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(20));
            7
        });
        let out = time::timeout(Duration::from_secs(1), work).await;
        assert_eq!(out.unwrap().unwrap(), 7);
    });
}

#[test]
fn pause_and_resume_by_hand() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        time::pause();
        time::pause(); // Pausing a paused clock changes nothing.
        let frozen = Instant::now();
        time::advance(Duration::from_secs(60)).await;
        assert_eq!(Instant::now() - frozen, Duration::from_secs(60));
        time::resume();
        // Running again, from where the paused clock stood.
        time::sleep(MS).await;
        assert!(Instant::now() - frozen > Duration::from_secs(60));
        time::resume(); // Resuming a running clock changes nothing.
    });
}

#[test]
fn paused_time_is_refused_where_it_cannot_work() {
    let err = Builder::new_multi_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            BuildError::InvalidConfig {
                field: "start_paused",
                ..
            }
        ),
        "{err}"
    );
    let err = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("enable_time"), "{err}");

    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let _enter = rt.enter();
    let err = catch_unwind(AssertUnwindSafe(time::pause)).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("current-thread"), "{msg}");
}
