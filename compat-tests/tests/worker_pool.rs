//! A worker pool bounded by a Semaphore: at most N jobs run at once, results come back on a
//! channel, shared state sits behind a Mutex.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use weir::sync::{mpsc, Mutex, RwLock, Semaphore};
use weir::task::JoinSet;
use weir::time::{sleep, Duration};

#[weir::test(flavor = "multi_thread", worker_threads = 2)]
async fn semaphore_bounds_concurrency() {
    const LIMIT: usize = 3;
    let permits = Arc::new(Semaphore::new(LIMIT));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();

    let mut jobs = JoinSet::new();
    for job in 0..20u32 {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (running, peak, results, done_tx) = (
            running.clone(),
            peak.clone(),
            results.clone(),
            done_tx.clone(),
        );
        jobs.spawn(async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            sleep(Duration::from_millis(2)).await;
            results.lock().await.push(job * job);
            running.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            done_tx.send(job).unwrap();
        });
    }
    drop(done_tx);
    let mut done = 0;
    while done_rx.recv().await.is_some() {
        done += 1;
    }
    assert_eq!(done, 20);
    while let Some(r) = jobs.join_next().await {
        r.unwrap();
    }
    assert!(peak.load(Ordering::SeqCst) <= LIMIT);
    assert_eq!(permits.available_permits(), LIMIT);
    let mut got = results.lock().await.clone();
    got.sort_unstable();
    assert_eq!(got, (0..20u32).map(|j| j * j).collect::<Vec<_>>());
}

#[weir::test]
async fn join_all_and_try_join_next() {
    let mut set = JoinSet::new();
    for i in 0..5u32 {
        set.spawn(async move { i * 2 });
    }
    let mut all = set.join_all().await;
    all.sort_unstable();
    assert_eq!(all, vec![0, 2, 4, 6, 8]);

    let mut set: JoinSet<u32> = (0..3u32).map(|i| async move { i }).collect();
    assert_eq!(set.len(), 3);
    let mut n = 0;
    while !set.is_empty() {
        match set.try_join_next() {
            Some(r) => {
                r.unwrap();
                n += 1;
            }
            None => weir::task::yield_now().await,
        }
    }
    assert_eq!(n, 3);

    let mut set = JoinSet::new();
    set.spawn_blocking(|| std::thread::current().name().map(str::to_owned));
    set.extend([async { None }]);
    assert_eq!(set.join_all().await.len(), 2);
}

#[weir::test]
async fn abort_handle_cancels_the_task() {
    let task = weir::spawn(async {
        sleep(Duration::from_secs(3600)).await;
    });
    let abort = task.abort_handle();
    assert!(!abort.is_finished());
    assert_eq!(abort.id(), task.id());
    abort.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(abort.is_finished());
}

#[weir::test]
async fn rwlock_and_notify() {
    let config = Arc::new(RwLock::new(String::from("v1")));
    let changed = Arc::new(weir::sync::Notify::new());
    let reader = {
        let (config, changed) = (config.clone(), changed.clone());
        weir::spawn(async move {
            changed.notified().await;
            config.read().await.clone()
        })
    };
    weir::task::yield_now().await;
    *config.write().await = String::from("v2");
    changed.notify_one();
    assert_eq!(reader.await.unwrap(), "v2");
}

#[weir::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_in_place_inside_a_task() {
    let out = weir::spawn(async {
        weir::task::block_in_place(|| {
            std::thread::sleep(std::time::Duration::from_millis(5));
            7
        })
    })
    .await
    .unwrap();
    assert_eq!(out, 7);
}
