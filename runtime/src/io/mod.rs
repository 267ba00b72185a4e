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
mod async_write;
mod budget;
mod buf_read_ext;
mod buf_reader;
mod buf_writer;
mod copy;
pub(crate) mod driver;
#[cfg(feature = "futures-io")]
mod futures_io;
pub(crate) mod poll_evented;
mod read_buf;
mod read_ext;
pub(crate) mod scheduled_io;
mod write_ext;

pub use async_read::{AsyncBufRead, AsyncRead};
pub use async_write::AsyncWrite;
pub use buf_read_ext::{AsyncBufReadExt, ReadLine, ReadUntil};
pub use buf_reader::BufReader;
pub use buf_writer::BufWriter;
pub use copy::copy;
pub use read_buf::ReadBuf;
pub use read_ext::{AsyncReadExt, Read, ReadExact, ReadToEnd, ReadToString};
pub use write_ext::{AsyncWriteExt, Flush, Shutdown, Write, WriteAll};

/// How many IO resources (sockets, listeners) the current runtime's reactor has registered.
/// For leak tests; not a stable API.
///
/// Fails outside a runtime or on one without IO.
#[doc(hidden)]
pub fn registration_count() -> std::io::Result<usize> {
    Ok(driver::current()?.num_registrations())
}
