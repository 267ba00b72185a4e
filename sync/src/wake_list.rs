//! A fixed-size batch of wakers, woken after the lock that found them is released.
//!
//! Waking outside the lock keeps the woken task from contending for it at once. The batch is
//! an array (no allocation); when more waiters than it holds are released at one time, the
//! full batch is woken on the spot, still under the lock, which is correct (a waker only
//! schedules its task) and rare.

use std::task::Waker;

const BATCH: usize = 32;

pub(crate) struct WakeList {
    wakers: [Option<Waker>; BATCH],
    len: usize,
}

impl WakeList {
    pub(crate) const fn new() -> Self {
        WakeList {
            wakers: [const { None }; BATCH],
            len: 0,
        }
    }

    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        if self.len == BATCH {
            self.wake_all();
        }
        self.wakers[self.len] = Some(waker);
        self.len += 1;
    }

    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            if let Some(waker) = slot.take() {
                waker.wake();
            }
        }
        self.len = 0;
    }
}

impl Drop for WakeList {
    fn drop(&mut self) {
        self.wake_all();
    }
}
