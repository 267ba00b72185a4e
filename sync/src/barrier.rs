//! A barrier for `n` tasks, with tokio's API: the `n`-th arrival is the leader and releases
//! the others; then the barrier is ready for the next round.

use std::fmt;

use crate::notify::Notify;
use crate::runtime_hooks::spend_budget;
use crate::sync::{self, Mutex};

/// Makes `n` tasks wait until all have arrived.
///
/// Waiting allocates nothing. A dropped `wait()` future leaves no waiter behind, but its
/// arrival still counts (as with tokio): the round completes when `n` arrivals were made.
///
/// ```
/// # weir_runtime::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap().block_on(async {
/// use std::sync::Arc;
/// let barrier = Arc::new(weir_sync::Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let b = barrier.clone();
///         weir_runtime::spawn(async move { b.wait().await.is_leader() })
///     })
///     .collect();
/// let mut leaders = 0;
/// for t in tasks {
///     leaders += t.await.unwrap() as usize;
/// }
/// assert_eq!(leaders, 1);
/// # });
/// ```
pub struct Barrier {
    n: usize,
    round: Mutex<Round>,
    released: Notify,
}

struct Round {
    arrived: usize,
    generation: u64,
}

/// What [`Barrier::wait`] returns: whether this task was the round's leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// True for exactly one task per round: the last to arrive.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` tasks. `n == 0` behaves as `n == 1` (as tokio's): every wait leads.
    pub fn new(n: usize) -> Self {
        Barrier {
            n: n.max(1),
            round: Mutex::new(Round {
                arrived: 0,
                generation: 0,
            }),
            released: Notify::new(),
        }
    }

    /// Arrives and waits until `n` tasks have arrived in this round.
    pub async fn wait(&self) -> BarrierWaitResult {
        spend_budget().await;
        let (generation, released) = {
            let mut round = sync::lock(&self.round);
            round.arrived += 1;
            if round.arrived == self.n {
                round.arrived = 0;
                round.generation += 1;
                drop(round);
                self.released.notify_waiters();
                return BarrierWaitResult(true);
            }
            // Created under the round's lock, so before the leader's `notify_waiters`, which
            // therefore completes it (a `Notified` waits from its creation).
            (round.generation, self.released.notified())
        };
        released.await;
        // Only a leader notifies, after moving the generation on.
        debug_assert_ne!(sync::lock(&self.round).generation, generation);
        BarrierWaitResult(false)
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").field("n", &self.n).finish()
    }
}
