//! `UdpSocket`: datagrams.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::task::{ready, Context, Poll};

use crate::io::poll_evented::PollEvented;
use crate::io::scheduled_io::{Direction, Waiter, WaiterSlot};
use crate::io::{Interest, ReadBuf, Ready};
use crate::net::addr::{each_addr, resolve, ToSocketAddrs};
use crate::net::socket_calls;
use crate::net::stream_io::evented_fd;

/// A UDP socket. Its methods take `&self`: share it (in an `Arc`) between a receiving and a
/// sending task, or between several of each; every waiting task is woken when the socket
/// becomes ready.
///
/// ```
/// # weir_runtime::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use weir_runtime::net::UdpSocket;
///
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"ping", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UdpSocket {
    io: PollEvented<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (the first of its addresses that works).
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(&addr, |a| async move {
            UdpSocket::from_mio(mio::net::UdpSocket::bind(a)?)
        })
        .await
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: PollEvented::new(socket, mio::Interest::READABLE | mio::Interest::WRITABLE)?,
        })
    }

    /// Takes over a socket from the standard library (switching it to non-blocking mode).
    /// Must be called inside a runtime with IO enabled.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    /// Gives the socket back to the standard library (still in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.io.into_inner()?.into())
    }

    /// Sets the default peer: `send` goes there and `recv` only takes its datagrams.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let mut last = None;
        for a in resolve(&addr).await? {
            match self.io.get_ref().connect(a) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the address resolved to no socket address",
            )
        }))
    }

    /// Sends one datagram to `target`; returns the bytes sent.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let addrs = resolve(&target).await?;
        let Some(&target) = addrs.first() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the address resolved to no socket address",
            ));
        };
        self.io
            .shared_io(Direction::Write, WaiterSlot::Idle, |s| {
                s.send_to(buf, target)
            })
            .await
    }

    /// Receives one datagram into `buf` (the excess of a longer one is dropped); returns its
    /// length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .shared_io(Direction::Read, WaiterSlot::Idle, |s| s.recv_from(buf))
            .await
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .shared_io(Direction::Write, WaiterSlot::Idle, |s| s.send(buf))
            .await
    }

    /// Receives one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .shared_io(Direction::Read, WaiterSlot::Idle, |s| s.recv(buf))
            .await
    }

    /// Waits for a datagram and copies it into `buf` without taking it off the queue; its
    /// length and sender.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .shared_io(Direction::Read, WaiterSlot::Idle, |s| s.peek_from(buf))
            .await
    }

    /// Waits for a datagram from the connected peer and copies it into `buf` without taking
    /// it off the queue; its length.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .shared_io(Direction::Read, WaiterSlot::Idle, |s| s.peek(buf))
            .await
    }

    /// Waits until the socket is ready for any of `interest`; what it is ready for. Any
    /// number of tasks may wait at once.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest, WaiterSlot::Idle).await
    }

    /// Waits until a datagram can be received; pair it with [`UdpSocket::try_recv`].
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until a datagram can be sent; pair it with [`UdpSocket::try_send`].
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Polls for receive readiness. The `poll_*` methods of one direction share one waker,
    /// the latest caller's; the async methods each have their own.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io
            .poll_ready(cx, Direction::Read, Waiter::Poller)
            .map_ok(drop)
    }

    /// Polls for send readiness (see [`UdpSocket::poll_recv_ready`] for the waker).
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io
            .poll_ready(cx, Direction::Write, Waiter::Poller)
            .map_ok(drop)
    }

    /// Polls to receive a datagram from the connected peer into `buf`'s unfilled part.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let n = ready!(self.io.poll_io(cx, Direction::Read, Waiter::Poller, |s| {
            // SAFETY: `recv` only writes into the memory; the ReadBuf learns how much below.
            let dst = unsafe { buf.unfilled_mut() };
            socket_calls::recv_uninit(s.as_raw_fd(), dst, 0)
        }))?;
        // SAFETY: the kernel wrote `n` bytes at the start of the unfilled part.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// Polls to receive a datagram into `buf`'s unfilled part; its sender.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        self.poll_datagram(cx, buf, |s, b| s.recv_from(b))
    }

    /// Polls to copy a datagram into `buf`'s unfilled part without taking it off the queue;
    /// its sender.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        self.poll_datagram(cx, buf, |s, b| s.peek_from(b))
    }

    fn poll_datagram(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        op: impl Fn(&mio::net::UdpSocket, &mut [u8]) -> io::Result<(usize, SocketAddr)>,
    ) -> Poll<io::Result<SocketAddr>> {
        let dst = buf.initialize_unfilled();
        let (n, from) = ready!(self
            .io
            .poll_io(cx, Direction::Read, Waiter::Poller, |s| op(s, dst)))?;
        buf.advance(n);
        Poll::Ready(Ok(from))
    }

    /// Polls to send one datagram to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, Waiter::Poller, |s| s.send(buf))
    }

    /// Polls to send one datagram to `target`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, Waiter::Poller, |s| {
            s.send_to(buf, target)
        })
    }

    /// Sends one datagram to the connected peer without waiting (`WouldBlock` if it cannot).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send(buf))
    }

    /// Sends one datagram to `target` without waiting.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send_to(buf, target))
    }

    /// Receives one datagram from the connected peer without waiting (`WouldBlock` if none
    /// is queued).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |s| s.recv(buf))
    }

    /// Receives one datagram without waiting; its length and sender.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.recv_from(buf))
    }

    /// Copies a queued datagram without taking it and without waiting; its length and
    /// sender.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.peek_from(buf))
    }

    /// Runs `f`, a syscall of the caller's on this socket, once; on `WouldBlock` the readiness
    /// of `interest` is cleared.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io(Direction::of(interest), |_| f())
    }

    /// Runs `f`, a syscall of the caller's on this socket, until it does not say
    /// `WouldBlock`, waiting for readiness of `interest` in between.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io
            .shared_io(Direction::of(interest), WaiterSlot::Idle, |_| f())
            .await
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address `interface`
    /// (`Ipv4Addr::UNSPECIFIED`: the system's choice).
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on interface index `interface` (0: the
    /// system's choice).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Whether IPv4 multicast datagrams this socket sends loop back to it.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// Whether IPv4 multicast loops back.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// The time-to-live of IPv4 multicast datagrams (1 by default: the local network).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// The time-to-live of IPv4 multicast datagrams.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Whether IPv6 multicast datagrams this socket sends loop back to it.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// Whether IPv6 multicast loops back.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Allows sending to broadcast addresses.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether broadcast is allowed.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

evented_fd!(UdpSocket);

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// As [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
