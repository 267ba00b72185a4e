//! The IO trait impls that weir's stream sockets and their split halves share, written once as
//! macros: every one of them drives a [`SplitStream`] through `&self`, so the impls differ only
//! in how they reach that stream.
//!
//! [`SplitStream`]: crate::net::split::sealed::SplitStream

/// `AsyncRead` for each `Type => [generics] |this| stream`, reading from the `SplitStream`
/// that `stream` names (`this` is `&mut Self`).
macro_rules! split_read {
    ($($t:ty => [$($g:tt)*] |$this:ident| $stream:expr),* $(,)?) => {$(
        impl<$($g)*> $crate::io::AsyncRead for $t {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut $crate::io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $this = self.get_mut();
                $crate::net::split::sealed::SplitStream::split_poll_read(&*$stream, cx, buf)
            }
        }
    )*};
}

/// `AsyncWrite` for each `Type => [generics] |this| stream`, writing to the `SplitStream`
/// that `stream` names (`this` is `&mut Self`). Nothing is buffered in user space, so flushing
/// is a no-op; shutting down half-closes the stream, after the optional `; { block }` runs.
macro_rules! split_write {
    ($($t:ty => [$($g:tt)*] |$this:ident| $stream:expr $(; $before_shutdown:block)?),* $(,)?) => {$(
        impl<$($g)*> $crate::io::AsyncWrite for $t {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = self.get_mut();
                $crate::net::split::sealed::SplitStream::split_poll_write(&*$stream, cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = self.get_mut();
                $crate::net::split::sealed::SplitStream::split_poll_write_vectored(
                    &*$stream, cx, bufs,
                )
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_shutdown(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $this = self.get_mut();
                $($before_shutdown)?
                $crate::net::split::poll_shutdown_write(&*$stream)
            }
        }
    )*};
}

/// `AsRawFd` and `AsFd` for a socket type whose `io` field is a `PollEvented`.
macro_rules! evented_fd {
    ($t:ty) => {
        impl ::std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> ::std::os::fd::RawFd {
                ::std::os::fd::AsRawFd::as_raw_fd(self.io.get_ref())
            }
        }

        impl ::std::os::fd::AsFd for $t {
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                ::std::os::fd::AsFd::as_fd(self.io.get_ref())
            }
        }
    };
}

/// Everything a stream socket type whose `io` field is a `PollEvented` over a mio stream needs
/// to be read, written, split and shut down: `SplitStream` (each direction polled through
/// `&self`, shutdown of the write side), `AsyncRead`, `AsyncWrite`, `AsRawFd` and `AsFd`.
macro_rules! stream_socket {
    ($t:ty) => {
        impl $crate::net::split::sealed::SplitStream for $t {
            fn split_poll_read(
                &self,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut $crate::io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.io.poll_read_stream(cx, buf)
            }

            fn split_poll_write(
                &self,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_write_stream(cx, buf)
            }

            fn split_poll_write_vectored(
                &self,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_write_stream_vectored(cx, bufs)
            }

            fn split_shutdown_write(&self) -> ::std::io::Result<()> {
                self.io.get_ref().shutdown(::std::net::Shutdown::Write)
            }
        }

        $crate::net::stream_io::split_read! { $t => [] |this| this }
        $crate::net::stream_io::split_write! { $t => [] |this| this }
        $crate::net::stream_io::evented_fd!($t);
    };
}

pub(crate) use {evented_fd, split_read, split_write, stream_socket};
