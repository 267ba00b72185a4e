use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;

use super::*;
use crate::test_waker::{poll_once, poll_with, CountingWaker};

#[test]
fn permits_go_to_waiters_in_order_and_a_big_request_is_not_overtaken() {
    let sem = Semaphore::new(0);
    let mut big = pin!(sem.acquire_many(2));
    let mut small = pin!(sem.acquire());
    let (big_wakes, big_waker) = CountingWaker::new();
    assert!(poll_with(big.as_mut(), &big_waker).is_pending());
    assert!(poll_once(small.as_mut()).is_pending());

    // One permit: the big request at the front keeps it; the small one behind must not take
    // it, and neither may a try_acquire.
    sem.add_permits(1);
    assert_eq!(big_wakes.wakes(), 0);
    assert!(poll_once(small.as_mut()).is_pending());
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    assert_eq!(sem.available_permits(), 0);

    sem.add_permits(1);
    assert_eq!(big_wakes.wakes(), 1, "granted waiters are woken");
    let big_permit = match poll_once(big.as_mut()) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("the big request was granted: {other:?}"),
    };
    assert_eq!(big_permit.num_permits(), 2);
    assert!(poll_once(small.as_mut()).is_pending());
    drop(big_permit);
    assert!(matches!(poll_once(small.as_mut()), Poll::Ready(Ok(_))));
    assert_eq!(
        sem.available_permits(),
        2,
        "both permits are back (the small one was dropped)"
    );
}

#[test]
fn a_cancelled_waiter_gives_back_what_it_was_handed() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    {
        let mut three = pin!(sem.acquire_many(3));
        assert!(poll_once(three.as_mut()).is_pending());
        drop(held); // handed to the waiter: it now holds 1 of 3
        assert_eq!(sem.available_permits(), 0);
    }
    assert_eq!(sem.available_permits(), 1, "the partial permit came back");
    assert!(
        sem.try_acquire().is_ok(),
        "no waiter left behind to block the fast path"
    );
}

#[test]
fn a_waiter_granted_but_dropped_unpolled_passes_the_permits_on() {
    let sem = Semaphore::new(0);
    let mut first = Box::pin(sem.acquire());
    let mut second = pin!(sem.acquire());
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    sem.add_permits(1); // granted to `first`
    drop(first); // ... which never sees it
    assert!(
        matches!(poll_once(second.as_mut()), Poll::Ready(Ok(_))),
        "the permit moved on to the next waiter"
    );
}

#[test]
fn close_fails_waiters_and_later_acquires_but_keeps_held_permits() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut waiting = pin!(sem.acquire());
    let (wakes, waker) = CountingWaker::new();
    assert!(poll_with(waiting.as_mut(), &waker).is_pending());
    sem.close();
    assert!(sem.is_closed());
    assert_eq!(wakes.wakes(), 1);
    assert!(matches!(
        poll_once(waiting.as_mut()),
        Poll::Ready(Err(AcquireError(())))
    ));
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert!(matches!(
        poll_once(pin!(sem.acquire())),
        Poll::Ready(Err(_))
    ));
    assert_eq!(held.num_permits(), 1);
    drop(held);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn forget_merge_split_and_saturation() {
    let sem = Semaphore::new(5);
    let mut a = sem.try_acquire_many(2).unwrap();
    let b = sem.try_acquire().unwrap();
    a.merge(b);
    assert_eq!(a.num_permits(), 3);
    let c = a.split(1).unwrap();
    assert!(a.split(5).is_none());
    c.forget();
    assert_eq!(sem.available_permits(), 2);
    drop(a);
    assert_eq!(sem.available_permits(), 4);
    assert_eq!(sem.forget_permits(10), 4);
    assert_eq!(sem.available_permits(), 0);
    sem.add_permits(usize::MAX);
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
    assert_eq!(
        Semaphore::new(usize::MAX).available_permits(),
        Semaphore::MAX_PERMITS
    );
    let zero = Semaphore::new(0);
    assert!(matches!(
        poll_once(pin!(zero.acquire_many(0))),
        Poll::Ready(Ok(_))
    ));
}

#[test]
fn owned_permits_return_to_their_semaphore() {
    let sem = Arc::new(Semaphore::new(1));
    let permit = sem.clone().try_acquire_owned().unwrap();
    assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    assert!(sem.clone().try_acquire_owned().is_err());
    let mut owned = Box::pin(sem.clone().acquire_owned());
    assert!(poll_once(owned.as_mut()).is_pending());
    drop(permit);
    let next = match poll_once(owned.as_mut()) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("expected the owned permit, got {other:?}"),
    };
    drop(next);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn a_loop_of_ready_acquires_yields_to_other_tasks() {
    let rt = weir_runtime::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(1));
        let other_ran = Arc::new(AtomicBool::new(false));
        let flag = other_ran.clone();
        weir_runtime::spawn(async move { flag.store(true, Ordering::SeqCst) });
        let looping = weir_runtime::spawn(async move {
            for _ in 0..10 * weir_runtime::coop::BUDGET as usize {
                if other_ran.load(Ordering::SeqCst) {
                    return true;
                }
                drop(sem.acquire().await.unwrap());
            }
            false
        });
        assert!(looping.await.unwrap(), "the acquire loop never yielded");
    });
}

#[test]
fn many_tasks_contending_lose_no_permit() {
    let rt = weir_runtime::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(3));
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (sem, inside) = (sem.clone(), inside.clone());
                weir_runtime::spawn(async move {
                    for _ in 0..200 {
                        let n = 1 + (i % 2) as u32;
                        let _p = sem.acquire_many(n).await.unwrap();
                        let now = inside.fetch_add(n as usize, Ordering::SeqCst) + n as usize;
                        assert!(now <= 3, "{now} permits out of 3 in use");
                        weir_runtime::task::yield_now().await;
                        inside.fetch_sub(n as usize, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(sem.available_permits(), 3);
    });
}
