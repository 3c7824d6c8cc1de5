//! Routing: which nodes and shards a request goes to, computed without I/O. Applications
//! see the items re-exported here (tokens, node information and distances, shards, the
//! request's routing information and plan targets for load balancing policies); the
//! submodules are internals (public with the `unstable` feature only).
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

/// Declares routing's submodules: public paths only with the `unstable` feature (the
/// project's own benches and tests), private otherwise; what applications use is re-exported
/// below.
macro_rules! internal_modules {
    ($($module:ident),+ $(,)?) => {$(
        #[cfg(feature = "unstable")]
        pub mod $module;
        #[cfg(not(feature = "unstable"))]
        pub(crate) mod $module;
    )+};
}

internal_modules!(
    distance,
    murmur3,
    partition_key,
    plan,
    replication,
    ring,
    sharding,
    snapshot,
    tablets,
);

pub use distance::{DistancePolicy, NodeDistance};
pub use murmur3::murmur3_token;
pub use plan::{RoutingInfo, Target};
pub use replication::ReplicationStrategy;
pub use ring::NodeInfo;
pub use sharding::{Shard, Sharder};

// Internals: the ring, the routing snapshot, plans, tablet stores and partition key
// hashing, public only for the project's benches and tests (no stability promise).
#[cfg(feature = "unstable")]
pub use {
    plan::QueryPlan,
    ring::Ring,
    snapshot::TopologySnapshot,
    tablets::{TableTablets, Tablet, TabletReplica, TabletStore},
};
#[cfg(not(feature = "unstable"))]
pub(crate) use {
    plan::QueryPlan,
    snapshot::TopologySnapshot,
    tablets::{TableTablets, TabletStore},
};

/// A Murmur3Partitioner token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Token(pub i64);
