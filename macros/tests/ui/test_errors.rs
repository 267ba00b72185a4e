// Compiled with `--test`: every function has exactly one problem, and each
// must give exactly one error at the right place.

#[weir::test(flavor = "multi-thread")]
async fn unknown_flavor() {}

#[weir::test(flavor = "multi_thread", worker_threads = 0)]
async fn zero_workers() {}

#[weir::test(flavor = "multi_thread", worker_threads = "2")]
async fn string_workers() {}

#[weir::test(worker_threads = 2)]
async fn workers_on_default_flavor() {}

#[weir::test(flavor = "current_thread", worker_threads = 2)]
async fn workers_on_current_thread() {}

#[weir::test(flavor = "current_thread", flavor = "current_thread")]
async fn duplicate() {}

#[weir::test(flavor "current_thread")]
async fn missing_eq() {}

#[weir::test(flavor = "multi_thread", start_paused = true)]
async fn paused_multi_thread() {}

#[weir::test(crate = "weir-fake")]
async fn bad_crate_path() {}

#[weir::test]
fn not_async() {}

#[weir::test]
async fn with_params(x: u8) {
    let _ = x;
}

#[weir::test]
#[test]
async fn twice() {}

#[weir::test]
#[deny(unused_variables)]
async fn body_keeps_spans_and_attributes() {
    let unused = 1;
}

mod renamed {
    // A bad argument next to a good `crate = "..."`: the fallback expansion
    // still uses the given path, so no "unresolved crate" error follows.
    extern crate weir as weir_renamed;

    #[weir_renamed::test(crate = "weir_renamed", flavor = "single")]
    async fn keeps_crate_path() {}
}
