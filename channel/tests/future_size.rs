//! The plain futures' sizes, pinned (issue 13 §1: a plain channel's futures carry no breaker
//! state). A change here is a deliberate one: update the figure and say why in the commit.

use std::mem::size_of;

use weir_channel::{RecvFuture, SendFuture};

/// What a probe backend adds to every operation future: the `#[track_caller]` location of
/// the `.await` that the wait probes report.
const CALL_SITE: usize = if cfg!(any(feature = "usdt", feature = "record")) {
    size_of::<&'static std::panic::Location<'static>>()
} else {
    0
};

#[test]
fn plain_futures_of_a_usize_channel_have_their_pinned_size() {
    let recv = size_of::<RecvFuture<'static, usize>>();
    let send = size_of::<SendFuture<'static, usize>>();
    println!("size_of RecvFuture<usize> = {recv}, SendFuture<usize> = {send}");
    assert_eq!(recv, 208 + CALL_SITE, "RecvFuture<'_, usize>");
    assert_eq!(send, 112 + CALL_SITE, "SendFuture<'_, usize>");
}
