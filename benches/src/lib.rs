//! Shared drivers for the side-by-side benchmarks in `benches/`.
