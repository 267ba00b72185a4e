//! `Builder`: bad values are refused with an error naming the field; thread callbacks and
//! names apply to every runtime thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use weir_runtime::runtime::{BuildError, Builder};
use weir_runtime::Runtime;

use crate::flavors::{flavor_tests, Flavor};
use crate::signals::wait_until;

fn refused(builder: &mut Builder) -> (&'static str, String) {
    match builder.build() {
        Err(err @ BuildError::InvalidConfig { field, .. }) => (field, err.to_string()),
        Err(other) => panic!("expected InvalidConfig, got {other:?}"),
        Ok(_) => panic!("a bad value was accepted"),
    }
}

#[test]
fn bad_builder_values_are_refused_naming_the_field() {
    type Setter = fn(&mut Builder) -> &mut Builder;
    let cases: [(&str, Setter); 4] = [
        ("global_queue_interval", |b| b.global_queue_interval(0)),
        ("event_interval", |b| b.event_interval(0)),
        ("max_blocking_threads", |b| b.max_blocking_threads(0)),
        ("thread_stack_size", |b| b.thread_stack_size(0)),
    ];
    for make in [Builder::new_current_thread, Builder::new_multi_thread] {
        for (name, set) in cases {
            let mut b = make();
            set(&mut b);
            let (field, message) = refused(&mut b);
            assert_eq!(field, name);
            assert!(
                message.contains(name),
                "the message names the field: {message}"
            );
            let io: std::io::Error = b.build().unwrap_err().into();
            assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
            assert!(io.to_string().contains(name));
        }
    }
    for n in [0, 4097] {
        let (field, message) = refused(Builder::new_multi_thread().worker_threads(n));
        assert_eq!(field, "worker_threads");
        assert!(message.contains("worker_threads"), "{message}");
    }
    // Good values still build after a refusal: the builder is not consumed.
    let mut b = Builder::new_multi_thread();
    b.worker_threads(0);
    assert!(b.build().is_err());
    b.worker_threads(1);
    let rt = b.build().expect("a fixed builder builds");
    assert_eq!(rt.handle().metrics().num_workers(), 1);
}

#[test]
fn default_runtime_builds_and_runs() {
    let rt = Runtime::new().unwrap();
    assert!(rt.handle().metrics().num_workers() >= 1);
    assert_eq!(rt.block_on(rt.spawn(async { 3 })).unwrap(), 3);
    let debug = format!("{rt:?}");
    assert!(debug.contains("multi_thread"), "{debug}");
}

flavor_tests! {
    /// `on_thread_start` and `on_thread_stop` run once on every worker (and blocking) thread,
    /// on that thread, which carries the configured name.
    fn thread_callbacks_run_for_each_thread(flavor: Flavor) in [multi_thread_1, multi_thread_2, multi_thread_4] {
        let starts = Arc::new(Mutex::new(Vec::new()));
        let stops = Arc::new(AtomicUsize::new(0));
        let mut b = flavor.builder();
        b.thread_name("weir-suite-thread");
        let s = starts.clone();
        b.on_thread_start(move || {
            s.lock().unwrap().push(std::thread::current().name().map(String::from));
        });
        let st = stops.clone();
        b.on_thread_stop(move || {
            st.fetch_add(1, Ordering::SeqCst);
        });
        let rt = b.build().unwrap();
        drop(b);
        wait_until("every worker to start", || starts.lock().unwrap().len() == flavor.workers());
        assert_eq!(stops.load(Ordering::SeqCst), 0);
        // One blocking thread too.
        rt.block_on(rt.spawn_blocking(|| ())).unwrap();
        drop(rt);
        let starts = starts.lock().unwrap();
        assert_eq!(starts.len(), flavor.workers() + 1);
        assert_eq!(stops.load(Ordering::SeqCst), flavor.workers() + 1);
        for name in starts.iter() {
            assert_eq!(name.as_deref(), Some("weir-suite-thread"));
        }
    }

    /// A current-thread runtime has no worker threads: the callbacks run for blocking threads
    /// only.
    fn current_thread_callbacks_cover_blocking_threads(flavor: Flavor) in [current_thread] {
        let starts = Arc::new(AtomicUsize::new(0));
        let stops = Arc::new(AtomicUsize::new(0));
        let mut b = flavor.builder();
        let (s, st) = (starts.clone(), stops.clone());
        b.on_thread_start(move || {
            s.fetch_add(1, Ordering::SeqCst);
        });
        b.on_thread_stop(move || {
            st.fetch_add(1, Ordering::SeqCst);
        });
        b.thread_name_fn(|| String::from("weir-suite-blocking"));
        let rt = b.build().unwrap();
        assert_eq!(starts.load(Ordering::SeqCst), 0);
        let name = rt
            .block_on(rt.spawn_blocking(|| std::thread::current().name().map(String::from)))
            .unwrap();
        assert_eq!(name.as_deref(), Some("weir-suite-blocking"));
        drop(rt);
        assert_eq!(starts.load(Ordering::SeqCst), 1);
        assert_eq!(stops.load(Ordering::SeqCst), 1);
    }

    /// A custom stack size is applied (a task that needs a deep stack runs), and a small
    /// global-queue and event interval still make progress.
    fn tuned_builder_values_run(flavor: Flavor) {
        let mut b = flavor.builder();
        b.thread_stack_size(4 << 20).global_queue_interval(1).event_interval(1);
        let rt = b.build().unwrap();
        let sum = rt.block_on(async {
            let hs: Vec<_> = (0..500u32).map(|i| weir_runtime::spawn(async move { i })).collect();
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            weir_runtime::time::sleep(std::time::Duration::from_millis(2)).await;
            sum
        });
        assert_eq!(sum, (0..500).sum::<u32>());
    }
}
