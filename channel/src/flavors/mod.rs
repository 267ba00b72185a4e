//! The channel flavours: each is the buffer and wait protocol of one kind of channel.

pub(crate) mod array;
pub(crate) mod list;
pub(crate) mod oneshot;
pub(crate) mod zero;
