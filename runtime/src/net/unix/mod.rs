//! Unix-domain stream sockets: [`UnixListener`], [`UnixStream`] and the stream's split halves.

mod listener;
mod stream;

pub use listener::UnixListener;
pub use stream::UnixStream;

/// The address of a Unix-domain socket.
pub use std::os::unix::net::SocketAddr;

use std::io;
use std::path::Path;

/// The socket address for `path`. On Linux a path that starts with a NUL byte (`"\0name"`)
/// names a socket in the abstract namespace (no file; gone with its last descriptor), as in
/// C and in std's `SocketAddr::from_abstract_name`; any other path is a filesystem path.
pub(crate) fn socket_addr(path: &Path) -> io::Result<SocketAddr> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::ffi::OsStrExt;
        if let Some(name) = path.as_os_str().as_bytes().strip_prefix(b"\0") {
            return SocketAddr::from_abstract_name(name);
        }
    }
    SocketAddr::from_pathname(path)
}

/// The read half of a [`UnixStream`] borrowed by [`UnixStream::split`].
pub type ReadHalf<'a> = crate::net::ReadHalf<'a, UnixStream>;
/// The write half of a [`UnixStream`] borrowed by [`UnixStream::split`].
pub type WriteHalf<'a> = crate::net::WriteHalf<'a, UnixStream>;
/// The read half of a [`UnixStream`] taken apart by [`UnixStream::into_split`].
pub type OwnedReadHalf = crate::net::OwnedReadHalf<UnixStream>;
/// The write half of a [`UnixStream`] taken apart by [`UnixStream::into_split`].
pub type OwnedWriteHalf = crate::net::OwnedWriteHalf<UnixStream>;
