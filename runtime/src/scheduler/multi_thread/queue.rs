//! A worker's local run queue: a fixed ring of [`CAPACITY`] tasks, allocated once.
//!
//! The owning worker pushes at the tail and pops at the head; other workers steal half of it
//! from the head. Nothing here allocates after construction: a full ring moves half of its
//! tasks to the injector in one batch instead of growing.
//!
//! Invariants:
//! - `tail` is written only by the owner. `head` packs two ring indices, `steal` (high 32 bits)
//!   and `real` (low 32 bits); indices wrap at 2^32, the slot is `index % CAPACITY`.
//! - Slots `real .. tail` hold tasks ready to be popped or stolen.
//! - While a thief copies tasks out, `steal < real`: slots `steal .. real` are claimed by that
//!   thief, still being read, and must not be overwritten. Otherwise `steal == real`. At most
//!   one steal is in progress at a time.
//! - The owner may push while `tail - steal < CAPACITY`, so it never overwrites a slot that a
//!   thief has not finished reading.

use std::mem::MaybeUninit;

use crate::scheduler::inject::Inject;
use crate::sync::{Arc, AtomicU32, AtomicU64, Ordering, UnsafeCell};
use crate::task::raw::RawTask;

/// Tasks a local queue holds. Four under loom, so that the models can fill the ring.
pub(crate) const CAPACITY: usize = if cfg!(loom) { 4 } else { 256 };
const MASK: u32 = CAPACITY as u32 - 1;

struct Inner {
    head: AtomicU64,
    tail: AtomicU32,
    buffer: Box<[UnsafeCell<MaybeUninit<RawTask>>]>,
}

// SAFETY: the slots are handed between threads under the protocol above (a slot is written by
// the owner before the Release store of `tail` and read by the one thread that claimed it
// through a CAS on `head`), and `RawTask` is `Send`.
unsafe impl Send for Inner {}
// SAFETY: as above.
unsafe impl Sync for Inner {}

/// The owner's end. Not `Clone`: one worker owns it.
pub(crate) struct Local {
    inner: Arc<Inner>,
}

/// The thieves' end.
#[derive(Clone)]
pub(crate) struct Stealer {
    inner: Arc<Inner>,
}

fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

pub(crate) fn new() -> (Local, Stealer) {
    let buffer = (0..CAPACITY)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let inner = Arc::new(Inner {
        head: AtomicU64::new(0),
        tail: AtomicU32::new(0),
        buffer,
    });
    (
        Local {
            inner: inner.clone(),
        },
        Stealer { inner },
    )
}

impl Inner {
    fn len(&self) -> usize {
        // Acquire on both: a consistent enough snapshot for a length hint.
        let (_, real) = unpack(self.head.load(Ordering::Acquire));
        let tail = self.tail.load(Ordering::Acquire);
        tail.wrapping_sub(real) as usize
    }

    /// # Safety
    /// The caller owns slot `index` under the protocol (claimed and not yet released).
    unsafe fn take(&self, index: u32) -> RawTask {
        self.buffer[(index & MASK) as usize]
            // SAFETY: the slot was written before it became claimable and is read once.
            .with(|slot| unsafe { (*slot).assume_init_read() })
    }

    /// # Safety
    /// The caller is the owner and slot `index` is free (`index - steal < CAPACITY`).
    unsafe fn put(&self, index: u32, task: RawTask) {
        self.buffer[(index & MASK) as usize]
            // SAFETY: the slot is free: no reader can observe it until `tail` moves past it.
            .with_mut(|slot| unsafe { (*slot).write(task) });
    }
}

impl Local {
    pub(crate) fn len(&self) -> usize {
        self.inner.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Room left before a push overflows.
    pub(crate) fn remaining(&self) -> usize {
        let (steal, _) = unpack(self.inner.head.load(Ordering::Acquire));
        // Relaxed: only the owner writes `tail`.
        let tail = self.inner.tail.load(Ordering::Relaxed);
        CAPACITY - tail.wrapping_sub(steal) as usize
    }

    /// Pushes `task`; when the ring is full, moves half of it plus `task` to the injector.
    pub(crate) fn push_back(&mut self, task: RawTask, overflow: &Inject) {
        let mut task = task;
        loop {
            // Acquire: a thief's release of its claim must happen before we reuse those slots.
            let head = self.inner.head.load(Ordering::Acquire);
            let (steal, real) = unpack(head);
            // Relaxed: only the owner writes `tail`.
            let tail = self.inner.tail.load(Ordering::Relaxed);
            if (tail.wrapping_sub(steal) as usize) < CAPACITY {
                // SAFETY: we are the owner and the slot is free (checked just above).
                unsafe { self.inner.put(tail, task) };
                // Release: the slot's contents are visible to whoever sees the new tail.
                self.inner
                    .tail
                    .store(tail.wrapping_add(1), Ordering::Release);
                return;
            }
            if steal != real {
                // Full while a thief copies: it is about to free room, but do not wait for
                // it; this one task goes to the injector.
                overflow.push(task);
                return;
            }
            match self.move_half(real, tail, task, overflow) {
                Ok(()) => return,
                Err(t) => task = t,
            }
        }
    }

    /// Claims the older half of a full ring for the injector (the cold path of `push_back`).
    #[cold]
    fn move_half(
        &mut self,
        real: u32,
        tail: u32,
        task: RawTask,
        overflow: &Inject,
    ) -> Result<(), RawTask> {
        let half = (CAPACITY / 2) as u32;
        debug_assert_eq!(tail.wrapping_sub(real) as usize, CAPACITY);
        let next = pack(real.wrapping_add(half), real.wrapping_add(half));
        // AcqRel: claims the slots against thieves (who CAS the same word).
        if self
            .inner
            .head
            .compare_exchange(pack(real, real), next, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            // A thief took some tasks meanwhile: there is room now.
            return Err(task);
        }
        let inner = &self.inner;
        let batch = (0..half)
            // SAFETY: the CAS above made slots real .. real+half ours.
            .map(|i| unsafe { inner.take(real.wrapping_add(i)) })
            .chain(std::iter::once(task));
        overflow.push_batch(batch);
        Ok(())
    }

    /// Takes the oldest task.
    pub(crate) fn pop(&mut self) -> Option<RawTask> {
        // Acquire: pairs with thieves' CAS so that we never take a slot they claimed.
        let mut head = self.inner.head.load(Ordering::Acquire);
        let index = loop {
            let (steal, real) = unpack(head);
            // Relaxed: only the owner writes `tail`.
            let tail = self.inner.tail.load(Ordering::Relaxed);
            if real == tail {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // With no steal in progress both indices move together.
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                pack(steal, next_real)
            };
            // AcqRel: claims slot `real` against thieves.
            match self.inner.head.compare_exchange_weak(
                head,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the CAS gave us slot `index`.
        Some(unsafe { self.inner.take(index) })
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        // Queued references are released (the tasks are shut down through the owned list).
        while self.pop().is_some() {}
    }
}

impl Stealer {
    pub(crate) fn is_empty(&self) -> bool {
        self.inner.len() == 0
    }

    /// Steals half of this queue into `dst` (the thief's own, empty queue) and returns one of
    /// the stolen tasks to run now. Returns how many tasks were taken in total with it.
    pub(crate) fn steal_into(&self, dst: &mut Local) -> Option<(RawTask, usize)> {
        let room = dst.remaining() as u32;
        // Phase 1: claim `steal .. steal+n` by advancing `real` while `steal` stays.
        // Acquire: see the owner's writes to the slots below `tail`.
        let mut head = self.inner.head.load(Ordering::Acquire);
        let (first, n, claimed) = loop {
            let (steal, real) = unpack(head);
            if steal != real {
                // Another thief is copying; try elsewhere.
                return None;
            }
            // Acquire: the slots below `tail` were written before it was published.
            let tail = self.inner.tail.load(Ordering::Acquire);
            let available = tail.wrapping_sub(real);
            let n = (available - available / 2).min(room);
            if n == 0 {
                return None;
            }
            let next = pack(steal, real.wrapping_add(n));
            // AcqRel: the claim orders against the owner's pops and other thieves.
            match self.inner.head.compare_exchange_weak(
                head,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break (real, n, next),
                Err(actual) => head = actual,
            }
        };

        // Phase 2: copy the claimed tasks into the thief's ring (its owner is us).
        // Relaxed: we own `dst.tail`.
        let dst_tail = dst.inner.tail.load(Ordering::Relaxed);
        for i in 0..n {
            // SAFETY: slots first..first+n are claimed by us; dst has `room >= n` free slots
            // and we are its owner.
            unsafe {
                let task = self.inner.take(first.wrapping_add(i));
                dst.inner.put(dst_tail.wrapping_add(i), task);
            }
        }

        // Phase 3: release the claim: `steal` catches up with `real` (which the owner may
        // have advanced meanwhile by popping).
        let mut head = claimed;
        loop {
            let (_, real) = unpack(head);
            // AcqRel: Release orders our reads of the slots before the owner reuses them.
            match self.inner.head.compare_exchange_weak(
                head,
                pack(real, real),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => head = actual,
            }
        }

        // Run the last stolen task now; publish the others in the thief's queue.
        let last = dst_tail.wrapping_add(n - 1);
        // SAFETY: we wrote slot `last` above and have not published it.
        let task = unsafe { dst.inner.take(last) };
        if n > 1 {
            // Release: the copied slots are visible to whoever sees the new tail.
            dst.inner.tail.store(last, Ordering::Release);
        }
        Some((task, n as usize))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::scheduler;
    use crate::task::raw::RawTask;

    /// A task that is never polled: the queue only moves references around.
    fn task(handle: &scheduler::Handle) -> RawTask {
        RawTask::new(async {}, crate::task::Id::next(), handle.clone(), false)
    }

    fn with_handle(f: impl FnOnce(&scheduler::Handle)) {
        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        f(&rt.handle().inner);
    }

    fn id_of(t: &RawTask) -> u64 {
        t.id().0
    }

    #[test]
    fn fifo_push_pop() {
        with_handle(|h| {
            let (mut local, _stealer) = new();
            let tasks: Vec<RawTask> = (0..10).map(|_| task(h)).collect();
            let ids: Vec<u64> = tasks.iter().map(id_of).collect();
            let inject = Inject::new();
            for t in tasks {
                local.push_back(t, &inject);
            }
            assert!(inject.is_empty(), "no overflow at 10");
            let popped: Vec<u64> = std::iter::from_fn(|| local.pop())
                .map(|t| id_of(&t))
                .collect();
            assert_eq!(popped, ids);
            // Unowned test tasks hold two references each; the queue dropped one.
            assert!(local.is_empty());
        });
    }

    #[test]
    fn overflow_moves_half_and_keeps_order() {
        with_handle(|h| {
            let (mut local, _stealer) = new();
            let inject = Inject::new();
            let mut ids = Vec::new();
            for _ in 0..=CAPACITY {
                let t = task(h);
                ids.push(id_of(&t));
                local.push_back(t, &inject);
            }
            let mut consumer = inject
                .try_consume()
                .expect("the overflow went to the injector");
            let spilled: Vec<u64> = std::iter::from_fn(|| consumer.pop())
                .map(|t| id_of(&t))
                .collect();
            // The oldest half and the task that did not fit went to the injector, in order.
            assert_eq!(spilled.len(), CAPACITY / 2 + 1);
            assert_eq!(spilled[..CAPACITY / 2], ids[..CAPACITY / 2]);
            assert_eq!(*spilled.last().unwrap(), ids[CAPACITY]);
            let rest: Vec<u64> = std::iter::from_fn(|| local.pop())
                .map(|t| id_of(&t))
                .collect();
            assert_eq!(rest, ids[CAPACITY / 2..CAPACITY]);
        });
    }

    #[test]
    fn steal_takes_the_older_half() {
        with_handle(|h| {
            let (mut victim, stealer) = new();
            let (mut thief, _) = new();
            let ids: Vec<u64> = (0..9)
                .map(|_| {
                    let t = task(h);
                    let id = id_of(&t);
                    victim.push_back(t, &Inject::new());
                    id
                })
                .collect();
            let (first, n) = stealer.steal_into(&mut thief).expect("work to steal");
            assert_eq!(n, 5);
            // The thief runs the newest of its batch now; the others wait in its queue.
            assert_eq!(id_of(&first), ids[4]);
            let thief_rest: Vec<u64> = std::iter::from_fn(|| thief.pop())
                .map(|t| id_of(&t))
                .collect();
            assert_eq!(thief_rest, ids[..4]);
            let victim_rest: Vec<u64> = std::iter::from_fn(|| victim.pop())
                .map(|t| id_of(&t))
                .collect();
            assert_eq!(victim_rest, ids[5..]);
            assert!(stealer.steal_into(&mut thief).is_none());
        });
    }

    #[test]
    fn concurrent_steals_and_pops_lose_and_duplicate_nothing() {
        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let h = rt.handle().inner.clone();
        let (mut owner, stealer) = new();
        let total = 20_000usize;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::with_capacity(total)));
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let stealer = stealer.clone();
                let seen = seen.clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    let (mut mine, _) = new();
                    loop {
                        let finished = done.load(std::sync::atomic::Ordering::Acquire);
                        if let Some((t, _)) = stealer.steal_into(&mut mine) {
                            let mut s = seen.lock().unwrap();
                            s.push(id_of(&t));
                            while let Some(t) = mine.pop() {
                                s.push(id_of(&t));
                            }
                        } else if finished {
                            break;
                        }
                    }
                })
            })
            .collect();
        let inject = Inject::new();
        let mut pushed = Vec::with_capacity(total);
        for i in 0..total {
            let t = task(&h);
            pushed.push(id_of(&t));
            owner.push_back(t, &inject);
            if i % 3 == 0 {
                if let Some(t) = owner.pop() {
                    seen.lock().unwrap().push(id_of(&t));
                }
            }
        }
        while let Some(t) = owner.pop() {
            seen.lock().unwrap().push(id_of(&t));
        }
        done.store(true, std::sync::atomic::Ordering::Release);
        for t in thieves {
            t.join().unwrap();
        }
        let mut all = seen.lock().unwrap().clone();
        if let Some(mut c) = inject.try_consume() {
            all.extend(std::iter::from_fn(|| c.pop()).map(|t| id_of(&t)));
        }
        all.sort_unstable();
        pushed.sort_unstable();
        assert_eq!(all, pushed, "every task comes out exactly once");
    }
}
