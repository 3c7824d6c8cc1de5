//! Query results: void, rows, set keyspace or schema change, with the response's tracing id
//! and warnings. Rows decode lazily into borrowed types straight from the response frame
//! (`rows::<(i32, &str)>()`), their types checked once per page.

mod pretty;

use std::sync::Arc;

use scylla2_cql::response::TypedRowIter;
use scylla2_cql::response::{PagingState, ResultResponse, Rows, SchemaChange};
use scylla2_cql::response::{ResponseError, ResponseExtras};
use scylla2_cql::types::ColumnSpec;
use scylla2_cql::value::DeserializeRow;

use crate::error::RowsError;
use crate::statement::prepared::ResultColumns;

pub use pretty::PrettyTable;

/// What a request returned: rows (decoded lazily, borrowing from the response), or void,
/// a keyspace change, a schema change; with the execution's metadata.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
/// session.execute("CREATE KEYSPACE ks WITH replication = \
///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
/// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY, name text)", ()).await?;
/// let insert = session.execute("INSERT INTO ks.t (id, name) VALUES (1, 'one')", ()).await?;
/// assert!(insert.is_void());
/// let result = session.execute("SELECT id, name FROM ks.t", ()).await?;
/// assert_eq!(result.rows_num(), 1);
/// assert_eq!(result.column_index("name"), Some(1));
/// assert_eq!(result.execution().node, Some(sim.contact_points()[0])); // who answered
/// let (id, name): (i32, &str) = result.single_row()?;
/// assert_eq!((id, name), (1, "one"));
/// # Ok(()) }
/// ```
///
/// 128 bytes: every result moves through several future levels between the connection and
/// the caller, and a move of up to 128 bytes is a few register moves where a larger one is a
/// `memcpy` call (about 30 instructions each, 8 per request).
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// The rows of a Rows result (`None` for the other kinds).
    rows: Option<Rows>,
    /// What most results come without: the set keyspace and schema change kinds, the
    /// tracing id, warnings and custom payload. Boxed, and only when the response had any
    /// (they allocate anyway).
    rare: Option<Box<Rare>>,
    /// The prepared statement's result columns, for rows sent without metadata.
    prepared_columns: Option<Arc<ResultColumns>>,
    /// How the request was executed (node, shard, attempts, latency); set by routed
    /// executions.
    execution: Execution,
}

/// The parts of a result kept out of line (see [`QueryResult::rare`]).
#[derive(Debug, Clone)]
struct Rare {
    kind: RareKind,
    extras: ResponseExtras,
}

/// The kinds of result without rows.
#[derive(Debug, Clone)]
enum RareKind {
    /// Void, or Rows (then in [`QueryResult::rows`]).
    None,
    SetKeyspace(String),
    SchemaChange(SchemaChange),
}

/// [`crate::policies::ExecutionInfo`] in 48 bytes instead of 64.
#[derive(Debug, Clone, Copy, Default)]
struct Execution {
    node: Option<std::net::SocketAddr>,
    /// The shard, or [`NO_SHARD`].
    shard: u32,
    attempts: u16,
    speculative: u16,
    latency_nanos: u64,
}

/// [`Execution::shard`] of a connection without shards (a shard number is far below it).
const NO_SHARD: u32 = u32::MAX;

impl From<crate::policies::ExecutionInfo> for Execution {
    #[inline]
    fn from(info: crate::policies::ExecutionInfo) -> Self {
        Self {
            node: info.node,
            shard: info.shard.map_or(NO_SHARD, |s| s.min(NO_SHARD - 1)),
            attempts: info.attempts,
            speculative: info.speculative,
            // 584 years of nanoseconds.
            latency_nanos: u64::try_from(info.latency.as_nanos()).unwrap_or(u64::MAX),
        }
    }
}

impl From<Execution> for crate::policies::ExecutionInfo {
    #[inline]
    fn from(e: Execution) -> Self {
        Self {
            node: e.node,
            shard: (e.shard != NO_SHARD).then_some(e.shard),
            attempts: e.attempts,
            speculative: e.speculative,
            latency: std::time::Duration::from_nanos(e.latency_nanos),
        }
    }
}

/// Whether more pages follow a page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PagingStateResponse {
    /// More pages: pass this state to get the next one.
    HasMorePages {
        /// The state to resume from.
        state: PagingState,
    },
    /// That was the last page.
    NoMorePages,
}

impl PagingStateResponse {
    /// Whether this was the last page.
    pub fn finished(&self) -> bool {
        matches!(self, Self::NoMorePages)
    }

    /// The state to resume from, if any.
    pub fn into_paging_state(self) -> Option<PagingState> {
        match self {
            Self::HasMorePages { state } => Some(state),
            Self::NoMorePages => None,
        }
    }
}

impl QueryResult {
    pub(crate) fn new(
        result: ResultResponse,
        extras: ResponseExtras,
        prepared_columns: Option<Arc<ResultColumns>>,
    ) -> Option<Self> {
        let (rows, kind) = match result {
            ResultResponse::Void => (None, RareKind::None),
            ResultResponse::Rows(rows) => (Some(rows), RareKind::None),
            ResultResponse::SetKeyspace(ks) => (None, RareKind::SetKeyspace(ks)),
            ResultResponse::SchemaChange(change) => (None, RareKind::SchemaChange(change)),
            // A Prepared result does not answer QUERY/EXECUTE/BATCH.
            _ => return None,
        };
        let rare = (!matches!(kind, RareKind::None)
            || extras.tracing_id.is_some()
            || !extras.warnings.is_empty()
            || extras.custom_payload.is_some())
        .then(|| Box::new(Rare { kind, extras }));
        Some(Self::of_parts(rows, rare, prepared_columns))
    }

    /// A Void result without extras: what [`Self::new`] makes of `ResultResponse::Void`.
    pub(crate) fn void(prepared_columns: Option<Arc<ResultColumns>>) -> Self {
        Self::of_parts(None, None, prepared_columns)
    }

    /// A Rows result without extras: what [`Self::new`] makes of `ResultResponse::Rows`.
    pub(crate) fn from_rows(rows: Rows, prepared_columns: Option<Arc<ResultColumns>>) -> Self {
        Self::of_parts(Some(rows), None, prepared_columns)
    }

    /// The one constructor behind [`Self::new`], [`Self::void`] and [`Self::from_rows`].
    #[inline(always)]
    fn of_parts(
        rows: Option<Rows>,
        rare: Option<Box<Rare>>,
        prepared_columns: Option<Arc<ResultColumns>>,
    ) -> Self {
        Self {
            rows,
            rare,
            prepared_columns,
            execution: Execution::default(),
        }
    }

    /// The kind of a result without rows (`None` for void and rows).
    fn rare_kind(&self) -> &RareKind {
        self.rare.as_ref().map_or(&RareKind::None, |r| &r.kind)
    }

    /// The response's extras, if it had any.
    fn extras(&self) -> Option<&ResponseExtras> {
        self.rare.as_ref().map(|r| &r.extras)
    }

    /// How the request was executed: the node and shard that answered, attempts,
    /// speculative attempts and latency (routed sessions; defaults otherwise).
    pub fn execution(&self) -> crate::policies::ExecutionInfo {
        self.execution.into()
    }

    #[inline]
    pub(crate) fn set_execution(&mut self, info: crate::policies::ExecutionInfo) {
        self.execution = info.into();
    }

    /// Whether the result is Void (e.g. after an INSERT).
    pub fn is_void(&self) -> bool {
        self.rows.is_none() && matches!(self.rare_kind(), RareKind::None)
    }

    /// The keyspace a `USE` switched to.
    pub fn set_keyspace(&self) -> Option<&str> {
        match self.rare_kind() {
            RareKind::SetKeyspace(ks) => Some(ks),
            _ => None,
        }
    }

    /// The schema change a DDL statement made.
    pub fn schema_change(&self) -> Option<&SchemaChange> {
        match self.rare_kind() {
            RareKind::SchemaChange(c) => Some(c),
            _ => None,
        }
    }

    /// The raw rows, if this is a Rows result.
    pub fn raw_rows(&self) -> Option<&Rows> {
        self.rows.as_ref()
    }

    /// Number of rows (0 for results without rows).
    pub fn rows_num(&self) -> usize {
        self.raw_rows().map_or(0, Rows::rows_count)
    }

    /// The tracing session id, when tracing was requested.
    pub fn tracing_id(&self) -> Option<uuid::Uuid> {
        self.extras().and_then(|e| e.tracing_id)
    }

    /// Warnings the server attached.
    pub fn warnings(&self) -> &[String] {
        self.extras().map_or(&[], |e| &e.warnings)
    }

    /// The custom payload the server attached.
    pub fn custom_payload(&self) -> Option<&scylla2_cql::response::CustomPayload> {
        self.extras().and_then(|e| e.custom_payload.as_ref())
    }

    /// Whether more pages follow, and the state to fetch the next one.
    pub fn paging_state(&self) -> PagingStateResponse {
        match self.raw_rows().and_then(Rows::paging_state) {
            Some(state) => PagingStateResponse::HasMorePages { state },
            None => PagingStateResponse::NoMorePages,
        }
    }

    /// The column specs of the rows: the result's own, or the prepared statement's when the
    /// rows came without metadata.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// use scylla2::CqlType;
    ///
    /// let result = session.execute("SELECT key, release_version FROM system.local", ()).await?;
    /// let specs = result.column_specs().ok_or("not rows")?;
    /// let columns: Vec<(&str, &CqlType)> = specs.iter().map(|c| (c.name.as_str(), &c.typ)).collect();
    /// assert_eq!(columns, [("key", &CqlType::Text), ("release_version", &CqlType::Text)]);
    /// # Ok(()) }
    /// ```
    pub fn column_specs(&self) -> Option<&[ColumnSpec]> {
        let rows = self.raw_rows()?;
        match rows.columns() {
            Some(c) => Some(c),
            None => self
                .prepared_columns
                .as_deref()
                .map(|c| c.columns.as_slice()),
        }
    }

    /// Iterates the rows as `T`, decoded lazily and borrowing from the response (e.g.
    /// `(i32, &str)`), a struct deriving `DeserializeRow`, or [`RowView`](crate::RowView) to
    /// read columns by name. The column types are checked once, here.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY, name text)", ()).await?;
    /// for (id, name) in [(1i32, "one"), (2, "two")] {
    ///     session.execute("INSERT INTO ks.t (id, name) VALUES (?, ?)", (id, name)).await?;
    /// }
    /// let result = session.execute("SELECT id, name FROM ks.t", ()).await?;
    /// let mut names: Vec<&str> = Vec::new(); // borrowed from `result`: no copy
    /// for row in result.rows::<(i32, &str)>()? {
    ///     names.push(row?.1);
    /// }
    /// names.sort();
    /// assert_eq!(names, ["one", "two"]);
    /// // The wrong types are an error for the whole result, before any row.
    /// assert!(matches!(result.rows::<(String, i32)>(), Err(scylla2::error::RowsError::Deserialize(_))));
    /// # Ok(()) }
    /// ```
    pub fn rows<'r, T: DeserializeRow<'r, 'r>>(
        &'r self,
    ) -> Result<TypedRowIter<'r, 'r, T>, RowsError> {
        let rows = match (&self.rows, self.rare_kind()) {
            (Some(rows), _) => rows,
            (None, RareKind::None) => return Err(RowsError::NotRows("void")),
            (None, RareKind::SetKeyspace(_)) => return Err(RowsError::NotRows("set keyspace")),
            (None, RareKind::SchemaChange(_)) => {
                return Err(RowsError::NotRows("schema change"));
            }
        };
        let specs = self.column_specs().unwrap_or(&[]);
        rows.iter(specs).map_err(|e| match e {
            ResponseError::Deserialize(e) => RowsError::Deserialize(e),
            e => RowsError::Response(e),
        })
    }

    /// The first row as `T`; [`RowsError::NoRows`] without rows.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// let (key,): (String,) = session.execute("SELECT key FROM system.local", ()).await?.first_row()?;
    /// assert_eq!(key, "local");
    /// let none = session.execute("SELECT key FROM system.local WHERE key = 'other'", ()).await?;
    /// assert!(matches!(none.first_row::<(String,)>(), Err(scylla2::error::RowsError::NoRows)));
    /// assert_eq!(none.maybe_first_row::<(String,)>()?, None);
    /// # Ok(()) }
    /// ```
    pub fn first_row<'r, T: DeserializeRow<'r, 'r>>(&'r self) -> Result<T, RowsError> {
        match self.rows::<T>()?.next() {
            Some(row) => Ok(row?),
            None => Err(RowsError::NoRows),
        }
    }

    /// The first row as `T`, or `None` without rows.
    pub fn maybe_first_row<'r, T: DeserializeRow<'r, 'r>>(
        &'r self,
    ) -> Result<Option<T>, RowsError> {
        match self.rows::<T>()?.next() {
            Some(row) => Ok(Some(row?)),
            None => Ok(None),
        }
    }

    /// The position of the column named `name` in the rows (the first, if several have it).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.column_specs()?.iter().position(|c| c.name == name)
    }

    /// Whether a conditional statement (LWT: `IF NOT EXISTS`, `IF col = …`) was applied: its
    /// `[applied]` column, whatever other columns the server sent with it (the current
    /// values when it was not applied). An error for a result without that column.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.users (id int PRIMARY KEY, name text)", ()).await?;
    /// let insert = "INSERT INTO ks.users (id, name) VALUES (1, ?) IF NOT EXISTS";
    /// assert!(session.execute(insert, ("a",)).await?.applied()?);
    /// let r = session.execute(insert, ("b",)).await?;
    /// assert!(!r.applied()?);
    /// // Not applied: the row that was there comes with the answer.
    /// let existing: &str = r.first_row::<scylla2::RowView>()?.get_by_name("name")?;
    /// assert_eq!(existing, "a");
    /// # Ok(()) }
    /// ```
    pub fn applied(&self) -> Result<bool, RowsError> {
        let row = self.first_row::<scylla2_cql::value::RowView<'_, '_>>()?;
        Ok(row.get_by_name::<bool>("[applied]")?)
    }

    /// The only row as `T`; an error when there are none or several.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// let result = session.execute("SELECT key FROM system.local", ()).await?;
    /// let (key,): (&str,) = result.single_row()?; // borrowed from `result`
    /// assert_eq!(key, "local");
    /// let peers = session.execute("SELECT peer FROM system.peers", ()).await?; // one node: none
    /// assert!(matches!(peers.single_row::<(std::net::IpAddr,)>(), Err(scylla2::error::RowsError::NoRows)));
    /// # Ok(()) }
    /// ```
    pub fn single_row<'r, T: DeserializeRow<'r, 'r>>(&'r self) -> Result<T, RowsError> {
        match self.rows_num() {
            0 => Err(RowsError::NoRows),
            1 => self.first_row(),
            n => Err(RowsError::MoreThanOneRow(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::ExecutionInfo;
    use std::time::Duration;

    #[test]
    fn a_result_moves_in_128_bytes_or_less() {
        // See the struct's documentation: a larger result is a `memcpy` call per move.
        assert!(std::mem::size_of::<QueryResult>() <= 128);
        assert!(std::mem::size_of::<Result<QueryResult, crate::error::ExecuteError>>() <= 128);
        assert!(std::mem::size_of::<Result<QueryResult, crate::error::ExecutionError>>() <= 128);
    }

    #[test]
    fn execution_info_is_kept_exactly() {
        let node = Some("[::1]:9042".parse().unwrap());
        for info in [
            ExecutionInfo::default(),
            ExecutionInfo {
                node,
                shard: Some(0),
                attempts: 3,
                speculative: 1,
                latency: Duration::new(1, 999_999_999),
            },
            ExecutionInfo {
                node: Some("10.0.0.1:19042".parse().unwrap()),
                shard: Some(NO_SHARD - 1),
                attempts: u16::MAX,
                speculative: u16::MAX,
                latency: Duration::from_nanos(u64::MAX),
            },
        ] {
            let mut result = QueryResult::void(None);
            result.set_execution(info);
            assert_eq!(result.execution(), info);
        }
        // Beyond the packed range: the largest shard and latency it holds.
        let mut result = QueryResult::void(None);
        result.set_execution(ExecutionInfo {
            shard: Some(u32::MAX),
            latency: Duration::MAX,
            ..ExecutionInfo::default()
        });
        assert_eq!(result.execution().shard, Some(NO_SHARD - 1));
        assert_eq!(result.execution().latency, Duration::from_nanos(u64::MAX));
    }

    #[test]
    fn kinds_are_told_apart() {
        use scylla2_cql::response::ResultResponse;
        let void = QueryResult::new(ResultResponse::Void, ResponseExtras::default(), None);
        let void = void.expect("void answers a query");
        assert!(void.is_void() && void.raw_rows().is_none() && void.set_keyspace().is_none());
        assert!(matches!(
            void.rows::<(i32,)>(),
            Err(RowsError::NotRows("void"))
        ));
        let ks = ResultResponse::SetKeyspace("ks".into());
        let ks = QueryResult::new(ks, ResponseExtras::default(), None).expect("set keyspace");
        assert!(!ks.is_void());
        assert_eq!(ks.set_keyspace(), Some("ks"));
        assert!(matches!(
            ks.rows::<(i32,)>(),
            Err(RowsError::NotRows("set keyspace"))
        ));
        let extras = ResponseExtras {
            warnings: vec!["careful".into()],
            ..ResponseExtras::default()
        };
        let warned = QueryResult::new(ResultResponse::Void, extras, None).expect("void");
        assert!(warned.is_void());
        assert_eq!(warned.warnings(), ["careful"]);
    }
}
