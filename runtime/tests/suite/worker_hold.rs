//! Holding every worker of a runtime, so that no other task can be polled meanwhile.
//!
//! On a multi-thread runtime one blocker task per worker blocks its worker thread until
//! released; `hold_all_workers` returns only once every blocker runs, which also proves that
//! every worker is alive and takes work. A current-thread runtime polls tasks only inside
//! `block_on`, so it is held simply by not calling `block_on` (no blocker is spawned).

use weir_runtime::task::JoinHandle;
use weir_runtime::Runtime;

use crate::flavors::Flavor;
use crate::signals::{Gate, Latch};

pub struct HeldWorkers {
    release: Gate,
    blockers: Vec<JoinHandle<()>>,
}

pub fn hold_all_workers(rt: &Runtime, flavor: Flavor) -> HeldWorkers {
    let release = Gate::new();
    let started = Latch::new();
    let n = match flavor {
        Flavor::CurrentThread => 0,
        Flavor::MultiThread(n) => n,
    };
    let blockers = (0..n)
        .map(|_| {
            let (release, started) = (release.clone(), started.clone());
            rt.spawn(async move {
                started.arrive();
                release.wait_blocking();
            })
        })
        .collect();
    started.wait_for_blocking(n);
    HeldWorkers { release, blockers }
}

impl HeldWorkers {
    /// Lets the workers go; returns the blockers' handles.
    pub fn release(self) -> Vec<JoinHandle<()>> {
        self.release.open();
        self.blockers
    }
}
