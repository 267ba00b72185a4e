//! Unix-domain stream sockets: [`UnixListener`], [`UnixStream`] and the stream's split halves.

mod listener;
mod stream;

pub use listener::UnixListener;
pub use stream::UnixStream;

/// The address of a Unix-domain socket.
pub use std::os::unix::net::SocketAddr;

/// The read half of a [`UnixStream`] borrowed by [`UnixStream::split`].
pub type ReadHalf<'a> = crate::net::ReadHalf<'a, UnixStream>;
/// The write half of a [`UnixStream`] borrowed by [`UnixStream::split`].
pub type WriteHalf<'a> = crate::net::WriteHalf<'a, UnixStream>;
/// The read half of a [`UnixStream`] taken apart by [`UnixStream::into_split`].
pub type OwnedReadHalf = crate::net::OwnedReadHalf<UnixStream>;
/// The write half of a [`UnixStream`] taken apart by [`UnixStream::into_split`].
pub type OwnedWriteHalf = crate::net::OwnedWriteHalf<UnixStream>;
