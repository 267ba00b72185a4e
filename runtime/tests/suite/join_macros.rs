//! `join!`, `try_join!` and `pin!`: the declarative macros a tokio program uses at the root.

use std::future::Future;
use std::future::{pending, poll_fn};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;

use weir_runtime::runtime::Builder;
use weir_runtime::task;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn join_runs_the_branches_concurrently_and_keeps_their_order() {
    // Each branch waits for the other one's flag: only concurrent polling finishes.
    let (a, b) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let wait_for = |flag: Arc<AtomicBool>| {
        poll_fn(move |cx| {
            if flag.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
    };
    let out = block_on(async {
        weir_runtime::join!(
            async {
                a.store(true, Ordering::SeqCst);
                wait_for(b.clone()).await;
                "first"
            },
            async {
                wait_for(a.clone()).await;
                b.store(true, Ordering::SeqCst);
                2
            },
        )
    });
    assert_eq!(out, ("first", 2));
}

#[test]
fn join_takes_many_branches_and_none() {
    let out = block_on(async {
        weir_runtime::join!(
            async { 0 },
            async { 1 },
            async { 2 },
            async { 3 },
            async { 4 },
            async { 5 },
            async { 6 },
            async { 7 },
            async { 8 },
            async { 9 },
            async { 10 },
            async { 11 }
        )
    });
    assert_eq!(out, (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
    let () = block_on(async { weir_runtime::join!() });
    let (single,) = block_on(async { weir_runtime::join!(async { 'x' }) });
    assert_eq!(single, 'x');
}

#[test]
fn try_join_returns_the_first_error_and_drops_the_rest() {
    struct Dropped(Arc<AtomicBool>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = Dropped(dropped.clone());
    let out: Result<((), u8), &str> = block_on(async {
        weir_runtime::try_join!(
            async move {
                let _guard = guard;
                pending::<Result<(), &str>>().await
            },
            async {
                task::yield_now().await;
                Err("second failed")
            },
        )
    });
    assert_eq!(out, Err("second failed"));
    assert!(
        dropped.load(Ordering::SeqCst),
        "the pending branch was dropped"
    );

    let ok: Result<(u8, &str), ()> =
        block_on(async { weir_runtime::try_join!(async { Ok(1) }, async { Ok("b") }) });
    assert_eq!(ok, Ok((1, "b")));
}

#[test]
fn pin_lets_a_future_be_polled_by_reference() {
    block_on(async {
        let slow = weir_runtime::time::sleep(std::time::Duration::from_millis(2));
        weir_runtime::pin!(slow);
        // Poll it by reference a few times, then to completion.
        for _ in 0..3 {
            poll_fn(|cx| {
                let _ = slow.as_mut().poll(cx);
                Poll::Ready(())
            })
            .await;
        }
        (&mut slow).await;
        assert!(slow.is_elapsed());
        weir_runtime::pin! {
            let a = async { 1 };
            let b = async { 2 };
        }
        assert_eq!(a.await + b.await, 3);
    });
}
