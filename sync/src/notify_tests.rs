use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::*;
use crate::test_waker::{poll_once, poll_with, CountingWaker};

#[test]
fn notify_one_without_waiters_stores_one_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one(); // still one permit
    assert!(poll_once(pin!(notify.notified())).is_ready());
    assert!(
        poll_once(pin!(notify.notified())).is_pending(),
        "permits do not accumulate"
    );
}

#[test]
fn notify_waiters_completes_every_earlier_notified_even_unpolled_and_stores_nothing() {
    let notify = Notify::new();
    let mut polled = pin!(notify.notified());
    let mut unpolled = pin!(notify.notified());
    let (wakes, waker) = CountingWaker::new();
    assert!(poll_with(polled.as_mut(), &waker).is_pending());
    notify.notify_waiters();
    assert_eq!(wakes.wakes(), 1);
    let mut later = pin!(notify.notified());
    assert!(poll_once(polled.as_mut()).is_ready());
    assert!(
        poll_once(unpolled.as_mut()).is_ready(),
        "created before notify_waiters"
    );
    assert!(
        poll_once(later.as_mut()).is_pending(),
        "created after: no permit stored"
    );
}

#[test]
fn notify_waiters_keeps_a_stored_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_waiters();
    assert!(poll_once(pin!(notify.notified())).is_ready());
}

#[test]
fn notify_one_wakes_the_first_waiter_only() {
    let notify = Notify::new();
    let mut first = pin!(notify.notified());
    let mut second = pin!(notify.notified());
    let (first_wakes, first_waker) = CountingWaker::new();
    let (second_wakes, second_waker) = CountingWaker::new();
    assert!(poll_with(first.as_mut(), &first_waker).is_pending());
    assert!(poll_with(second.as_mut(), &second_waker).is_pending());
    notify.notify_one();
    assert_eq!((first_wakes.wakes(), second_wakes.wakes()), (1, 0));
    assert!(poll_once(first.as_mut()).is_ready());
    assert!(poll_once(second.as_mut()).is_pending());
}

#[test]
fn a_dropped_waiter_passes_its_notification_on() {
    let notify = Notify::new();
    let mut first = Box::pin(notify.notified());
    let mut second = pin!(notify.notified());
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    notify.notify_one(); // goes to `first` ...
    drop(first); // ... which is cancelled before seeing it
    assert!(poll_once(second.as_mut()).is_ready(), "handed on");

    // With nobody else waiting, the unseen notification becomes the stored permit.
    let mut only = Box::pin(notify.notified());
    assert!(poll_once(only.as_mut()).is_pending());
    notify.notify_one();
    drop(only);
    assert!(poll_once(pin!(notify.notified())).is_ready());
}

#[test]
fn a_dropped_waiter_that_was_not_notified_leaves_nothing_behind() {
    let notify = Notify::new();
    {
        let mut gone = pin!(notify.notified());
        assert!(poll_once(gone.as_mut()).is_pending());
    }
    // The list is empty again, so notify_one stores a permit instead of waking a ghost.
    notify.notify_one();
    assert!(poll_once(pin!(notify.notified())).is_ready());
}

#[test]
fn enable_registers_without_polling() {
    let notify = Notify::new();
    let mut enabled = pin!(notify.notified());
    assert!(!enabled.as_mut().enable());
    notify.notify_one();
    assert!(
        poll_once(pin!(notify.notified())).is_pending(),
        "the enabled waiter took it, no permit stored"
    );
    assert!(poll_once(enabled.as_mut()).is_ready());
}

#[test]
fn a_loop_of_ready_notifications_yields_to_other_tasks() {
    let rt = weir_runtime::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let notify = Arc::new(Notify::new());
        let other_ran = Arc::new(AtomicBool::new(false));
        let flag = other_ran.clone();
        weir_runtime::spawn(async move { flag.store(true, Ordering::SeqCst) });
        let looping = weir_runtime::spawn(async move {
            for _ in 0..10 * weir_runtime::coop::BUDGET as usize {
                if other_ran.load(Ordering::SeqCst) {
                    return true;
                }
                notify.notify_one();
                notify.notified().await;
            }
            false
        });
        assert!(looping.await.unwrap(), "the notify loop never yielded");
    });
}

#[test]
fn ping_pong_across_threads_loses_no_notification() {
    let rt = weir_runtime::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let (ping, pong) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let (p2, q2) = (ping.clone(), pong.clone());
        let echo = weir_runtime::spawn(async move {
            for _ in 0..2000 {
                p2.notified().await;
                q2.notify_one();
            }
        });
        for _ in 0..2000 {
            ping.notify_one();
            pong.notified().await;
        }
        echo.await.unwrap();
    });
}
