//! The session: connections to the known nodes, session-wide defaults, and the entry points
//! `execute`, `execute_single_page`, `execute_paged`, `prepare` and `use_keyspace`.

mod builder;
mod caching;
mod close;
pub(crate) mod keyspace;
mod paging;
mod pool;
mod rows;
mod stats;
mod tracing;

#[cfg(test)]
mod tests;

use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use scylla2_cql::response::PagingState;

pub use self::tracing::{TracingEvent, TracingFetch, TracingInfo, TracingInfoError};
pub use builder::SessionBuilder;
pub use caching::{CachingSession, DEFAULT_CACHE_CAPACITY};
pub use close::CloseSummary;
pub use paging::PageStream;
pub use rows::{RowStream, TypedRowStream};
pub use stats::ConnectionStats;

use crate::connection::Connection;
use crate::error::{ExecuteError, ExecutionError};
use crate::result::{PagingStateResponse, QueryResult};
use crate::statement::prepared::prepare_on;
use crate::statement::{ExecutionDefaults, PreparedStatement, Query, Statement};
use pool::{Pools, use_keyspace_on};

/// The error of an unpaged execution answered with a page (kept out of the hot path).
#[cold]
#[inline(never)]
fn incomplete(rows: usize, result: &QueryResult) -> ExecuteError {
    ExecuteError::after_attempts(
        ExecutionError::IncompleteResult { rows },
        result.execution(),
        Vec::new(),
    )
}

/// A session with a cluster. Cheap to clone; the connections close when the last clone is
/// dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let uri = sim.contact_points()[0].to_string(); // e.g. "127.0.0.1:9042"
/// use scylla2::Session;
///
/// let session = Session::builder().contact_point(uri).connect().await?;
/// let (version,): (String,) = session
///     .execute("SELECT release_version FROM system.local", ())
///     .await?
///     .single_row()?;
/// assert!(!version.is_empty());
/// // Clones share the connections: hand one to each task.
/// let clone = session.clone();
/// let rows = tokio::spawn(async move {
///     clone.execute("SELECT key FROM system.local", ()).await.map(|r| r.rows_num())
/// });
/// assert_eq!(rows.await??, 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

#[derive(Debug)]
struct SessionInner {
    pools: Arc<Pools>,
    defaults: ExecutionDefaults,
    /// Topology and routing (None when disabled or the metadata could not be read).
    cluster: Option<Arc<crate::topology::Cluster>>,
    events: Arc<crate::events::Events>,
    /// Retry and speculative policies of every execution, routed or not.
    policies: crate::policies::ExecutionPolicies,
    /// Latencies of successful executions (speculative execution percentiles).
    latencies: crate::policies::LatencyTracker,
    /// Why the session runs unrouted although topology was enabled.
    routing_unavailable: Option<String>,
    /// Set by `Session::close`: new executions are refused.
    closing: std::sync::atomic::AtomicBool,
}

impl SessionInner {
    /// Refuses work once the session is closing.
    fn check_open(&self) -> Result<(), ExecutionError> {
        if self.closing.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(ExecutionError::SessionClosed);
        }
        Ok(())
    }

    /// A failure of a request cut off by `Session::close` is reported as such.
    fn closed_if_closing(&self, e: ExecuteError) -> ExecuteError {
        if self.closing.load(std::sync::atomic::Ordering::Acquire) {
            e.closed()
        } else {
            e
        }
    }
}

impl Session {
    /// A builder to configure and connect a session.
    pub fn builder() -> SessionBuilder {
        SessionBuilder::new()
    }

    /// Runs `statement` (a query string, [`Query`], [`PreparedStatement`] or batch) with
    /// `values`, and returns its whole result.
    ///
    /// `execute` is never paged: it sends no page size (whatever the statement's or the
    /// session's), so the server returns every row in one response, bounded only by the
    /// frame size limit. Should a server still answer with a paging state, the execution
    /// fails with [`ExecutionError::IncompleteResult`]: no part of a result is ever returned
    /// as if it were all of it. Read large results page by page with
    /// [`execute_paged`](Self::execute_paged) (rows across pages, each page fetched ahead)
    /// or [`execute_single_page`](Self::execute_single_page).
    ///
    /// Values are checked against a prepared statement's bind markers before anything is
    /// sent; a bad count or type is [`ExecutionError::Values`]. A failure says which nodes
    /// were tried ([`ExecuteError::attempts`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY, name text)", ()).await?;
    /// // A query string with bound values, a prepared statement, a `Query` with options:
    /// session.execute("INSERT INTO ks.t (id, name) VALUES (?, ?)", (1i32, "one")).await?;
    /// let insert = session.prepare("INSERT INTO ks.t (id, name) VALUES (?, ?)").await?;
    /// session.execute(&insert, (2i32, "two")).await?;
    /// let all = scylla2::Query::new("SELECT id, name FROM ks.t")
    ///     .with_consistency(scylla2::Consistency::One);
    /// let result = session.execute(&all, ()).await?;
    /// let mut rows: Vec<(i32, String)> = result.rows()?.collect::<Result<_, _>>()?;
    /// rows.sort();
    /// assert_eq!(rows, [(1, "one".to_string()), (2, "two".to_string())]);
    /// // Values are checked against the bind markers before anything is sent.
    /// let err = session.execute(&insert, ("not an int", "x")).await.unwrap_err();
    /// assert!(matches!(err.kind(), scylla2::error::ExecutionError::Values(_)));
    /// # Ok(()) }
    /// ```
    pub async fn execute<S, V>(&self, statement: &S, values: V) -> Result<QueryResult, ExecuteError>
    where
        S: Statement<V> + ?Sized,
    {
        let inner = &*self.inner;
        inner.check_open()?;
        // The result is borrowed only in this block, which ends before the rare await (see
        // `run_statement!`).
        let follow_keyspace = {
            let result = crate::topology::run_statement!(
                inner.cluster.as_deref(),
                inner.pools.plan(),
                statement,
                &values,
                &inner.defaults,
                crate::statement::Paging::Unpaged,
                &inner.policies,
                &inner.latencies,
            );
            // Looked at in place: the common result leaves as it came (each unpacking and
            // packing again is a copy of the result).
            if let Ok(r) = &result {
                if let Some(rows) = r.raw_rows().filter(|r| r.has_paging_state()) {
                    return Err(incomplete(rows.rows_count(), r));
                }
                if r.set_keyspace().is_none() {
                    return result;
                }
            }
            let result = result.map_err(|e| {
                inner
                    .closed_if_closing(e)
                    .of_statement(statement.statement_kind())
            })?;
            // Boxed with the result: only after a USE.
            Box::pin(async move {
                if let Some(keyspace) = result.set_keyspace() {
                    self.follow_keyspace(keyspace).await?;
                }
                Ok(result)
            })
        };
        follow_keyspace.await
    }

    /// A `USE` ran through `execute` on one connection: switch the others (and future ones)
    /// too, so that every connection agrees.
    async fn follow_keyspace(&self, keyspace: &str) -> Result<(), ExecutionError> {
        let name = keyspace::quote_if_needed(keyspace);
        let pools = &self.inner.pools;
        if pools.keyspace.load().as_deref() == Some(&name) {
            return Ok(());
        }
        if let Some(cluster) = &self.inner.cluster {
            cluster.use_keyspace(&name).await?;
        }
        for conn in pools.all() {
            use_keyspace_on(&conn, &name).await?;
        }
        pools.keyspace.store(Some(Arc::new(name)));
        Ok(())
    }

    /// Runs one page of `statement`, resuming from `paging_state` (`None` for the first
    /// page); returns the rows and whether more pages follow.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.t (p int, c int, PRIMARY KEY (p, c))", ()).await?;
    /// let insert = session.prepare("INSERT INTO ks.t (p, c) VALUES (0, ?)").await?;
    /// for c in 0..5i32 {
    ///     session.execute(&insert, (c,)).await?;
    /// }
    /// let select = scylla2::Query::new("SELECT c FROM ks.t WHERE p = 0").with_page_size(2);
    /// let (mut state, mut seen) = (None, Vec::new());
    /// loop {
    ///     let (page, next) = session.execute_single_page(&select, (), state).await?;
    ///     for row in page.rows::<(i32,)>()? {
    ///         seen.push(row?.0);
    ///     }
    ///     match next.into_paging_state() {
    ///         Some(more) => state = Some(more), // e.g. handed to the next web request
    ///         None => break,
    ///     }
    /// }
    /// assert_eq!(seen, [0, 1, 2, 3, 4]);
    /// # Ok(()) }
    /// ```
    pub async fn execute_single_page<S, V>(
        &self,
        statement: &S,
        values: V,
        paging_state: Option<PagingState>,
    ) -> Result<(QueryResult, PagingStateResponse), ExecuteError>
    where
        S: Statement<V> + ?Sized,
    {
        self.single_page(statement, &values, paging_state).await
    }

    pub(crate) async fn single_page<S, V>(
        &self,
        statement: &S,
        values: &V,
        paging_state: Option<PagingState>,
    ) -> Result<(QueryResult, PagingStateResponse), ExecuteError>
    where
        S: Statement<V> + ?Sized,
        V: ?Sized,
    {
        let inner = &*self.inner;
        inner.check_open()?;
        let state = paging_state.as_ref().map(PagingState::as_bytes);
        let result = crate::topology::run_statement!(
            inner.cluster.as_deref(),
            inner.pools.plan(),
            statement,
            values,
            &inner.defaults,
            crate::statement::Paging::Page(state),
            &inner.policies,
            &inner.latencies,
        )
        .map_err(|e| {
            inner
                .closed_if_closing(e)
                .of_statement(statement.statement_kind())
        })?;
        let paging = result.paging_state();
        Ok((result, paging))
    }

    /// Runs `statement` page after page as a stream of pages; each next page is requested as
    /// soon as the previous one arrived, while the caller reads it. The fetches run as Tokio
    /// tasks: call this inside a Tokio runtime. Read it page by page
    /// ([`PageStream::next_page`]), row by row borrowed ([`PageStream::rows`]) or as a
    /// `Stream` of owned rows ([`PageStream::rows_stream`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.t (p int, c int, PRIMARY KEY (p, c))", ()).await?;
    /// let insert = session.prepare("INSERT INTO ks.t (p, c) VALUES (0, ?)").await?;
    /// for c in 0..5i32 {
    ///     session.execute(&insert, (c,)).await?;
    /// }
    /// let select = scylla2::Query::new("SELECT c FROM ks.t WHERE p = 0").with_page_size(2);
    /// let mut pages = session.execute_paged(select, ());
    /// let mut sizes = Vec::new();
    /// while let Some(page) = pages.next_page().await {
    ///     sizes.push(page?.rows_num());
    /// }
    /// assert_eq!(sizes, [2, 2, 1]);
    /// # Ok(()) }
    /// ```
    pub fn execute_paged<S, V>(&self, statement: S, values: V) -> PageStream
    where
        S: Statement<V> + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        PageStream::new(self.clone(), statement, values)
    }

    /// Prepares `query` (a string or a [`Query`], whose options the statement keeps).
    ///
    /// The first node that prepares it answers; the statement is then prepared on every
    /// other live node concurrently (one connection each: ScyllaDB shares prepared
    /// statements between its shards), so that executions routed there need no re-prepare.
    /// Those extra PREPAREs may fail (a node that did not prepare it re-prepares on
    /// UNPREPARED later); waiting for them is bounded by the statement's timeout.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY, name text)", ()).await?;
    /// // Options given to the `Query` stay with the prepared statement.
    /// let query = scylla2::Query::new("INSERT INTO ks.t (id, name) VALUES (?, ?)")
    ///     .with_idempotent(true);
    /// let insert = session.prepare(query).await?;
    /// assert_eq!(insert.bind_markers().len(), 2);
    /// assert_eq!(insert.pk_indexes(), [0]); // `id`, the partition key, is marker 0
    /// session.execute(&insert, (1i32, "one")).await?;
    /// // A syntax error is the server's answer, typed.
    /// assert!(session.prepare("SELEKT 1").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn prepare(
        &self,
        query: impl Into<Query>,
    ) -> Result<PreparedStatement, ExecutionError> {
        self.inner.check_open()?;
        let query = query.into();
        let mut last = None;
        // Routed sessions prepare on any live node (local ones first), then the contact points.
        let routed = self
            .inner
            .cluster
            .as_ref()
            .map(|c| c.connections_without_token())
            .unwrap_or_default();
        for conn in routed.iter().cloned().chain(self.inner.pools.plan()) {
            match prepare_on(&conn, query.text()).await {
                Ok(prepared) => {
                    let mut statement = PreparedStatement::new(query.text(), prepared);
                    statement.options = query.options.clone();
                    let node = conn.node_addr();
                    let others = if routed.is_empty() {
                        distinct_nodes(self.inner.pools.plan(), node)
                    } else {
                        distinct_nodes(routed, node)
                    };
                    let timeout = statement
                        .options
                        .resolve(&self.inner.defaults, crate::statement::Paging::Unpaged)
                        .timeout;
                    prepare_on_all(others, query.text(), timeout).await;
                    return Ok(statement);
                }
                Err(e) if e.may_try_next(true) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(ExecutionError::NoConnection))
    }

    /// Switches every connection, present and future, to `keyspace`. The name is validated
    /// locally first.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.use_keyspace("ks").await?;
    /// assert_eq!(session.keyspace().as_deref().map(String::as_str), Some("ks"));
    /// session.execute("CREATE TABLE t (id int PRIMARY KEY)", ()).await?; // ks.t
    /// // A name that is not a valid keyspace name is refused before anything is sent.
    /// assert!(session.use_keyspace("no spaces; please").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn use_keyspace(&self, keyspace: &str) -> Result<(), ExecutionError> {
        self.inner.check_open()?;
        let name = keyspace::validate_keyspace_name(keyspace)?;
        let pools = &self.inner.pools;
        let mut any = false;
        for conn in pools.all() {
            use_keyspace_on(&conn, &name).await?;
            any = true;
        }
        if let Some(cluster) = &self.inner.cluster {
            cluster.use_keyspace(&name).await?;
        } else if !any {
            return Err(ExecutionError::NoConnection);
        }
        pools.keyspace.store(Some(Arc::new(name)));
        Ok(())
    }

    /// The keyspace in use, if any.
    pub fn keyspace(&self) -> Option<Arc<String>> {
        self.inner.pools.keyspace.load_full()
    }

    /// The addresses of the known nodes (every node of the cluster when routing is active).
    pub fn nodes(&self) -> Vec<SocketAddr> {
        match &self.inner.cluster {
            Some(cluster) => cluster.node_addresses(),
            None => self.inner.pools.nodes.iter().map(|n| n.addr).collect(),
        }
    }

    /// Number of open connections (of the node pools when routing is active).
    pub fn open_connections(&self) -> usize {
        match &self.inner.cluster {
            Some(cluster) => cluster.open_connections(),
            None => self.inner.pools.all().count(),
        }
    }

    /// The health of the session's connections now: open, suspect, stream ids held by
    /// answers that never came, and connections replaced for that reason so far.
    pub fn connection_stats(&self) -> ConnectionStats {
        match &self.inner.cluster {
            Some(cluster) => cluster.connection_stats(),
            None => self.inner.pools.connection_stats(),
        }
    }

    /// The session's metrics now (feature `metrics`): requests, errors by kind, timeouts,
    /// retries, speculative attempts, latency percentiles, connection counters, in flight and
    /// orphaned stream ids, for the whole session and per node. Recording costs the request
    /// path a few relaxed atomic additions and no lock; this snapshot reads the histograms
    /// (it allocates: call it from a metrics exporter, not per request).
    #[cfg(feature = "metrics")]
    pub fn metrics(&self) -> crate::metrics::MetricsSnapshot {
        let inner = &*self.inner;
        let in_flight =
            inner.pools.live_requests() + inner.cluster.as_ref().map_or(0, |c| c.live_requests());
        inner
            .events
            .metrics
            .snapshot(in_flight, self.connection_stats())
    }

    /// The session-wide defaults.
    pub fn defaults(&self) -> &ExecutionDefaults {
        &self.inner.defaults
    }

    /// Database events (topology, status and schema changes) as the servers pushed them.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// use scylla2::events::DatabaseEvent;
    ///
    /// let mut events = session.database_events();
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// let event = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv()).await??;
    /// match event {
    ///     DatabaseEvent::SchemaChange(change) => assert_eq!(change.target.keyspace(), "ks"),
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn database_events(
        &self,
    ) -> tokio::sync::broadcast::Receiver<crate::events::DatabaseEvent> {
        self.inner.events.database()
    }

    /// Session events (connections, node state, refreshes, schema agreement). Subscribe on
    /// the builder ([`SessionBuilder::session_events`]) to see the events of `connect` too.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// use scylla2::events::SessionEvent;
    ///
    /// let mut events = session.session_events();
    /// sim.drop_connections(0)?; // the node closes every connection it has
    /// let closed = loop {
    ///     match tokio::time::timeout(std::time::Duration::from_secs(5), events.recv()).await?? {
    ///         SessionEvent::ConnectionClosed { node, .. } => break node,
    ///         _ => continue,
    ///     }
    /// };
    /// assert_eq!(closed.ip(), sim.contact_points()[0].ip());
    /// # Ok(()) }
    /// ```
    pub fn session_events(&self) -> tokio::sync::broadcast::Receiver<crate::events::SessionEvent> {
        self.inner.events.session()
    }

    /// Waits until every live node reports the same schema version (or the configured
    /// timeout); returns the agreed version. `execute` already waits for it after a schema
    /// change; call it after changes made elsewhere.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// let version = session.await_schema_agreement().await?;
    /// assert_eq!(session.check_schema_agreement().await?, Some(version));
    /// # Ok(()) }
    /// ```
    pub async fn await_schema_agreement(&self) -> Result<uuid::Uuid, crate::error::TopologyError> {
        match &self.inner.cluster {
            Some(cluster) => cluster.await_schema_agreement().await,
            None => Err(crate::error::TopologyError::ControlConnectionDown),
        }
    }

    /// Checks once, without waiting, whether every live node reports the same schema
    /// version: `Some(version)` when they agree, `None` while they do not (see
    /// [`await_schema_agreement`](Self::await_schema_agreement) to wait).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// if session.check_schema_agreement().await?.is_none() {
    ///     eprintln!("schema change still propagating");
    /// }
    /// # assert!(session.check_schema_agreement().await?.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn check_schema_agreement(
        &self,
    ) -> Result<Option<uuid::Uuid>, crate::error::TopologyError> {
        match &self.inner.cluster {
            Some(cluster) => cluster.check_schema_agreement().await,
            None => Err(crate::error::TopologyError::ControlConnectionDown),
        }
    }

    /// The protocol version negotiated with the cluster (that of the control connection, or
    /// of the contact points' connections without topology; every other connection uses the
    /// same); `None` while no connection is open.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// if session.protocol_version() == Some(scylla2::ProtocolVersion::V5) {
    ///     println!("v5: segments with checksums");
    /// }
    /// # assert_eq!(session.protocol_version(), Some(scylla2::ProtocolVersion::V5));
    /// # Ok(()) }
    /// ```
    pub fn protocol_version(&self) -> Option<scylla2_cql::ProtocolVersion> {
        if let Some(version) = self
            .inner
            .cluster
            .as_ref()
            .and_then(|c| c.protocol_version())
        {
            return Some(version);
        }
        self.inner
            .pools
            .all()
            .next()
            .map(|conn| conn.protocol_version())
    }

    /// The latest schema snapshot, when the session keeps one
    /// ([`SessionBuilder::schema_metadata`]) and routing is active; see
    /// [`SchemaSnapshot`](crate::topology::SchemaSnapshot).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// let session = scylla2::Session::builder().contact_point(uri).schema_metadata(true).connect().await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY, name text)", ()).await?;
    /// // Current once `execute` returns: the refresh follows the schema change.
    /// let schema = session.schema().ok_or("schema metadata is off")?;
    /// let table = schema.table("ks", "t").ok_or("no table ks.t")?;
    /// let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    /// assert_eq!(names, ["id", "name"]);
    /// # Ok(()) }
    /// ```
    pub fn schema(&self) -> Option<Arc<crate::topology::schema::SchemaSnapshot>> {
        self.inner.cluster.as_ref()?.schema.load_full()
    }

    /// Whether token- and shard-aware routing is active (the topology was read).
    pub fn is_routing(&self) -> bool {
        self.inner.cluster.is_some()
    }

    /// Why this session runs unrouted although topology was enabled (the error reading the
    /// topology, as also sent in [`SessionEvent::RoutingUnavailable`]); `None` when routing
    /// is active or was disabled with `SessionBuilder::topology(None)`.
    ///
    /// [`SessionEvent::RoutingUnavailable`]: crate::events::SessionEvent::RoutingUnavailable
    pub fn routing_unavailable(&self) -> Option<&str> {
        self.inner.routing_unavailable.as_deref()
    }

    /// The retry and speculative execution policies applied to every execution (a
    /// statement's [`ExecutionProfile`](crate::policies::ExecutionProfile) may override them).
    pub fn execution_policies(&self) -> &crate::policies::ExecutionPolicies {
        &self.inner.policies
    }

    /// Open connections of the token-aware node pools.
    pub fn pooled_connections(&self) -> usize {
        self.inner
            .cluster
            .as_ref()
            .map_or(0, |c| c.open_connections())
    }

    /// The replicas of `token` in `keyspace` that routing would use (ignored nodes left
    /// out), local ones first, each class in placement order, with the shard owning the
    /// token on each (Scylla nodes). Empty without routing or for an unknown keyspace.
    pub fn replicas(
        &self,
        keyspace: &str,
        token: crate::routing::Token,
    ) -> Vec<(SocketAddr, Option<crate::routing::Shard>)> {
        match &self.inner.cluster {
            Some(cluster) => cluster.replicas(keyspace, token),
            None => Vec::new(),
        }
    }
}

/// One connection of every node of `plan` but `except`.
fn distinct_nodes(
    plan: impl IntoIterator<Item = Arc<Connection>>,
    except: SocketAddr,
) -> Vec<Arc<Connection>> {
    let mut nodes: Vec<Arc<Connection>> = Vec::new();
    for conn in plan {
        let node = conn.node_addr();
        if node != except && nodes.iter().all(|n| n.node_addr() != node) {
            nodes.push(conn);
        }
    }
    nodes
}

/// Sends PREPARE for `text` on every connection of `conns` concurrently and waits for all
/// answers (at most `timeout`); failures are ignored.
async fn prepare_on_all(conns: Vec<Arc<Connection>>, text: &str, timeout: Option<Duration>) {
    if conns.is_empty() {
        return;
    }
    let mut pending: Vec<Option<Pin<Box<_>>>> = conns
        .iter()
        .map(|conn| Some(Box::pin(prepare_on(conn, text))))
        .collect();
    let all = poll_fn(|cx| {
        let mut done = true;
        for slot in &mut pending {
            if let Some(prepare) = slot {
                if prepare.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    done = false;
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    });
    match timeout {
        Some(t) => {
            let _ = tokio::time::timeout(t, all).await;
        }
        None => all.await,
    }
}
