//! `join!` and `try_join!`: await several futures at once, on the current task.
//!
//! The futures live in one pinned tuple of [`MaybeDone`](super::support::MaybeDone) slots. A
//! first normalising pass pairs each future with one `_` per future before it, so that the
//! expansion can reach slot `n` with the pattern `(_, _, .., slot, ..)`, without counting.

/// Waits for every future and returns their outputs as a tuple, in the order given. The
/// futures run concurrently on the calling task (not in parallel: use `spawn` for that).
///
/// ```
/// # weir_runtime::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (a, b) = weir_runtime::join!(async { 1 }, async { "two" });
/// assert_eq!((a, b), (1, "two"));
/// # });
/// ```
#[macro_export]
macro_rules! join {
    // Normalised: `( skip.. ) future,` per branch.
    (@ { ( $($count:tt)* ) $( ( $($skip:tt)* ) $fut:expr, )* }) => {{
        use $crate::macros::support::{poll_fn, MaybeDone, Pin, Poll};
        let mut futures = ::core::pin::pin!(( $( MaybeDone::new($fut), )* ));
        poll_fn(|cx| {
            let mut all_done = true;
            $(
                // SAFETY: structural pinning: the slot is projected in place, never moved.
                let ( $($skip,)* slot, .. ) = unsafe { futures.as_mut().get_unchecked_mut() };
                let slot = unsafe { Pin::new_unchecked(slot) };
                all_done &= slot.poll_branch(cx).is_ready();
            )*
            if !all_done {
                return Poll::Pending;
            }
            Poll::Ready(( $({
                // SAFETY: as above.
                let ( $($skip,)* slot, .. ) = unsafe { futures.as_mut().get_unchecked_mut() };
                unsafe { Pin::new_unchecked(slot) }
                    .take_output()
                    .expect("weir::join!: a completed branch holds its output")
            }, )*))
        })
        .await
    }};
    // One more future: it skips every future before it.
    (@ { ( $($count:tt)* ) $( ( $($skip:tt)* ) $done:expr, )* } $next:expr, $($rest:tt)*) => {
        $crate::join!(@ { ( $($count)* _ ) $( ( $($skip)* ) $done, )* ( $($count)* ) $next, } $($rest)*)
    };
    () => { async {}.await };
    ($($fut:expr),+ $(,)?) => {
        $crate::join!(@ { () } $($fut,)+)
    };
}

/// Waits for every future, each returning a `Result` with the same error type: `Ok` of the
/// tuple of their values, or the first error at once (the other futures are dropped).
///
/// ```
/// # weir_runtime::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ok: Result<(i32, i32), &str> = weir_runtime::try_join!(async { Ok(1) }, async { Ok(2) });
/// assert_eq!(ok, Ok((1, 2)));
/// let err: Result<(i32, i32), &str> =
///     weir_runtime::try_join!(async { Ok(1) }, async { Err("no") });
/// assert_eq!(err, Err("no"));
/// # });
/// ```
#[macro_export]
macro_rules! try_join {
    (@ { ( $($count:tt)* ) $( ( $($skip:tt)* ) $fut:expr, )* }) => {{
        use $crate::macros::support::{poll_fn, MaybeDone, Pin, Poll};
        let mut futures = ::core::pin::pin!(( $( MaybeDone::new($fut), )* ));
        poll_fn(|cx| {
            let mut all_done = true;
            $(
                // SAFETY: structural pinning: the slot is projected in place, never moved.
                let ( $($skip,)* slot, .. ) = unsafe { futures.as_mut().get_unchecked_mut() };
                let mut slot = unsafe { Pin::new_unchecked(slot) };
                if slot.as_mut().poll_branch(cx).is_ready() {
                    if slot.is_err() {
                        return Poll::Ready(::core::result::Result::Err(
                            slot.take_err().expect("weir::try_join!: a failed branch holds its error"),
                        ));
                    }
                } else {
                    all_done = false;
                }
            )*
            if !all_done {
                return Poll::Pending;
            }
            Poll::Ready(::core::result::Result::Ok(( $({
                // SAFETY: as above.
                let ( $($skip,)* slot, .. ) = unsafe { futures.as_mut().get_unchecked_mut() };
                unsafe { Pin::new_unchecked(slot) }
                    .take_ok()
                    .expect("weir::try_join!: a completed branch holds its value")
            }, )*)))
        })
        .await
    }};
    (@ { ( $($count:tt)* ) $( ( $($skip:tt)* ) $done:expr, )* } $next:expr, $($rest:tt)*) => {
        $crate::try_join!(@ { ( $($count)* _ ) $( ( $($skip)* ) $done, )* ( $($count)* ) $next, } $($rest)*)
    };
    () => { async { ::core::result::Result::Ok(()) }.await };
    ($($fut:expr),+ $(,)?) => {
        $crate::try_join!(@ { () } $($fut,)+)
    };
}
