//! Benchmarks and the load tool for scylla2, measured side by side with the official `scylla`
//! crate (criterion benches live in `benches/`, the load tool in `src/bin/scylla2-load`).
//!
//! This library holds what the benches and tools share: the simulator started in a process
//! of its own ([`sim_process`]), `/proc` fields of a process's memory ([`procfs`]), and a
//! deterministic pseudo-random generator and the byte-exact RESULT bodies they decode, so both
//! drivers read the same bytes.

pub mod fixtures;
pub mod procfs;
pub mod sim_process;
