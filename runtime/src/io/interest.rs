//! `Interest`: which readiness an operation waits for.

use std::fmt;
use std::ops;

/// The readiness a [`ready`](crate::net::TcpStream::ready) call waits for: readable,
/// writable, or either (`Interest::READABLE | Interest::WRITABLE`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

const READ: u8 = 1;
const WRITE: u8 = 2;

impl Interest {
    /// Readable: data to read, a connection to accept, or the end of the stream.
    pub const READABLE: Interest = Interest(READ);
    /// Writable: room to write, or the peer gone.
    pub const WRITABLE: Interest = Interest(WRITE);

    /// Whether it includes readable.
    pub const fn is_readable(self) -> bool {
        self.0 & READ != 0
    }

    /// Whether it includes writable.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITE != 0
    }

    /// Both interests (usable in `const`).
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// This interest without `other`'s; `None` if nothing is left.
    pub const fn remove(self, other: Interest) -> Option<Interest> {
        match self.0 & !other.0 {
            0 => None,
            bits => Some(Interest(bits)),
        }
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(none)"),
        }
    }
}
