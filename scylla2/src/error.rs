//! The driver's errors, nested by layer: codec errors (`scylla2-cql`) inside connection
//! errors ([`ConnectionError`]) inside execution errors ([`ExecutionError`]); session
//! creation has [`SessionError`], reading results [`RowsError`].

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

pub use crate::connection::error::{ConnectionError, HandshakeError, ProtocolViolation};
#[cfg(feature = "rustls-023")]
pub use crate::connection::tls::{TlsError, TlsFailure};
// The internals' errors, with the internals (the `unstable` feature).
#[cfg(feature = "unstable")]
pub use crate::routing::{partition_key::PartitionKeyError, tablets::TabletPayloadError};
pub use crate::session::TracingInfoError;
pub use crate::topology::schema::SchemaError;
// The codec's errors, as the driver's errors carry them.
pub use scylla2_cql::frame::{CompressionError, FrameError, Opcode, SegmentError};
pub use scylla2_cql::request::RequestError;
pub use scylla2_cql::response::{
    DbError, FailureReasons, RateLimitOperation, ResponseError, WriteType,
};
pub use scylla2_cql::types::TypeParseError;
pub use scylla2_cql::value::{DeserializeError, SerializeError};
pub use scylla2_cql::wire::WireError;

/// A keyspace name that CQL would not accept; found locally, nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyspaceNameError {
    /// Empty name.
    #[error("empty keyspace name")]
    Empty,
    /// Longer than 48 characters (Cassandra's and Scylla's limit).
    #[error("keyspace name {0:?} is longer than 48 characters")]
    TooLong(String),
    /// A character other than ASCII letters, digits and `_` in an unquoted name, or a stray
    /// quote in a quoted one.
    #[error("invalid character {character:?} in keyspace name {name:?}")]
    InvalidCharacter {
        /// The name.
        name: String,
        /// The offending character.
        character: char,
    },
}

/// Why a request failed: what [`ExecuteError::kind`] returns, and the error of `prepare`
/// and `use_keyspace`. Errors found before sending (bad values, a closed session) say that
/// nothing was sent.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
/// use scylla2::error::ExecutionError;
/// use scylla2::error::DbError;
///
/// let err = session.prepare("SELECT nothing FROM nowhere.t").await.unwrap_err();
/// assert!(matches!(err, ExecutionError::Db { error: DbError::Invalid, .. }));
/// println!("{err}"); // the server's message: the keyspace does not exist
/// // One bind marker, no value: refused locally.
/// let insert = session.prepare("SELECT key FROM system.local WHERE key = ?").await?;
/// let err = session.execute(&insert, ()).await.unwrap_err();
/// assert!(matches!(err.kind(), ExecutionError::Values(_)));
/// assert!(err.attempts().is_empty()); // nothing was sent
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ExecutionError {
    /// The request could not be sent or its response did not arrive.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// The server answered with an ERROR.
    #[error("database error: {error}: {message}")]
    Db {
        /// The error and its fields.
        error: DbError,
        /// The server's message.
        message: String,
    },
    /// The request is invalid for the protocol (too long, too many values…); nothing sent.
    #[error("invalid request: {0}")]
    Request(#[from] RequestError),
    /// The bound values do not match the statement's bind markers; nothing sent.
    #[error("invalid bound values: {0}")]
    Values(#[from] SerializeError),
    /// A batch has a different number of statements and value rows; nothing sent.
    #[error("batch has {statements} statements but {values} value rows")]
    BatchValuesMismatch {
        /// Statements in the batch.
        statements: usize,
        /// Rows of values given.
        values: usize,
    },
    /// A keyspace name that CQL would not accept; nothing sent.
    #[error(transparent)]
    KeyspaceName(#[from] KeyspaceNameError),
    /// The response could not be decoded.
    #[error("malformed response: {0}")]
    Response(#[from] ResponseError),
    /// The server answered with a message that does not answer the request.
    #[error("unexpected {0:?} response")]
    UnexpectedResponse(Opcode),
    /// The statement was prepared again after UNPREPARED, and the server still did not know
    /// it.
    #[error("statement {0:?} still unprepared after re-preparing it")]
    StillUnprepared(Bytes),
    /// No connection was available to send the request.
    #[error(
        "no connection available: every node of the query plan is down, ignored by the \
         distance policy, or still connecting"
    )]
    NoConnection,
    /// The background task fetching a page ahead panicked or was cancelled.
    #[error("the page fetch task failed")]
    PageFetchFailed,
    /// The request did not complete within its timeout.
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    /// The session was closed (`Session::close`): the request was refused, or was still
    /// waiting when the close deadline passed.
    #[error("the session is closed")]
    SessionClosed,
    /// `Session::execute` asked for the whole result, and the server answered with one page
    /// of it and a paging state: rather than return part of the result as if it were all of
    /// it, the execution fails. Read such results page by page (`Session::execute_paged`,
    /// `Session::execute_single_page`).
    #[error(
        "the server returned {rows} rows and a paging state to an unpaged execute, so the \
         result is incomplete; read it with execute_paged or execute_single_page"
    )]
    IncompleteResult {
        /// Rows in the page that was returned.
        rows: usize,
    },
}

impl ExecutionError {
    /// Whether trying the same request on another connection may succeed: the request was
    /// not sent, or the connection failed and the statement is idempotent, or the server
    /// said it cannot serve it right now.
    pub(crate) fn may_try_next(&self, idempotent: bool) -> bool {
        match self {
            Self::Connection(e) => match e {
                ConnectionError::StreamsExhausted(_) => true,
                ConnectionError::Closed | ConnectionError::Broken(_) => idempotent,
                e => e.is_fatal() && idempotent,
            },
            Self::Db { error, .. } => {
                matches!(error, DbError::Overloaded | DbError::IsBootstrapping)
            }
            _ => false,
        }
    }
}

/// Why a session could not be created.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use scylla2::{Session, error::SessionError};
///
/// let no_point = Session::builder().connect().await;
/// assert!(matches!(no_point, Err(SessionError::NoContactPoints)));
/// let refused = Session::builder().contact_point("127.0.0.1:1").connect().await;
/// match refused {
///     Err(SessionError::Connect(errors)) => assert_eq!(errors[0].0.port(), 1),
///     other => panic!("expected a connection error, got {other:?}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// No contact point was given.
    #[error("no contact points")]
    NoContactPoints,
    /// A contact point is not `host:port`.
    #[error("invalid contact point {0:?}: expected host:port")]
    InvalidContactPoint(String),
    /// A contact point's name could not be resolved.
    #[error("cannot resolve {host:?}: {source}")]
    Resolve {
        /// The contact point.
        host: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// The configured keyspace name is invalid.
    #[error(transparent)]
    KeyspaceName(#[from] KeyspaceNameError),
    /// No connection could be opened; the error of each address tried.
    #[error("could not connect to any contact point: {}", AddressErrors(.0))]
    Connect(Vec<(SocketAddr, ConnectionError)>),
    /// `USE <keyspace>` failed (e.g. unknown keyspace).
    #[error("cannot use keyspace: {0}")]
    UseKeyspace(ExecutionError),
}

/// Displays `address: error` pairs, separated by `; `.
pub(crate) struct AddressErrors<'a>(pub(crate) &'a [(SocketAddr, ConnectionError)]);

impl std::fmt::Display for AddressErrors<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no address tried");
        }
        for (i, (addr, error)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{addr}: {error}")?;
        }
        Ok(())
    }
}

/// Why a result could not be read as rows of a type.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
/// use scylla2::error::RowsError;
///
/// let result = session.execute("SELECT key FROM system.local", ()).await?;
/// // `key` is text, not an int: refused once, for the whole result.
/// assert!(matches!(result.rows::<(i32,)>(), Err(RowsError::Deserialize(_))));
/// let write = session.execute("USE system", ()).await?;
/// assert!(matches!(write.rows::<(i32,)>(), Err(RowsError::NotRows("set keyspace"))));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RowsError {
    /// The result is not a Rows result (e.g. the reply to an INSERT).
    #[error("the result has no rows (it is {0})")]
    NotRows(&'static str),
    /// The columns do not match the Rust row type (checked once per page), or a value is
    /// malformed.
    #[error(transparent)]
    Deserialize(#[from] DeserializeError),
    /// The rows could not be iterated.
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// `first_row`/`single_row` on a result without rows.
    #[error("the result has no rows")]
    NoRows,
    /// `single_row` on a result with more than one row.
    #[error("expected a single row, the result has {0}")]
    MoreThanOneRow(usize),
}

/// Why a row stream across pages (`PageStream::rows`, `PageStream::rows_stream`) could not
/// yield a row.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RowStreamError {
    /// A page could not be fetched; the stream ends.
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// A row could not be read as the requested type.
    #[error(transparent)]
    Rows(#[from] RowsError),
}

/// Why an execution (`Session::execute` and friends) failed: the error that ended it
/// ([`Self::kind`]) and, when requests were sent, the execution's metadata and every failed
/// attempt with its node, shard and error, so that a caller can see which nodes were tried.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
/// use scylla2::error::ExecutionError;
/// use scylla2::error::DbError;
///
/// match session.execute("SELECT v FROM ks.missing WHERE k = 1", ()).await {
///     Ok(result) => println!("{} rows", result.rows_num()),
///     Err(e) => {
///         if let ExecutionError::Timeout(after) = e.kind() {
///             eprintln!("timed out after {after:?}");
///         }
///         for attempt in e.attempts() {
///             eprintln!("{} (shard {:?}): {}", attempt.node, attempt.shard, attempt.error);
///         }
///         // The server's answer, typed: an unknown keyspace is INVALID.
///         assert!(matches!(e.kind(), ExecutionError::Db { error: DbError::Invalid, .. }));
///         assert_eq!(e.statement_kind(), Some("query"));
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ExecuteError(Box<Failure>);

#[derive(Debug, Clone)]
struct Failure {
    error: ExecutionError,
    /// What was executed ("query", "prepared statement", "batch"), when known.
    statement: Option<&'static str>,
    execution: Option<crate::policies::ExecutionInfo>,
    attempts: Vec<AttemptError>,
}

/// One failed attempt of an execution.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AttemptError {
    /// The node it was sent to.
    pub node: SocketAddr,
    /// The shard of the connection it was sent on (ScyllaDB).
    pub shard: Option<crate::routing::Shard>,
    /// What went wrong.
    pub error: ExecutionError,
}

impl ExecuteError {
    /// An execution that failed after `attempts` (in the order they failed).
    pub(crate) fn after_attempts(
        error: ExecutionError,
        execution: crate::policies::ExecutionInfo,
        attempts: Vec<AttemptError>,
    ) -> Self {
        Self(Box::new(Failure {
            error,
            statement: None,
            execution: Some(execution),
            attempts,
        }))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ExecutionError {
        &self.0.error
    }

    /// The same failure, reported as [`ExecutionError::SessionClosed`] (its connections were
    /// closed under it by `Session::close`).
    pub(crate) fn closed(mut self) -> Self {
        self.0.error = ExecutionError::SessionClosed;
        self
    }

    /// The same failure, saying what was executed (`"prepared statement"`, …).
    pub(crate) fn of_statement(mut self, statement: &'static str) -> Self {
        self.0.statement = Some(statement);
        self
    }

    /// What was executed: `"query"`, `"prepared statement"` or `"batch"` (when known).
    pub fn statement_kind(&self) -> Option<&'static str> {
        self.0.statement
    }

    /// What went wrong, by value.
    pub fn into_kind(self) -> ExecutionError {
        self.0.error
    }

    /// The execution's metadata (the node and shard of the last attempt, attempts started,
    /// speculative ones, time until the failure); `None` when nothing was sent (e.g. the
    /// values did not match the statement).
    pub fn execution(&self) -> Option<&crate::policies::ExecutionInfo> {
        self.0.execution.as_ref()
    }

    /// Every failed attempt, in the order they failed (attempts still running when the
    /// execution ended are not listed).
    pub fn attempts(&self) -> &[AttemptError] {
        &self.0.attempts
    }
}

impl From<ExecutionError> for ExecuteError {
    fn from(error: ExecutionError) -> Self {
        Self(Box::new(Failure {
            error,
            statement: None,
            execution: None,
            attempts: Vec::new(),
        }))
    }
}

impl From<ExecuteError> for ExecutionError {
    fn from(e: ExecuteError) -> Self {
        e.into_kind()
    }
}

impl std::fmt::Display for ExecuteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.error)?;
        let attempts = &self.0.attempts;
        match (self.0.statement, attempts.is_empty()) {
            (None, true) => return Ok(()),
            (Some(statement), true) => return write!(f, " ({statement})"),
            (Some(statement), false) => write!(f, " ({statement}; failed attempts: ")?,
            (None, false) => write!(f, " (failed attempts: ")?,
        }
        {
            for (i, a) in attempts.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{}", a.node)?;
                if let Some(shard) = a.shard {
                    write!(f, " shard {shard}")?;
                }
                // Not repeated when it is the execution's own, said above.
                let own =
                    i + 1 == attempts.len() && a.error.to_string() == self.0.error.to_string();
                if !own {
                    write!(f, ": {}", a.error)?;
                }
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

impl std::error::Error for ExecuteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_errors_name_each_address_without_debug_dumps() {
        let a: SocketAddr = "127.0.0.1:9042".parse().unwrap();
        let b: SocketAddr = "127.0.0.2:9042".parse().unwrap();
        let e = SessionError::Connect(vec![
            (a, ConnectionError::ConnectTimeout(Duration::from_secs(5))),
            (
                b,
                std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into(),
            ),
        ]);
        let text = e.to_string();
        assert_eq!(
            text,
            "could not connect to any contact point: 127.0.0.1:9042: connect timed out after \
             5s; 127.0.0.2:9042: I/O error: connection refused"
        );
    }
}

/// Why authentication could not proceed (an [`Authenticator`](crate::auth::Authenticator)
/// failed, or the server rejected the credentials).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The server asked for an authenticator this provider does not implement.
    #[error("unsupported server authenticator {0:?}")]
    UnsupportedAuthenticator(String),
    /// The server sent a challenge this authenticator cannot answer.
    #[error("unexpected authentication challenge")]
    UnexpectedChallenge,
    /// The server rejected the credentials (AUTHENTICATION error).
    #[error("authentication rejected by the server: {0}")]
    Rejected(String),
}

/// Errors of the topology layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// A metadata query failed.
    #[error("metadata query failed: {0}")]
    Execution(#[from] ExecutionError),
    /// Metadata rows did not decode.
    #[error("metadata rows did not decode: {0}")]
    Rows(#[from] RowsError),
    /// No node accepted a control connection.
    #[error(
        "no control connection could be opened: {}",
        AddressErrors(.0)
    )]
    NoControlConnection(Vec<(SocketAddr, ConnectionError)>),
    /// There is no control connection right now.
    #[error("no control connection")]
    ControlConnectionDown,
    /// Schema agreement was not reached in time.
    #[error("schema agreement not reached within {0:?}")]
    SchemaAgreementTimeout(Duration),
}
