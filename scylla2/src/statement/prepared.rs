//! Prepared statements: the id, bind markers (with partition-key indexes), result columns
//! and LWT flag from PREPARE. Executions skip result metadata; on protocol v5 the result
//! metadata id is sent and refreshed when the server says the metadata changed.
//!
//! Re-prepares after UNPREPARED are shared per node: executions that got UNPREPARED from the
//! same node while one of them re-prepares wait for that PREPARE instead of sending their own.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;

use arc_swap::ArcSwap;
use bytes::Bytes;
use scylla2_cql::request::{Execute, Prepare};
use scylla2_cql::response::{Prepared, PreparedMetadata};
use scylla2_cql::types::ColumnSpec;
use scylla2_cql::value::SerializeRow;

use super::{Resolved, StatementOptions, start_with_options};
use crate::connection::{Connection, ResponseFuture};
use crate::error::ExecutionError;

/// The columns executions of a prepared statement return, with the v5 result metadata id
/// that names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultColumns {
    /// Result metadata id (v5).
    pub metadata_id: Option<Bytes>,
    /// The columns.
    pub columns: Vec<ColumnSpec>,
}

#[derive(Debug)]
struct Shared {
    text: String,
    id: Bytes,
    bind: PreparedMetadata,
    /// The result columns as prepared: what executions use, borrowed, until the server first
    /// announces other ones (`result_changed`), so that the common execution does not load
    /// `result` (an `ArcSwap` load and a reference count, about 45 instructions).
    prepared_result: Arc<ResultColumns>,
    /// Whether `result` was ever replaced (new metadata, v5, or a re-prepare).
    result_changed: AtomicBool,
    /// The current result columns.
    result: ArcSwap<ResultColumns>,
    is_lwt: bool,
    /// Where the statement's keyspace is in the routing snapshot (see
    /// [`KeyspaceSlot`](crate::routing::KeyspaceSlot)).
    keyspace_slot: crate::routing::KeyspaceSlot,
    /// Per node (by IP address: a node's shard-aware connections use another port), the
    /// coordination of re-prepares. Entries are added on the first UNPREPARED from a node,
    /// so there are at most as many as nodes.
    reprepares: Mutex<Vec<(IpAddr, Arc<NodeReprepare>)>>,
    /// PREPAREs sent by re-prepares.
    reprepare_count: AtomicU64,
}

/// One node's re-prepares of one statement: one at a time, each completed one counted.
#[derive(Debug, Default)]
struct NodeReprepare {
    lock: tokio::sync::Mutex<()>,
    /// Re-prepares completed on the node.
    completed: AtomicU64,
}

/// What [`PreparedStatement::reprepare`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reprepared {
    /// It sent a PREPARE, which succeeded.
    Sent,
    /// Another execution re-prepared on the node meanwhile; nothing was sent.
    Shared,
}

/// A statement prepared by `Session::prepare`. Cheap to clone; clones share the server-side
/// state (id, metadata) and carry their own options. Its bound values are checked against
/// its bind markers before anything is sent, and its partition key routes it to a replica.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
/// session.execute("CREATE KEYSPACE ks WITH replication = \
///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
/// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY, name text)", ()).await?;
/// let insert = session.prepare("INSERT INTO ks.t (id, name) VALUES (?, ?)").await?;
/// assert_eq!(insert.text(), "INSERT INTO ks.t (id, name) VALUES (?, ?)");
/// let markers: Vec<&str> = insert.bind_markers().iter().map(|m| m.name.as_str()).collect();
/// assert_eq!(markers, ["id", "name"]);
/// assert!(!insert.is_lwt());
/// for id in 0..3i32 {
///     session.execute(&insert, (id, format!("n{id}"))).await?;
/// }
/// // A clone with other options shares the prepared id.
/// let quorum = insert.clone().with_consistency(scylla2::Consistency::Quorum);
/// assert_eq!(quorum.id(), insert.id());
/// session.execute(&quorum, (3i32, "n3")).await?;
/// let select = session.prepare("SELECT name FROM ks.t WHERE id = ?").await?;
/// let (name,): (String,) = session.execute(&select, (3i32,)).await?.single_row()?;
/// assert_eq!(name, "n3");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    shared: Arc<Shared>,
    /// Options of this statement.
    pub options: StatementOptions,
}

impl PreparedStatement {
    pub(crate) fn new(text: &str, prepared: Prepared) -> Self {
        let result = Arc::new(ResultColumns {
            metadata_id: prepared.result_metadata_id,
            columns: prepared.result.into_columns().unwrap_or_default(),
        });
        Self {
            shared: Arc::new(Shared {
                text: text.to_owned(),
                id: prepared.id,
                bind: prepared.bind,
                prepared_result: result.clone(),
                result_changed: AtomicBool::new(false),
                result: ArcSwap::new(result),
                is_lwt: prepared.is_lwt,
                keyspace_slot: crate::routing::KeyspaceSlot::default(),
                reprepares: Mutex::new(Vec::new()),
                reprepare_count: AtomicU64::new(0),
            }),
            options: StatementOptions::default(),
        }
    }

    /// The CQL text.
    pub fn text(&self) -> &str {
        &self.shared.text
    }

    /// The server's id of the statement.
    pub fn id(&self) -> &Bytes {
        &self.shared.id
    }

    /// The bind markers.
    pub fn bind_markers(&self) -> &[ColumnSpec] {
        &self.shared.bind.columns
    }

    /// Indexes of the bind markers forming the partition key, in key order.
    pub fn pk_indexes(&self) -> &[u16] {
        &self.shared.bind.pk_indexes
    }

    /// Whether the statement is a conditional (LWT) one (Scylla's LWT mark).
    pub fn is_lwt(&self) -> bool {
        self.shared.is_lwt
    }

    /// The result columns (as of the last metadata change).
    pub fn result_columns(&self) -> Arc<ResultColumns> {
        self.shared.result.load_full()
    }

    option_setters!(paged);

    /// Checks values against the bind markers.
    pub(crate) fn check<V: SerializeRow + ?Sized>(&self, values: &V) -> Result<(), ExecutionError> {
        Ok(values.check_types(&self.shared.bind.columns)?)
    }

    /// How many PREPAREs executions of this statement (and of its clones) sent to re-prepare
    /// it after UNPREPARED. Executions that got UNPREPARED from a node while another one
    /// re-prepared there share that PREPARE and are not counted.
    pub fn reprepares(&self) -> u64 {
        self.shared.reprepare_count.load(Ordering::Relaxed)
    }

    /// The re-prepare coordination of the node at `addr`.
    fn node_reprepare(&self, addr: IpAddr) -> Arc<NodeReprepare> {
        let mut nodes = self
            .shared
            .reprepares
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some((_, node)) = nodes.iter().find(|(a, _)| *a == addr) {
            return node.clone();
        }
        let node = Arc::new(NodeReprepare::default());
        nodes.push((addr, node.clone()));
        node
    }

    /// Re-prepares the statement on `conn` after UNPREPARED. The server derives the id from
    /// the text, so the id stays the same; a different one is an error.
    ///
    /// Unless `force`, a re-prepare on the same node completed after this call began (the
    /// UNPREPARED just received) is shared: the statement is prepared there again, so
    /// nothing is sent. Call it right after receiving UNPREPARED. (Two nodes behind one IP
    /// address may share wrongly: the execution then gets UNPREPARED again and re-prepares
    /// with `force`.)
    pub(crate) async fn reprepare(
        &self,
        conn: &Connection,
        force: bool,
    ) -> Result<Reprepared, ExecutionError> {
        let node = self.node_reprepare(conn.peer_addr().ip());
        let seen = node.completed.load(Ordering::Acquire);
        let _guard = node.lock.lock().await;
        if !force && node.completed.load(Ordering::Acquire) != seen {
            return Ok(Reprepared::Shared);
        }
        self.shared.reprepare_count.fetch_add(1, Ordering::Relaxed);
        let prepared = prepare_on(conn, &self.shared.text).await?;
        if prepared.id != self.shared.id {
            return Err(ExecutionError::StillUnprepared(prepared.id));
        }
        self.store_result(ResultColumns {
            metadata_id: prepared.result_metadata_id,
            columns: prepared.result.into_columns().unwrap_or_default(),
        });
        node.completed.fetch_add(1, Ordering::Release);
        Ok(Reprepared::Sent)
    }

    /// Records new result metadata (Metadata_changed, v5).
    pub(crate) fn store_result(&self, result: ResultColumns) {
        self.shared.result.store(Arc::new(result));
        // Release: an execution that sees the flag loads the columns stored before it.
        self.shared.result_changed.store(true, Ordering::Release);
    }
}

/// Sends PREPARE for `text` on `conn`.
pub(crate) async fn prepare_on(conn: &Connection, text: &str) -> Result<Prepared, ExecutionError> {
    let envelope = conn.send(&Prepare::new(text), Default::default()).await?;
    match crate::execution::decode(conn, envelope, None)? {
        crate::execution::Decoded::Prepared(p) => Ok(*p),
        crate::execution::Decoded::Result(_) => Err(ExecutionError::UnexpectedResponse(
            scylla2_cql::frame::Opcode::Result,
        )),
    }
}

impl<V: SerializeRow + Sync + ?Sized> super::StatementImpl<V> for PreparedStatement {
    fn options(&self) -> &StatementOptions {
        &self.options
    }

    fn statement_kind(&self) -> &'static str {
        "prepared statement"
    }

    fn check_values(&self, values: &V) -> Result<(), ExecutionError> {
        self.check(values)
    }

    fn start<'c>(
        &self,
        conn: &'c Connection,
        values: &V,
        opts: &Resolved<'_>,
        waker: &Waker,
        columns: Option<&ResultColumns>,
    ) -> Result<ResponseFuture<'c>, ExecutionError> {
        let mut params = opts.params(values);
        // Only when the prepared result metadata has columns to decode the rows with: the
        // columns of a conditional statement's result depend on whether it applied, so its
        // prepared metadata is empty and its rows must bring their own (v4 §4.1.4 flag 0x02).
        params.skip_metadata = columns.is_some_and(|c| !c.columns.is_empty());
        let request = Execute {
            id: &self.shared.id,
            result_metadata_id: columns.and_then(|c| c.metadata_id.as_deref()),
            params,
        };
        start_with_options(conn, &request, opts, waker).map_err(|e| {
            super::name_largest_value(e.into(), values, Some(&self.shared.bind.columns))
        })
    }

    fn prepared_with_id(&self, id: &[u8]) -> Option<&PreparedStatement> {
        (*self.shared.id == *id).then_some(self)
    }

    fn result_columns(&self) -> Option<Cow<'_, Arc<ResultColumns>>> {
        Some(if self.shared.result_changed.load(Ordering::Acquire) {
            Cow::Owned(self.shared.result.load_full())
        } else {
            Cow::Borrowed(&self.shared.prepared_result)
        })
    }

    fn routing_info<'s>(&'s self, values: &V) -> crate::routing::RoutingInfo<'s> {
        let markers = &self.shared.bind.columns;
        let token = crate::routing::partition_key::token_of_row(self.pk_indexes(), markers, values)
            .ok()
            .flatten();
        let spec = markers.first();
        crate::routing::RoutingInfo {
            token,
            keyspace: spec.map(|c| c.keyspace.as_str()),
            table: spec.map(|c| c.table.as_str()),
            is_lwt: self.shared.is_lwt,
            keyspace_slot: Some(&self.shared.keyspace_slot),
        }
    }

    fn on_new_result_metadata(&self, metadata_id: &Bytes, columns: &[ColumnSpec]) {
        let current = self.shared.result.load();
        if current.metadata_id.as_ref() != Some(metadata_id) {
            self.store_result(ResultColumns {
                metadata_id: Some(metadata_id.clone()),
                columns: columns.to_vec(),
            });
        }
    }
}
