//! Send stamps for L3's queueing-delay samples and the head-age rule.
//!
//! Messages stay `T`; the stamps live beside the buffer in a ring of `AtomicU64` indexed by a
//! send sequence number, and the receive with the same receive sequence number reads them
//! back. The queue is FIFO, so for one producer and one consumer the pairing is exact; with
//! several, a sample may pair with a neighbour sent in the same instant. Each slot carries its
//! sequence lap as a tag: a receive that finds another lap (its sender has not written yet, or
//! the ring was lapped by an unbounded queue longer than the ring) records no queueing sample
//! rather than a wrong one. The ring is statistics, not synchronisation: no value's safety
//! depends on it (every ordering below is Relaxed for that reason).

use crate::sync::{AtomicU64, Ordering};

/// Bits of a stamp slot holding the microsecond time stamp (about 12.7 days before it wraps;
/// a wrapped sample reads as a zero delay).
const STAMP_BITS: u32 = 40;
const STAMP_MASK: u64 = (1 << STAMP_BITS) - 1;
/// Stamp ring length of an unbounded channel.
#[cfg(not(loom))]
const UNBOUNDED_RING: usize = 4096;
/// Longest stamp ring (bounded channels use their capacity rounded up to a power of two).
#[cfg(not(loom))]
const MAX_RING: usize = 1 << 16;
/// Shortest stamp ring (rendezvous and tiny buffers).
#[cfg(not(loom))]
const MIN_RING: usize = 64;
// Under loom every slot is a modelled atomic: keep the ring as small as the models need.
#[cfg(loom)]
const UNBOUNDED_RING: usize = 8;
#[cfg(loom)]
const MAX_RING: usize = 8;
#[cfg(loom)]
const MIN_RING: usize = 8;

pub(crate) struct Stamps {
    slots: Box<[AtomicU64]>,
    mask: u64,
    lap_shift: u32,
    sent: AtomicU64,
    received: AtomicU64,
}

impl Stamps {
    pub(crate) fn new(capacity: Option<usize>) -> Self {
        let len = match capacity {
            None => UNBOUNDED_RING,
            Some(cap) => cap.clamp(MIN_RING, MAX_RING).next_power_of_two(),
        };
        Stamps {
            slots: (0..len).map(|_| AtomicU64::new(u64::MAX)).collect(),
            mask: len as u64 - 1,
            lap_shift: len.trailing_zeros(),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
        }
    }

    #[inline]
    fn tag(&self, seq: u64) -> u64 {
        ((seq >> self.lap_shift) & ((1 << (64 - STAMP_BITS)) - 1)) << STAMP_BITS
    }

    /// A value went into the channel at `now_us`.
    #[inline]
    pub(crate) fn on_send(&self, now_us: u64) {
        // Relaxed: the sequence only pairs stamps with receives; no data is published by it.
        let seq = self.sent.fetch_add(1, Ordering::Relaxed);
        // Relaxed: the slot is a self-contained statistic, tagged with its lap.
        self.slots[(seq & self.mask) as usize]
            .store(self.tag(seq) | (now_us & STAMP_MASK), Ordering::Relaxed);
    }

    /// The queueing delay of the value just taken out, if its stamp is there.
    #[inline]
    pub(crate) fn on_recv(&self, now_us: u64) -> Option<u64> {
        // Relaxed: as in `on_send`.
        let seq = self.received.fetch_add(1, Ordering::Relaxed);
        // Relaxed: as in `on_send`; a stale slot fails the tag check.
        let slot = self.slots[(seq & self.mask) as usize].load(Ordering::Relaxed);
        if slot & !STAMP_MASK != self.tag(seq) {
            return None;
        }
        Some((now_us & STAMP_MASK).saturating_sub(slot & STAMP_MASK))
    }

    /// How long the oldest value still in the channel has waited (0 when none waits; `None`
    /// when its stamp is not readable).
    #[inline]
    pub(crate) fn head_age(&self, now_us: u64) -> Option<u64> {
        // Relaxed: as in `on_send`; a racing send or receive only shifts the sample by one.
        let received = self.received.load(Ordering::Relaxed);
        let sent = self.sent.load(Ordering::Relaxed);
        if sent <= received {
            return Some(0);
        }
        let slot = self.slots[(received & self.mask) as usize].load(Ordering::Relaxed);
        if slot & !STAMP_MASK != self.tag(received) {
            return None;
        }
        Some((now_us & STAMP_MASK).saturating_sub(slot & STAMP_MASK))
    }

    /// Values sent into the channel so far.
    #[inline]
    pub(crate) fn sent(&self) -> u64 {
        // Relaxed: a statistic.
        self.sent.load(Ordering::Relaxed)
    }
}
