//! Runs expanded macros in-process against a recording stand-in runtime,
//! reached through `crate = "crate::fake"`.

mod fake {
    pub mod runtime {
        use std::cell::RefCell;
        use std::future::Future;
        use std::pin::pin;
        use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

        thread_local! {
            static CALLS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
        }

        fn record(call: impl Into<String>) {
            CALLS.with(|c| c.borrow_mut().push(call.into()));
        }

        /// The builder calls made on this thread since the last `new_*`.
        pub fn calls() -> Vec<String> {
            CALLS.with(|c| c.borrow().clone())
        }

        pub struct Builder(());

        impl Builder {
            pub fn new_multi_thread() -> Builder {
                CALLS.with(|c| c.borrow_mut().clear());
                record("new_multi_thread");
                Builder(())
            }

            pub fn new_current_thread() -> Builder {
                CALLS.with(|c| c.borrow_mut().clear());
                record("new_current_thread");
                Builder(())
            }

            pub fn worker_threads(self, n: usize) -> Builder {
                record(format!("worker_threads({n})"));
                self
            }

            pub fn enable_all(self) -> Builder {
                record("enable_all");
                self
            }

            pub fn build(self) -> std::io::Result<Runtime> {
                record("build");
                Ok(Runtime(()))
            }
        }

        pub struct Runtime(());

        impl Runtime {
            /// Polls `future` to completion, counting the polls.
            pub fn block_on<F: Future>(&self, future: F) -> F::Output {
                record("block_on");
                let mut future = pin!(future);
                let waker = noop_waker();
                let mut cx = Context::from_waker(&waker);
                loop {
                    if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                        return out;
                    }
                }
            }
        }

        fn noop_waker() -> Waker {
            fn clone(_: *const ()) -> RawWaker {
                RawWaker::new(std::ptr::null(), &VTABLE)
            }
            fn noop(_: *const ()) {}
            static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
            // SAFETY: every vtable function ignores the (null) data pointer.
            unsafe { Waker::from_raw(clone(std::ptr::null())) }
        }
    }

    /// A future that is pending once before completing, so `block_on` must
    /// really poll the body more than once.
    pub async fn yield_once() {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if yielded {
                std::task::Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await
    }
}

use fake::runtime::calls;

#[weir_macros::test(crate = "crate::fake")]
async fn test_defaults_to_current_thread() {
    fake::yield_once().await;
    assert_eq!(
        calls(),
        ["new_current_thread", "enable_all", "build", "block_on"]
    );
}

#[weir_macros::test(flavor = "multi_thread", worker_threads = 3, crate = "crate::fake")]
async fn test_multi_thread_with_workers() {
    assert_eq!(
        calls(),
        [
            "new_multi_thread",
            "worker_threads(3)",
            "enable_all",
            "build",
            "block_on"
        ]
    );
}

#[weir_macros::test(crate = "crate::fake", flavor = "multi_thread")]
async fn test_multi_thread_without_workers() {
    assert_eq!(
        calls(),
        ["new_multi_thread", "enable_all", "build", "block_on"]
    );
}

#[weir_macros::test(crate = "crate::fake")]
async fn test_returning_result() -> Result<(), std::num::ParseIntError> {
    let n: i64 = "-12".parse()?;
    assert_eq!(n, -12);
    Ok(())
}

#[weir_macros::test(crate = "crate::fake")]
#[should_panic(expected = "from the body")]
async fn test_panic_propagates() {
    panic!("from the body");
}

// `#[weir_macros::main]` on functions other than `main`.

#[weir_macros::main(crate = "crate::fake")]
async fn answer() -> u32 {
    fake::yield_once().await;
    42
}

/// A body that only awaits another future (clippy must not object to the
/// generated `async move` block around it).
#[weir_macros::main(crate = "crate::fake")]
async fn forwards() -> u32 {
    answer_async().await
}

async fn answer_async() -> u32 {
    42
}

#[weir_macros::main(worker_threads = 1, crate = "crate::fake")]
async fn add(a: u32, b: u32) -> u32 {
    a + b
}

/// The generated `body` and `runtime` locals must not clash with the user's.
#[weir_macros::main(flavor = "current_thread", crate = "crate::fake")]
async fn shadowing(body: u32, runtime: u32) -> u32 {
    body * 10 + runtime
}

#[weir_macros::main(crate = "crate::fake")]
async fn generic<T: Into<u64>, F: Fn(u64) -> u64>(x: T, f: F) -> u64 {
    f(x.into())
}

#[weir_macros::main(crate = "crate::fake")]
async fn where_clause<T>(x: T) -> u64
where
    T: Into<u64>,
{
    x.into() + 1
}

mod visibility {
    #[weir_macros::main(crate = "crate::fake")]
    pub(crate) async fn reachable() -> &'static str {
        "pub(crate) kept"
    }
}

macro_rules! from_fragments {
    ($name:ident, $workers:literal, $body:block) => {
        #[weir_macros::main(worker_threads = $workers, crate = "crate::fake")]
        async fn $name() -> u8 $body
    };
}

from_fragments!(fragments, 5, { 7 });

#[test]
fn main_defaults_to_multi_thread() {
    assert_eq!(answer(), 42);
    assert_eq!(forwards(), 42);
    assert_eq!(
        calls(),
        ["new_multi_thread", "enable_all", "build", "block_on"]
    );
}

#[test]
fn main_on_fn_with_parameters() {
    assert_eq!(add(40, 2), 42);
    assert_eq!(
        calls(),
        [
            "new_multi_thread",
            "worker_threads(1)",
            "enable_all",
            "build",
            "block_on"
        ]
    );
    assert_eq!(shadowing(4, 2), 42);
    assert_eq!(calls()[0], "new_current_thread");
    assert_eq!(generic(6u8, |v| v * 7), 42);
    assert_eq!(where_clause(41u32), 42);
}

#[test]
fn main_keeps_visibility() {
    assert_eq!(visibility::reachable(), "pub(crate) kept");
}

#[test]
fn macro_rules_fragments() {
    assert_eq!(fragments(), 7);
    assert_eq!(calls()[1], "worker_threads(5)");
}
