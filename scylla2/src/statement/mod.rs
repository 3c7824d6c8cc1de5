//! Statements: unprepared [`Query`] strings, [`PreparedStatement`]s and [`Batch`]es, each
//! with per-statement [`StatementOptions`], all run by one `Session::execute`.

/// The option setters shared by [`Query`], [`PreparedStatement`] and [`Batch`]
/// (`with_consistency`, …, `with_profile`), each setting one field of the statement's
/// `options`; `option_setters!(paged)` adds `with_page_size` (not for batches, which return
/// no rows to page).
macro_rules! option_setters {
    (paged) => {
        option_setters!();

        /// With a page size: the rows per page of `Session::execute_single_page` and
        /// `Session::execute_paged`. `Session::execute` always fetches the whole result.
        pub fn with_page_size(mut self, rows: i32) -> Self {
            self.options.page_size = Some(rows);
            self
        }
    };
    () => {
        /// With a consistency level.
        pub fn with_consistency(mut self, c: ::scylla2_cql::Consistency) -> Self {
            self.options.consistency = Some(c);
            self
        }

        /// With a serial consistency.
        pub fn with_serial_consistency(mut self, c: ::scylla2_cql::SerialConsistency) -> Self {
            self.options.serial_consistency = Some(c);
            self
        }

        /// With a client timestamp (microseconds).
        pub fn with_timestamp(mut self, micros: i64) -> Self {
            self.options.timestamp = Some(micros);
            self
        }

        /// With a timeout.
        pub fn with_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.options.timeout = Some(timeout);
            self
        }

        /// Marks it idempotent or not.
        pub fn with_idempotent(mut self, idempotent: bool) -> Self {
            self.options.idempotent = Some(idempotent);
            self
        }

        /// Requests tracing.
        pub fn with_tracing(mut self, tracing: bool) -> Self {
            self.options.tracing = tracing;
            self
        }

        /// With an execution profile.
        pub fn with_profile(
            mut self,
            profile: ::std::sync::Arc<$crate::policies::ExecutionProfile>,
        ) -> Self {
            self.options.profile = Some(profile);
            self
        }

        /// With the execution profile `handle` points at when each execution starts
        /// (re-pointable at run time; replaces a profile set with `with_profile`).
        pub fn with_profile_handle(
            mut self,
            handle: $crate::policies::ExecutionProfileHandle,
        ) -> Self {
            self.options.set_profile_handle(handle);
            self
        }
    };
}

pub(crate) mod batch;
pub(crate) mod prepared;

use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use scylla2_cql::request::{
    Query as QueryRequest, QueryParameters, Request, WithCustomPayload, request_flags,
};
use scylla2_cql::types::ColumnSpec;
use scylla2_cql::value::SerializeRow;
use scylla2_cql::{Consistency, SerialConsistency};

pub use batch::{Batch, BatchEntry, BatchItem, BatchStatements};
pub use prepared::{PreparedStatement, ResultColumns};

use crate::connection::{Connection, ConnectionError, ResponseFuture};
use crate::error::ExecutionError;

/// A custom payload: `(key, value)` entries sent before a request's body.
pub type CustomPayload = Arc<[(String, Vec<u8>)]>;

/// Options of one statement; unset fields take the session's defaults.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StatementOptions {
    /// Consistency level.
    pub consistency: Option<Consistency>,
    /// Serial consistency (conditional statements).
    pub serial_consistency: Option<SerialConsistency>,
    /// Rows per page of `Session::execute_single_page` and `Session::execute_paged` (and
    /// their row streams); `execute` ignores it and always fetches the whole result.
    pub page_size: Option<i32>,
    /// Client-side timestamp in microseconds.
    pub timestamp: Option<i64>,
    /// Request timeout: the whole execution's (retries and speculative attempts included).
    ///
    /// Precision: deadlines are enforced by each connection's expiry task on tokio's timer,
    /// which has millisecond resolution and rounds up, so a request fails with
    /// `ExecutionError::Timeout` at the first timer tick after its deadline (measured with a
    /// 500 µs timeout on an idle runtime: 1.05–2.45 ms after the start), later when the
    /// runtime's threads are busy (up to 16.7 ms with four tasks spinning between yields). An
    /// answer that arrives before the expiry task runs is still delivered, so on a busy
    /// runtime a request can succeed a few milliseconds after its deadline; no request fails
    /// before it.
    pub timeout: Option<Duration>,
    /// Whether running the statement twice is harmless (allows trying another connection
    /// after a connection failure).
    pub idempotent: Option<bool>,
    /// Ask the server to trace the request.
    pub tracing: bool,
    /// Custom payload sent with the request.
    pub custom_payload: Option<CustomPayload>,
    /// Execution profile: settings between these options and the session's defaults.
    pub profile: Option<Arc<crate::policies::ExecutionProfile>>,
    /// Execution profile read through a handle at each execution (`profile` wins if both).
    pub profile_handle: Option<crate::policies::ExecutionProfileHandle>,
}

/// Session-wide defaults for [`StatementOptions`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExecutionDefaults {
    /// Consistency level.
    pub consistency: Consistency,
    /// Serial consistency.
    pub serial_consistency: Option<SerialConsistency>,
    /// Rows per page of paged executions (`execute_single_page`, `execute_paged`); 5 000 by
    /// default. `execute` is never paged.
    pub page_size: i32,
    /// Request timeout.
    pub timeout: Option<Duration>,
    /// Idempotency.
    pub idempotent: bool,
    /// The profile of statements without their own
    /// (`SessionBuilder::default_execution_profile`).
    pub profile: Option<crate::policies::ExecutionProfileHandle>,
}

impl Default for ExecutionDefaults {
    fn default() -> Self {
        Self {
            consistency: Consistency::LocalQuorum,
            serial_consistency: None,
            page_size: 5000,
            timeout: Some(Duration::from_secs(30)),
            idempotent: false,
            profile: None,
        }
    }
}

/// Whether an execution asks for one page or the whole result (driver internal).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Paging<'a> {
    /// The whole result in one response (`Session::execute`): no page size is sent, so the
    /// server never cuts the result short.
    Unpaged,
    /// One page of the statement's page size, resuming from the state (`None`: the first).
    Page(Option<&'a [u8]>),
}

/// Options resolved against the session defaults, for one execution (driver internal).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved<'a> {
    pub(crate) consistency: Consistency,
    pub(crate) serial_consistency: Option<SerialConsistency>,
    pub(crate) page_size: Option<i32>,
    pub(crate) timestamp: Option<i64>,
    pub(crate) timeout: Option<Duration>,
    /// When the execution times out (set by the execution from `timeout` and its start).
    pub(crate) deadline: Option<crate::clock::Stamp>,
    pub(crate) idempotent: bool,
    pub(crate) tracing: bool,
    pub(crate) custom_payload: Option<&'a [(String, Vec<u8>)]>,
    pub(crate) paging_state: Option<&'a [u8]>,
}

impl StatementOptions {
    pub(crate) fn resolve<'a>(
        &'a self,
        defaults: &ExecutionDefaults,
        paging: Paging<'a>,
    ) -> Resolved<'a> {
        let profile = self.current_profile(defaults);
        self.resolve_with(defaults, paging, profile.as_deref())
    }

    /// [`Self::resolve`] with the profile the execution already read (`current_profile`):
    /// a profile handle is read once per execution, so that its settings and its policies
    /// come from the same profile even when the handle is re-pointed meanwhile.
    pub(crate) fn resolve_with<'a>(
        &'a self,
        defaults: &ExecutionDefaults,
        paging: Paging<'a>,
        p: Option<&crate::policies::ExecutionProfile>,
    ) -> Resolved<'a> {
        let (page_size, paging_state) = match paging {
            Paging::Unpaged => (None, None),
            Paging::Page(state) => (
                Some(self.page_size.unwrap_or(defaults.page_size)).filter(|p| *p > 0),
                state,
            ),
        };
        Resolved {
            consistency: (self.consistency)
                .or(p.and_then(|p| p.consistency))
                .unwrap_or(defaults.consistency),
            serial_consistency: (self.serial_consistency)
                .or(p.and_then(|p| p.serial_consistency))
                .or(defaults.serial_consistency),
            page_size,
            timestamp: self.timestamp,
            timeout: (self.timeout)
                .or(p.and_then(|p| p.timeout))
                .or(defaults.timeout),
            deadline: None,
            idempotent: (self.idempotent)
                .or(p.and_then(|p| p.idempotent))
                .unwrap_or(defaults.idempotent),
            tracing: self.tracing,
            custom_payload: self.custom_payload.as_deref(),
            paging_state,
        }
    }
}

impl Resolved<'_> {
    pub(crate) fn params<'v, V: ?Sized>(&self, values: &'v V) -> QueryParameters<'v, V>
    where
        Self: 'v,
    {
        QueryParameters {
            consistency: self.consistency,
            values,
            skip_metadata: false,
            page_size: self.page_size,
            paging_state: self.paging_state,
            serial_consistency: self.serial_consistency,
            timestamp: self.timestamp,
            keyspace: None,
            now_in_seconds: None,
        }
    }
}

/// Serializes `request` into `conn`'s write queue with the resolved tracing flag, custom
/// payload and deadline; the returned future waits for the response, `waker` (the waker of
/// the task that awaits it next) registered already. Synchronous, so that no future level
/// lies between an attempt and the connection's response future.
pub(crate) fn start_with_options<'c, R: Request + Sync + ?Sized>(
    conn: &'c Connection,
    request: &R,
    opts: &Resolved<'_>,
    waker: &Waker,
) -> Result<ResponseFuture<'c>, ConnectionError> {
    let (deadline, waker) = (opts.deadline, Some(waker));
    match opts.custom_payload {
        None => conn.start_send_by(request, request_flags(opts.tracing, false), deadline, waker),
        Some(payload) => {
            // Only statements with a custom payload pay for this small vector.
            let entries: Vec<(&str, &[u8])> = payload
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice()))
                .collect();
            let with = WithCustomPayload::new(&entries, request);
            conn.start_send_by(&with, request_flags(opts.tracing, true), deadline, waker)
        }
    }
}

/// Something `Session::execute` runs with values `V`: a query string, a [`Query`], a
/// [`PreparedStatement`] or a [`Batch`]. Sealed: implemented by those types only, its workings are
/// the driver's.
///
/// Values are a row: a tuple (one value is `(value,)`), a slice, a `Vec` or a struct
/// deriving `SerializeRow`; a bare value does not compile:
///
/// ```compile_fail
/// # async fn demo(session: &scylla2::Session, insert: &scylla2::PreparedStatement) {
/// session.execute(insert, 5i32).await; // `(5i32,)` is meant
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be executed with values of type `{V}`",
    label = "values must be a row: a tuple, slice, `Vec` or struct deriving `SerializeRow`",
    note = "a single value is the one-element tuple `(value,)`, no values is `()`; a batch takes one row per statement"
)]
#[allow(private_bounds)]
pub trait Statement<V: ?Sized>: StatementImpl<V> + Sync {}

impl<V: ?Sized, S: StatementImpl<V> + Sync + ?Sized> Statement<V> for S {}

/// The driver's side of [`Statement`]: how a statement checks its values, builds its request
/// and is routed. Crate-private, so that `Statement` is sealed and none of this is API.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be executed with values of type `{V}`",
    label = "values must be a row: a tuple, slice, `Vec` or struct deriving `SerializeRow`",
    note = "a single value is the one-element tuple `(value,)`, no values is `()`; a batch takes one row per statement"
)]
pub(crate) trait StatementImpl<V: ?Sized> {
    fn options(&self) -> &StatementOptions;

    /// What this is, for error messages: `"query"`, `"prepared statement"` or `"batch"`.
    fn statement_kind(&self) -> &'static str {
        "query"
    }

    /// Checks `values` locally, before anything is sent.
    fn check_values(&self, values: &V) -> Result<(), ExecutionError>;

    /// Serializes the request into `conn`'s write queue and returns the future of its
    /// response; a prepared statement sends the result metadata id of `columns` (its
    /// [`result_columns`](Self::result_columns) as loaded for this attempt).
    fn start<'c>(
        &self,
        conn: &'c Connection,
        values: &V,
        opts: &Resolved<'_>,
        waker: &Waker,
        columns: Option<&ResultColumns>,
    ) -> Result<ResponseFuture<'c>, ExecutionError>;

    /// The prepared statement with id `id` in this statement, to re-prepare on UNPREPARED.
    fn prepared_with_id(&self, id: &[u8]) -> Option<&PreparedStatement> {
        let _ = id;
        None
    }

    /// The result columns known from PREPARE (rows come without metadata), loaded once per
    /// attempt: the metadata id sent and the columns decoding the answer are this one
    /// snapshot, so that they match even when the metadata changes meanwhile (borrowed while
    /// they are the ones the statement was prepared with).
    fn result_columns(&self) -> Option<std::borrow::Cow<'_, Arc<ResultColumns>>> {
        None
    }

    /// The server sent new result metadata (v5 Metadata_changed).
    fn on_new_result_metadata(&self, metadata_id: &bytes::Bytes, columns: &[ColumnSpec]) {
        let _ = (metadata_id, columns);
    }

    /// Routing information (token, keyspace, table, LWT) of this statement with `values`.
    fn routing_info<'s>(&'s self, values: &V) -> crate::routing::RoutingInfo<'s> {
        let _ = values;
        crate::routing::RoutingInfo::default()
    }
}

/// An unprepared CQL statement with its options (`with_*`, shared by every statement kind).
/// A plain `&str` runs with the session's defaults; a `Query` carries options of its own,
/// and [`Session::prepare`](crate::Session::prepare) keeps them.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
/// use std::time::Duration;
/// use scylla2::{Consistency, Query};
///
/// let query = Query::new("SELECT key FROM system.local")
///     .with_consistency(Consistency::One)
///     .with_timeout(Duration::from_secs(1))
///     .with_idempotent(true)
///     .with_page_size(100);
/// assert_eq!(query.text(), "SELECT key FROM system.local");
/// assert_eq!(query.options.consistency, Some(Consistency::One));
/// let result = session.execute(&query, ()).await?;
/// assert_eq!(result.rows_num(), 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Query {
    text: Arc<str>,
    /// Options of this statement.
    pub options: StatementOptions,
}

impl Query {
    /// A statement from its CQL text.
    pub fn new(text: impl Into<Arc<str>>) -> Self {
        Self {
            text: text.into(),
            options: StatementOptions::default(),
        }
    }

    /// The CQL text.
    pub fn text(&self) -> &str {
        &self.text
    }

    option_setters!(paged);

    /// With a custom payload.
    pub fn with_custom_payload(mut self, payload: Vec<(String, Vec<u8>)>) -> Self {
        self.options.custom_payload = Some(payload.into());
        self
    }
}

impl From<&str> for Query {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<String> for Query {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

static DEFAULT_OPTIONS: StatementOptions = StatementOptions {
    consistency: None,
    serial_consistency: None,
    page_size: None,
    timestamp: None,
    timeout: None,
    idempotent: None,
    tracing: false,
    custom_payload: None,
    profile: None,
    profile_handle: None,
};

/// Names the largest of `values` in a request too large for its frame (`markers`: the
/// prepared statement's bind markers, for their names). Only on that error path.
#[cold]
#[inline(never)]
pub(crate) fn name_largest_value<V: SerializeRow + ?Sized>(
    error: ExecutionError,
    values: &V,
    markers: Option<&[ColumnSpec]>,
) -> ExecutionError {
    let ExecutionError::Connection(ConnectionError::FrameTooLarge {
        size,
        max,
        largest_value: None,
    }) = error
    else {
        return error;
    };
    let largest = (0..values.value_count())
        .filter_map(|i| Some((i, values.value_at(i)?.value_size())))
        .max_by_key(|(_, size)| *size)
        .map(|(i, size)| {
            let name = match (values.value_name(i), markers.and_then(|m| m.get(i))) {
                (Some(name), _) => format!("{name:?}"),
                (None, Some(marker)) => format!("{:?}", marker.name),
                (None, None) => format!("value {i}"),
            };
            (name, size)
        });
    ExecutionError::Connection(ConnectionError::FrameTooLarge {
        size,
        max,
        largest_value: largest,
    })
}

fn start_query<'c, V: SerializeRow + Sync + ?Sized>(
    text: &str,
    conn: &'c Connection,
    values: &V,
    opts: &Resolved<'_>,
    waker: &Waker,
) -> Result<ResponseFuture<'c>, ExecutionError> {
    let request = QueryRequest {
        query: text,
        params: opts.params(values),
    };
    start_with_options(conn, &request, opts, waker)
        .map_err(|e| name_largest_value(e.into(), values, None))
}

/// A reference runs as what it points to (e.g. a `&'static str` given to
/// `Session::execute_paged`, which keeps its statement).
impl<V: ?Sized, S: StatementImpl<V> + ?Sized> StatementImpl<V> for &S {
    fn options(&self) -> &StatementOptions {
        (**self).options()
    }
    fn statement_kind(&self) -> &'static str {
        (**self).statement_kind()
    }
    fn check_values(&self, values: &V) -> Result<(), ExecutionError> {
        (**self).check_values(values)
    }
    fn start<'c>(
        &self,
        conn: &'c Connection,
        values: &V,
        opts: &Resolved<'_>,
        waker: &Waker,
        columns: Option<&ResultColumns>,
    ) -> Result<ResponseFuture<'c>, ExecutionError> {
        (**self).start(conn, values, opts, waker, columns)
    }
    fn prepared_with_id(&self, id: &[u8]) -> Option<&PreparedStatement> {
        (**self).prepared_with_id(id)
    }
    fn result_columns(&self) -> Option<std::borrow::Cow<'_, Arc<ResultColumns>>> {
        (**self).result_columns()
    }
    fn on_new_result_metadata(&self, metadata_id: &bytes::Bytes, columns: &[ColumnSpec]) {
        (**self).on_new_result_metadata(metadata_id, columns)
    }
    fn routing_info<'s>(&'s self, values: &V) -> crate::routing::RoutingInfo<'s> {
        (**self).routing_info(values)
    }
}

/// `Statement` for CQL text (`str`, `String`): unprepared, default options, unchecked values.
macro_rules! text_statement {
    ($($text:ty),*) => {$(
        impl<V: SerializeRow + Sync + ?Sized> StatementImpl<V> for $text {
            fn options(&self) -> &StatementOptions {
                &DEFAULT_OPTIONS
            }
            fn check_values(&self, _values: &V) -> Result<(), ExecutionError> {
                Ok(())
            }
            fn start<'c>(
                &self,
                conn: &'c Connection,
                values: &V,
                opts: &Resolved<'_>,
                waker: &Waker,
                _columns: Option<&ResultColumns>,
            ) -> Result<ResponseFuture<'c>, ExecutionError> {
                start_query(self, conn, values, opts, waker)
            }
        }
    )*};
}

text_statement!(str, String);

impl<V: SerializeRow + Sync + ?Sized> StatementImpl<V> for Query {
    fn options(&self) -> &StatementOptions {
        &self.options
    }
    fn check_values(&self, _values: &V) -> Result<(), ExecutionError> {
        Ok(())
    }
    fn start<'c>(
        &self,
        conn: &'c Connection,
        values: &V,
        opts: &Resolved<'_>,
        waker: &Waker,
        _columns: Option<&ResultColumns>,
    ) -> Result<ResponseFuture<'c>, ExecutionError> {
        start_query(&self.text, conn, values, opts, waker)
    }
}
