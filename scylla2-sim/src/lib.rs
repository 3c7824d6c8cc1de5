//! # scylla2-sim
//!
//! An embedded in-memory CQL cluster speaking the real native protocol (v4 and v5), for tests,
//! examples and benchmarks. Independent of scylla2's own codec by design: protocol bytes go
//! through the `cassandra-protocol` crate, so a mistake in scylla2-cql cannot be mirrored here.
//!
//! - [`cql`]: lexer, parser and AST of the CQL the simulator understands.
//! - [`engine`]: schema, storage and statement execution (no protocol bytes).
//! - [`server`]: listeners, connections, protocol, sharding, statistics and fault injection.
//! - [`model`]: types shared by the engine and the server.
#![warn(missing_docs)]

pub mod cql;
pub mod engine;
pub mod model;
pub mod server;

pub use model::{NodeInfo, RequestStats, SimError, WriteType};
pub use server::{Cluster, ClusterBuilder, Event, FaultAction, FaultRule, RequestKind, StartError};
