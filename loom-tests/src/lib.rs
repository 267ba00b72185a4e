//! Loom models live in `tests/`; run them with `RUSTFLAGS="--cfg loom" cargo test -p weir-loom-tests --release`.
