//! `AsyncSeek`: moving the position of a stream without blocking the worker, and
//! `AsyncSeekExt` (`seek`, `rewind`, `stream_position`) as futures.

use std::future::Future;
use std::io::{self, SeekFrom};
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Seeks asynchronously, in two steps: [`AsyncSeek::start_seek`] asks for a position, and
/// [`AsyncSeek::poll_complete`] waits until it is reached and returns the new position.
pub trait AsyncSeek {
    /// Starts a seek to `position`. A seek already in progress must be completed first
    /// (`poll_complete` returning `Ready`), otherwise this may fail.
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()>;

    /// Waits for the started seek; the new position from the start of the stream. With no
    /// seek in progress, the current position.
    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>>;
}

macro_rules! deref_async_seek {
    () => {
        fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
            Pin::new(&mut **self).start_seek(position)
        }

        fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
            Pin::new(&mut **self).poll_complete(cx)
        }
    };
}

impl<T: ?Sized + AsyncSeek + Unpin> AsyncSeek for Box<T> {
    deref_async_seek!();
}

impl<T: ?Sized + AsyncSeek + Unpin> AsyncSeek for &mut T {
    deref_async_seek!();
}

impl<P> AsyncSeek for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncSeek,
{
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        self.get_mut().as_mut().start_seek(position)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        self.get_mut().as_mut().poll_complete(cx)
    }
}

/// The seeking methods people `.await`, for every [`AsyncSeek`].
pub trait AsyncSeekExt: AsyncSeek {
    /// Seeks to `position`; returns the new position from the start of the stream.
    fn seek(&mut self, position: SeekFrom) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek {
            seek: self,
            position: Some(position),
        }
    }

    /// Seeks back to the start of the stream (the returned position is 0).
    fn rewind(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Start(0))
    }

    /// The current position from the start of the stream.
    fn stream_position(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Current(0))
    }
}

impl<S: AsyncSeek + ?Sized> AsyncSeekExt for S {}

/// Future of [`AsyncSeekExt::seek`], `rewind` and `stream_position`.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Seek<'a, S: ?Sized> {
    seek: &'a mut S,
    /// The position still to ask for; `None` once asked.
    position: Option<SeekFrom>,
}

impl<S: AsyncSeek + Unpin + ?Sized> Future for Seek<'_, S> {
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(position) = this.position {
            // Finish whatever seek was left in progress (a dropped earlier future) first.
            ready!(Pin::new(&mut *this.seek).poll_complete(cx))?;
            this.position = None;
            Pin::new(&mut *this.seek).start_seek(position)?;
        }
        Pin::new(&mut *this.seek).poll_complete(cx)
    }
}
