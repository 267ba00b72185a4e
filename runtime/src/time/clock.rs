//! The runtime's clock: the system clock, or a paused one that tests move by hand.
//!
//! A clock starts running, reading the system clock. [`pause`] freezes it; [`advance`] moves it
//! forward; [`resume`] lets it run again from where it stands (time moved by `advance` is kept).
//! While it is paused and the runtime has nothing to do, the scheduler moves it straight to the
//! next timer (auto-advance), so a test that sleeps an hour finishes at once, in order.
//!
//! [`Instant::now`] reads the current runtime's clock. So that it costs one relaxed load when
//! no clock was ever paused (every production program), a process-wide count of shifted clocks
//! says whether to look the runtime up at all.
//!
//! Paused time needs a current-thread runtime: with several workers, "nothing to do" is not one
//! thread's judgement, and a worker could read the clock while another moves it.

use std::time::Duration;

use super::driver::TimeDriver;
use super::Instant;
use crate::runtime::context;
use crate::scheduler;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::sync::{Arc, Mutex};

/// Clocks alive that were ever paused: `Instant::now` asks the runtime only while this is not 0.
/// A std atomic even under loom: a process-wide count that no model's protocol relies on.
static SHIFTED_CLOCKS: AtomicUsize = AtomicUsize::new(0);

pub(crate) struct Clock {
    origin: std::time::Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Counted in `SHIFTED_CLOCKS`.
    shifted: bool,
    /// Added to the system clock: what `advance` moved it by, less the time spent paused.
    offset: Duration,
    /// Frozen time, as a duration since `origin`.
    paused_at: Option<Duration>,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Self {
            origin: std::time::Instant::now(),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> crate::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn origin(&self) -> std::time::Instant {
        self.origin
    }

    pub(crate) fn now(&self) -> Instant {
        let state = self.lock();
        Instant::from_std(self.now_locked(&state))
    }

    fn now_locked(&self, state: &State) -> std::time::Instant {
        match state.paused_at {
            Some(at) => self.origin + at,
            None => std::time::Instant::now() + state.offset,
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.lock().paused_at.is_some()
    }

    pub(crate) fn pause(&self) {
        let mut state = self.lock();
        if state.paused_at.is_some() {
            return;
        }
        let now = self
            .now_locked(&state)
            .saturating_duration_since(self.origin);
        // Frozen on a whole millisecond (the wheel's resolution), rounding up so the clock
        // never goes back: a sleep started while paused then ends exactly on a wheel tick, and
        // `advance` by its duration fires it.
        let whole_ms = now.as_nanos().div_ceil(1_000_000);
        state.paused_at = Some(Duration::from_millis(whole_ms as u64));
        if !state.shifted {
            state.shifted = true;
            // Relaxed: the thread that pauses is the one whose `Instant::now` must see it, and
            // it reads its own write; other threads may lag, as they may lag any clock read.
            SHIFTED_CLOCKS.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn resume(&self) {
        let mut state = self.lock();
        if let Some(at) = state.paused_at.take() {
            let frozen = self.origin + at;
            // From now on the system clock plus this offset continues from the frozen time.
            let real = std::time::Instant::now();
            state.offset = frozen.saturating_duration_since(real);
        }
    }

    pub(crate) fn advance(&self, by: Duration) {
        let mut state = self.lock();
        match &mut state.paused_at {
            Some(at) => *at = at.saturating_add(by),
            None => {
                state.offset = state.offset.saturating_add(by);
                if !state.shifted {
                    state.shifted = true;
                    // Relaxed: as in `pause`.
                    SHIFTED_CLOCKS.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        if self.lock().shifted {
            // Relaxed: a count of clocks to consult; see `pause`.
            SHIFTED_CLOCKS.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// The current time on this thread's runtime clock (the system clock when none was shifted).
pub(crate) fn now() -> std::time::Instant {
    // Relaxed: see `Clock::pause`.
    if SHIFTED_CLOCKS.load(Ordering::Relaxed) == 0 {
        return std::time::Instant::now();
    }
    match context::try_with_handle(|h| h.driver().time().map(|t| t.clock().now())) {
        Some(Some(now)) => now.into_std(),
        _ => std::time::Instant::now(),
    }
}

/// The current runtime's time driver, for the clock functions below.
#[track_caller]
fn paused_time_driver(what: &str) -> Arc<TimeDriver> {
    let found = context::with_handle(|h| match h {
        scheduler::Handle::CurrentThread(_) => match h.driver().time() {
            Some(time) => Ok(time.clone()),
            None => Err(
                "timers are disabled in this runtime; build it with Builder::enable_time() \
                 or enable_all()",
            ),
        },
        scheduler::Handle::MultiThread(_) | scheduler::Handle::Local(_) => Err(
            "paused time needs a current-thread runtime (#[weir::test] builds one; \
             or Builder::new_current_thread())",
        ),
    });
    match found {
        Ok(Ok(r)) => r,
        Ok(Err(why)) => panic!("weir::time::{what}: {why}"),
        Err(err) => panic!("weir::time::{what}: {err}"),
    }
}

/// Freezes the current runtime's clock: [`Instant::now`] stands still and timers fire only
/// when time is moved, by [`advance`] or by auto-advance (when the runtime has nothing to do,
/// the clock jumps to the next timer). Pausing a paused clock does nothing.
///
/// For tests. `#[weir::test(start_paused = true)]` starts the test paused.
///
/// # Panics
/// Outside a current-thread runtime with timers enabled.
#[track_caller]
pub fn pause() {
    paused_time_driver("pause").clock().pause()
}

/// Lets a paused clock run again, from the time it shows (what [`advance`] added is kept).
/// Resuming a running clock does nothing.
///
/// # Panics
/// As [`pause`].
#[track_caller]
pub fn resume() {
    paused_time_driver("resume").clock().resume()
}

/// Moves the current runtime's clock forward by `duration`, fires the timers that became due,
/// and yields once so that the tasks they woke run before this returns.
///
/// # Panics
/// As [`pause`].
pub async fn advance(duration: Duration) {
    let time = paused_time_driver("advance");
    time.clock().advance(duration);
    time.process();
    drop(time);
    crate::task::yield_now().await;
}
