//! The declarative macros a tokio program uses at the crate root: [`join!`](crate::join),
//! [`try_join!`](crate::try_join), [`pin!`](crate::pin) and
//! [`task_local!`](crate::task_local). They expand to plain futures over [`support`].

mod join;
mod maybe_done;
mod pin;
pub(crate) mod task_local;

/// What the macros' expansions name; not an API.
#[doc(hidden)]
pub mod support {
    pub use super::maybe_done::MaybeDone;
    pub use std::future::poll_fn;
    pub use std::pin::Pin;
    pub use std::task::Poll;
}
