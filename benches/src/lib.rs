//! Benchmarks and the load tool for scylla2 (criterion benches live in `benches/`).
