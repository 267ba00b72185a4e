//! Networking: TCP, UDP and Unix-domain sockets on the runtime's reactor.
//!
//! Every operation is a future that spends one unit of the task's coop budget, waits for
//! readiness without blocking the worker, and reports failures as `std::io::Error` with the
//! OS cause kept (`ConnectionRefused`, `AddrInUse`, `BrokenPipe`, `ConnectionReset`, ...). A
//! read at the end of a stream (the peer shut its side down) returns 0 bytes. Writes never
//! raise SIGPIPE.
//!
//! Sockets must be created inside a runtime built with IO enabled (`Builder::enable_io`,
//! `enable_all`, or the `#[weir::main]` default); elsewhere they fail with an error saying so.

mod addr;
pub(crate) mod socket_calls;
pub(crate) mod split;
mod stream_io;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};
