//! Waiting on a channel: the node a parked operation embeds in its own future, the intrusive
//! list that links such nodes, and the locked wait queue the lock-free flavours park on.
//!
//! * [`list`]: [`Waiter`] (the node and its [`WaitState`]) and [`List`], the intrusive doubly
//!   linked list, unsynchronised (its owner holds a lock: a [`WaitQueue`], or the rendezvous
//!   flavour's own).
//! * [`queue`]: [`WaitQueue`], a [`List`] behind a mutex plus the length mirror the flavours'
//!   fast paths read without the lock.
//!
//! A waiter is a node embedded in the operation's own future; the future is pinned, so the
//! node has a stable address and the queue links it in place. Registering, waking and leaving
//! therefore allocate nothing: the only allocation a waiter ever causes is the waker's, which
//! for a runtime task is a reference count and for a blocking thread is made once per thread
//! (see `block_on.rs`).
//!
//! # Invariants
//!
//! * A node's links, waker, and (rendezvous) value slot and claim are touched by anyone but
//!   the node's owner only while the list's lock is held and the node is linked.
//! * `state` is written under the lock (`Linked` on registration, `Notified`/`Completed` when
//!   a waker unlinks it) and read by the owner without the lock. A notifier takes the waker
//!   and unlinks the node *before* its Release store of `Notified`; after that store it never
//!   touches the node again, so an owner that reads `Notified` with Acquire owns the node
//!   outright and may drop it.
//! * A node is unlinked before its future's memory is released: the future's `Drop` calls
//!   [`WaitQueue::deregister`] (pinning guarantees `Drop` runs before the memory is reused).
//! * A notification handed to a waiter that will not act on it (its future is dropped while
//!   `Notified`) is passed on to the next waiter by the owner, so no message or free slot is
//!   stranded behind a cancelled waiter.
//! * A queue's `len` mirrors its list's length; it is stored under the lock with SeqCst and
//!   read on the channels' fast paths with SeqCst (see the flavours for the no-lost-wake-up
//!   argument).

pub(crate) mod list;
pub(crate) mod queue;

pub(crate) use list::{drain_batch, List, WaitState, Waiter};
pub(crate) use queue::WaitQueue;
