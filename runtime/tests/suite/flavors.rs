//! The runtime flavours the suite runs on, and `flavor_tests!`, which instantiates a test once
//! per flavour.
//!
//! ```text
//! flavor_tests! {
//!     /// Runs on all four flavours.
//!     fn spawns(flavor: Flavor) { let rt = flavor.build(); /* .. */ }
//!
//!     /// Runs on the listed flavours only.
//!     fn needs_parallelism(flavor: Flavor) in [multi_thread_2, multi_thread_4] { /* .. */ }
//! }
//! ```
//!
//! Each test becomes a function plus a module of the same name holding one `#[test]` per
//! flavour (`spawns::current_thread`, `spawns::multi_thread_4`, ...), each under a watchdog.

use weir_runtime::runtime::{Builder, Runtime};

use crate::watchdog::Watchdog;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    CurrentThread,
    MultiThread(usize),
}

impl Flavor {
    pub fn current_thread() -> Flavor {
        Flavor::CurrentThread
    }
    pub fn multi_thread_1() -> Flavor {
        Flavor::MultiThread(1)
    }
    pub fn multi_thread_2() -> Flavor {
        Flavor::MultiThread(2)
    }
    pub fn multi_thread_4() -> Flavor {
        Flavor::MultiThread(4)
    }

    /// A builder of this flavour with no driver enabled.
    pub fn bare_builder(self) -> Builder {
        match self {
            Flavor::CurrentThread => Builder::new_current_thread(),
            Flavor::MultiThread(n) => {
                let mut b = Builder::new_multi_thread();
                b.worker_threads(n);
                b
            }
        }
    }

    /// A builder of this flavour with every driver enabled.
    pub fn builder(self) -> Builder {
        let mut b = self.bare_builder();
        b.enable_all();
        b
    }

    pub fn build(self) -> Runtime {
        self.builder().build().expect("build the runtime")
    }

    /// Threads that poll tasks: the `block_on` thread of a current-thread runtime counts as one.
    pub fn workers(self) -> usize {
        match self {
            Flavor::CurrentThread => 1,
            Flavor::MultiThread(n) => n,
        }
    }

    pub fn is_current_thread(self) -> bool {
        self == Flavor::CurrentThread
    }
}

/// Runs one instance of a flavoured test under a watchdog.
pub fn run_case(test: &str, flavor: Flavor, body: fn(Flavor)) {
    let _watchdog = Watchdog::start(format!("{test} ({flavor:?})"));
    body(flavor);
}

macro_rules! flavor_tests {
    () => {};
    (
        $(#[$attr:meta])*
        fn $name:ident($flavor:ident: $fty:ty) in [$($case:ident),+ $(,)?] $body:block
        $($rest:tt)*
    ) => {
        $(#[$attr])*
        fn $name($flavor: $fty) $body

        mod $name {
            $(
                #[test]
                fn $case() {
                    $crate::flavors::run_case(
                        concat!(module_path!(), "::", stringify!($case)),
                        $crate::flavors::Flavor::$case(),
                        super::$name,
                    );
                }
            )+
        }

        $crate::flavors::flavor_tests! { $($rest)* }
    };
    (
        $(#[$attr:meta])*
        fn $name:ident($flavor:ident: $fty:ty) $body:block
        $($rest:tt)*
    ) => {
        $crate::flavors::flavor_tests! {
            $(#[$attr])*
            fn $name($flavor: $fty)
                in [current_thread, multi_thread_1, multi_thread_2, multi_thread_4]
                $body
            $($rest)*
        }
    };
}

pub(crate) use flavor_tests;
