//! The IO reactor: a `mio::Poll`, the registrations it reports on, and the waker that cuts its
//! sleep short.
//!
//! Registrations live in a slab; a registration's mio token is its slab key plus a generation,
//! so an event that the OS queued for a registration which has since gone (and whose key was
//! reused) is recognised and dropped instead of waking the wrong socket.
//!
//! Only the holder of the scheduler's driver turns the reactor (see `scheduler/driver.rs`), so
//! one idle worker at a time sleeps in `epoll_wait`. A turn takes the slab lock once for its
//! whole batch of events and wakes tasks after releasing it. Polls of a socket never take the
//! lock: they read the registration's `ScheduledIo` through their own `Arc`.

use std::io;
use std::sync::OnceLock;
use std::task::Waker;
use std::time::Duration;

use mio::event::Source;
use mio::{Events, Interest, Token};
use slab::Slab;

use super::scheduled_io::{ScheduledIo, ERROR, READABLE, READ_CLOSED, WRITABLE, WRITE_CLOSED};
use crate::sync::{Arc, Mutex, MutexGuard};

/// Token of the `mio::Waker` that unparks the reactor.
const WAKER_TOKEN: Token = Token(usize::MAX);
/// Token of the signal self-pipe (see `signal/registry.rs`).
pub(crate) const SIGNAL_TOKEN: Token = Token(usize::MAX - 1);

/// Low bits of a token: the slab key. The rest, below the top bit: the generation.
const KEY_BITS: u32 = 24;
const KEY_MASK: usize = (1 << KEY_BITS) - 1;
const GENERATION_MASK: usize = (usize::MAX >> 1) >> KEY_BITS;
/// Most registrations alive at once.
const MAX_REGISTRATIONS: usize = KEY_MASK;

const EVENTS_CAPACITY: usize = 1024;

/// The reactor half that only the driver holder touches.
pub(crate) struct IoDriver {
    /// Never contended: only the holder of the scheduler's driver lock turns the reactor. The
    /// mutex just proves that to the compiler without `unsafe`.
    turn: Mutex<Turn>,
    handle: Arc<IoHandle>,
}

struct Turn {
    poll: mio::Poll,
    events: Events,
    /// Reused buffer of the wakers of one turn.
    wakers: Vec<Waker>,
}

/// The reactor half that sockets hold: registering, deregistering, waking the sleeper.
pub(crate) struct IoHandle {
    registry: mio::Registry,
    waker: mio::Waker,
    registrations: Mutex<Registrations>,
    /// Whether the signal pipe was registered with this reactor (and how that went).
    signal: OnceLock<Result<(), io::ErrorKind>>,
}

struct Registrations {
    slab: Slab<Arc<ScheduledIo>>,
    generation: usize,
    shutdown: bool,
}

impl IoDriver {
    pub(crate) fn new() -> io::Result<IoDriver> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let registry = poll.registry().try_clone()?;
        let handle = Arc::new(IoHandle {
            registry,
            waker,
            registrations: Mutex::new(Registrations {
                slab: Slab::new(),
                generation: 0,
                shutdown: false,
            }),
            signal: OnceLock::new(),
        });
        Ok(IoDriver {
            turn: Mutex::new(Turn {
                poll,
                events: Events::with_capacity(EVENTS_CAPACITY),
                wakers: Vec::new(),
            }),
            handle,
        })
    }

    pub(crate) fn handle(&self) -> &Arc<IoHandle> {
        &self.handle
    }

    /// Waits for IO events (at most `timeout`; `None`: until woken) and wakes their tasks.
    pub(crate) fn turn(&self, timeout: Option<Duration>) {
        let mut turn = self.turn.lock().unwrap_or_else(|p| p.into_inner());
        let Turn {
            poll,
            events,
            wakers,
        } = &mut *turn;
        if let Err(err) = poll.poll(events, timeout) {
            // EINTR (a signal arrived) is an empty turn; anything else the next turn meets
            // again, and the caller re-checks its queues either way.
            if err.kind() != io::ErrorKind::Interrupted {
                events.clear();
            }
        }
        let mut signalled = false;
        {
            let regs = self.handle.lock();
            for event in events.iter() {
                let token = event.token();
                if token == WAKER_TOKEN {
                    continue;
                }
                if token == SIGNAL_TOKEN {
                    signalled = true;
                    continue;
                }
                let Some(io) = regs.slab.get(token.0 & KEY_MASK) else {
                    continue;
                };
                if io.token() != token.0 {
                    // An event for a registration that is gone; its key was reused.
                    continue;
                }
                let mut ready = 0;
                if event.is_readable() {
                    ready |= READABLE;
                }
                if event.is_writable() {
                    ready |= WRITABLE;
                }
                if event.is_read_closed() {
                    ready |= READ_CLOSED;
                }
                if event.is_write_closed() {
                    ready |= WRITE_CLOSED;
                }
                if event.is_error() {
                    ready |= ERROR;
                }
                io.set_readiness(ready, wakers);
            }
        }
        if signalled {
            crate::signal::registry::on_pipe_readable(wakers);
        }
        turn_wake(wakers);
    }

    /// The runtime is shutting down: fail every registration and wake every waiter.
    pub(crate) fn shutdown(&self) {
        let mut wakers = Vec::new();
        {
            let mut regs = self.handle.lock();
            regs.shutdown = true;
            for (_, io) in regs.slab.iter() {
                io.shutdown(&mut wakers);
            }
        }
        turn_wake(&mut wakers);
    }
}

fn turn_wake(wakers: &mut Vec<Waker>) {
    for w in wakers.drain(..) {
        w.wake();
    }
}

impl IoHandle {
    fn lock(&self) -> MutexGuard<'_, Registrations> {
        self.registrations.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Cuts the reactor's sleep short.
    pub(crate) fn unpark(&self) {
        // An eventfd write; it only fails if the counter is saturated, which already means a
        // wake-up is pending.
        let _ = self.waker.wake();
    }

    /// Registers `source` for `interest`; its readiness is reported to the returned state.
    pub(crate) fn register(
        &self,
        source: &mut impl Source,
        interest: Interest,
    ) -> io::Result<Arc<ScheduledIo>> {
        let io = {
            let mut regs = self.lock();
            if regs.shutdown {
                return Err(shutdown_error());
            }
            if regs.slab.len() >= MAX_REGISTRATIONS {
                return Err(io::Error::other(
                    "weir: too many IO resources registered with one runtime (16,777,215 at most)",
                ));
            }
            regs.generation = (regs.generation + 1) & GENERATION_MASK;
            let generation = regs.generation;
            let entry = regs.slab.vacant_entry();
            let token = entry.key() | (generation << KEY_BITS);
            let io = Arc::new(ScheduledIo::new(token));
            entry.insert(io.clone());
            io
        };
        if let Err(err) = self.registry.register(source, Token(io.token()), interest) {
            self.remove(&io);
            return Err(err);
        }
        Ok(io)
    }

    /// Stops reporting on `source` and forgets its registration.
    pub(crate) fn deregister(&self, io: &ScheduledIo, source: &mut impl Source) -> io::Result<()> {
        let result = self.registry.deregister(source);
        self.remove(io);
        result
    }

    fn remove(&self, io: &ScheduledIo) {
        let key = io.token() & KEY_MASK;
        let mut regs = self.lock();
        if regs.slab.get(key).is_some_and(|e| e.token() == io.token()) {
            regs.slab.remove(key);
        }
    }

    /// Live registrations.
    pub(crate) fn num_registrations(&self) -> usize {
        self.lock().slab.len()
    }

    /// Registers the process's signal pipe with this reactor, once.
    pub(crate) fn ensure_signal_pipe(&self, fd: std::os::fd::RawFd) -> io::Result<()> {
        let result = self.signal.get_or_init(|| {
            self.registry
                .register(
                    &mut mio::unix::SourceFd(&fd),
                    SIGNAL_TOKEN,
                    Interest::READABLE,
                )
                .map_err(|e| e.kind())
        });
        result.map_err(|kind| io::Error::new(kind, "weir: could not watch the signal pipe"))
    }
}

/// The error of an operation on a resource whose runtime shut down.
pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other("weir: the runtime that owns this IO resource has shut down")
}

/// The reactor of the current runtime, or why there is none.
pub(crate) fn current() -> io::Result<Arc<IoHandle>> {
    match crate::runtime::context::with_handle(|h| h.driver().io_handle().cloned()) {
        Ok(Some(handle)) => Ok(handle),
        Ok(None) => Err(io::Error::other(
            "weir: IO is disabled on this runtime; build it with Builder::enable_io() or enable_all()",
        )),
        Err(err) => Err(io::Error::other(err.to_string())),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_collide_with_reserved_ones() {
        let driver = IoDriver::new().unwrap();
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut a = mio::net::UnixStream::from_std(a);
        let h = driver.handle();
        let mut tokens = Vec::new();
        for _ in 0..3 {
            let io = h.register(&mut a, Interest::READABLE).unwrap();
            assert_ne!(io.token(), WAKER_TOKEN.0);
            assert_ne!(io.token(), SIGNAL_TOKEN.0);
            tokens.push(io.token());
            h.deregister(&io, &mut a).unwrap();
        }
        // The same key comes back with a new generation each time.
        assert!(tokens.iter().all(|t| t & KEY_MASK == tokens[0] & KEY_MASK));
        assert_eq!(
            tokens.len(),
            tokens
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len()
        );
        assert_eq!(h.num_registrations(), 0);
    }

    #[test]
    fn readiness_reaches_the_registration_and_stale_tokens_are_ignored() {
        use std::io::Write;
        let driver = IoDriver::new().unwrap();
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut a = mio::net::UnixStream::from_std(a);
        let h = driver.handle().clone();
        let io = h.register(&mut a, Interest::READABLE).unwrap();
        b.write_all(b"x").unwrap();
        driver.turn(Some(Duration::from_secs(5)));
        assert_ne!(io.ready_bits() & READABLE, 0);
        h.deregister(&io, &mut a).unwrap();
        // After shutdown no new registration is accepted.
        driver.shutdown();
        assert!(h.register(&mut a, Interest::READABLE).is_err());
    }
}
