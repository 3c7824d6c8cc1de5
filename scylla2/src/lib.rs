//! # scylla2
//!
//! An async CQL driver for ScyllaDB and Apache Cassandra (protocol v4 and v5).
//!
//! - [`session`]: [`Session`], its builder, `execute`/`prepare`/paging.
//! - [`statement`]: queries, prepared statements, batches and their options.
//! - [`execution`]: the attempt loop over a plan of connections.
//! - [`result`]: results and lazily decoded, borrowed rows.
//! - [`connection`]: one connection: socket, handshake, write queue, reader, stream slots.
//! - [`auth`]: SASL-style authentication.
//! - [`error`]: errors, nested by layer.
//! - [`routing`]: tokens, shards, replica placement, node distance, allocation-free plans.
//! - [`topology`]: control connection, metadata refresh, per-shard node pools.
//! - [`policies`]: retry, speculative execution, execution profiles.
//! - [`events`]: database and session event channels.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use scylla2::Session;
//!
//! let session = Session::builder()
//!     .contact_point("127.0.0.1:9042")
//!     .keyspace("ks")
//!     .connect()
//!     .await?;
//! let insert = session.prepare("INSERT INTO t (id, name) VALUES (?, ?)").await?;
//! session.execute(&insert, (1i32, "one")).await?;
//! let result = session.execute("SELECT id, name FROM t WHERE id = ?", (1i32,)).await?;
//! // Rows borrow from the response: no copy, no allocation for `&str`.
//! for row in result.rows::<(i32, &str)>()? {
//!     let (id, name) = row?;
//!     println!("{id}: {name}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # The request path
//!
//! `Session::execute` checks the values locally, resolves the statement's options, and walks
//! a plan of `(node, connection)` targets ([`execution`]). On a connection, the frame is
//! sized, given a stream id, and serialized straight into the connection's swap-buffer
//! write queue; one writer task writes everything queued in one call (framed into a v5
//! segment in place when v5 is negotiated). One reader task splits whole frames off a large
//! read buffer as `Bytes` and hands each to its stream's slot, waking the request. Rows are
//! decoded lazily from that frame. In steady state nothing on this path allocates (see
//! `tests/alloc.rs`).
//!
//! With topology on (the default), the plan is token- and shard-aware: the prepared
//! statement's partition key is serialized on the stack and hashed (Murmur3), the replicas of
//! its token range — precomputed per replication strategy in an `ArcSwap`ped topology
//! snapshot — come first, rotated within their distance class, each on the connection of the
//! shard owning the token ([`routing`], [`topology`]); `tests/routing_alloc_sim.rs` measures
//! that path.
#![warn(missing_docs)]

pub mod auth;
pub mod connection;
pub mod error;
pub mod events;
pub mod execution;
pub mod policies;
pub mod result;
pub mod routing;
pub mod session;
pub mod statement;
pub mod topology;

pub use error::{ExecutionError, RowsError, SessionError};
pub use result::{PagingStateResponse, QueryResult};
pub use scylla2_cql::request::BatchType;
pub use scylla2_cql::{Consistency, ProtocolVersion, SerialConsistency};
pub use session::{Session, SessionBuilder};
pub use statement::batch::BatchEntry;
pub use statement::{Batch, PreparedStatement, Query, Statement, StatementOptions};
