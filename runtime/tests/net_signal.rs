//! Signals through the reactor: a raised signal reaches its listener, deliveries coalesce,
//! `ctrl_c` completes on SIGINT, and uncatchable signals are refused.
//!
//! Everything is in one test: the handlers are process-wide, and a SIGINT raised while no
//! handler is installed would end the test binary.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use weir_runtime::runtime::Builder;
use weir_runtime::signal::unix::{signal, SignalKind};
use weir_runtime::{spawn, task};

fn raise(sig: libc::c_int) {
    // SAFETY: raising a signal whose handler is installed.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

#[test]
fn signals_reach_their_listeners() {
    for rt in [
        Builder::new_current_thread().enable_all().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    ] {
        rt.block_on(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            let mut usr1_other = signal(SignalKind::user_defined1()).unwrap();
            raise(libc::SIGUSR1);
            usr1.recv().await;
            usr1_other.recv().await;

            // Two deliveries before a recv count as one.
            raise(libc::SIGUSR1);
            raise(libc::SIGUSR1);
            usr1.recv().await;

            // A listener waiting in another task is woken by the reactor.
            let waiter = spawn(async move {
                usr1.recv().await;
                usr1
            });
            task::yield_now().await;
            raise(libc::SIGUSR1);
            let _usr1 = waiter.await.unwrap();

            // SIGINT: install a listener first so that the raise cannot kill the process.
            let mut int = signal(SignalKind::interrupt()).unwrap();
            let mut ctrl_c = pin!(weir_runtime::signal::ctrl_c());
            // Its first poll starts listening; nothing was delivered since.
            let first = poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx))).await;
            assert!(first.is_pending());
            raise(libc::SIGINT);
            int.recv().await;
            ctrl_c.await.unwrap();
        });
    }
}

#[test]
fn uncatchable_signals_are_refused() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        for sig in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, 1000] {
            let err = signal(SignalKind::from_raw(sig)).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{sig}: {err}");
        }
    });
    // Outside a runtime with IO there is nobody to deliver to.
    let no_io = Builder::new_current_thread().build().unwrap();
    let err = no_io
        .block_on(async { signal(SignalKind::user_defined2()).map(drop) })
        .unwrap_err();
    assert!(err.to_string().contains("enable_io"), "{err}");
}
