//! The driver: what a parked worker runs while it sleeps.
//!
//! One worker at a time holds the driver. It sleeps with the next timer deadline as its
//! timeout, then fires the expired timers and, with IO enabled, wakes the tasks whose sockets
//! became ready. Anyone can cut the sleep short with [`Driver::unpark`]: a new earlier timer,
//! or a worker handing it new tasks.
//!
//! Where it sleeps depends on the runtime: with IO enabled, in `mio::Poll` (woken through a
//! `mio::Waker`), so one sleeper serves sockets, timers and new work alike; without IO, on a
//! condvar (`ParkThread`). The condvar path is kept on purpose: a runtime that never touches a
//! socket opens no epoll and eventfd descriptors, and the loom models can run it (loom cannot
//! drive a real epoll).

use std::io;
use std::time::Duration;

use super::park::ParkThread;
use crate::io::driver::{IoDriver, IoHandle};
use crate::runtime::builder::Config;
use crate::sync::{Arc, AtomicBool, Ordering};
use crate::time::driver::TimeDriver;

pub(crate) struct Driver {
    locked: AtomicBool,
    park: Park,
    time: Option<Arc<TimeDriver>>,
}

/// What the driver holder sleeps on.
enum Park {
    Thread(Arc<ParkThread>),
    Io(IoDriver),
}

/// Cuts the driver holder's sleep short, wherever it sleeps.
#[derive(Clone)]
pub(crate) enum Unpark {
    Thread(Arc<ParkThread>),
    Io(Arc<IoHandle>),
}

impl Unpark {
    pub(crate) fn unpark(&self) {
        match self {
            Unpark::Thread(park) => park.unpark(),
            Unpark::Io(io) => io.unpark(),
        }
    }
}

pub(crate) struct DriverGuard<'a> {
    driver: &'a Driver,
}

impl Driver {
    /// A driver without IO.
    pub(crate) fn new(enable_time: bool) -> Self {
        Self::with_park(Park::Thread(Arc::new(ParkThread::new())), enable_time)
    }

    /// The driver a runtime's configuration asks for. Fails when the OS refuses a poller.
    pub(crate) fn from_config(config: &Config) -> io::Result<Self> {
        // Under loom the reactor is left out: a model cannot drive a real epoll.
        if config.enable_io && !cfg!(loom) {
            Ok(Self::with_park(
                Park::Io(IoDriver::new()?),
                config.enable_time,
            ))
        } else {
            Ok(Self::new(config.enable_time))
        }
    }

    fn with_park(park: Park, enable_time: bool) -> Self {
        let time = enable_time.then(|| {
            Arc::new(match &park {
                Park::Thread(p) => TimeDriver::new(p.clone()),
                Park::Io(io) => TimeDriver::with_unpark(Unpark::Io(io.handle().clone())),
            })
        });
        Self {
            locked: AtomicBool::new(false),
            park,
            time,
        }
    }

    pub(crate) fn time(&self) -> Option<&Arc<TimeDriver>> {
        self.time.as_ref()
    }

    /// The reactor sockets register with, if IO is enabled.
    pub(crate) fn io_handle(&self) -> Option<&Arc<IoHandle>> {
        match &self.park {
            Park::Io(io) => Some(io.handle()),
            Park::Thread(_) => None,
        }
    }

    pub(crate) fn try_lock(&self) -> Option<DriverGuard<'_>> {
        // Acquire: see everything the previous holder did with the driver.
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| DriverGuard { driver: self })
    }

    pub(crate) fn unpark(&self) {
        match &self.park {
            Park::Thread(p) => p.unpark(),
            Park::Io(io) => io.handle().unpark(),
        }
    }

    /// Fires expired timers and polls IO without sleeping, if the driver is free (a busy
    /// worker's periodic maintenance).
    pub(crate) fn poll_timers(&self) {
        if let Some(guard) = self.try_lock() {
            guard.park(Some(Duration::ZERO));
        }
    }

    pub(crate) fn shutdown(&self) {
        if let Some(time) = &self.time {
            time.shutdown();
        }
        if let Park::Io(io) = &self.park {
            io.shutdown();
        }
        self.unpark();
    }
}

impl DriverGuard<'_> {
    /// Sleeps until unparked, `timeout`, IO readiness or the next timer deadline; then fires
    /// timers and wakes the tasks of ready sockets.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        let timeout = match self.driver.time.as_ref().and_then(|t| t.next_timeout()) {
            Some(next) => Some(timeout.map_or(next, |t| t.min(next))),
            None => timeout,
        };
        match &self.driver.park {
            Park::Thread(p) => p.park_timeout(timeout),
            Park::Io(io) => io.turn(timeout),
        }
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
