//! A fixed-size, lock-free event ring: any number of producers, one collector, drop-oldest.
//!
//! Each slot holds a sequence word and [`WORDS`] payload words, all atomics (so a collector
//! reading a slot that a producer overwrites sees a torn *value* it then discards, never
//! undefined behaviour). The protocol, for position `p` in slot `p % N`:
//!
//! * a producer claims `p` with one `fetch_add` on `head`, then moves the slot's sequence from
//!   an even value below `2p + 1` to `2p + 1` (writing) by CAS. If the CAS fails the slot is
//!   being written by a producer one lap behind: the event is dropped (counted), nothing
//!   waits. It stores the payload (relaxed) and publishes it with `seq = 2p + 2` (release).
//! * the collector keeps its own cursor `tail`. Positions more than `N` behind `head` were
//!   overwritten: it skips them and counts them dropped (drop-oldest). For each position it
//!   reads `seq` (acquire); `2p + 2` means written: it copies the payload, fences (acquire)
//!   and reads `seq` again; an unchanged value means the copy is whole (a seqlock). A larger
//!   value means a later lap overwrote it (dropped). A smaller one means its producer has not
//!   finished: the collector stops there and resumes at the next collection.
//!
//! No allocation, no lock, no waiting on either side.

use super::sync::{fence, AtomicU64, Ordering};

/// Payload words per event.
pub const WORDS: usize = 5;

struct Slot {
    seq: AtomicU64,
    words: [AtomicU64; WORDS],
}

impl Slot {
    #[cfg(not(loom))]
    const fn new() -> Slot {
        Slot {
            seq: AtomicU64::new(0),
            words: [const { AtomicU64::new(0) }; WORDS],
        }
    }

    #[cfg(loom)]
    fn new() -> Slot {
        Slot {
            seq: AtomicU64::new(0),
            words: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// The ring of `N` slots (`N` a power of two).
pub struct Ring<const N: usize> {
    head: AtomicU64,
    dropped: AtomicU64,
    slots: [Slot; N],
}

/// The collector's position in one ring (owned by whoever collects, one at a time).
#[derive(Debug, Default, Clone, Copy)]
pub struct Cursor {
    tail: u64,
}

impl<const N: usize> Ring<N> {
    const MASK: u64 = {
        assert!(N.is_power_of_two(), "ring size must be a power of two");
        N as u64 - 1
    };

    /// An empty ring.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Ring {
            head: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            slots: [const { Slot::new() }; N],
        }
    }

    /// An empty ring.
    #[cfg(loom)]
    pub fn new() -> Self {
        Ring {
            head: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            slots: std::array::from_fn(|_| Slot::new()),
        }
    }

    /// Appends one event (never blocks; drops it if its slot is busy).
    #[inline]
    pub fn push(&self, words: [u64; WORDS]) {
        // Relaxed: the claim orders nothing by itself; the slot's sequence word publishes.
        let pos = self.head.fetch_add(1, Ordering::Relaxed);
        let slot = &self.slots[(pos & Self::MASK) as usize];
        let writing = 2 * pos + 1;
        // Relaxed: only the CAS below decides ownership of the slot.
        let seq = slot.seq.load(Ordering::Relaxed);
        // Acquire on success: the payload stores below come after the previous writer's (its
        // release of `seq`), so an overwrite cannot be reordered before the older write.
        if seq & 1 == 1
            || seq >= writing
            || slot
                .seq
                .compare_exchange(seq, writing, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            // Relaxed: a statistic.
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // Release fence: a collector that sees any payload store below (and then fences with
        // acquire) also sees `seq` odd or later, so it discards a copy torn by this write.
        fence(Ordering::Release);
        for (w, v) in slot.words.iter().zip(words) {
            // Relaxed: published by the release store of `seq` below.
            w.store(v, Ordering::Relaxed);
        }
        // Release: publishes the payload to a collector that reads `seq` with acquire.
        slot.seq.store(writing + 1, Ordering::Release);
    }

    /// Events dropped by producers (a busy slot) so far; overwritten ones are counted by
    /// [`Ring::drain`].
    // Read by the loom models; the collector's count (`drain`) already includes these.
    #[cfg_attr(not(loom), allow(dead_code))]
    pub fn producer_drops(&self) -> u64 {
        // Relaxed: a statistic.
        self.dropped.load(Ordering::Relaxed)
    }

    /// Hands every complete event after `cursor` to `f`, in order; returns how many events
    /// were lost since the last drain (overwritten before the collector read them).
    pub fn drain(&self, cursor: &mut Cursor, mut f: impl FnMut([u64; WORDS])) -> u64 {
        // Acquire: pairs with nothing by itself (each slot's `seq` publishes its payload);
        // it only bounds the positions to look at.
        let head = self.head.load(Ordering::Acquire);
        let mut lost = 0;
        if head.saturating_sub(cursor.tail) > N as u64 {
            lost += head - N as u64 - cursor.tail;
            cursor.tail = head - N as u64;
        }
        while cursor.tail < head {
            let pos = cursor.tail;
            let slot = &self.slots[(pos & Self::MASK) as usize];
            let done = 2 * pos + 2;
            // Acquire: pairs with the producer's release store of `done`.
            let seq = slot.seq.load(Ordering::Acquire);
            if seq < done {
                // Its producer has not finished (or gave the slot up): look again later. Not
                // lost: `pos` is one of the last `N` positions, so no later lap has claimed its
                // slot yet (a collection after one skips it above). Counting it lost when
                // `head - pos == N` dropped whole events that nothing had overwritten (found by
                // loom: a slow producer, or a stale read of `seq`).
                break;
            }
            cursor.tail += 1;
            if seq > done {
                lost += 1;
                continue;
            }
            let mut words = [0u64; WORDS];
            for (v, w) in words.iter_mut().zip(&slot.words) {
                // Relaxed: validated by the second read of `seq` after the fence.
                *v = w.load(Ordering::Relaxed);
            }
            // Acquire fence: the payload loads above happen before the re-read of `seq`, so
            // a producer that overwrote any of them has moved `seq` past `done` by then.
            fence(Ordering::Acquire);
            // Relaxed: ordered by the fence.
            if slot.seq.load(Ordering::Relaxed) != done {
                lost += 1;
                continue;
            }
            f(words);
        }
        lost
    }
}

#[cfg(loom)]
impl<const N: usize> Default for Ring<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn drains_in_order() {
        let r: Ring<8> = Ring::new();
        let mut c = Cursor::default();
        for i in 0..5 {
            r.push([i, 0, 0, 0, i * 10]);
        }
        let mut got = vec![];
        assert_eq!(r.drain(&mut c, |w| got.push(w[0])), 0);
        assert_eq!(got, [0, 1, 2, 3, 4]);
        // Nothing new: nothing delivered again.
        assert_eq!(r.drain(&mut c, |w| got.push(w[0])), 0);
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn overflow_drops_the_oldest_and_counts_them() {
        let r: Ring<8> = Ring::new();
        let mut c = Cursor::default();
        for i in 0..20 {
            r.push([i, 0, 0, 0, 0]);
        }
        let mut got = vec![];
        let lost = r.drain(&mut c, |w| got.push(w[0]));
        assert_eq!(lost, 12);
        assert_eq!(got, (12..20).collect::<Vec<_>>());
    }
}
