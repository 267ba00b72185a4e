//! With a probe backend compiled in (`--features record`), the channel's call sites fire.
#![cfg(feature = "record")]

use weir_channel::bounded;

#[test]
fn channel_call_sites_emit_events() {
    let before = weir_probes::emitted();
    let (tx, rx) = bounded::<u8>(1); // ChannelNew
    tx.try_send(1).unwrap(); // ChannelSend
    assert_eq!(rx.try_recv(), Ok(1)); // ChannelRecv
    assert!(tx.close()); // ChannelClose
    assert!(weir_probes::emitted() - before >= 4);
}
