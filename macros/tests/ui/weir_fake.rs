//! A stand-in for the `weir` crate: re-exports the macros and provides a
//! `runtime::Builder` with the methods the expansion calls. `block_on` prints
//! which runtime was asked for, then polls the future to completion.

pub use weir_macros::{main, test};

pub mod runtime {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

    pub struct Builder {
        flavor: &'static str,
        workers: Option<usize>,
        enabled: bool,
    }

    impl Builder {
        pub fn new_multi_thread() -> Builder {
            Builder {
                flavor: "multi_thread",
                workers: None,
                enabled: false,
            }
        }

        pub fn new_current_thread() -> Builder {
            Builder {
                flavor: "current_thread",
                workers: None,
                enabled: false,
            }
        }

        pub fn worker_threads(mut self, n: usize) -> Builder {
            self.workers = Some(n);
            self
        }

        pub fn enable_all(mut self) -> Builder {
            self.enabled = true;
            self
        }

        pub fn build(self) -> std::io::Result<Runtime> {
            Ok(Runtime {
                desc: format!(
                    "flavor={} workers={:?} enabled={}",
                    self.flavor, self.workers, self.enabled
                ),
            })
        }
    }

    pub struct Runtime {
        desc: String,
    }

    impl Runtime {
        pub fn block_on<F: Future>(&self, future: F) -> F::Output {
            println!("weir-fake: block_on {}", self.desc);
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
