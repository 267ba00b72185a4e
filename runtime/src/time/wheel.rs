//! Hierarchical timing wheel.
//!
//! A pure data structure: the time driver owns one, inserts timers by absolute deadline (whole
//! milliseconds since the driver's origin) and calls [`Wheel::advance`] with the current time to
//! fire the ones that are due. Nothing here reads a clock or wakes a task, and nothing allocates
//! per insert or remove once the slab has grown to the peak number of timers.
//!
//! # Layout
//!
//! Six levels of 64 slots. A slot at level `L` spans `64^L` ms: level 0 slots are 1 ms, level 1
//! slots 64 ms, ..., and one rotation of the top level spans `64^6 = 2^36` ms (about 795 days).
//!
//! Entries live in a `Slab`. Each slot is an intrusive doubly-linked list threaded through the
//! entries by slab key, so linking and unlinking is O(1) and allocates nothing. Each level keeps a
//! 64-bit occupancy bitmap, so the next non-empty slot is one `trailing_zeros`. One more list,
//! `pending`, holds armed entries whose deadline is not after `elapsed` (inserted already overdue,
//! or left over by an `advance` to a time before `elapsed`).
//!
//! # Invariants
//!
//! Write `e` for `elapsed`, `d` for an entry's deadline, `span(L) = 64^L` and `cur(L)` for the
//! slot of level `L` that `e` falls in, `(e >> 6L) & 63`.
//!
//! 1. An entry is armed iff it is linked into exactly one list; a disarmed entry is in none.
//! 2. An armed entry with `d <= e` is in `pending`, which is sorted by deadline. An armed entry
//!    with `d > e` is in a slot.
//! 3. Every occupied slot `s` of level `L` has an *expiration* `x`, the start of its next turn:
//!    the smallest multiple `x > e` of `span(L)` whose slot is `s`. Every entry in the slot has
//!    `x <= d`, so processing the slot at `x` never fires anything early.
//! 4. Below the top level an occupied slot is ahead of `cur(L)` in the current rotation of its
//!    level (`s > cur(L)`), and its entries have `d < x + span(L)`. The top level alone wraps: its
//!    slots form a ring ahead of `cur(TOP)`, and it may hold entries whose deadline lies beyond the
//!    ring (`d >= x + span(TOP)`), capped into the ring's last slot and re-cascaded from there.
//! 5. Bit `s` of `occupied[L]` is set iff slot `s` of level `L` is non-empty, and then `mins` of
//!    that slot lies in `x ..= min(d)` (exact until the entry with the minimum leaves the slot).
//!
//! By 4, entries of level `L` all fall inside the current slot of level `L + 1`, which ends
//! before the expiration of any occupied slot of level `L + 1`: the first occupied slot of the lowest non-empty level
//! is the next one due, and (top-level overflow aside) it holds the earliest deadline.
//!
//! `advance(now)` fires `pending` up to `now`, then repeatedly takes the next slot due while its
//! expiration is `<= now`: it sets `e` to that expiration and re-links every entry of the slot.
//! Those with `d == e` land in `pending` and fire on the next turn of the loop, the others move
//! to lower levels (or, beyond the span, further round the top level). Finally `e = max(e, now)`. Every slot still occupied then expires after `now`,
//! so moving `e` up to `now` keeps every slot ahead of `cur` and invariant 4 holds. The work is
//! proportional to the occupied slots passed over and the entries in them, never to the length
//! of the jump: empty time is skipped through the bitmaps. (An entry beyond the span costs one
//! re-cascade per rotation of the top level it waits through, about one per 795 days.)

use slab::Slab;

/// Number of levels.
const LEVELS: usize = 6;
/// The top level, the only one that wraps.
const TOP: usize = LEVELS - 1;
/// log2 of the number of slots per level.
const SLOT_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << SLOT_BITS;
/// Mask of a slot index.
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Milliseconds covered by one rotation of the top level: `2^36`.
const SPAN: u64 = 1 << (LEVELS as u32 * SLOT_BITS);
/// Index of the `pending` list in `Wheel::lists`; slot lists are at `level * SLOTS + slot`.
const PENDING: usize = LEVELS * SLOTS;
/// "No entry" in a link or a list end, and "no list" in `Entry::list` (disarmed).
const NONE: usize = usize::MAX;

/// Milliseconds spanned by one slot of `level`.
fn slot_span(level: usize) -> u64 {
    1 << (level as u32 * SLOT_BITS)
}

/// The slot of `level` that the instant `t` falls in.
fn slot_of(t: u64, level: usize) -> usize {
    ((t >> (level as u32 * SLOT_BITS)) & SLOT_MASK) as usize
}

/// The level where a deadline `d > elapsed` belongs: the one holding the highest bit in which
/// the two differ, so that `d` is in a later slot of the current rotation of that level.
/// Returns `LEVELS` or more when `d` lies beyond the current rotation of the top level.
fn level_for(elapsed: u64, deadline: u64) -> usize {
    debug_assert!(deadline > elapsed);
    let diff = elapsed ^ deadline;
    let bit = u64::BITS - 1 - diff.leading_zeros();
    (bit / SLOT_BITS) as usize
}

/// A timer: the owner's payload plus its place in one of the lists.
struct Entry<T> {
    value: T,
    deadline: u64,
    /// The list this entry is linked into, or `NONE` when disarmed.
    list: usize,
    prev: usize,
    next: usize,
}

/// Both ends of an intrusive list; `NONE` when empty.
#[derive(Clone, Copy)]
struct List {
    head: usize,
    tail: usize,
}

impl List {
    const EMPTY: List = List {
        head: NONE,
        tail: NONE,
    };
}

/// A hierarchical timing wheel of 1 ms resolution. See the module docs for the invariants.
pub(crate) struct Wheel<T> {
    entries: Slab<Entry<T>>,
    /// `LEVELS * SLOTS` slot lists, then `pending`.
    lists: Box<[List]>,
    /// Per slot, a lower bound on its deadlines (invariant 5); meaningful only while occupied.
    mins: Box<[u64]>,
    /// Per level, bit `s` set iff slot `s` is non-empty.
    occupied: [u64; LEVELS],
    /// The time the wheel has been advanced to.
    elapsed: u64,
    /// Number of armed entries.
    armed: usize,
    /// Slots processed by `advance`, to check that it skips empty time.
    #[cfg(test)]
    visits: u64,
}

impl<T> Wheel<T> {
    /// An empty wheel at time 0.
    pub(crate) fn new() -> Self {
        Wheel {
            entries: Slab::new(),
            lists: vec![List::EMPTY; PENDING + 1].into_boxed_slice(),
            mins: vec![0; PENDING].into_boxed_slice(),
            occupied: [0; LEVELS],
            elapsed: 0,
            armed: 0,
            #[cfg(test)]
            visits: 0,
        }
    }

    /// The time the wheel has been advanced to.
    #[cfg(test)]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Inserts an armed timer and returns its key. A deadline `<= elapsed()` is overdue and
    /// fires on the next `advance`.
    pub(crate) fn insert(&mut self, deadline: u64, value: T) -> usize {
        let key = self.entries.insert(Entry {
            value,
            deadline,
            list: NONE,
            prev: NONE,
            next: NONE,
        });
        self.link(key);
        self.armed += 1;
        key
    }

    /// The payload of `key`, armed or fired.
    #[cfg(test)]
    pub(crate) fn get(&self, key: usize) -> Option<&T> {
        self.entries.get(key).map(|e| &e.value)
    }

    /// The payload of `key`, armed or fired.
    pub(crate) fn get_mut(&mut self, key: usize) -> Option<&mut T> {
        self.entries.get_mut(key).map(|e| &mut e.value)
    }

    /// Whether `key` is present and has not fired since it was last armed.
    pub(crate) fn is_armed(&self, key: usize) -> bool {
        self.entries.get(key).is_some_and(|e| e.list != NONE)
    }

    /// The deadline `key` was last armed with, armed or fired.
    #[cfg(test)]
    pub(crate) fn deadline(&self, key: usize) -> Option<u64> {
        self.entries.get(key).map(|e| e.deadline)
    }

    /// Re-arms `key` with a new deadline, whether it is armed or has fired.
    ///
    /// # Panics
    ///
    /// If `key` is not in the wheel.
    pub(crate) fn reset(&mut self, key: usize, deadline: u64) {
        match self.entries.get(key).map(|e| e.list) {
            None => panic!("Wheel::reset: no timer with key {key}"),
            Some(NONE) => self.armed += 1,
            Some(_) => self.unlink(key),
        }
        self.entries[key].deadline = deadline;
        self.link(key);
    }

    /// Disarms `key` as if it had fired (nothing is called); a fired or absent key is left
    /// alone.
    pub(crate) fn disarm(&mut self, key: usize) {
        if self.entries.get(key).is_some_and(|e| e.list != NONE) {
            self.unlink(key);
            self.armed -= 1;
        }
    }

    /// Removes `key`, armed or fired, and returns its payload; its slab slot is reused.
    pub(crate) fn remove(&mut self, key: usize) -> Option<T> {
        if self.entries.get(key)?.list != NONE {
            self.unlink(key);
            self.armed -= 1;
        }
        Some(self.entries.remove(key).value)
    }

    /// Fires every armed entry with a deadline `<= now`, in non-decreasing deadline order, with
    /// `fire(key, &mut value)`, and moves the clock to `max(elapsed(), now)`. Fired entries stay
    /// in the wheel, disarmed, until removed.
    ///
    /// Time never goes backwards: with `now < elapsed()` the clock stays put, and the only
    /// entries that can fire are ones inserted already overdue with a deadline `<= now`.
    pub(crate) fn advance(&mut self, now: u64, mut fire: impl FnMut(usize, &mut T)) {
        loop {
            self.fire_pending(now, &mut fire);
            match self.next_expiration() {
                Some((list, expiration)) if expiration <= now => {
                    debug_assert!(expiration > self.elapsed);
                    self.elapsed = expiration;
                    self.cascade(list);
                }
                _ => break,
            }
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// The earliest deadline among armed entries, or `None` if nothing is armed.
    ///
    /// Exact, except in two cases where it is a lower bound, never later than the earliest
    /// deadline and never earlier than `elapsed()`: after the entry holding the minimum of a
    /// slot above level 0 was removed or reset while others stayed (the slot keeps the old
    /// minimum rather than rescan), and when the next slot due is a top-level one holding only
    /// deadlines beyond the wheel's span. Either way, advancing to the bound does the cascade
    /// that makes the next answer exact.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        let head = self.lists[PENDING].head;
        if head != NONE {
            // Overdue entries come first, and `pending` is sorted.
            return Some(self.entries[head].deadline);
        }
        let (list, expiration) = self.next_expiration()?;
        let min = self.mins[list];
        debug_assert!(min >= expiration);
        // Below the top level every deadline of the slot is within its span, before any other
        // slot's expiration. A top-level slot may hold deadlines beyond the ring, and a later
        // slot earlier ones: fall back to the expiration then.
        if min - expiration < slot_span(list / SLOTS) {
            Some(min)
        } else {
            Some(expiration)
        }
    }

    /// Number of armed entries.
    #[cfg(test)]
    pub(crate) fn armed(&self) -> usize {
        self.armed
    }

    /// Number of entries, armed or fired.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Fires the head of `pending` while its deadline is `<= now`.
    fn fire_pending(&mut self, now: u64, fire: &mut impl FnMut(usize, &mut T)) {
        loop {
            let key = self.lists[PENDING].head;
            if key == NONE || self.entries[key].deadline > now {
                return;
            }
            self.unlink(key);
            self.armed -= 1;
            fire(key, &mut self.entries[key].value);
        }
    }

    /// The next slot due, as its list index and expiration (invariant 3).
    fn next_expiration(&self) -> Option<(usize, u64)> {
        // The lowest non-empty level holds the next slot due (see the module docs).
        let level = self.occupied.iter().position(|&bits| bits != 0)?;
        let bits = self.occupied[level];
        let shift = level as u32 * SLOT_BITS;
        let cur = slot_of(self.elapsed, level);
        debug_assert_eq!(bits & (1 << cur), 0, "a slot at the current time");
        let rotation = slot_span(level) << SLOT_BITS;
        let start = self.elapsed & !(rotation - 1);
        // Slots strictly after `cur` in this rotation (two shifts: `cur + 1` may be 64).
        let ahead = bits & (u64::MAX << cur << 1);
        let (slot, expiration) = if ahead != 0 {
            let slot = ahead.trailing_zeros() as u64;
            (slot, start + (slot << shift))
        } else {
            // Only the top level wraps round to its next rotation.
            debug_assert_eq!(level, TOP);
            let slot = bits.trailing_zeros() as u64;
            (slot, start + SPAN + (slot << shift))
        };
        Some((level * SLOTS + slot as usize, expiration))
    }

    /// Empties the slot list `list` and re-links its entries against the current `elapsed`,
    /// which is the slot's expiration.
    fn cascade(&mut self, list: usize) {
        #[cfg(test)]
        {
            self.visits += 1;
        }
        let (level, slot) = (list / SLOTS, list % SLOTS);
        let mut key = self.lists[list].head;
        self.lists[list] = List::EMPTY;
        self.occupied[level] &= !(1 << slot);
        while key != NONE {
            // `link` overwrites the links, read the next one first.
            let next = self.entries[key].next;
            self.link(key);
            key = next;
        }
    }

    /// Links the unlinked entry `key` into the list its deadline belongs to now.
    fn link(&mut self, key: usize) {
        let deadline = self.entries[key].deadline;
        if deadline <= self.elapsed {
            // Sorted insert, walking from the tail: overdue entries mostly arrive in order.
            let mut after = self.lists[PENDING].tail;
            while after != NONE && self.entries[after].deadline > deadline {
                after = self.entries[after].prev;
            }
            self.insert_after(PENDING, after, key);
            return;
        }
        let mut level = level_for(self.elapsed, deadline);
        let mut target = deadline;
        if level > TOP {
            // Beyond this rotation of the top level. Its ring runs from the slot after `cur` to
            // the one before it, the last instant of which is a rotation after the start of
            // `cur`. A deadline before that goes to its own slot (which wraps), a later one to
            // that last slot, to be re-cascaded when it comes round.
            let ring_end = (self.elapsed & !(slot_span(TOP) - 1)) + SPAN - 1;
            level = TOP;
            target = deadline.min(ring_end);
        }
        let slot = slot_of(target, level);
        let list = level * SLOTS + slot;
        let bit = 1 << slot;
        if self.occupied[level] & bit == 0 {
            self.occupied[level] |= bit;
            self.mins[list] = deadline;
        } else {
            self.mins[list] = self.mins[list].min(deadline);
        }
        let tail = self.lists[list].tail;
        self.insert_after(list, tail, key);
    }

    /// Links `key` into `list` after the entry `after`, or at the head if `after` is `NONE`.
    fn insert_after(&mut self, list: usize, after: usize, key: usize) {
        let next = if after == NONE {
            self.lists[list].head
        } else {
            self.entries[after].next
        };
        let entry = &mut self.entries[key];
        entry.list = list;
        entry.prev = after;
        entry.next = next;
        if after == NONE {
            self.lists[list].head = key;
        } else {
            self.entries[after].next = key;
        }
        if next == NONE {
            self.lists[list].tail = key;
        } else {
            self.entries[next].prev = key;
        }
    }

    /// Unlinks the armed entry `key` from its list, leaving it disarmed.
    fn unlink(&mut self, key: usize) {
        let entry = &mut self.entries[key];
        let (list, prev, next) = (entry.list, entry.prev, entry.next);
        debug_assert_ne!(list, NONE);
        entry.list = NONE;
        entry.prev = NONE;
        entry.next = NONE;
        if prev == NONE {
            self.lists[list].head = next;
        } else {
            self.entries[prev].next = next;
        }
        if next == NONE {
            self.lists[list].tail = prev;
        } else {
            self.entries[next].prev = prev;
        }
        if list != PENDING && self.lists[list].head == NONE {
            self.occupied[list / SLOTS] &= !(1 << (list % SLOTS));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Advances `wheel` to `now` and returns the keys fired, in order.
    fn advance<T>(wheel: &mut Wheel<T>, now: u64) -> Vec<usize> {
        let mut fired = Vec::new();
        wheel.advance(now, |key, _| fired.push(key));
        fired
    }

    /// xorshift64*: deterministic, no dependencies.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// Uniform enough in `0..n`, `n > 0`.
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// An offset at a random scale, so every level (and beyond) gets traffic.
        fn offset(&mut self, max_bits: u32) -> u64 {
            let bits = self.below(u64::from(max_bits) + 1) as u32;
            self.below(1u64 << bits)
        }
    }

    #[test]
    fn empty_wheel() {
        let mut wheel = Wheel::<()>::new();
        assert_eq!(wheel.elapsed(), 0);
        assert_eq!(wheel.next_deadline(), None);
        assert_eq!((wheel.len(), wheel.armed()), (0, 0));
        assert!(advance(&mut wheel, 10 * 3_600_000).is_empty());
        assert_eq!(wheel.elapsed(), 10 * 3_600_000);
        assert_eq!(wheel.visits, 0);
        assert!(wheel.get(0).is_none());
        assert!(wheel.get_mut(0).is_none());
        assert!(!wheel.is_armed(0));
        assert_eq!(wheel.deadline(0), None);
        assert_eq!(wheel.remove(0), None);
    }

    #[test]
    fn fires_at_deadline_not_before() {
        for &d in &[1, 2, 5, 63, 64, 65, 100, 1000, 4096, 5000, 300_000] {
            let mut wheel = Wheel::new();
            let key = wheel.insert(d, "t");
            assert_eq!(wheel.next_deadline(), Some(d));
            assert!(advance(&mut wheel, d - 1).is_empty(), "deadline {d}");
            assert!(wheel.is_armed(key));
            assert_eq!(wheel.next_deadline(), Some(d));
            assert_eq!(advance(&mut wheel, d), vec![key], "deadline {d}");
            assert!(!wheel.is_armed(key));
            assert_eq!(wheel.elapsed(), d);
            assert_eq!(wheel.next_deadline(), None);
            assert_eq!(wheel.get(key), Some(&"t"));
            assert_eq!(wheel.deadline(key), Some(d));
        }
    }

    /// Deadlines `start + b - 1`, `start + b`, `start + b + 1` for every level boundary `b`,
    /// stepped through one millisecond before and at each deadline.
    fn check_boundaries(start: u64) {
        let mut wheel = Wheel::new();
        advance(&mut wheel, start);
        let mut deadlines = Vec::new();
        for level in 1..=LEVELS as u32 + 1 {
            let b = 1u64 << (level * SLOT_BITS);
            deadlines.extend([start + b - 1, start + b, start + b + 1]);
        }
        // Multiple rotations of the top level out, and boundaries of `start` itself.
        deadlines.extend([
            start + 3 * SPAN + 12_345,
            start | (SPAN - 1),
            (start | 63) + 1,
        ]);
        deadlines.retain(|&d| d > start);
        deadlines.sort_unstable();
        deadlines.dedup();
        let keys: BTreeMap<usize, u64> =
            deadlines.iter().map(|&d| (wheel.insert(d, d), d)).collect();
        for &d in &deadlines {
            assert!(
                advance(&mut wheel, d - 1).is_empty(),
                "start {start} deadline {d}"
            );
            let fired = advance(&mut wheel, d);
            assert_eq!(fired.len(), 1, "start {start} deadline {d}");
            assert_eq!(keys[&fired[0]], d);
            assert_eq!(wheel.get(fired[0]), Some(&d));
        }
        assert_eq!(wheel.armed(), 0);
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn level_boundaries() {
        check_boundaries(0);
    }

    #[test]
    fn level_boundaries_from_odd_start() {
        // Mid-slot at every level, the top level included, so slots wrap round.
        check_boundaries(37 * (1 << 30) + 5 * (1 << 24) + 3 * 4096 + 17);
        check_boundaries(SPAN - 1);
        check_boundaries(5 * SPAN + 63 * (1 << 30) + 1);
    }

    #[test]
    fn beyond_span_is_clamped_and_recascaded() {
        let start = 41 * (1 << 30) + 999;
        let mut wheel = Wheel::new();
        advance(&mut wheel, start);
        let far = start + 2 * SPAN + 7;
        let key = wheel.insert(far, ());
        let never = wheel.insert(u64::MAX, ());
        // A lower bound: due before the ring comes round, never after the deadline.
        let bound = wheel.next_deadline().unwrap();
        assert!(bound > start && bound <= far);
        assert!(advance(&mut wheel, far - 1).is_empty());
        assert_eq!(wheel.next_deadline(), Some(far));
        assert_eq!(advance(&mut wheel, far), vec![key]);
        assert!(wheel.is_armed(never));
        let bound = wheel.next_deadline().unwrap();
        assert!(bound > far && bound <= far + SPAN);
        // Each rotation re-cascades the far entry a bounded number of times.
        let visits = wheel.visits;
        assert!(advance(&mut wheel, far + 10 * SPAN).is_empty());
        assert!(wheel.visits - visits <= 2 * 11, "{}", wheel.visits - visits);
        assert!(wheel.is_armed(never));
    }

    #[test]
    fn overdue_fires_on_next_advance_in_deadline_order() {
        let mut wheel = Wheel::new();
        advance(&mut wheel, 100);
        let a = wheel.insert(50, ());
        let b = wheel.insert(100, ());
        let c = wheel.insert(20, ());
        let d = wheel.insert(101, ());
        assert_eq!(wheel.next_deadline(), Some(20));
        // Time does not go backwards, but what is due by `now` fires.
        assert_eq!(advance(&mut wheel, 30), vec![c]);
        assert_eq!(wheel.elapsed(), 100);
        assert!(advance(&mut wheel, 10).is_empty());
        assert_eq!(wheel.next_deadline(), Some(50));
        assert_eq!(advance(&mut wheel, 100), vec![a, b]);
        assert_eq!(wheel.next_deadline(), Some(101));
        assert_eq!(advance(&mut wheel, 101), vec![d]);
    }

    #[test]
    fn same_deadline_all_fire() {
        let mut wheel = Wheel::new();
        let keys: Vec<usize> = (0..1000).map(|i| wheel.insert(5000, i)).collect();
        assert!(advance(&mut wheel, 4999).is_empty());
        let mut fired = advance(&mut wheel, 5000);
        fired.sort_unstable();
        assert_eq!(fired, keys);
    }

    #[test]
    fn fire_gets_the_value() {
        let mut wheel = Wheel::new();
        let a = wheel.insert(10, 1);
        let b = wheel.insert(20, 2);
        wheel.advance(20, |_, v| *v *= 10);
        assert_eq!((wheel.get(a), wheel.get(b)), (Some(&10), Some(&20)));
        *wheel.get_mut(a).unwrap() += 1;
        assert_eq!(wheel.remove(a), Some(11));
    }

    #[test]
    fn remove_before_fire() {
        let mut wheel = Wheel::new();
        let a = wheel.insert(100, 'a');
        let b = wheel.insert(100, 'b');
        let c = wheel.insert(5000, 'c');
        assert_eq!(wheel.remove(a), Some('a'));
        assert_eq!(wheel.remove(c), Some('c'));
        assert_eq!((wheel.len(), wheel.armed()), (1, 1));
        assert_eq!(advance(&mut wheel, 10_000), vec![b]);
        assert_eq!(wheel.remove(a), None);
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn remove_after_fire() {
        let mut wheel = Wheel::new();
        let a = wheel.insert(100, 'a');
        assert_eq!(advance(&mut wheel, 100), vec![a]);
        assert_eq!((wheel.len(), wheel.armed()), (1, 0));
        assert_eq!(wheel.remove(a), Some('a'));
        assert_eq!((wheel.len(), wheel.armed()), (0, 0));
        assert!(advance(&mut wheel, 1_000_000).is_empty());
    }

    #[test]
    fn reset_armed() {
        let mut wheel = Wheel::new();
        let a = wheel.insert(100, ());
        let b = wheel.insert(100_000, ());
        wheel.reset(a, 200_000);
        wheel.reset(b, 50);
        assert_eq!(wheel.armed(), 2);
        assert_eq!(wheel.deadline(a), Some(200_000));
        assert_eq!(wheel.next_deadline(), Some(50));
        assert!(advance(&mut wheel, 49).is_empty());
        assert_eq!(advance(&mut wheel, 50), vec![b]);
        assert!(advance(&mut wheel, 199_999).is_empty());
        assert_eq!(advance(&mut wheel, 200_000), vec![a]);
    }

    #[test]
    fn reset_fired() {
        let mut wheel = Wheel::new();
        let a = wheel.insert(100, ());
        assert_eq!(advance(&mut wheel, 100), vec![a]);
        wheel.reset(a, 300);
        assert!(wheel.is_armed(a));
        assert_eq!(wheel.armed(), 1);
        assert!(advance(&mut wheel, 299).is_empty());
        assert_eq!(advance(&mut wheel, 300), vec![a]);
        // Re-armed in the past: overdue, fires on the next advance.
        wheel.reset(a, 10);
        assert_eq!(advance(&mut wheel, 300), vec![a]);
        assert_eq!(wheel.armed(), 0);
    }

    #[test]
    #[should_panic(expected = "no timer")]
    fn reset_absent_panics() {
        Wheel::<()>::new().reset(3, 10);
    }

    #[test]
    fn bookkeeping_and_slab_reuse() {
        let mut wheel = Wheel::new();
        let keys: Vec<usize> = (0..100u64).map(|i| wheel.insert(i * 1000, i)).collect();
        assert_eq!((wheel.len(), wheel.armed()), (100, 100));
        assert_eq!(advance(&mut wheel, 49_500).len(), 50);
        assert_eq!((wheel.len(), wheel.armed()), (100, 50));
        let capacity = wheel.entries.capacity();
        for &key in &keys {
            assert!(wheel.remove(key).is_some());
        }
        assert_eq!((wheel.len(), wheel.armed()), (0, 0));
        assert_eq!(wheel.next_deadline(), None);
        for round in 0..10u64 {
            let again: Vec<usize> = (0..100).map(|i| wheel.insert(60_000 + i, i)).collect();
            assert!(again.iter().all(|&k| k < 100), "slab slots are reused");
            assert_eq!(wheel.entries.capacity(), capacity, "no growth");
            for key in again.into_iter().filter(|_| round % 2 == 0) {
                wheel.remove(key);
            }
            if round % 2 == 1 {
                advance(&mut wheel, 60_000 + 100 * round);
                let fired = wheel.len() - wheel.armed();
                assert_eq!(fired, wheel.len());
                for key in 0..100 {
                    wheel.remove(key);
                }
            }
            assert_eq!((wheel.len(), wheel.armed()), (0, 0));
        }
    }

    #[test]
    fn next_deadline_bound_after_removing_a_slot_minimum() {
        let mut wheel = Wheel::new();
        // Both in level 1 slot 2 (128..192).
        let a = wheel.insert(130, ());
        let b = wheel.insert(150, ());
        assert_eq!(wheel.next_deadline(), Some(130));
        wheel.remove(a);
        // The slot keeps its old minimum: a lower bound.
        let bound = wheel.next_deadline().unwrap();
        assert!((128..=150).contains(&bound));
        // Advancing to it cascades the slot; then it is exact.
        assert!(advance(&mut wheel, bound).is_empty());
        assert_eq!(wheel.next_deadline(), Some(150));
        assert_eq!(advance(&mut wheel, 150), vec![b]);
    }

    #[test]
    fn huge_advance_skips_empty_time() {
        const DAY: u64 = 24 * 3_600_000;
        let mut rng = Rng(0x5eed);
        let mut wheel = Wheel::new();
        let mut deadlines = BTreeMap::new();
        for _ in 0..500 {
            let d = 1 + rng.below(30 * DAY);
            deadlines.insert(wheel.insert(d, d), d);
        }
        // Ten hours in one step: only what is due fires, in order.
        let fired = advance(&mut wheel, 10 * 3_600_000);
        assert!(fired
            .windows(2)
            .all(|w| deadlines[&w[0]] <= deadlines[&w[1]]));
        let due = deadlines.values().filter(|&&d| d <= 10 * 3_600_000).count();
        assert_eq!(fired.len(), due);
        // Then everything, forty days in one step.
        let fired = advance(&mut wheel, 40 * DAY);
        assert_eq!(fired.len() + due, 500);
        assert!(fired
            .windows(2)
            .all(|w| deadlines[&w[0]] <= deadlines[&w[1]]));
        // Each entry passes through at most one slot per level.
        assert!(
            wheel.visits <= 500 * LEVELS as u64,
            "{} visits",
            wheel.visits
        );
        assert_eq!(wheel.armed(), 0);
    }

    /// The reference: every entry's deadline, whether it is armed, and how often it fired.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Model {
        deadline: u64,
        armed: bool,
        fired: u32,
    }

    /// Random inserts, removes, resets and advances against a `BTreeMap` reference. With
    /// `exact`, no armed entry is ever removed or reset and deadlines stay within the span, so
    /// `next_deadline` must be exact; otherwise it must be a valid lower bound.
    fn model(seed: u64, steps: usize, exact: bool) {
        let mut rng = Rng(seed);
        let mut wheel = Wheel::<u32>::new();
        let mut reference: BTreeMap<usize, Model> = BTreeMap::new();
        let max_bits = if exact { 35 } else { 40 };
        for step in 0..steps {
            let elapsed = wheel.elapsed();
            match rng.below(100) {
                0..=39 => {
                    let deadline = match rng.below(10) {
                        0 => elapsed.saturating_sub(rng.below(100)),
                        _ => elapsed + rng.offset(max_bits),
                    };
                    let key = wheel.insert(deadline, 0);
                    let new = Model {
                        deadline,
                        armed: true,
                        fired: 0,
                    };
                    assert!(
                        reference.insert(key, new).is_none(),
                        "key {key} reused live"
                    );
                }
                40..=54 if !reference.is_empty() => {
                    let key = *reference
                        .keys()
                        .nth(rng.below(reference.len() as u64) as usize)
                        .unwrap();
                    if exact && reference[&key].armed {
                        continue;
                    }
                    let fired = reference.remove(&key).unwrap().fired;
                    assert_eq!(wheel.remove(key), Some(fired));
                }
                55..=64 if !reference.is_empty() && !exact => {
                    let key = *reference
                        .keys()
                        .nth(rng.below(reference.len() as u64) as usize)
                        .unwrap();
                    let deadline = match rng.below(10) {
                        0 => elapsed.saturating_sub(rng.below(100)),
                        _ => elapsed + rng.offset(max_bits),
                    };
                    wheel.reset(key, deadline);
                    let entry = reference.get_mut(&key).unwrap();
                    entry.deadline = deadline;
                    entry.armed = true;
                }
                _ => {
                    let now = match rng.below(20) {
                        0 => elapsed.saturating_sub(rng.below(100)),
                        1 => elapsed + rng.offset(max_bits + 1),
                        2..=5 => elapsed + rng.offset(20),
                        _ => elapsed + rng.below(200),
                    };
                    let mut fired = Vec::new();
                    wheel.advance(now, |key, value| {
                        *value += 1;
                        fired.push(key);
                    });
                    let mut last = 0;
                    for &key in &fired {
                        let entry = reference.get_mut(&key).expect("fired a removed key");
                        assert!(entry.armed, "step {step}: fired a disarmed key");
                        assert!(entry.deadline <= now, "step {step}: fired early");
                        assert!(entry.deadline >= last, "step {step}: out of order");
                        last = entry.deadline;
                        entry.armed = false;
                        entry.fired += 1;
                    }
                    let missed = reference.values().filter(|e| e.armed && e.deadline <= now);
                    assert_eq!(missed.count(), 0, "step {step}: missed a due timer");
                    assert_eq!(wheel.elapsed(), elapsed.max(now));
                }
            }
            // The whole state agrees with the reference after every step.
            assert_eq!(wheel.len(), reference.len());
            assert_eq!(
                wheel.armed(),
                reference.values().filter(|e| e.armed).count()
            );
            for (&key, entry) in &reference {
                assert_eq!(wheel.is_armed(key), entry.armed);
                assert_eq!(wheel.deadline(key), Some(entry.deadline));
                assert_eq!(wheel.get(key), Some(&entry.fired));
            }
            let earliest = reference
                .values()
                .filter(|e| e.armed)
                .map(|e| e.deadline)
                .min();
            let next = wheel.next_deadline();
            match (earliest, next) {
                (None, None) => {}
                (Some(earliest), Some(next)) if exact || earliest <= wheel.elapsed() => {
                    assert_eq!(next, earliest, "step {step}")
                }
                (Some(earliest), Some(next)) => {
                    assert!(next > wheel.elapsed() && next <= earliest, "step {step}")
                }
                other => panic!("step {step}: next_deadline {other:?}"),
            }
        }
    }

    #[test]
    fn model_random_ops() {
        for seed in 1..=12 {
            model(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(seed), 4000, false);
        }
    }

    #[test]
    fn model_exact_next_deadline() {
        for seed in 1..=6 {
            model(0xd1b5_4a32_d192_ed03u64.wrapping_mul(seed), 4000, true);
        }
    }

    #[test]
    fn model_dense_small_range() {
        // Many timers within a few slots, to stress same-slot and same-ms lists.
        let mut rng = Rng(77);
        let mut wheel = Wheel::new();
        let mut reference = BTreeMap::new();
        for round in 0..200u64 {
            for _ in 0..50 {
                let d = wheel.elapsed() + rng.below(300);
                reference.insert(wheel.insert(d, ()), d);
            }
            let now = round * 150 + rng.below(150);
            let fired = advance(&mut wheel, now);
            let mut expected: Vec<_> = reference
                .iter()
                .filter(|&(_, &d)| d <= now)
                .map(|(&k, &d)| (d, k))
                .collect();
            expected.sort_unstable();
            let got: Vec<u64> = fired.iter().map(|k| reference[k]).collect();
            assert!(got.windows(2).all(|w| w[0] <= w[1]));
            let mut got: Vec<_> = fired.iter().map(|&k| (reference[&k], k)).collect();
            got.sort_unstable();
            assert_eq!(got, expected);
            for key in fired {
                reference.remove(&key);
                wheel.remove(key);
            }
        }
    }
}
