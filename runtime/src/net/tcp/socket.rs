//! `TcpSocket`: a TCP socket configured before it connects or listens.

use std::fmt;
use std::io;
use std::mem::ManuallyDrop;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::{TcpListener, TcpStream};
use crate::net::socket_calls::{self, c_socket_addr, check};

/// A TCP socket that is not connected or listening yet: set its options (`SO_REUSEADDR`,
/// buffer sizes, keep-alive, ...), optionally [`bind`](TcpSocket::bind) it, then
/// [`connect`](TcpSocket::connect) or [`listen`](TcpSocket::listen).
///
/// ```
/// # weir_runtime::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use weir_runtime::net::TcpSocket;
///
/// let socket = TcpSocket::new_v4()?;
/// socket.set_reuseaddr(true)?;
/// socket.bind("127.0.0.1:0".parse().unwrap())?;
/// let listener = socket.listen(128)?;
/// let stream = TcpSocket::new_v4()?.connect(listener.local_addr()?).await?;
/// assert_eq!(stream.peer_addr()?, listener.local_addr()?);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpSocket {
    fd: OwnedFd,
}

impl TcpSocket {
    /// A new IPv4 TCP socket.
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(libc::AF_INET)
    }

    /// A new IPv6 TCP socket.
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(libc::AF_INET6)
    }

    fn new(domain: libc::c_int) -> io::Result<TcpSocket> {
        let kind = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: a plain syscall; it returns a new descriptor or -1.
        let fd = unsafe { libc::socket(domain, kind, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        Ok(TcpSocket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Takes over a std stream's socket (its options stay as they are).
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        TcpSocket {
            fd: OwnedFd::from(stream),
        }
    }

    fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Runs `f` on a std view of the socket (for the calls std already makes well), without
    /// giving up the descriptor.
    fn with_std<R>(&self, f: impl FnOnce(&std::net::TcpStream) -> R) -> R {
        // SAFETY: the descriptor is open for as long as `self` lives, and `ManuallyDrop`
        // keeps the view from closing it.
        let view = ManuallyDrop::new(unsafe { std::net::TcpStream::from_raw_fd(self.fd()) });
        f(&view)
    }

    /// `SO_REUSEADDR`: bind to an address that a closed connection still holds in TIME_WAIT.
    pub fn set_reuseaddr(&self, on: bool) -> io::Result<()> {
        socket_calls::set_flag(self.fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, on)
    }

    /// Whether `SO_REUSEADDR` is set.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        socket_calls::get_flag(self.fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR)
    }

    /// `SO_REUSEPORT`: several sockets listen on one port and the kernel spreads connections.
    pub fn set_reuseport(&self, on: bool) -> io::Result<()> {
        socket_calls::set_flag(self.fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, on)
    }

    /// Whether `SO_REUSEPORT` is set.
    pub fn reuseport(&self) -> io::Result<bool> {
        socket_calls::get_flag(self.fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT)
    }

    /// `SO_SNDBUF` (the kernel doubles what it is given, for bookkeeping).
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
        socket_calls::set_option(self.fd(), libc::SOL_SOCKET, libc::SO_SNDBUF, size)
    }

    /// `SO_SNDBUF`.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        let size: libc::c_int =
            socket_calls::get_option(self.fd(), libc::SOL_SOCKET, libc::SO_SNDBUF)?;
        Ok(size.max(0) as u32)
    }

    /// `SO_RCVBUF` (the kernel doubles what it is given, for bookkeeping).
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
        socket_calls::set_option(self.fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, size)
    }

    /// `SO_RCVBUF`.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        let size: libc::c_int =
            socket_calls::get_option(self.fd(), libc::SOL_SOCKET, libc::SO_RCVBUF)?;
        Ok(size.max(0) as u32)
    }

    /// `SO_KEEPALIVE`: probe an idle connection so a dead peer is noticed.
    pub fn set_keepalive(&self, on: bool) -> io::Result<()> {
        socket_calls::set_flag(self.fd(), libc::SOL_SOCKET, libc::SO_KEEPALIVE, on)
    }

    /// Whether `SO_KEEPALIVE` is set.
    pub fn keepalive(&self) -> io::Result<bool> {
        socket_calls::get_flag(self.fd(), libc::SOL_SOCKET, libc::SO_KEEPALIVE)
    }

    /// `SO_LINGER`, as [`TcpStream::set_linger`] describes it.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        socket_calls::set_linger(self.fd(), linger)
    }

    /// `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        socket_calls::linger(self.fd())
    }

    /// `TCP_NODELAY`: no Nagle batching of small writes.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.with_std(|s| s.set_nodelay(on))
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.with_std(|s| s.nodelay())
    }

    /// The address it is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.with_std(|s| s.local_addr())
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.with_std(|s| s.take_error())
    }

    /// Binds to `addr` (port 0: one the system picks).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        let (storage, len) = c_socket_addr(&addr);
        // SAFETY: `storage` holds a valid socket address of `len` bytes.
        check(unsafe {
            libc::bind(
                self.fd(),
                (&storage as *const libc::sockaddr_storage).cast(),
                len,
            )
        })
    }

    /// Connects to `addr`; the connected stream.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        let (storage, len) = c_socket_addr(&addr);
        // SAFETY: `storage` holds a valid socket address of `len` bytes.
        let rc = unsafe {
            libc::connect(
                self.fd(),
                (&storage as *const libc::sockaddr_storage).cast(),
                len,
            )
        };
        if rc != 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINPROGRESS) {
                return Err(err);
            }
        }
        let std = std::net::TcpStream::from(self.fd);
        TcpStream::connected(mio::net::TcpStream::from_std(std)).await
    }

    /// Listens, with up to `backlog` connections queued before `accept` takes them.
    /// Must be called inside a runtime with IO enabled.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = libc::c_int::try_from(backlog).unwrap_or(libc::c_int::MAX);
        // SAFETY: a plain syscall on a descriptor we own.
        check(unsafe { libc::listen(self.fd(), backlog) })?;
        let std = std::net::TcpListener::from(self.fd);
        TcpListener::from_mio(mio::net::TcpListener::from_std(std))
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl FromRawFd for TcpSocket {
    /// # Safety
    /// `fd` must be an open TCP socket that nothing else owns.
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        TcpSocket {
            // SAFETY: the caller hands over an owned, open socket.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        }
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.fd())
            .finish()
    }
}
