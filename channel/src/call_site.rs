//! Where a channel operation was called: the `#[track_caller]` location that wait probes
//! report. Kept only when a probe backend is compiled in; otherwise zero-sized.

use std::panic::Location;

/// The caller of a send or receive (see the module doc).
#[derive(Clone, Copy)]
pub(crate) struct CallSite {
    #[cfg(any(feature = "usdt", feature = "record"))]
    location: &'static Location<'static>,
}

impl CallSite {
    /// The location of the (`#[track_caller]`) caller.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn caller() -> Self {
        CallSite {
            #[cfg(any(feature = "usdt", feature = "record"))]
            location: Location::caller(),
        }
    }

    /// The location; without a probe backend (where no probe reads it) this function's own.
    #[inline(always)]
    pub(crate) fn location(self) -> &'static Location<'static> {
        #[cfg(any(feature = "usdt", feature = "record"))]
        {
            self.location
        }
        #[cfg(not(any(feature = "usdt", feature = "record")))]
        {
            Location::caller()
        }
    }
}
