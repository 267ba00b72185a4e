//! The recorder's event path allocates nothing (`--features record`): sends, receives, waits
//! and closes are recorded into the static rings, past their overflow, with no allocation on
//! the recording thread.

#[path = "../channel/tests/support/counting_alloc.rs"]
mod counting_alloc;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use weir::channel::Builder;
use weir::probes;

#[test]
fn recording_channel_events_allocates_nothing() {
    let (tx, rx) = Builder::bounded(8).name("alloc").build::<u64>();
    let mut cx = Context::from_waker(Waker::noop());
    // Warm up outside the count: the first events of a thread may set up its thread-locals.
    tx.try_send(0).unwrap();
    rx.try_recv().unwrap();
    probes::recorder().collect();

    // More events than a ring holds (4096 slots), so the drop-oldest path runs too.
    const ROUNDS: u64 = 3_000;
    let (allocs, emitted) = (counting_alloc::allocs(), probes::emitted());
    for i in 0..ROUNDS {
        // The forms users call: try_send/try_recv and recv().await, including a receive
        // that waits (wait start, then the send's wake, then wait end).
        tx.try_send(i).unwrap();
        assert_eq!(rx.try_recv().unwrap(), i);
        let mut recv = pin!(rx.recv());
        assert!(recv.as_mut().poll(&mut cx).is_pending());
        tx.try_send(i).unwrap();
        assert_eq!(recv.as_mut().poll(&mut cx), Poll::Ready(Ok(i)));
    }
    let recorded = probes::emitted() - emitted;
    let allocated = counting_alloc::allocs() - allocs;
    assert_eq!(
        allocated, 0,
        "{allocated} allocations for {recorded} events"
    );
    // Each round: 2 sends, 2 receives, a wait start and a wait end.
    assert!(recorded >= 6 * ROUNDS, "only {recorded} events recorded");

    let s = probes::recorder().snapshot();
    assert!(s.dropped > 0, "the rings never overflowed: {}", s.dropped);
    let c = s.channel("alloc").unwrap();
    assert!(c.sends > 0 && c.recvs > 0, "{c:?}");
}
