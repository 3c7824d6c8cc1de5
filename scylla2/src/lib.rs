//! # scylla2
//!
//! An async CQL driver for ScyllaDB and Apache Cassandra (protocol v4 and v5).
//!
//! - [`connection`]: one connection: socket, handshake, write queue, reader, stream slots.
//! - [`auth`]: SASL-style authentication.
#![warn(missing_docs)]

pub mod auth;
pub mod connection;
