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

/// The readiness and non-waiting methods of a stream socket type whose `io` field is a
/// `PollEvented` over a mio stream: `readable`, `writable`, `ready`, `poll_*_ready`,
/// `try_read`, `try_write` (and vectored), `peek`, `poll_peek`, `try_io`, `async_io`.
///
/// The `&self` futures among them (`readable`, `peek`, ...) queue behind the stream's own
/// reader and writer, so any number of them may wait at once beside a `&mut` read or write;
/// the `poll_*` methods share the waker of `poll_read` / `poll_write` (the latest caller's is
/// woken).
macro_rules! stream_readiness {
    ($t:ty) => {
        impl $t {
            /// Waits until the stream is ready for any of `interest`; what it is ready for.
            /// Readiness can be stale: a `try_*` call after it may still say `WouldBlock`.
            pub async fn ready(
                &self,
                interest: $crate::io::Interest,
            ) -> ::std::io::Result<$crate::io::Ready> {
                self.io
                    .ready(interest, $crate::io::scheduled_io::WaiterSlot::QueueOnly)
                    .await
            }

            /// Waits until the stream is readable (or at its end); pair it with
            /// [`try_read`](Self::try_read).
            pub async fn readable(&self) -> ::std::io::Result<()> {
                self.ready($crate::io::Interest::READABLE).await.map(drop)
            }

            /// Waits until the stream is writable; pair it with [`try_write`](Self::try_write).
            pub async fn writable(&self) -> ::std::io::Result<()> {
                self.ready($crate::io::Interest::WRITABLE).await.map(drop)
            }

            /// Polls for read readiness (sharing the waker of `poll_read`).
            pub fn poll_read_ready(
                &self,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.io
                    .poll_ready(
                        cx,
                        $crate::io::scheduled_io::Direction::Read,
                        $crate::io::scheduled_io::Waiter::Exclusive,
                    )
                    .map_ok(drop)
            }

            /// Polls for write readiness (sharing the waker of `poll_write`).
            pub fn poll_write_ready(
                &self,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                self.io
                    .poll_ready(
                        cx,
                        $crate::io::scheduled_io::Direction::Write,
                        $crate::io::scheduled_io::Waiter::Exclusive,
                    )
                    .map_ok(drop)
            }

            /// Reads what is there into `buf` without waiting: `WouldBlock` if nothing is,
            /// `Ok(0)` at the end of the stream.
            pub fn try_read(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
                self.io
                    .try_io($crate::io::scheduled_io::Direction::Read, |s| {
                        $crate::net::socket_calls::recv(
                            ::std::os::fd::AsRawFd::as_raw_fd(s),
                            buf,
                            0,
                        )
                    })
            }

            /// As [`try_read`](Self::try_read), scattering into several buffers.
            pub fn try_read_vectored(
                &self,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::io::Result<usize> {
                self.io
                    .try_io($crate::io::scheduled_io::Direction::Read, |s| {
                        $crate::net::socket_calls::recv_vectored(
                            ::std::os::fd::AsRawFd::as_raw_fd(s),
                            bufs,
                        )
                    })
            }

            /// Writes what fits of `buf` without waiting: `WouldBlock` if nothing does.
            pub fn try_write(&self, buf: &[u8]) -> ::std::io::Result<usize> {
                self.io
                    .try_io($crate::io::scheduled_io::Direction::Write, |s| {
                        $crate::net::socket_calls::send(::std::os::fd::AsRawFd::as_raw_fd(s), buf)
                    })
            }

            /// As [`try_write`](Self::try_write), gathering several buffers.
            pub fn try_write_vectored(
                &self,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::io::Result<usize> {
                self.io
                    .try_io($crate::io::scheduled_io::Direction::Write, |s| {
                        $crate::net::socket_calls::send_vectored(
                            ::std::os::fd::AsRawFd::as_raw_fd(s),
                            bufs,
                        )
                    })
            }

            /// Waits for data and copies it into `buf` without taking it off the stream (the
            /// next read returns it again); `Ok(0)` at the end of the stream.
            pub async fn peek(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
                self.io
                    .shared_io(
                        $crate::io::scheduled_io::Direction::Read,
                        $crate::io::scheduled_io::WaiterSlot::QueueOnly,
                        |s| {
                            $crate::net::socket_calls::recv(
                                ::std::os::fd::AsRawFd::as_raw_fd(s),
                                buf,
                                ::libc::MSG_PEEK,
                            )
                        },
                    )
                    .await
            }

            /// Polls a [`peek`](Self::peek) into `buf`'s unfilled part; the bytes peeked
            /// (sharing the waker of `poll_read`).
            pub fn poll_peek(
                &self,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut $crate::io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let before = buf.filled().len();
                ::std::task::ready!(self.io.poll_recv_stream(
                    cx,
                    buf,
                    ::libc::MSG_PEEK,
                    $crate::io::scheduled_io::Waiter::Exclusive,
                ))?;
                ::std::task::Poll::Ready(Ok(buf.filled().len() - before))
            }

            /// Runs `f`, a syscall of the caller's on this socket, once: if it says
            /// `WouldBlock`, the readiness of `interest` is cleared so that the next
            /// `ready`/`readable`/`writable` waits for a fresh event.
            pub fn try_io<R>(
                &self,
                interest: $crate::io::Interest,
                f: impl FnOnce() -> ::std::io::Result<R>,
            ) -> ::std::io::Result<R> {
                self.io
                    .try_io($crate::io::scheduled_io::Direction::of(interest), |_| f())
            }

            /// Runs `f`, a syscall of the caller's on this socket, until it does not say
            /// `WouldBlock`, waiting for readiness of `interest` in between.
            pub async fn async_io<R>(
                &self,
                interest: $crate::io::Interest,
                mut f: impl FnMut() -> ::std::io::Result<R>,
            ) -> ::std::io::Result<R> {
                self.io
                    .shared_io(
                        $crate::io::scheduled_io::Direction::of(interest),
                        $crate::io::scheduled_io::WaiterSlot::QueueOnly,
                        |_| f(),
                    )
                    .await
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
        $crate::net::stream_io::stream_readiness!($t);
    };
}

pub(crate) use {evented_fd, split_read, split_write, stream_readiness, stream_socket};
