//! The cooperative budget.
//!
//! Every task poll gets [`BUDGET`] units. Channel, timer, IO and join operations spend one unit
//! through [`poll_proceed`]; when the budget is spent they return `Pending` after waking the
//! task, so a task that loops on always-ready operations still gives the worker back. Outside a
//! task (plain threads) the budget is unlimited.
//!
//! The budget lives in a thread-local `Cell`: spending it is a load and a store, no atomics.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use weir_probes::{probe, Event, YieldReason};

/// Units each task poll starts with.
pub const BUDGET: u8 = 128;

/// `None` means unconstrained.
#[derive(Clone, Copy)]
struct Budget(Option<u8>);

crate::sync::thread_local! {
    static CURRENT: Cell<Budget> = const { Cell::new(Budget(None)) };
    static FORCED_YIELDS: Cell<u64> = const { Cell::new(0) };
}

/// Runs `f` (one poll) with a fresh budget, restoring the previous one afterwards.
#[inline]
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    with_value(Budget(Some(BUDGET)), f)
}

#[inline]
fn with_value<R>(budget: Budget, f: impl FnOnce() -> R) -> R {
    struct Reset(Budget);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = CURRENT.try_with(|c| c.set(self.0));
        }
    }
    let prev = CURRENT
        .try_with(|c| c.replace(budget))
        .unwrap_or(Budget(None));
    let _reset = Reset(prev);
    f()
}

/// Forced yields on this thread since the last call (the worker folds them into metrics).
pub(crate) fn take_forced_yields() -> u64 {
    FORCED_YIELDS.try_with(|c| c.replace(0)).unwrap_or(0)
}

/// Spends one unit of the current task's budget.
///
/// Returns `Pending` (after waking the task so it is re-scheduled) when the budget is spent.
/// On `Ready`, an operation that then fails to make progress should drop the guard, which
/// refunds the unit; one that succeeds calls [`RestoreOnPending::made_progress`].
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    let spent = CURRENT.try_with(|c| {
        let budget = c.get();
        match budget.0 {
            None => Some(budget),
            Some(0) => None,
            Some(n) => {
                c.set(Budget(Some(n - 1)));
                Some(budget)
            }
        }
    });
    match spent {
        Ok(Some(before)) => Poll::Ready(RestoreOnPending(Cell::new(Some(before)))),
        Ok(None) => {
            let _ = FORCED_YIELDS.try_with(|c| c.set(c.get() + 1));
            probe!(Event::Yield {
                reason: YieldReason::Budget
            });
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        // Thread-local storage is being torn down: no budget applies.
        Err(_) => Poll::Ready(RestoreOnPending(Cell::new(None))),
    }
}

/// Refunds the unit taken by [`poll_proceed`] unless the operation made progress.
#[must_use = "dropping the guard refunds the budget unit; call made_progress() on success"]
pub struct RestoreOnPending(Cell<Option<Budget>>);

impl RestoreOnPending {
    /// The operation completed: keep the unit spent.
    #[inline]
    pub fn made_progress(&self) {
        self.0.set(None);
    }
}

impl Drop for RestoreOnPending {
    // Inline: it runs after every budgeted operation, and across crates a plain function is
    // a call (an unspent unit is a store, a spent one nothing).
    #[inline]
    fn drop(&mut self) {
        if let Some(before) = self.0.get() {
            let _ = CURRENT.try_with(|c| c.set(before));
        }
    }
}

/// True when the current task still has budget (always true outside a task).
pub fn has_budget_remaining() -> bool {
    CURRENT.try_with(|c| c.get().0 != Some(0)).unwrap_or(true)
}

/// Spends one unit of budget, yielding if it is exhausted. For loops that do work without
/// touching any weir resource.
pub async fn consume_budget() {
    std::future::poll_fn(|cx| {
        let restore = std::task::ready!(poll_proceed(cx));
        restore.made_progress();
        Poll::Ready(())
    })
    .await
}

/// Runs `f` with no budget: a look that must not be refused by a spent budget.
pub(crate) fn unconstrained<R>(f: impl FnOnce() -> R) -> R {
    with_value(Budget(None), f)
}

/// Runs `future` with no budget: its operations never force a yield. See
/// [`crate::task::unconstrained`].
pub(crate) fn poll_unconstrained<F: Future>(
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<F::Output> {
    with_value(Budget(None), || future.poll(cx))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn budget_runs_out_and_refunds() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            for _ in 0..BUDGET {
                let g = match poll_proceed(&mut cx) {
                    Poll::Ready(g) => g,
                    Poll::Pending => panic!("budget ran out early"),
                };
                g.made_progress();
            }
            assert!(!has_budget_remaining());
            assert!(poll_proceed(&mut cx).is_pending());
            assert_eq!(take_forced_yields(), 1);
        });
        // A refund: the guard dropped without progress gives the unit back.
        with_budget(|| {
            drop(poll_proceed(&mut cx));
            let left = CURRENT.with(|c| c.get().0);
            assert_eq!(left, Some(BUDGET));
        });
    }

    #[test]
    fn outside_a_task_the_budget_is_unlimited() {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..1000 {
            match poll_proceed(&mut cx) {
                Poll::Ready(g) => g.made_progress(),
                Poll::Pending => panic!("a plain thread has no budget"),
            }
        }
    }
}
