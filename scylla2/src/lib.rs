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
#![warn(missing_docs)]

pub mod auth;
pub mod connection;
pub mod error;
pub mod events;
pub mod execution;
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
