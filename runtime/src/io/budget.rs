//! The coop budget for the IO util futures (`copy`, `read_exact`, `read_to_end`, `read_line`,
//! `write_all`, ...): each step of their loops spends one unit, so a task that pumps
//! always-ready in-memory readers and writers still gives its worker back, as a socket
//! operation would.

use std::task::{ready, Context, Poll};

/// Runs one step `op` of a util future's loop, paid for with one unit of the task's budget.
///
/// With the budget spent it returns `Pending` (the task is woken to run again later) without
/// calling `op`; a step that is itself `Pending` gets its unit back.
#[inline]
pub(crate) fn poll_step<T>(
    cx: &mut Context<'_>,
    op: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let coop = ready!(crate::coop::poll_proceed(cx));
    let out = op(cx);
    if out.is_ready() {
        coop.made_progress();
    }
    out
}
