//! The synchronisation facade: std's primitives normally, loom's under `--cfg loom`.
//!
//! Every lock-free protocol in this crate imports its atomics, `UnsafeCell`, `Arc` and `Mutex`
//! from here, so the loom models in `loom-tests/` check the very code that ships.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    };
    pub(crate) use std::sync::{Arc, Mutex, MutexGuard};
    pub(crate) use std::thread_local;

    /// One waker slot shared without a lock by one registrant and any number of wakers:
    /// the `atomic-waker` crate's (the runtime's IO readiness uses the same). Its `register`
    /// and `wake` are AcqRel RMWs on one state word, so a registration followed by a re-check
    /// of the caller's condition cannot miss a wake that follows a change of that condition
    /// (the crate's documented contract; the oneshot flavour relies on it).
    pub(crate) use atomic_waker::AtomicWaker;

    /// `UnsafeCell` with loom's closure-based access API, so code reads the same under both
    /// configurations.
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

    /// Gives the thread a moment while another thread finishes a step we wait on.
    pub(crate) fn yield_now() {
        std::thread::yield_now()
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
    pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};

    /// The `atomic-waker` crate is built on core's atomics, which loom cannot see; under
    /// loom the slot is loom's own model of the same contract, behind the crate's method
    /// names, so the code that uses it reads the same in both configurations.
    pub(crate) struct AtomicWaker(loom::future::AtomicWaker);

    impl AtomicWaker {
        pub(crate) fn new() -> Self {
            AtomicWaker(loom::future::AtomicWaker::new())
        }

        /// Stores `waker` to be woken by the next [`AtomicWaker::wake`].
        pub(crate) fn register(&self, waker: &std::task::Waker) {
            self.0.register_by_ref(waker);
        }

        /// Wakes the registered waker, if any.
        pub(crate) fn wake(&self) {
            self.0.wake();
        }

        /// Takes the registered waker out, if any.
        pub(crate) fn take(&self) -> Option<std::task::Waker> {
            self.0.take_waker()
        }
    }

    // Loom runs every modelled thread on one OS thread: a std thread-local would be shared by
    // all of them (a sender would see the select scope of another modelled thread). Loom's
    // keeps one value per modelled thread; its macro does not take std's `const { .. }`
    // initialiser, so this one unwraps it.
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

    pub(crate) fn yield_now() {
        loom::thread::yield_now()
    }

    pub(crate) fn spin_loop() {
        loom::thread::yield_now()
    }
}

#[allow(unused_imports)]
pub(crate) use imp::*;

/// The notifier's half of the flavours' no-lost-wake-up pairs, placed between an operation's
/// SeqCst RMW and its read of a wait queue's length.
///
/// With std nothing is needed: the RMW and the SeqCst load of the length both sit in the
/// single total order of SeqCst operations, which is what the argument uses (and on x86 a
/// SeqCst load is a plain load, so the fast path pays nothing). Loom models SeqCst loads and
/// RMWs as AcqRel only, and supports just `fence(SeqCst)`; under loom a SeqCst fence stands in,
/// which turns the argument into the standard fence-to-fence one loom can check.
#[inline(always)]
pub(crate) fn notify_fence() {
    #[cfg(loom)]
    fence(Ordering::SeqCst);
}

/// Exponential backoff for the short waits of the lock-free flavours: a peer that has claimed
/// a slot but not yet published it. Spins a little, then yields the thread.
pub(crate) struct Backoff {
    step: u32,
}

impl Backoff {
    const SPIN_LIMIT: u32 = 6;

    pub(crate) fn new() -> Self {
        Backoff { step: 0 }
    }

    /// Backs off after a lost race (a CAS failure): spins only.
    #[inline]
    pub(crate) fn spin(&mut self) {
        for _ in 0..1u32 << self.step.min(Self::SPIN_LIMIT) {
            spin_loop();
        }
        if self.step <= Self::SPIN_LIMIT {
            self.step += 1;
        }
    }

    /// Waits for another thread to finish a step: spins, then yields the thread.
    #[inline]
    pub(crate) fn snooze(&mut self) {
        if cfg!(loom) || self.step > Self::SPIN_LIMIT {
            yield_now();
        } else {
            for _ in 0..1u32 << self.step {
                spin_loop();
            }
        }
        self.step = self.step.saturating_add(1);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::AtomicWaker;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn atomic_waker_wakes_the_registered_waker_once() {
        let aw = AtomicWaker::new();
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let w = Waker::from(c.clone());
        aw.wake(); // nothing registered: no effect
        aw.register(&w);
        aw.wake();
        aw.wake();
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
        aw.register(&w);
        drop(aw.take());
        aw.wake();
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
    }
}
