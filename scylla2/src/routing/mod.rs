//! Routing: which nodes and shards a request goes to, computed without I/O.
//!
//! - [`murmur3`]: Murmur3Partitioner tokens, exactly as Cassandra computes them.
//! - [`partition_key`]: the partition key of bound values → token, reading only the key's values.
//! - [`sharding`]: the Scylla shard of a token, shard-aware local port selection.
//! - [`replication`]: replication strategies and replica placement.
//! - [`ring`]: nodes and the token ring.
//! - [`distance`]: the node distance policy (local / remote / ignored).
//! - [`snapshot`]: an immutable routing snapshot with replicas precomputed per ring range.
//! - [`tablets`]: tablets learned from `tablets-routing-v1` payloads.
//! - [`plan`]: allocation-free, lock-free query plans.

pub mod distance;
pub mod murmur3;
pub mod partition_key;
pub mod plan;
pub mod replication;
pub mod ring;
pub mod sharding;
pub mod snapshot;
pub mod tablets;

pub use distance::{DistancePolicy, NodeDistance};
pub use plan::{QueryPlan, RoutingInfo, Target};
pub use replication::ReplicationStrategy;
pub use ring::{NodeInfo, Ring};
pub use sharding::{Shard, Sharder};
pub use snapshot::TopologySnapshot;
pub use tablets::{TableTablets, Tablet, TabletReplica, TabletStore};

/// A Murmur3Partitioner token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Token(pub i64);
