//! Routing: which nodes and shards a request goes to, computed without I/O. Applications
//! see tokens ([`Token`], [`murmur3_token`]), node information and distances
//! ([`NodeInfo`], [`DistancePolicy`], [`NodeDistance`]), shards ([`Sharder`]), replication
//! strategies, and the request's routing information and plan targets for load balancing
//! policies. With the `unstable` feature (the project's own benches and tests), the
//! internals are public too, with no stability promise: the ring, routing snapshots with
//! replicas precomputed per ring range, allocation-free query plans, partition key hashing,
//! and tablets learned from `tablets-routing-v1` payloads.
//!
//! Submodules (private; everything public is re-exported here, once):
//! `murmur3` (Cassandra's Murmur3Partitioner tokens), `partition_key` (bound values → token,
//! reading only the key's values), `sharding` (the ScyllaDB shard of a token, shard-aware
//! local ports), `replication` (strategies and replica placement), `ring` (nodes and the
//! token ring), `distance` (local / remote / ignored), `snapshot` (the immutable routing
//! snapshot), `tablets`, `plan` (query plans).

/// A function that is public with the `unstable` feature (for the project's benches and
/// tests) and crate-private otherwise, where one of its types is internal.
macro_rules! unstable_pub_fn {
    ($(#[$attr:meta])* fn $($rest:tt)*) => {
        #[cfg(feature = "unstable")]
        $(#[$attr])* pub fn $($rest)*
        #[cfg(not(feature = "unstable"))]
        $(#[$attr])* pub(crate) fn $($rest)*
    };
}

pub(crate) mod distance;
pub(crate) mod murmur3;
pub(crate) mod partition_key;
pub(crate) mod plan;
pub(crate) mod replication;
pub(crate) mod ring;
pub(crate) mod sharding;
pub(crate) mod snapshot;
pub(crate) mod tablets;

pub use distance::{DistancePolicy, NodeDistance};
pub use murmur3::murmur3_token;
pub use plan::{RoutingInfo, Target};
pub use replication::ReplicationStrategy;
pub use ring::NodeInfo;
pub use sharding::{DEFAULT_LOCAL_PORT_RANGE, Shard, ShardPorts, Sharder};
pub use snapshot::KeyspaceSlot;

// Internals: the ring, the routing snapshot, plans, tablet stores and partition key
// hashing, public only for the project's benches and tests (no stability promise).
#[cfg(feature = "unstable")]
pub use {
    murmur3::{Murmur3Hasher, murmur3_x64_128_first},
    partition_key::{
        KEY_STACK_BYTES, ROW_STACK_BYTES, SerializedValues, SmallBuf, VALUE_STACK_BYTES,
        token_of_components, token_of_row, token_of_serialized_row,
    },
    plan::QueryPlan,
    ring::Ring,
    snapshot::TopologySnapshot,
    tablets::{
        TABLETS_ROUTING_V1, TableTablets, Tablet, TabletReplica, TabletStore, TabletsGuard,
        decode_tablet_payload,
    },
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
