//! The runtime hooks the channel uses: the coop budget.
//!
//! Under `--cfg loom` the channel is built without the runtime (the loom models check the
//! channel's own synchronisation, on loom's executor), and the budget is a no-op stand-in.

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

    /// Stand-in for `weir_runtime::coop::has_budget_remaining`: there is no budget.
    pub(crate) fn has_budget_remaining() -> bool {
        true
    }

    /// Stand-in for `weir_runtime::coop::poll_proceed`: always proceeds.
    pub(crate) fn poll_proceed(_cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
        Poll::Ready(RestoreOnPending)
    }
}
