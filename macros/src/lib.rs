//! Entry macros for weir (filled by the runtime-core work).
