//! The process-wide signal state: handler, counters, self-pipe and the listening tasks.
//!
//! Invariants:
//! - The handler only does async-signal-safe things: one atomic add on the signal's counter,
//!   one `write` of a byte to the pipe (a full pipe already means "wake up", so the write may
//!   fail), and it saves and restores `errno`.
//! - The counter is incremented before the byte is written. A listener compares the counter
//!   with the value it saw last, registers its waker under the listener lock, then compares
//!   again; the driver drains the pipe, then takes the wakers under the same lock. So either
//!   the listener's second look sees the new count, or its waker is there to be woken.
//! - These statics use std's atomics, not the `crate::sync` facade: a signal handler cannot
//!   run inside a loom model, and loom atomics cannot be built in a `static`.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use crate::io::driver::{self, IoHandle};
use crate::sync::Arc;

/// Signal numbers 1..NSIG are tracked (Linux has 64, with the real-time ones).
const NSIG: usize = 65;

static COUNTS: [AtomicU64; NSIG] = [const { AtomicU64::new(0) }; NSIG];
static INSTALLED: [OnceLock<Result<(), io::ErrorKind>>; NSIG] = [const { OnceLock::new() }; NSIG];
/// Write end of the pipe, for the handler (-1 until the pipe exists).
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
static PIPE: OnceLock<Result<Pipe, io::ErrorKind>> = OnceLock::new();
static LISTENERS: Mutex<Slab<Option<Waker>>> = Mutex::new(Slab::new());

struct Pipe {
    // Both ends live as long as the process: the handler may write at any time.
    _sender: mio::unix::pipe::Sender,
    receiver: mio::unix::pipe::Receiver,
}

fn listeners() -> std::sync::MutexGuard<'static, Slab<Option<Waker>>> {
    LISTENERS.lock().unwrap_or_else(|p| p.into_inner())
}

extern "C" fn handler(signum: libc::c_int) {
    let saved = errno::get();
    if let Some(count) = usize::try_from(signum).ok().and_then(|s| COUNTS.get(s)) {
        // SeqCst: the listener's comparison and this add are totally ordered.
        count.fetch_add(1, Ordering::SeqCst);
    }
    // Relaxed: the descriptor was published before any handler was installed (the sigaction
    // call orders it).
    let fd = PIPE_WRITE.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: `write` is async-signal-safe; `byte` is valid for one byte; the pipe's write
        // end is never closed.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    errno::set(saved);
}

mod errno {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn location() -> *mut libc::c_int {
        // SAFETY: returns the calling thread's errno slot; always valid.
        unsafe { libc::__errno_location() }
    }

    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    fn location() -> *mut libc::c_int {
        // SAFETY: returns the calling thread's errno slot; always valid.
        unsafe { libc::__error() }
    }

    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )))]
    fn location() -> *mut libc::c_int {
        std::ptr::null_mut()
    }

    pub(super) fn get() -> libc::c_int {
        let p = location();
        if p.is_null() {
            return 0;
        }
        // SAFETY: a valid, thread-local errno slot.
        unsafe { *p }
    }

    pub(super) fn set(value: libc::c_int) {
        let p = location();
        if !p.is_null() {
            // SAFETY: as in `get`.
            unsafe { *p = value };
        }
    }
}

fn pipe() -> io::Result<&'static Pipe> {
    let pipe = PIPE.get_or_init(|| {
        let (sender, receiver) = mio::unix::pipe::new().map_err(|e| e.kind())?;
        // Relaxed: see the handler; the handlers are installed after this.
        PIPE_WRITE.store(sender.as_raw_fd(), Ordering::Relaxed);
        Ok(Pipe {
            _sender: sender,
            receiver,
        })
    });
    pipe.as_ref()
        .map_err(|&kind| io::Error::new(kind, "weir: could not create the signal pipe"))
}

fn install(signum: libc::c_int) -> io::Result<()> {
    let forbidden = [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
    ];
    let index = usize::try_from(signum).ok().filter(|&s| s > 0 && s < NSIG);
    let Some(index) = index.filter(|_| !forbidden.contains(&signum)) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("weir: signal {signum} cannot be listened for"),
        ));
    };
    pipe()?;
    let result = INSTALLED[index].get_or_init(|| {
        // SAFETY: an all-zero sigaction is a valid starting point; we fill in the handler,
        // an empty mask and flags before passing it on.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = handler as *const () as usize;
        action.sa_flags = libc::SA_RESTART;
        // SAFETY: `action.sa_mask` is a valid sigset_t to initialize; `action` is fully set
        // up and `handler` is async-signal-safe (see the module comment).
        let rc = unsafe {
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signum, &action, std::ptr::null_mut())
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error().kind())
        }
    });
    result.map_err(|kind| {
        io::Error::new(
            kind,
            format!("weir: could not install the handler of signal {signum}"),
        )
    })
}

/// The driver saw the pipe readable: drain it and collect every listener's waker.
pub(crate) fn on_pipe_readable(wakers: &mut Vec<Waker>) {
    if let Some(Ok(pipe)) = PIPE.get() {
        drain(pipe.receiver.as_raw_fd());
    }
    for (_, slot) in listeners().iter_mut() {
        if let Some(w) = slot.take() {
            wakers.push(w);
        }
    }
}

fn drain(fd: RawFd) {
    let mut buf = [0u8; 128];
    loop {
        // SAFETY: `buf` is valid for writes of its length; the read end is never closed.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        // 0 cannot happen (the write end stays open); < 0 is EAGAIN (drained) or an error we
        // cannot act on. Either way, stop.
        if n <= 0 {
            break;
        }
    }
}

/// One task's subscription to one signal.
pub(crate) struct Listener {
    index: usize,
    seen: u64,
    key: usize,
    // Keeps the reactor that watches the pipe alive as long as someone listens.
    _handle: Arc<IoHandle>,
}

impl Listener {
    pub(crate) fn new(signum: libc::c_int) -> io::Result<Listener> {
        install(signum)?;
        let handle = driver::current()?;
        handle.ensure_signal_pipe(pipe()?.receiver.as_raw_fd())?;
        // `install` checked the range.
        let index = signum as usize;
        let key = listeners().insert(None);
        Ok(Listener {
            index,
            // SeqCst: see the handler.
            seen: COUNTS[index].load(Ordering::SeqCst),
            key,
            _handle: handle,
        })
    }

    fn delivered(&mut self) -> bool {
        // SeqCst: see the handler.
        let now = COUNTS[self.index].load(Ordering::SeqCst);
        if now != self.seen {
            self.seen = now;
            true
        } else {
            false
        }
    }

    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let coop = std::task::ready!(crate::coop::poll_proceed(cx));
        if self.delivered() {
            coop.made_progress();
            return Poll::Ready(());
        }
        if let Some(slot) = listeners().get_mut(self.key) {
            match slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        if self.delivered() {
            coop.made_progress();
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut list = listeners();
        if list.contains(self.key) {
            list.remove(self.key);
        }
    }
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("signal", &self.index)
            .field("seen", &self.seen)
            .finish()
    }
}
