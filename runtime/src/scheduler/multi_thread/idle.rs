//! Who is asleep and who is searching.
//!
//! One word counts the unparked workers and, among them, the searching ones (looking for work
//! to steal). A new task wakes exactly one sleeper, and only when nobody is searching: a
//! searcher will find the task, and waking more would make a thundering herd. At most half the
//! workers search at once, so stealing cannot take over the machine.
//!
//! The lost-wake-up argument: a notifier pushes its task, then reads the word (SeqCst); a
//! searcher gives up by decrementing the word (SeqCst) and, if it was the last searcher,
//! re-checks every queue. Either the notifier sees a searcher that will re-check, or the
//! re-check sees the task.

use crate::sync::{fence, AtomicUsize, Mutex, Ordering};

const UNPARKED_SHIFT: u32 = 16;
const SEARCHING_MASK: usize = (1 << UNPARKED_SHIFT) - 1;
const UNPARKED_ONE: usize = 1 << UNPARKED_SHIFT;

pub(crate) struct Idle {
    /// `unparked << 16 | searching`.
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    workers: usize,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            state: AtomicUsize::new(workers << UNPARKED_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            workers,
        }
    }

    fn sleepers(&self) -> crate::sync::MutexGuard<'_, Vec<usize>> {
        self.sleepers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn should_wake(&self) -> bool {
        let s = self.state.load(Ordering::SeqCst);
        s & SEARCHING_MASK == 0 && (s >> UNPARKED_SHIFT) < self.workers
    }

    /// Picks a sleeper to wake for new work, counting it as unparked and searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_wake() {
            return None;
        }
        let mut sleepers = self.sleepers();
        // Re-check under the lock: another notifier may have woken someone meanwhile.
        if !self.should_wake() {
            return None;
        }
        let worker = sleepers.pop()?;
        // SeqCst: part of the notifier/searcher total order (see the module comment).
        self.state.fetch_add(UNPARKED_ONE | 1, Ordering::SeqCst);
        Some(worker)
    }

    /// A worker wants to steal. Refused when half the workers already search.
    pub(crate) fn transition_to_searching(&self) -> bool {
        let s = self.state.load(Ordering::SeqCst);
        if 2 * (s & SEARCHING_MASK) >= self.workers {
            return false;
        }
        self.state.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// A searching worker found work. True when it was the last searcher: the caller must
    /// then wake another worker so that remaining work keeps being found.
    pub(crate) fn transition_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(prev & SEARCHING_MASK > 0);
        prev & SEARCHING_MASK == 1
    }

    /// The worker goes to sleep. True when it was the last searcher: the caller must then
    /// re-check all queues before sleeping.
    pub(crate) fn transition_to_parked(&self, worker: usize, searching: bool) -> bool {
        let mut sleepers = self.sleepers();
        let dec = UNPARKED_ONE | usize::from(searching);
        let prev = self.state.fetch_sub(dec, Ordering::SeqCst);
        // SeqCst fence: orders the decrement before the caller's re-check of the queues, the
        // mirror of the notifier's fence between its push and its read of the word. (Loom checks
        // fences but treats SeqCst accesses as AcqRel, so the argument must rest on these.)
        fence(Ordering::SeqCst);
        sleepers.push(worker);
        searching && prev & SEARCHING_MASK == 1
    }

    /// A worker woke without being picked (timer, spurious, shutdown): take it off the
    /// sleeper list. True if it was still listed, i.e. nobody counted it as woken.
    pub(crate) fn unpark_self(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers();
        match sleepers.iter().position(|&w| w == worker) {
            Some(i) => {
                sleepers.swap_remove(i);
                self.state.fetch_add(UNPARKED_ONE, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Whether `worker` is on the sleeper list (nobody picked it yet).
    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        self.sleepers().contains(&worker)
    }

    #[cfg(test)]
    pub(crate) fn num_searching(&self) -> usize {
        self.state.load(Ordering::SeqCst) & SEARCHING_MASK
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn at_most_half_search() {
        let idle = Idle::new(4);
        assert!(idle.transition_to_searching());
        assert!(idle.transition_to_searching());
        assert!(!idle.transition_to_searching());
        assert!(!idle.transition_from_searching());
        assert!(idle.transition_from_searching());
    }

    #[test]
    fn one_sleeper_woken_per_notification_and_none_while_searching() {
        let idle = Idle::new(3);
        assert!(!idle.transition_to_parked(0, false));
        assert!(!idle.transition_to_parked(1, false));
        let woken = idle.worker_to_notify();
        assert!(woken.is_some());
        // The woken worker counts as searching: a second notification wakes nobody.
        assert_eq!(idle.worker_to_notify(), None);
        assert!(idle.transition_from_searching());
        assert!(idle.worker_to_notify().is_some());
        assert_eq!(idle.num_searching(), 1);
    }

    #[test]
    fn self_unpark_only_when_listed() {
        let idle = Idle::new(2);
        idle.transition_to_parked(1, false);
        assert!(idle.is_parked(1));
        assert!(idle.unpark_self(1));
        assert!(!idle.unpark_self(1));
        assert!(!idle.is_parked(1));
    }
}
