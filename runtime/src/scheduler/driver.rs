//! The driver: what a parked worker runs while it sleeps.
//!
//! One worker at a time holds the driver. It sleeps with the next timer deadline as its
//! timeout and fires the expired timers when it wakes. Anyone can cut the sleep short with
//! [`Driver::unpark`]: a new earlier timer, or a worker handing it new tasks.

use std::time::Duration;

use super::park::ParkThread;
use crate::sync::{Arc, AtomicBool, Ordering};
use crate::time::driver::TimeDriver;

pub(crate) struct Driver {
    locked: AtomicBool,
    park: Arc<ParkThread>,
    time: Option<Arc<TimeDriver>>,
}

pub(crate) struct DriverGuard<'a> {
    driver: &'a Driver,
}

impl Driver {
    pub(crate) fn new(enable_time: bool) -> Self {
        let park = Arc::new(ParkThread::new());
        let time = enable_time.then(|| Arc::new(TimeDriver::new(park.clone())));
        Self {
            locked: AtomicBool::new(false),
            park,
            time,
        }
    }

    pub(crate) fn time(&self) -> Option<&Arc<TimeDriver>> {
        self.time.as_ref()
    }

    pub(crate) fn try_lock(&self) -> Option<DriverGuard<'_>> {
        // Acquire: see everything the previous holder did with the driver.
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| DriverGuard { driver: self })
    }

    pub(crate) fn unpark(&self) {
        self.park.unpark();
    }

    /// Fires expired timers, if the driver is free (a busy worker's periodic maintenance).
    pub(crate) fn poll_timers(&self) {
        if let Some(guard) = self.try_lock() {
            guard.park(Some(Duration::ZERO));
        }
    }

    pub(crate) fn shutdown(&self) {
        if let Some(time) = &self.time {
            time.shutdown();
        }
        self.park.unpark();
    }
}

impl DriverGuard<'_> {
    /// Sleeps until unparked, `timeout`, or the next timer deadline; then fires timers.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        let timeout = match self.driver.time.as_ref().and_then(|t| t.next_timeout()) {
            Some(next) => Some(timeout.map_or(next, |t| t.min(next))),
            None => timeout,
        };
        self.driver.park.park_timeout(timeout);
        if let Some(time) = &self.driver.time {
            time.process();
        }
        crate::time::refresh_coarse();
    }
}

impl Drop for DriverGuard<'_> {
    fn drop(&mut self) {
        // Release: hand the driver's state to the next holder.
        self.driver.locked.store(false, Ordering::Release);
    }
}
