//! The runtime hook this crate uses: the coop budget.
//!
//! Under `--cfg loom` the crate is built without the runtime (the loom models check its own
//! synchronisation on loom's executor), and the budget is a no-op stand-in.

#[cfg(not(loom))]
pub(crate) use weir_runtime::coop;

#[cfg(loom)]
pub(crate) mod coop {
    use std::task::{Context, Poll};

    /// Stand-in for the runtime's guard: there is no budget to refund.
    pub(crate) struct RestoreOnPending;

    impl RestoreOnPending {
        pub(crate) fn made_progress(&self) {}
    }

    /// Stand-in for `weir_runtime::coop::poll_proceed`: always proceeds.
    pub(crate) fn poll_proceed(_cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
        Poll::Ready(RestoreOnPending)
    }
}

/// Spends one unit of the task's budget for an operation that completes without waiting
/// (a send on a watch or broadcast channel, a receive that finds a value at once), so a
/// loop of such operations still yields the worker.
pub(crate) async fn spend_budget() {
    std::future::poll_fn(|cx| {
        let restore = std::task::ready!(coop::poll_proceed(cx));
        restore.made_progress();
        std::task::Poll::Ready(())
    })
    .await
}
