//! `MaybeDone`: a future, then its output, then nothing: the slot `join!` keeps per branch.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// One branch of a `join!`: polled until it completes, its output kept until taken.
#[doc(hidden)]
pub enum MaybeDone<F: Future> {
    Pending(F),
    Done(F::Output),
    Taken,
}

impl<F: Future> MaybeDone<F> {
    pub fn new(future: F) -> Self {
        MaybeDone::Pending(future)
    }

    /// Polls the future if it is still running; `Ready` once the output is in.
    pub fn poll_branch(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the future is pinned in place (structural pinning of `Pending`'s field); it
        // is only ever dropped in place, when the variant is overwritten below.
        let this = unsafe { self.get_unchecked_mut() };
        if let MaybeDone::Pending(future) = this {
            // SAFETY: see above; `this` is never moved while it holds the future.
            let output = std::task::ready!(unsafe { Pin::new_unchecked(future) }.poll(cx));
            *this = MaybeDone::Done(output);
        }
        Poll::Ready(())
    }

    /// Takes the output; `None` before completion or once taken.
    pub fn take_output(self: Pin<&mut Self>) -> Option<F::Output> {
        // SAFETY: only the `Done` variant is moved out of, and it holds no pinned data.
        let this = unsafe { self.get_unchecked_mut() };
        match this {
            MaybeDone::Done(_) => match std::mem::replace(this, MaybeDone::Taken) {
                MaybeDone::Done(output) => Some(output),
                _ => unreachable!("matched Done just above"),
            },
            _ => None,
        }
    }
}

impl<T, E, F: Future<Output = Result<T, E>>> MaybeDone<F> {
    /// Whether the branch completed with an error (that `try_join!` returns at once).
    pub fn is_err(&self) -> bool {
        matches!(self, MaybeDone::Done(Err(_)))
    }

    /// The `Ok` value of a completed branch.
    pub fn take_ok(self: Pin<&mut Self>) -> Option<T> {
        self.take_output().and_then(Result::ok)
    }

    /// The error of a branch that failed.
    pub fn take_err(self: Pin<&mut Self>) -> Option<E> {
        self.take_output().and_then(Result::err)
    }
}
