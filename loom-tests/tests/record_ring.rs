//! The recorder's event ring (`probes/src/record/ring.rs`): producers pushing while the
//! collector drains, with small rings so that every model laps its ring.
//!
//! Every event is `[v, v + 1, .., v + 4]` for a value `v` unique to the push, so a torn copy
//! (words from two pushes, or a stale word) shows as words that disagree.
//!
//! What each model catches (each shown failing with the mutation in `ring.rs`, then restored):
//! - `two_producers_and_the_collector`: the producer's CAS on `seq` weakened from `Acquire`
//!   to `Relaxed` (an overwrite's payload stores may then land before the older lap's: a torn
//!   event); the only model with two producers, so the only one that catches it.
//! - `overflow_drops_the_oldest`: the collector's acquire fence and second read of `seq`
//!   removed (it then delivers a copy that a later lap was overwriting: torn); and the
//!   collector counting the oldest of the last `N` positions lost while unfinished (it dropped
//!   a whole event that nothing overwrote: the bug this model found, fixed in `drain`).
//! - `one_producer_in_order`: the producer's release store of `seq` weakened to `Relaxed` (the
//!   collector then copies a payload it was not published: stale words).
//!
//! Counting: `drain` counts every position it passes without delivering it, including the
//! positions a producer gave up (a busy slot); `producer_drops` counts those give-ups again.
//! So the exact account is `delivered + drain's losses == pushes`, and `producer_drops` is a
//! subset of the losses. The collector also stops at a position whose producer gave up until
//! later pushes lap it, so the models' final collection first laps the ring once (`flush`).
#![cfg(loom)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use loom::sync::Arc;
use loom::thread;
use weir_loom_tests::model;
use weir_probes::loom_api::{Cursor, Ring, WORDS};

/// The event for value `v`.
fn event(v: u64) -> [u64; WORDS] {
    std::array::from_fn(|i| v + i as u64)
}

/// The value of a delivered event, after checking that it is whole.
fn value(words: [u64; WORDS]) -> u64 {
    assert_eq!(words, event(words[0]), "torn event");
    words[0]
}

/// Drains into `got`; returns the positions drain counted lost.
fn drain<const N: usize>(ring: &Ring<N>, cursor: &mut Cursor, got: &mut Vec<u64>) -> u64 {
    ring.drain(cursor, |w| got.push(value(w)))
}

/// With every producer done: pushes `N` marker events (values from `base`), which laps any
/// position the collector stopped at, and drains. Every marker comes out, in order.
fn flush<const N: usize>(
    ring: &Ring<N>,
    cursor: &mut Cursor,
    got: &mut Vec<u64>,
    base: u64,
) -> u64 {
    let markers: Vec<u64> = (0..N as u64).map(|i| base + 100 * i).collect();
    for &m in &markers {
        ring.push(event(m));
    }
    let before = got.len();
    let lost = drain(ring, cursor, got);
    assert!(got.len() - before >= N, "the markers did not all come out");
    assert_eq!(&got[got.len() - N..], &markers[..]);
    lost
}

/// Executions of `two_producers_and_the_collector` in which a producer gave up a busy slot.
static GAVE_UP: AtomicUsize = AtomicUsize::new(0);

/// Two producers (two events each) race the collector on a ring of two slots: every event
/// delivered is whole, one that was pushed, and delivered once; after a final collection
/// each push is delivered or counted lost by `drain`, exactly once.
#[test]
fn two_producers_and_the_collector() {
    model(|| {
        let ring = Arc::new(Ring::<2>::new());
        let producers: Vec<_> = [1000u64, 2000]
            .into_iter()
            .map(|base| {
                let ring = ring.clone();
                thread::spawn(move || {
                    ring.push(event(base));
                    ring.push(event(base + 10));
                })
            })
            .collect();
        let mut cursor = Cursor::default();
        let mut got = Vec::new();
        let mut lost = drain(&ring, &mut cursor, &mut got);
        for p in producers {
            p.join().unwrap();
        }
        lost += drain(&ring, &mut cursor, &mut got);
        lost += flush(&ring, &mut cursor, &mut got, 1);
        let pushed: HashSet<u64> = [1000, 1010, 2000, 2010].into();
        let delivered: Vec<u64> = got.iter().copied().filter(|v| pushed.contains(v)).collect();
        assert_eq!(
            delivered.len() + 2,
            got.len(),
            "delivered an event nobody pushed: {got:?}"
        );
        let unique: HashSet<u64> = got.iter().copied().collect();
        assert_eq!(unique.len(), got.len(), "an event delivered twice: {got:?}");
        assert_eq!(
            got.len() as u64 + lost,
            4 + 2,
            "delivered {got:?}, lost {lost}"
        );
        // A give-up is never delivered, and drain counts it among its losses.
        if ring.producer_drops() > 0 {
            // Bookkeeping of the model (std, not loom): executions that had a give-up.
            GAVE_UP.fetch_add(1, Ordering::Relaxed);
        }
        assert!(ring.producer_drops() <= lost);
        assert!(delivered.len() as u64 + ring.producer_drops() <= 4);
        // Each producer's events come out in its push order.
        for base in [1000, 2000] {
            let mine: Vec<u64> = delivered
                .iter()
                .copied()
                .filter(|v| v / 1000 == base / 1000)
                .collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "out of order: {got:?}"
            );
        }
    });
    // The model did reach the busy-slot path it accounts for.
    assert!(GAVE_UP.load(Ordering::Relaxed) > 0);
}

/// One producer pushes four events into a ring of two slots while the collector drains:
/// what comes out is whole and increasing, only the oldest are dropped (the newest two always
/// come out), and the counts are exact (delivered + lost == pushed; a lone producer never
/// finds its slot busy).
#[test]
fn overflow_drops_the_oldest() {
    model(|| {
        let ring = Arc::new(Ring::<2>::new());
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                for v in 1..=4u64 {
                    ring.push(event(v * 10));
                }
            })
        };
        let mut cursor = Cursor::default();
        let mut got = Vec::new();
        let mut lost = drain(&ring, &mut cursor, &mut got);
        producer.join().unwrap();
        lost += drain(&ring, &mut cursor, &mut got);
        assert_eq!(ring.producer_drops(), 0);
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "not increasing: {got:?}"
        );
        assert!(got.iter().all(|v| (10..=40).contains(v) && v % 10 == 0));
        assert!(got.ends_with(&[30, 40]), "the newest were dropped: {got:?}");
        assert_eq!(got.len() as u64 + lost, 4, "delivered {got:?}, lost {lost}");
    });
}

/// One producer pushes three events into a ring of four slots while the collector drains
/// twice: with no overflow nothing is lost, and the events come out whole, once each, in push
/// order.
#[test]
fn one_producer_in_order() {
    model(|| {
        let ring = Arc::new(Ring::<4>::new());
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                for v in 1..=3u64 {
                    ring.push(event(v * 10));
                }
            })
        };
        let mut cursor = Cursor::default();
        let mut got = Vec::new();
        let mut lost = drain(&ring, &mut cursor, &mut got);
        lost += drain(&ring, &mut cursor, &mut got);
        producer.join().unwrap();
        lost += drain(&ring, &mut cursor, &mut got);
        assert_eq!(lost, 0);
        assert_eq!(ring.producer_drops(), 0);
        assert_eq!(got, [10, 20, 30]);
    });
}
