//! Native closable channels for the weir runtime.
#![warn(missing_docs)]
