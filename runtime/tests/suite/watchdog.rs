//! A per-test hang guard: a thread that aborts the whole test process, naming the test, if the
//! test has not finished within the limit. A panic would not do: the hung test thread would
//! keep the process alive. The limit is far above any test's normal run time; it bounds hangs,
//! it measures nothing.

use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

/// Generous bound for one test instance on a loaded 2-core machine.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);

pub struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Watchdog {
    pub fn start(test: String) -> Watchdog {
        let (done, rx) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name(format!("watchdog {test}"))
            .spawn(move || {
                if let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(HANG_LIMIT) {
                    // Straight to the process's stderr: the test harness captures `eprintln!`
                    // and would lose the message when the process aborts.
                    let _ = writeln!(
                        std::io::stderr(),
                        "\nwatchdog: test `{test}` is still running after {HANG_LIMIT:?}: it hangs \
                         (a lost wake-up or a deadlock). Aborting the test process.\n"
                    );
                    std::process::abort();
                }
            })
            .expect("start the watchdog thread");
        Watchdog {
            done: Some(done),
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Disconnecting the channel ends the watchdog's wait.
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
