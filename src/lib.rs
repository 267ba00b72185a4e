//! weir: re-exports only.
