//! The entry macros on real tests: `#[weir_runtime::test]` builds the runtime it is asked for
//! and blocks on the body.

use std::time::Duration;

use weir_runtime::runtime::Handle;
use weir_runtime::time::{sleep, Instant};

#[weir_runtime::test(crate = "weir_runtime")]
async fn test_macro_defaults_to_a_current_thread_runtime_with_timers() {
    let handle = Handle::current();
    assert_eq!(handle.metrics().num_workers(), 1);
    assert!(format!("{handle:?}").contains("current_thread"));
    let start = Instant::now();
    sleep(Duration::from_millis(2)).await;
    assert!(Instant::now() >= start + Duration::from_millis(2));
    assert_eq!(weir_runtime::spawn(async { 9 }).await.unwrap(), 9);
}

#[weir_runtime::test(crate = "weir_runtime", flavor = "multi_thread", worker_threads = 2)]
async fn test_macro_builds_a_multi_thread_runtime() {
    let handle = Handle::current();
    assert_eq!(handle.metrics().num_workers(), 2);
    assert!(format!("{handle:?}").contains("multi_thread"));
    let hs: Vec<_> = (0..100u32)
        .map(|i| weir_runtime::spawn(async move { i }))
        .collect();
    let mut sum = 0;
    for h in hs {
        sum += h.await.unwrap();
    }
    assert_eq!(sum, 4950);
}

#[weir_runtime::test(crate = "weir_runtime")]
async fn test_macro_keeps_the_return_type() -> Result<(), Box<dyn std::error::Error>> {
    weir_runtime::spawn(async {}).await?;
    Ok(())
}

#[weir_runtime::test(crate = "weir_runtime", flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "from the test body")]
async fn test_macro_propagates_panics() {
    panic!("from the test body");
}
