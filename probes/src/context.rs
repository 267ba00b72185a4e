//! The scheduler context: which task is being polled, on which worker.
//!
//! The runtime sets the current task around every poll and the worker id when a worker thread
//! starts; probes stamp every event with them and `weir::task::current_id` reads them. Plain
//! thread-local `Cell`s: no allocation, no synchronisation.

use std::cell::Cell;

/// Task id meaning "no task is being polled on this thread".
pub const NO_TASK: u64 = 0;
/// Worker id meaning "this thread is not a runtime worker".
pub const NO_WORKER: u32 = u32::MAX;

thread_local! {
    static TASK: Cell<u64> = const { Cell::new(NO_TASK) };
    static WORKER: Cell<u32> = const { Cell::new(NO_WORKER) };
}

/// The id of the task being polled on this thread, or [`NO_TASK`].
#[inline]
pub fn current_task() -> u64 {
    TASK.try_with(Cell::get).unwrap_or(NO_TASK)
}

/// Sets the task being polled on this thread and returns the previous one, so that nested polls
/// (`block_on` inside a blocking section) restore it.
#[inline]
pub fn set_current_task(id: u64) -> u64 {
    TASK.try_with(|t| t.replace(id)).unwrap_or(NO_TASK)
}

/// The id of the runtime worker running on this thread, or [`NO_WORKER`].
#[inline]
pub fn current_worker() -> u32 {
    WORKER.try_with(Cell::get).unwrap_or(NO_WORKER)
}

/// Marks this thread as runtime worker `id` (or [`NO_WORKER`]); returns the previous value.
#[inline]
pub fn set_current_worker(id: u32) -> u32 {
    WORKER.try_with(|w| w.replace(id)).unwrap_or(NO_WORKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_context_nests_and_restores() {
        assert_eq!(current_task(), NO_TASK);
        let prev = set_current_task(7);
        assert_eq!(prev, NO_TASK);
        let inner_prev = set_current_task(9);
        assert_eq!(inner_prev, 7);
        assert_eq!(current_task(), 9);
        set_current_task(inner_prev);
        assert_eq!(current_task(), 7);
        set_current_task(prev);
        assert_eq!(current_task(), NO_TASK);
    }

    #[test]
    fn worker_context_is_per_thread() {
        set_current_worker(3);
        let other = std::thread::spawn(current_worker).join().unwrap();
        assert_eq!(other, NO_WORKER);
        assert_eq!(current_worker(), 3);
        set_current_worker(NO_WORKER);
    }
}
