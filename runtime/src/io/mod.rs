//! Asynchronous IO: the traits, their `.await`-able methods, buffering, and the reactor that
//! sockets register with.
//!
//! [`AsyncRead`] / [`AsyncWrite`] are weir's own traits (reading goes through a [`ReadBuf`],
//! which may borrow uninitialized memory); [`AsyncReadExt`], [`AsyncWriteExt`] and
//! [`AsyncBufReadExt`] add `read`, `read_exact`, `read_to_end`, `write_all`, `flush`,
//! `shutdown`, `read_line` and friends; [`BufReader`] / [`BufWriter`] batch small operations;
//! [`copy`] pumps a reader into a writer. With the `futures-io` feature the sockets also
//! implement the `futures-io` traits.
//!
//! The reactor (`driver.rs`) is a `mio::Poll` that one idle worker at a time sleeps in; the
//! readiness protocol it shares with the sockets is in `scheduled_io.rs`.

mod async_read;
mod async_seek;
mod async_write;
mod budget;
mod buf_read_ext;
mod buf_reader;
mod buf_writer;
mod chain;
mod copy;
mod copy_bidirectional;
mod cursor;
pub(crate) mod driver;
mod duplex;
#[cfg(feature = "futures-io")]
mod futures_io;
mod interest;
mod lines;
mod numbers;
pub(crate) mod poll_evented;
mod read_buf;
mod read_ext;
mod ready;
pub(crate) mod scheduled_io;
mod segments;
mod split;
mod stdio;
mod take;
mod trivial_streams;
mod write_ext;

pub use async_read::{AsyncBufRead, AsyncRead};
pub use async_seek::{AsyncSeek, AsyncSeekExt, Seek};
pub use async_write::AsyncWrite;
pub use buf_read_ext::{AsyncBufReadExt, ReadLine, ReadUntil};
pub use buf_reader::BufReader;
pub use buf_writer::BufWriter;
pub use chain::Chain;
pub use copy::{copy, copy_buf};
pub use copy_bidirectional::copy_bidirectional;
pub use duplex::{duplex, DuplexStream};
pub use interest::Interest;
pub use lines::Lines;
pub use numbers::{ReadNumber, WriteNumber};
pub use read_buf::ReadBuf;
pub use read_ext::{AsyncReadExt, Read, ReadExact, ReadToEnd, ReadToString};
pub use ready::Ready;
pub use segments::Split;
pub use split::{split, ReadHalf, WriteHalf};
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
pub use take::Take;
pub use trivial_streams::{empty, repeat, sink, Empty, Repeat, Sink};
pub use write_ext::{AsyncWriteExt, Flush, Shutdown, Write, WriteAll};

/// std's IO error types, so `weir::io::Result` and `weir::io::Error` read as in std and tokio.
pub use std::io::{Error, ErrorKind, IoSlice, IoSliceMut, Result, SeekFrom};

/// How many IO resources (sockets, listeners) the current runtime's reactor has registered.
/// For leak tests; not a stable API.
///
/// Fails outside a runtime or on one without IO.
#[doc(hidden)]
pub fn registration_count() -> std::io::Result<usize> {
    Ok(driver::current()?.num_registrations())
}
