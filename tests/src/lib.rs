//! Integration tests across crates live in `tests/`: among them those that compare scylla2
//! with the official `scylla` crate, kept here so that only this crate depends on it.
