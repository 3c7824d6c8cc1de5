//! # scylla2-sim
//!
//! An embedded in-memory CQL cluster speaking the real native protocol (v4 and v5), for tests,
//! examples and benchmarks. Independent of scylla2's own codec by design: protocol bytes go
//! through the `cassandra-protocol` crate, so a mistake in scylla2-cql cannot be mirrored here.
//!
//! - `cql`: lexer, parser and AST of the CQL the simulator understands.
//! - `engine`: schema, storage and statement execution (no protocol bytes).
//! - `server`: listeners, connections, protocol, sharding, statistics and fault injection.
//! - `model`: types shared by the engine and the server.
//!
//! Start a cluster with [`Cluster::builder`]; every node listens on its own loopback address
//! (127.0.0.1, .2, ...) and all share one CQL port (and one shard-aware port with shards).
//! [`Cluster::request_stats`] (also the CQL table `system_sim.requests`) counts per node and
//! shard the QUERY/EXECUTE/BATCH received, those with a routing token, and those that landed
//! on a replica AND on the shard owning the token. Faults: [`Cluster::inject`] with a
//! [`FaultRule`], plus stop / start / pause / delay / drop-connection methods on [`Cluster`].
//! With shards the cluster answers as ScyllaDB (its system tables, extensions, and tablets:
//! keyspaces `WITH tablets = {'enabled': true}`, [`Cluster::tablet`], [`Cluster::move_tablet`],
//! `tablets-routing-v1` payloads for misrouted requests); without, as Apache Cassandra 4.0.
//! Traced requests are readable in `system_traces` ([`ClusterBuilder::trace_delay`]).
//! The `scylla2-sim` binary serves a cluster from the command line.
#![warn(missing_docs)]
#![warn(unnameable_types)]

mod cql;
mod engine;
mod model;
mod server;
mod shared_bytes;

pub use engine::tablets::{TabletInfo, TabletReplica};
pub use model::{
    ChangeType, NodeInfo, RequestStats, SchemaChange, SchemaTarget, SimError, WriteType,
};
pub use server::{
    Cluster, ClusterBuilder, Event, FaultAction, FaultRule, RequestKind, SimTls, SimTlsError,
    StartError,
};
