//! `ReadBuf`: the buffer an [`AsyncRead`](super::AsyncRead) fills.
//!
//! It tracks three regions of the memory it borrows: `filled` (bytes read so far), then
//! `initialized` but unfilled, then uninitialized. Invariant: `filled <= initialized <=
//! capacity`, and every byte below `initialized` has been written. Safe code can only fill it
//! with initialized bytes; a reader that writes into the uninitialized part through a raw
//! pointer (a socket's `recv`) says so with the `unsafe` [`ReadBuf::assume_init`]. That lets a
//! socket read straight into a fresh `Vec`'s spare capacity, or hyper's buffer, without zeroing
//! it first.

use std::fmt;
use std::mem::MaybeUninit;

/// A borrowed buffer with a filled part and a not-yet-filled part.
pub struct ReadBuf<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    filled: usize,
    initialized: usize,
}

impl<'a> ReadBuf<'a> {
    /// A buffer over initialized memory; nothing is filled yet.
    pub fn new(buf: &'a mut [u8]) -> ReadBuf<'a> {
        let initialized = buf.len();
        // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and the slice is fully
        // initialized (recorded in `initialized`), so nothing can expose uninit bytes as `u8`.
        // We never write uninitialized values through it.
        let buf = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        ReadBuf {
            buf,
            filled: 0,
            initialized,
        }
    }

    /// A buffer over memory that may be uninitialized (a `Vec`'s spare capacity).
    pub fn uninit(buf: &'a mut [MaybeUninit<u8>]) -> ReadBuf<'a> {
        ReadBuf {
            buf,
            filled: 0,
            initialized: 0,
        }
    }

    /// Total size of the buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The bytes filled so far.
    pub fn filled(&self) -> &[u8] {
        // SAFETY: `filled <= initialized` and bytes below `initialized` are initialized.
        unsafe { &*(&self.buf[..self.filled] as *const [MaybeUninit<u8>] as *const [u8]) }
    }

    /// The bytes filled so far, mutably.
    pub fn filled_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `filled`; writes through `&mut [u8]` can only store initialized bytes.
        unsafe { &mut *(&mut self.buf[..self.filled] as *mut [MaybeUninit<u8>] as *mut [u8]) }
    }

    /// The initialized part: the filled bytes and any initialized bytes after them.
    pub fn initialized(&self) -> &[u8] {
        // SAFETY: every byte below `initialized` has been written.
        unsafe { &*(&self.buf[..self.initialized] as *const [MaybeUninit<u8>] as *const [u8]) }
    }

    /// The initialized part, mutably.
    pub fn initialized_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `initialized`; writes through `&mut [u8]` store initialized bytes.
        unsafe { &mut *(&mut self.buf[..self.initialized] as *mut [MaybeUninit<u8>] as *mut [u8]) }
    }

    /// A new, empty `ReadBuf` over the first `n` bytes of the unfilled part (fewer if fewer
    /// remain), knowing which of them are initialized.
    pub fn take(&mut self, n: usize) -> ReadBuf<'_> {
        let max = n.min(self.remaining());
        let init = self.initialized.saturating_sub(self.filled).min(max);
        ReadBuf {
            buf: &mut self.buf[self.filled..self.filled + max],
            filled: 0,
            initialized: init,
        }
    }

    /// Bytes that can still be filled.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.filled
    }

    /// Forgets the filled bytes (they stay initialized).
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// The unfilled part as initialized bytes, zeroing whatever of it was never initialized.
    pub fn initialize_unfilled(&mut self) -> &mut [u8] {
        self.initialize_unfilled_to(self.remaining())
    }

    /// The first `n` unfilled bytes as initialized memory.
    ///
    /// # Panics
    /// If `n` is more than [`ReadBuf::remaining`].
    pub fn initialize_unfilled_to(&mut self, n: usize) -> &mut [u8] {
        assert!(
            n <= self.remaining(),
            "ReadBuf::initialize_unfilled_to: {n} bytes asked, {} remaining",
            self.remaining()
        );
        let end = self.filled + n;
        if self.initialized < end {
            for b in &mut self.buf[self.initialized..end] {
                b.write(0);
            }
            self.initialized = end;
        }
        // SAFETY: every byte in `filled..end` is now initialized.
        unsafe { &mut *(&mut self.buf[self.filled..end] as *mut [MaybeUninit<u8>] as *mut [u8]) }
    }

    /// The unfilled part, possibly uninitialized.
    ///
    /// # Safety
    /// The caller must not write uninitialized values into it (de-initializing bytes that
    /// `initialized` covers).
    pub unsafe fn unfilled_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        &mut self.buf[self.filled..]
    }

    /// Records that the first `n` unfilled bytes have been written.
    ///
    /// # Safety
    /// The caller must have initialized those `n` bytes.
    pub unsafe fn assume_init(&mut self, n: usize) {
        let end = (self.filled + n).min(self.buf.len());
        if end > self.initialized {
            self.initialized = end;
        }
    }

    /// Marks `n` more bytes as filled.
    ///
    /// # Panics
    /// If that would fill bytes that were never initialized (a bug in the reader, which would
    /// otherwise expose uninitialized memory).
    pub fn advance(&mut self, n: usize) {
        let new = self.filled.checked_add(n);
        match new {
            Some(new) if new <= self.initialized => self.filled = new,
            _ => panic!(
                "ReadBuf::advance: {n} bytes past {} filled, only {} initialized",
                self.filled, self.initialized
            ),
        }
    }

    /// Sets how many bytes are filled.
    ///
    /// # Panics
    /// If `n` is past the initialized part.
    pub fn set_filled(&mut self, n: usize) {
        assert!(
            n <= self.initialized,
            "ReadBuf::set_filled: {n} filled, only {} initialized",
            self.initialized
        );
        self.filled = n;
    }

    /// Appends `data` to the filled part.
    ///
    /// # Panics
    /// If `data` is longer than [`ReadBuf::remaining`].
    pub fn put_slice(&mut self, data: &[u8]) {
        assert!(
            data.len() <= self.remaining(),
            "ReadBuf::put_slice: {} bytes, {} remaining",
            data.len(),
            self.remaining()
        );
        let end = self.filled + data.len();
        for (dst, src) in self.buf[self.filled..end].iter_mut().zip(data) {
            dst.write(*src);
        }
        if end > self.initialized {
            self.initialized = end;
        }
        self.filled = end;
    }

    /// Start of the buffer; readers of `ReadBuf`s check it to notice a buffer swapped for
    /// another by a misbehaving [`AsyncRead`](super::AsyncRead).
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.buf.as_ptr().cast()
    }
}

impl fmt::Debug for ReadBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadBuf")
            .field("filled", &self.filled)
            .field("initialized", &self.initialized)
            .field("capacity", &self.capacity())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_track_fill_and_init() {
        let mut mem = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut mem);
        assert_eq!(buf.remaining(), 8);
        buf.put_slice(b"abc");
        assert_eq!(buf.filled(), b"abc");
        let rest = buf.initialize_unfilled_to(2);
        rest.copy_from_slice(b"de");
        buf.advance(2);
        assert_eq!(buf.filled(), b"abcde");
        buf.clear();
        assert_eq!(buf.filled(), b"");
        // Initialized bytes can be re-filled without zeroing.
        buf.advance(5);
        assert_eq!(buf.filled(), b"abcde");
        let all = buf.initialize_unfilled();
        assert_eq!(all, &[0, 0, 0]);
    }

    #[test]
    #[should_panic(expected = "only 0 initialized")]
    fn advance_past_initialized_panics() {
        let mut mem = [MaybeUninit::<u8>::uninit(); 4];
        let mut buf = ReadBuf::uninit(&mut mem);
        buf.advance(1);
    }

    #[test]
    fn initialized_and_take_see_the_initialized_part() {
        let mut mem = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut mem);
        buf.put_slice(b"ab");
        buf.initialize_unfilled_to(3);
        assert_eq!(buf.initialized(), &[b'a', b'b', 0, 0, 0]);
        buf.initialized_mut()[4] = b'e';
        let mut part = buf.take(100);
        assert_eq!(part.capacity(), 6);
        assert_eq!(part.initialized(), &[0, 0, b'e']);
        part.advance(3);
        assert_eq!(part.filled(), &[0, 0, b'e']);
    }

    #[test]
    fn new_is_fully_initialized() {
        let mut mem = [7u8; 4];
        let mut buf = ReadBuf::new(&mut mem);
        buf.advance(4);
        assert_eq!(buf.filled(), &[7, 7, 7, 7]);
    }
}
