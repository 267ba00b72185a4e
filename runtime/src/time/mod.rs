//! Timers.
mod wheel;
