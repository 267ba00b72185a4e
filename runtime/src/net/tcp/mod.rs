//! TCP: [`TcpListener`], [`TcpStream`], [`TcpSocket`] and the stream's split halves.

mod listener;
mod socket;
mod stream;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use stream::TcpStream;

/// The read half of a [`TcpStream`] borrowed by [`TcpStream::split`].
pub type ReadHalf<'a> = crate::net::ReadHalf<'a, TcpStream>;
/// The write half of a [`TcpStream`] borrowed by [`TcpStream::split`].
pub type WriteHalf<'a> = crate::net::WriteHalf<'a, TcpStream>;
/// The read half of a [`TcpStream`] taken apart by [`TcpStream::into_split`].
pub type OwnedReadHalf = crate::net::OwnedReadHalf<TcpStream>;
/// The write half of a [`TcpStream`] taken apart by [`TcpStream::into_split`].
pub type OwnedWriteHalf = crate::net::OwnedWriteHalf<TcpStream>;
