//! The raw socket system calls weir's sockets make beyond what mio wraps: byte transfers with
//! flags (`MSG_PEEK`, `MSG_NOSIGNAL`), scatter/gather, and socket options.

use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

/// A byte-count syscall's result: negative is the OS error in `errno`.
pub(crate) fn byte_count(n: libc::ssize_t) -> io::Result<usize> {
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// `recv` into possibly uninitialized memory; the kernel only writes it.
pub(crate) fn recv_uninit(fd: RawFd, buf: &mut [MaybeUninit<u8>], flags: i32) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole call; `recv` only
    // writes into it. A closed or bad fd is an error, not undefined behaviour.
    byte_count(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), flags) })
}

/// `recv` into initialized memory.
pub(crate) fn recv(fd: RawFd, buf: &mut [u8], flags: i32) -> io::Result<usize> {
    // SAFETY: as in `recv_uninit`.
    byte_count(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), flags) })
}

/// `send` without SIGPIPE: a peer that is gone is `BrokenPipe`.
pub(crate) fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the whole call.
    byte_count(unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) })
}

/// Most buffers one `sendmsg` / `recvmsg` takes (Linux's IOV_MAX).
pub(crate) const MAX_IOV: usize = 1024;

/// Gathers `bufs` (the first [`MAX_IOV`] of them) into one `sendmsg`, without SIGPIPE.
pub(crate) fn send_vectored(fd: RawFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let count = bufs.len().min(MAX_IOV);
    // SAFETY: an all-zero msghdr is a valid empty message.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    // `IoSlice` is ABI-compatible with `iovec` on Unix (std guarantees it); sendmsg only
    // reads through the pointer.
    msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = count as _;
    // SAFETY: `msg` points at `count` valid iovecs that outlive the call.
    byte_count(unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) })
}

/// Scatters one `recvmsg` into `bufs` (the first [`MAX_IOV`] of them).
pub(crate) fn recv_vectored(fd: RawFd, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
    let count = bufs.len().min(MAX_IOV);
    // SAFETY: an all-zero msghdr is a valid empty message.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    // `IoSliceMut` is ABI-compatible with `iovec` on Unix (std guarantees it).
    msg.msg_iov = bufs.as_mut_ptr().cast();
    msg.msg_iovlen = count as _;
    // SAFETY: `msg` points at `count` valid, writable iovecs that outlive the call.
    byte_count(unsafe { libc::recvmsg(fd, &mut msg, 0) })
}

/// Sets a socket option whose value is a plain C value.
pub(crate) fn set_option<T: Copy>(fd: RawFd, level: i32, name: i32, value: T) -> io::Result<()> {
    // SAFETY: `value` is a live `T` of the size passed; the kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reads a socket option whose value is a plain C value (`T` must be valid for any bytes:
/// `c_int`, `linger`).
pub(crate) fn get_option<T: Copy>(fd: RawFd, level: i32, name: i32) -> io::Result<T> {
    let mut value = MaybeUninit::<T>::zeroed();
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `value` has room for `len` bytes; the kernel writes at most that and says how
    // much in `len`.
    let rc = unsafe { libc::getsockopt(fd, level, name, value.as_mut_ptr().cast(), &mut len) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: zeroed, then (partly) written by the kernel; the callers' `T`s (C integers and
    // structs of them) are valid for every bit pattern.
    Ok(unsafe { value.assume_init() })
}

/// A boolean socket option.
pub(crate) fn set_flag(fd: RawFd, level: i32, name: i32, on: bool) -> io::Result<()> {
    set_option(fd, level, name, libc::c_int::from(on))
}

/// A boolean socket option.
pub(crate) fn get_flag(fd: RawFd, level: i32, name: i32) -> io::Result<bool> {
    Ok(get_option::<libc::c_int>(fd, level, name)? != 0)
}

/// `SO_LINGER`: `None` is off (close returns at once, the kernel sends what is left in the
/// background); `Some(d)` makes close wait up to `d` (whole seconds) for unsent data.
pub(crate) fn set_linger(fd: RawFd, linger: Option<std::time::Duration>) -> io::Result<()> {
    let value = libc::linger {
        l_onoff: libc::c_int::from(linger.is_some()),
        l_linger: linger.map_or(0, |d| {
            d.as_secs().min(libc::c_int::MAX as u64) as libc::c_int
        }),
    };
    set_option(fd, libc::SOL_SOCKET, libc::SO_LINGER, value)
}

/// `SO_LINGER`, as [`set_linger`] takes it.
pub(crate) fn linger(fd: RawFd) -> io::Result<Option<std::time::Duration>> {
    let value: libc::linger = get_option(fd, libc::SOL_SOCKET, libc::SO_LINGER)?;
    Ok((value.l_onoff != 0).then(|| std::time::Duration::from_secs(value.l_linger.max(0) as u64)))
}

/// `addr` as the C socket address the kernel takes, and its length.
pub(crate) fn c_socket_addr(
    addr: &std::net::SocketAddr,
) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid `sockaddr_storage` (and a valid `sockaddr_in`/`_in6`).
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        std::net::SocketAddr::V4(a) => {
            // SAFETY: `sockaddr_storage` is larger than and aligned for `sockaddr_in`.
            let sin = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            std::mem::size_of::<libc::sockaddr_in>()
        }
        std::net::SocketAddr::V6(a) => {
            // SAFETY: `sockaddr_storage` is larger than and aligned for `sockaddr_in6`.
            let sin6 = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_scope_id = a.scope_id();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// A syscall's `0 on success, -1 and errno on failure` result.
pub(crate) fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
