//! The synchronisation facade: std's primitives normally, loom's under `--cfg loom`.
//!
//! Every lock-free protocol in this crate imports its atomics, `UnsafeCell` and `Arc` from here
//! so that the loom models in `loom-tests/` check the very code that ships.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    };
    pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};
    pub(crate) use std::{thread, thread_local};

    /// `UnsafeCell` with loom's closure-based access API, so that code reads the same under
    /// both configurations.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    pub(crate) fn spin_loop() {
        std::hint::spin_loop()
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    };
    pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
    // Worker threads must be loom's so that the models schedule them.
    pub(crate) use loom::thread;
    // Loom runs every modelled thread on one OS thread: a std thread-local would be shared by
    // all of them. Loom's keeps one value per modelled thread. Its macro does not take std's
    // `const { .. }` initialiser, so this one unwraps it.
    macro_rules! loom_thread_local {
        () => {};
        ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr }; $($rest:tt)*) => {
            loom::thread_local!($(#[$attr])* $vis static $name: $t = $init);
            $crate::sync::thread_local!($($rest)*);
        };
        ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
            loom::thread_local!($(#[$attr])* $vis static $name: $t = $init);
            $crate::sync::thread_local!($($rest)*);
        };
    }
    pub(crate) use loom_thread_local as thread_local;

    pub(crate) fn spin_loop() {
        loom::thread::yield_now()
    }
}

#[allow(unused_imports)]
pub(crate) use imp::*;
