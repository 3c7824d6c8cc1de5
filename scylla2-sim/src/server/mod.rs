//! The protocol server: listeners, connections, sharding, statistics, fault injection.
//!
//! - [`cluster`]: [`Cluster`], its builder and the node lifecycle / fault API.
//! - `node`: one node's listeners, connections, prepared cache and counters.
//! - `conn` / `handler`: a connection's reader, writer and request handling.
//! - `request` / `response` / `wire`: validated decoding, hand-written encoding, framing.
//! - [`shard`]: Scylla's shard-of-token algorithm and token generation.
//! - [`faults`]: fault-injection rules.
//! - `tracing`: traces of traced requests (`system_traces`).
//! - `tablets`: the cluster's tablet API (ScyllaDB mode): where a tablet lives, migrations.
//! - [`tls`]: TLS on the CQL and shard-aware ports ([`SimTls`]).

pub mod cluster;
mod conn;
pub mod faults;
mod handler;
mod node;
mod request;
mod response;
pub mod shard;
mod tablets;
pub mod tls;
mod tracing;
mod wire;

/// The engine the server drives.
pub(crate) use crate::engine as eng;

pub use cluster::{Cluster, ClusterBuilder, StartError};
pub use faults::{FaultAction, FaultRule, RequestKind};
pub use response::Event;
pub use tls::{SimTls, SimTlsError};
