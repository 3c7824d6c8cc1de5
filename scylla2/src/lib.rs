//! # scylla2
//!
//! An async CQL driver for ScyllaDB and Apache Cassandra (protocol v4 and v5).
//!
//! Every item has one import path. The crate root holds what every program names: the
//! [`Session`] and its builder, the statements ([`Query`], [`PreparedStatement`], [`Batch`])
//! and their options, results and rows ([`QueryResult`], [`PageStream`], [`RowStream`]),
//! consistency levels, and the value traits, types and derives. The modules hold the rest:
//!
//! - [`error`] — every error type, nested by layer.
//! - [`policies`] — load balancing, retry, speculative execution, reconnection, execution
//!   profiles.
//! - [`connection`] — connection settings (compression, write coalescing, TLS).
//! - [`topology`] — topology and pool settings, address translation, schema metadata.
//! - [`routing`] — tokens, shards, replication strategies and node distances.
//! - [`events`] — database and session event channels.
//! - [`auth`] — authenticators.
//! - `metrics` (feature `metrics`): per-node counters and latency histograms.
//!
//! The driver's internals (a raw connection, the ring, routing snapshots, query plans, tablet
//! stores) are public only with the `unstable` feature, which the project's own tests and
//! benches use; they carry no stability promise.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
//! # let uri = sim.contact_points()[0].to_string(); // e.g. "127.0.0.1:9042"
//! use scylla2::Session;
//!
//! let session = Session::builder().contact_point(uri).connect().await?;
//! session
//!     .execute(
//!         "CREATE KEYSPACE ks WITH replication = \
//!          {'class': 'SimpleStrategy', 'replication_factor': 1}",
//!         (),
//!     )
//!     .await?;
//! session.use_keyspace("ks").await?;
//! session.execute("CREATE TABLE t (id int PRIMARY KEY, name text)", ()).await?;
//! let insert = session.prepare("INSERT INTO t (id, name) VALUES (?, ?)").await?;
//! session.execute(&insert, (1i32, "one")).await?;
//! let result = session.execute("SELECT id, name FROM t WHERE id = ?", (1i32,)).await?;
//! // Rows borrow from the response: no copy, no allocation for `&str`.
//! let mut read = Vec::new();
//! for row in result.rows::<(i32, &str)>()? {
//!     let (id, name) = row?;
//!     read.push((id, name));
//! }
//! assert_eq!(read, [(1, "one")]);
//! # Ok(()) }
//! ```
//!
//! # Values and derives with `scylla2` alone
//!
//! The value traits and types ([`SerializeRow`], [`SerializeValue`], [`DeserializeRow`],
//! [`DeserializeValue`], [`CqlValue`], [`PagingState`], …) and the derive macros are at the
//! crate root. The derives find the codec through the application's `Cargo.toml`
//! (`scylla2-cql` when it is a dependency, otherwise the codec this crate carries, renamed
//! dependencies included), so no attribute is needed; `#[scylla2(crate = path)]` overrides
//! it. Codec-level items that the driver does not re-export (frames, requests, responses)
//! are the `scylla2-cql` crate's. The optional value types come with this
//! crate's features `chrono-04`, `time-03`, `num-bigint-04` and `bigdecimal-04`.
//!
//! ```
//! use scylla2::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};
//!
//! #[derive(Debug, PartialEq, SerializeValue, DeserializeValue)]
//! struct Address {
//!     street: String,
//!     zip: Option<i32>,
//! }
//!
//! #[derive(SerializeRow, DeserializeRow)]
//! struct User<'a> {
//!     id: i32,
//!     name: &'a str,
//! }
//!
//! // Bound values are written exactly as the protocol's `[value]`s: length, then bytes.
//! let user = User { id: 7, name: "one" };
//! assert_eq!(SerializeRow::value_count(&user), 2);
//! let mut buf = vec![0u8; SerializeRow::values_size(&user)];
//! SerializeRow::write_values(&user, &mut buf.as_mut_slice());
//! assert_eq!(buf, [0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 3, b'o', b'n', b'e']);
//!
//! // Rows are read into the same struct (e.g. `result.rows::<User>()`), UDTs into `Address`.
//! fn readable<'f, 'm, T: scylla2::DeserializeRow<'f, 'm>>() {}
//! fn udt<'f, 'm, T: scylla2::DeserializeValue<'f, 'm>>() {}
//! readable::<User<'_>>();
//! udt::<Address>();
//! let _dynamic: Option<scylla2::CqlValue> = None;
//! ```
//!
//! # The request path
//!
//! `Session::execute` checks the values locally, resolves the statement's options (its
//! execution profile may override consistency, timeout and policies), builds a plan of
//! connections (each knowing its node), and runs it through the one attempt loop of [`policies`]:
//! retry policy, speculative execution of idempotent statements, execution metadata on the
//! result; each attempt re-prepares once on UNPREPARED. On a connection, the frame is
//! sized, given a stream id, and serialized straight into the connection's swap-buffer
//! write queue; one writer task writes everything queued in one call (framed into a v5
//! segment in place when v5 is negotiated), or the request writes it itself when it is
//! its connection's only one in flight. One reader task splits whole frames off a large
//! read buffer as `Bytes` and hands each to its stream's slot, waking the request. Rows are
//! decoded lazily from that frame. In steady state nothing on this path allocates (see
//! `tests/alloc.rs`).
//!
//! With topology on (the default), the plan is token- and shard-aware: the prepared
//! statement's partition key is serialized on the stack and hashed (Murmur3), the replicas of
//! its token range — precomputed per replication strategy in an `ArcSwap`ped topology
//! snapshot — come first, rotated within their distance class, each on the connection of the
//! shard owning the token ([`routing`], [`topology`]); `tests/routing_alloc_sim.rs` measures
//! that path. With topology disabled, or unreadable at connect time (then reported as
//! [`events::SessionEvent::RoutingUnavailable`]), the plan rotates over the contact points'
//! connections instead; the attempt loop is the same.
#![warn(missing_docs)]
// A type in a public signature that no public path names is a hole in the API.
#![warn(unnameable_types)]

pub mod auth;
mod clock;
pub mod connection;
pub mod error;
pub mod events;
mod execution;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod policies;
mod result;
pub mod routing;
mod session;
mod statement;
pub mod topology;

/// The codec crate (`scylla2-cql`), for the code the derive macros generate when `scylla2` is
/// the application's only dependency. Not an API: applications use this crate's items, or
/// depend on `scylla2-cql` for codec-level ones.
#[doc(hidden)]
pub use scylla2_cql as cql;

pub use result::{PagingStateResponse, PrettyTable, QueryResult};
pub use scylla2_cql::request::BatchType;
pub use scylla2_cql::response::{PagingState, TypedRowIter};
pub use scylla2_cql::types::{ColumnSpec, CqlType, UdtType};
pub use scylla2_cql::value::{
    Counter, CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlValue, CqlVarint,
    CqlVector, DeserializeRow, DeserializeValue, MaybeEmpty, MaybeUnset, NamedValues, Row, RowView,
    SerializeRow, SerializeValue, Unset,
};
pub use scylla2_cql::{Consistency, ProtocolVersion, SerialConsistency};
/// Derive macros for rows, bound values and user-defined types (see the crate docs above).
pub use scylla2_macros::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};
pub use session::{
    CachingSession, CloseSummary, ConnectionStats, DEFAULT_CACHE_CAPACITY, PageStream, RowStream,
    Session, SessionBuilder, TracingEvent, TracingFetch, TracingInfo, TypedRowStream,
};
pub use statement::{
    Batch, BatchEntry, BatchItem, BatchStatements, CustomPayload, ExecutionDefaults,
    PreparedStatement, Query, ResultColumns, Statement, StatementOptions,
};
