//! tokio-style programs, written as a tokio user writes them with `tokio::` renamed to
//! `weir::`. Each test in `tests/` is one program; a compile failure there is a gap in weir's
//! tokio-compatible surface, fixed in weir, never in the program.
