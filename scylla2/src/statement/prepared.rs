//! Prepared statements: the id, bind markers (with partition-key indexes), result columns
//! and LWT flag from PREPARE. Executions skip result metadata; on protocol v5 the result
//! metadata id is sent and refreshed when the server says the metadata changed.

use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use scylla2_cql::request::{Execute, Prepare};
use scylla2_cql::response::result::{Prepared, PreparedMetadata};
use scylla2_cql::types::ColumnSpec;
use scylla2_cql::value::SerializeRow;

use super::{Resolved, Statement, StatementOptions, private, send_with_options};
use crate::connection::{Connection, Envelope};
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
    result: ArcSwap<ResultColumns>,
    is_lwt: bool,
}

/// A statement prepared by `Session::prepare`. Cheap to clone; clones share the server-side
/// state (id, metadata) and carry their own options.
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    shared: Arc<Shared>,
    /// Options of this statement.
    pub options: StatementOptions,
}

impl PreparedStatement {
    pub(crate) fn new(text: &str, prepared: Prepared) -> Self {
        let result = ResultColumns {
            metadata_id: prepared.result_metadata_id,
            columns: prepared.result.columns.unwrap_or_default(),
        };
        Self {
            shared: Arc::new(Shared {
                text: text.to_owned(),
                id: prepared.id,
                bind: prepared.bind,
                result: ArcSwap::from_pointee(result),
                is_lwt: prepared.is_lwt,
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

    /// Re-prepares the statement on `conn` after UNPREPARED. The server derives the id from
    /// the text, so the id stays the same; a different one is an error.
    pub(crate) async fn reprepare(&self, conn: &Connection) -> Result<(), ExecutionError> {
        let prepared = prepare_on(conn, &self.shared.text).await?;
        if prepared.id != self.shared.id {
            return Err(ExecutionError::StillUnprepared(prepared.id));
        }
        self.store_result(ResultColumns {
            metadata_id: prepared.result_metadata_id,
            columns: prepared.result.columns.unwrap_or_default(),
        });
        Ok(())
    }

    /// Records new result metadata (Metadata_changed, v5).
    pub(crate) fn store_result(&self, result: ResultColumns) {
        self.shared.result.store(Arc::new(result));
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

impl private::Sealed for PreparedStatement {}

impl<V: SerializeRow + Sync + ?Sized> Statement<V> for PreparedStatement {
    fn options(&self) -> &StatementOptions {
        &self.options
    }

    fn check_values(&self, values: &V) -> Result<(), ExecutionError> {
        self.check(values)
    }

    async fn send<'a>(
        &'a self,
        conn: &'a Connection,
        values: &'a V,
        opts: &'a Resolved<'a>,
    ) -> Result<Envelope, ExecutionError> {
        let result = self.shared.result.load_full();
        let mut params = opts.params(values);
        params.skip_metadata = true;
        let request = Execute {
            id: &self.shared.id,
            result_metadata_id: result.metadata_id.as_deref(),
            params,
        };
        Ok(send_with_options(conn, &request, opts).await?)
    }

    fn prepared_with_id(&self, id: &[u8]) -> Option<&PreparedStatement> {
        (*self.shared.id == *id).then_some(self)
    }

    fn result_columns(&self) -> Option<Arc<ResultColumns>> {
        Some(self.shared.result.load_full())
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
