//! The recorder's blocking chain and histograms, through `weir::probes` (`--features record`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use weir::channel::Builder;
use weir::probes::{self, ChainEnd, LatencyKind, RootKind, TaskState};

fn id() -> u64 {
    weir::task::current_id().map(|i| i.as_u64()).unwrap_or(0)
}

fn runtime() -> weir::Runtime {
    weir::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Waits until `ok` holds for a snapshot; after 20 s the test fails, showing what the
/// recorder saw.
fn until(mut ok: impl FnMut(&probes::Snapshot) -> bool) {
    let start = std::time::Instant::now();
    loop {
        let s = probes::recorder().snapshot();
        if ok(&s) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the recorder never showed the expected states (dropped {}): {:#?}",
            s.dropped,
            s.tasks
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn waiting(s: &probes::Snapshot, task: u64) -> bool {
    matches!(
        s.task(task).map(|t| t.state),
        Some(TaskState::Waiting { .. })
    )
}

/// A → c1 → B → c2 → C, where C does `root` once A and B are both waiting (so a root that
/// holds its worker cannot keep them from reaching their waits). `ready` says when C's state
/// is the one the test is about.
fn chain<F, Fut>(
    root: F,
    ready: impl Fn(&TaskState) -> bool,
) -> (probes::BlockingReport, [u64; 3], [u64; 2])
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let rt = runtime();
    let (c1_tx, c1_rx) = Builder::bounded(1).name("c1").build::<u32>();
    let (c2_tx, c2_rx) = Builder::bounded(1).name("c2").build::<u32>();
    let (go_tx, go_rx) = Builder::bounded(1).name("go").build::<()>();
    let (c1, c2) = (c1_rx.id(), c2_rx.id());
    let (ids_tx, ids_rx) = mpsc::channel();
    let (a_ids, b_ids, c_ids) = (ids_tx.clone(), ids_tx.clone(), ids_tx);
    rt.spawn(async move {
        c_ids.send(('C', id())).unwrap();
        let _ = c2_rx.recv().await;
        let _keep = c2_rx;
        let _ = go_rx.recv().await;
        root().await;
    });
    rt.spawn(async move {
        b_ids.send(('B', id())).unwrap();
        let _ = c1_rx.recv().await;
        let _keep = c1_rx;
        for i in 0..3 {
            let _ = c2_tx.send(i).await;
        }
    });
    rt.spawn(async move {
        a_ids.send(('A', id())).unwrap();
        for i in 0..3 {
            let _ = c1_tx.send(i).await;
        }
    });
    let mut ids = [0; 3];
    for _ in 0..3 {
        let (n, i) = ids_rx.recv().unwrap();
        ids[(n as u8 - b'A') as usize] = i;
    }
    until(|s| waiting(s, ids[0]) && waiting(s, ids[1]));
    go_tx.try_send(()).unwrap();
    until(|s| s.task(ids[2]).is_some_and(|t| ready(&t.state)));
    let report = probes::blocking_report(c1).unwrap();
    std::mem::forget(rt);
    (report, ids, [c1, c2])
}

fn only_chain(r: &probes::BlockingReport, ids: [u64; 3], chans: [u64; 2]) -> probes::Chain {
    assert_eq!(r.chains.len(), 1, "{r}");
    let c = r.chains[0].clone();
    assert_eq!(c.task_ids(), ids, "{r}");
    assert_eq!(c.channel_ids(), chans, "{r}");
    let text = r.to_string();
    let arrow = format!(
        "task {} → `c1` → task {} → `c2` → task {}",
        ids[0], ids[1], ids[2]
    );
    assert!(text.contains(&arrow), "{text}");
    assert!(text.contains(&format!("ROOT task {}", ids[2])), "{text}");
    c
}

#[test]
fn chain_ends_at_a_sleeping_root_with_its_line() {
    static LINE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let (r, ids, chans) = chain(
        || async {
            LINE.store(line!() + 1, Ordering::Relaxed);
            weir::time::sleep(Duration::from_secs(3600)).await;
        },
        |s| matches!(s, TaskState::Sleeping { .. }),
    );
    let c = only_chain(&r, ids, chans);
    let Some((_, RootKind::Asleep(Some(at)))) = c.root() else {
        panic!("root is not asleep: {r}");
    };
    assert!(at.file().ends_with("record_chain.rs"), "{r}");
    assert_eq!(at.line(), LINE.load(Ordering::Relaxed), "{r}");
    let text = r.to_string();
    assert!(
        text.contains(&format!("record_chain.rs:{}", at.line())),
        "{text}"
    );
}

#[test]
fn chain_ends_at_a_root_waiting_on_a_tcp_read() {
    use weir::io::AsyncReadExt;
    let (r, ids, chans) = chain(
        || async {
            let l = weir::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let _client = weir::net::TcpStream::connect(addr).await.unwrap();
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 16];
            let _ = s.read(&mut buf).await;
        },
        |s| matches!(s, TaskState::Io { write: false, .. }),
    );
    let c = only_chain(&r, ids, chans);
    let Some((
        _,
        RootKind::Io {
            write: false, fd, ..
        },
    )) = c.root()
    else {
        panic!("root is not on IO: {r}");
    };
    assert!(fd > 2, "{r}");
    assert!(r.to_string().contains("waiting on IO"), "{r}");
}

#[test]
fn chain_ends_at_a_root_busy_on_the_cpu() {
    // C spins without yielding until the report is taken.
    static RELEASE: AtomicBool = AtomicBool::new(false);
    let (r, ids, chans) = chain(
        || async {
            while !RELEASE.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        },
        |s| matches!(s, TaskState::Running { .. }),
    );
    // Only now: the report was taken while C was still spinning.
    RELEASE.store(true, Ordering::Relaxed);
    let c = only_chain(&r, ids, chans);
    let Some((_, RootKind::Busy { for_ns, .. })) = c.root() else {
        panic!("root is not busy: {r}");
    };
    assert!(for_ns > 0, "{r}");
    assert!(r.to_string().contains("busy on the CPU"), "{r}");
}

#[test]
fn two_tasks_waiting_on_each_other_are_a_deadlock() {
    let rt = runtime();
    let (a_tx, a_rx) = Builder::bounded(1).name("dl-a").build::<u32>();
    let (b_tx, b_rx) = Builder::bounded(1).name("dl-b").build::<u32>();
    let a = a_rx.id();
    let (ids_tx, ids_rx) = mpsc::channel();
    let t2_ids = ids_tx.clone();
    rt.spawn(async move {
        ids_tx.send((1, id())).unwrap();
        let _ = a_rx.recv().await;
        let _ = b_tx.send(2).await;
        let _ = a_rx.recv().await;
        drop(b_tx);
    });
    rt.spawn(async move {
        t2_ids.send((2, id())).unwrap();
        let _ = a_tx.send(1).await;
        let _ = b_rx.recv().await;
        let _ = b_rx.recv().await;
        drop(a_tx);
    });
    let mut ids = [0; 2];
    for _ in 0..2 {
        let (n, i) = ids_rx.recv().unwrap();
        ids[n - 1] = i;
    }
    until(|s| waiting(s, ids[0]) && waiting(s, ids[1]));
    let r = probes::blocking_report(a).unwrap();
    assert!(r.deadlocked(), "{r}");
    let c = r
        .chains
        .iter()
        .find(|c| c.end == ChainEnd::Deadlock)
        .unwrap();
    assert_eq!(c.task_ids(), [ids[0], ids[1], ids[0]], "{r}");
    assert!(r.to_string().contains("DEADLOCK"), "{r}");
    std::mem::forget(rt);
}

#[test]
fn histograms_follow_a_schedule_on_the_runtime_timer() {
    let rt = weir::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (tx, rx) = Builder::bounded(16).name("hist").build::<u32>();
    let ch = rx.id();
    rt.block_on(async move {
        for i in 0..5 {
            // Queued 20 ms on the timer.
            tx.send(i).await.unwrap();
            weir::time::sleep(Duration::from_millis(20)).await;
            rx.recv().await.unwrap();
        }
        for i in 0..5 {
            // Taken in the same poll: microseconds, far below the 20 ms of the first five.
            tx.send(i).await.unwrap();
            rx.recv().await.unwrap();
        }
    });
    let s = probes::recorder().snapshot();
    let c = s.channel(ch).unwrap();
    assert_eq!((c.sends, c.recvs), (10, 10));
    let h = c.histogram(LatencyKind::SendToRecv);
    assert_eq!(h.count(), 10);
    assert_eq!(h.count_between(20_000, u64::MAX), 5, "{h:?}");
    assert_eq!(h.count_between(0, 20_000), 5, "{h:?}");
    assert!(c
        .text_histogram(LatencyKind::SendToRecv)
        .contains("10 values"));
    assert_eq!(s.channel("hist").unwrap().id, ch);
}
