//! Schema metadata (opt-in: `SessionBuilder::schema_metadata(true)`): keyspaces, tables,
//! their columns with types, kinds and clustering order, and user-defined types, read from
//! `system_schema.{keyspaces,tables,columns,types}` on the control connection.
//!
//! The snapshot ([`SchemaSnapshot`]) is read when a control connection opens and at every
//! topology refresh: after each SCHEMA_CHANGE event (coalesced), after each schema-changing
//! statement of the session (before that statement returns: it awaits a refresh), and
//! periodically. A snapshot that differs from the last one replaces it (`ArcSwap`) and is
//! announced as [`SessionEvent::SchemaRefreshed`]; a read that fails keeps the last snapshot
//! and is announced as [`SessionEvent::SchemaRefreshFailed`].
//!
//! Column types are kept as the CQL text the server stores (`frozen<list<text>>`, a UDT's
//! name, …): the system tables hold them as text, in the same syntax for Cassandra 4 and
//! ScyllaDB. Views, indexes, functions and aggregates are not read.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::Arc;

use super::{Cluster, metadata};
use crate::connection::Connection;
use crate::error::{ExecutionError, RowsError};
use crate::events::SessionEvent;

/// The schema as read at one refresh: every keyspace by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchemaSnapshot {
    /// The keyspaces, by name.
    pub keyspaces: BTreeMap<String, KeyspaceMetadata>,
}

/// One keyspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyspaceMetadata {
    /// Its name.
    pub name: String,
    /// `durable_writes`.
    pub durable_writes: bool,
    /// The replication options (`class`, `replication_factor`, data centers, …).
    pub replication: BTreeMap<String, String>,
    /// The tables, by name.
    pub tables: BTreeMap<String, TableMetadata>,
    /// The user-defined types, by name.
    pub user_types: BTreeMap<String, UserTypeMetadata>,
}

/// One table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableMetadata {
    /// Its keyspace.
    pub keyspace: String,
    /// Its name.
    pub name: String,
    /// Every column: the partition key columns in key order, the clustering columns in
    /// key order, then the static and regular columns by name.
    pub columns: Vec<ColumnMetadata>,
}

impl TableMetadata {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnMetadata> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The partition key columns, in key order.
    pub fn partition_key(&self) -> impl Iterator<Item = &ColumnMetadata> {
        self.columns
            .iter()
            .filter(|c| c.kind == ColumnKind::PartitionKey)
    }

    /// The clustering columns, in key order.
    pub fn clustering_key(&self) -> impl Iterator<Item = &ColumnMetadata> {
        self.columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Clustering)
    }
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ColumnMetadata {
    /// Its name.
    pub name: String,
    /// Its CQL type, as the server writes it (e.g. `int`, `frozen<map<text, int>>`).
    pub cql_type: String,
    /// Partition key, clustering, regular or static.
    pub kind: ColumnKind,
    /// The position within the partition or clustering key (0 for the others).
    pub position: u32,
    /// The order of a clustering column (`None` for the others).
    pub clustering_order: ClusteringOrder,
}

/// What part of a table a column is (`system_schema.columns.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ColumnKind {
    /// Part of the partition key.
    PartitionKey,
    /// Part of the clustering key.
    Clustering,
    /// A static column.
    Static,
    /// A regular column.
    Regular,
}

/// The order of a clustering column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClusteringOrder {
    /// Not a clustering column.
    None,
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// A user-defined type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserTypeMetadata {
    /// Its keyspace.
    pub keyspace: String,
    /// Its name.
    pub name: String,
    /// The fields in order: name and CQL type (as the server writes it).
    pub fields: Vec<(String, String)>,
}

impl SchemaSnapshot {
    /// The keyspace named `name`.
    pub fn keyspace(&self, name: &str) -> Option<&KeyspaceMetadata> {
        self.keyspaces.get(name)
    }

    /// The table `keyspace`.`table`.
    pub fn table(&self, keyspace: &str, table: &str) -> Option<&TableMetadata> {
        self.keyspaces.get(keyspace)?.tables.get(table)
    }

    /// The user-defined type `keyspace`.`name`.
    pub fn user_type(&self, keyspace: &str, name: &str) -> Option<&UserTypeMetadata> {
        self.keyspaces.get(keyspace)?.user_types.get(name)
    }

    fn tables(&self) -> usize {
        self.keyspaces.values().map(|k| k.tables.len()).sum()
    }
}

/// Why a schema read failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A `system_schema` query failed.
    #[error("reading {table}: {source}")]
    Query {
        /// The `system_schema` table.
        table: &'static str,
        /// The error.
        source: ExecutionError,
    },
    /// A `system_schema` row did not decode.
    #[error("reading {table}: {source}")]
    Rows {
        /// The `system_schema` table.
        table: &'static str,
        /// The error.
        source: RowsError,
    },
    /// A column's kind is none of partition_key, clustering, regular, static.
    #[error("column {keyspace}.{table}.{column} has an unknown kind {kind:?}")]
    UnknownColumnKind {
        /// Keyspace.
        keyspace: String,
        /// Table.
        table: String,
        /// Column.
        column: String,
        /// The kind read.
        kind: String,
    },
    /// A user-defined type lists a different number of field names and field types.
    #[error("type {keyspace}.{name} has {names} field names but {types} field types")]
    FieldCountMismatch {
        /// Keyspace.
        keyspace: String,
        /// Type name.
        name: String,
        /// Field names read.
        names: usize,
        /// Field types read.
        types: usize,
    },
}

async fn rows(
    conn: &Connection,
    table: &'static str,
    text: &str,
) -> Result<crate::QueryResult, SchemaError> {
    metadata::query(conn, text)
        .await
        .map_err(|source| SchemaError::Query { table, source })
}

/// Reads the whole schema on `conn`.
pub(crate) async fn read_schema(conn: &Connection) -> Result<SchemaSnapshot, SchemaError> {
    type Keyspace = (String, Option<bool>, Option<BTreeMap<String, String>>);
    type Table = (String, String);
    type Column = (
        String,
        String,
        String,
        Option<String>,
        Option<i32>,
        Option<String>,
        Option<String>,
    );
    type Type = (String, String, Option<Vec<String>>, Option<Vec<String>>);

    let mut snapshot = SchemaSnapshot::default();
    let rows_error = |table| move |source: RowsError| SchemaError::Rows { table, source };
    let deserialize_error = |table| {
        move |e: scylla2_cql::value::DeserializeError| SchemaError::Rows {
            table,
            source: RowsError::from(e),
        }
    };

    const KEYSPACES: &str = "system_schema.keyspaces";
    let result = rows(
        conn,
        KEYSPACES,
        "SELECT keyspace_name, durable_writes, replication FROM system_schema.keyspaces",
    )
    .await?;
    for row in result.rows::<Keyspace>().map_err(rows_error(KEYSPACES))? {
        let (name, durable_writes, replication) = row.map_err(deserialize_error(KEYSPACES))?;
        snapshot.keyspaces.insert(
            name.clone(),
            KeyspaceMetadata {
                name,
                durable_writes: durable_writes.unwrap_or(true),
                replication: replication.unwrap_or_default(),
                ..KeyspaceMetadata::default()
            },
        );
    }

    const TABLES: &str = "system_schema.tables";
    let result = rows(
        conn,
        TABLES,
        "SELECT keyspace_name, table_name FROM system_schema.tables",
    )
    .await?;
    for row in result.rows::<Table>().map_err(rows_error(TABLES))? {
        let (keyspace, name) = row.map_err(deserialize_error(TABLES))?;
        // A keyspace created between the two reads is picked up at the next refresh.
        if let Some(ks) = snapshot.keyspaces.get_mut(&keyspace) {
            ks.tables.insert(
                name.clone(),
                TableMetadata {
                    keyspace,
                    name,
                    columns: Vec::new(),
                },
            );
        }
    }

    const COLUMNS: &str = "system_schema.columns";
    let result = rows(
        conn,
        COLUMNS,
        "SELECT keyspace_name, table_name, column_name, kind, position, clustering_order, type \
         FROM system_schema.columns",
    )
    .await?;
    for row in result.rows::<Column>().map_err(rows_error(COLUMNS))? {
        let (keyspace, table, name, kind, position, order, cql_type) =
            row.map_err(deserialize_error(COLUMNS))?;
        let kind = match kind.as_deref().unwrap_or("regular") {
            "partition_key" => ColumnKind::PartitionKey,
            "clustering" => ColumnKind::Clustering,
            "regular" => ColumnKind::Regular,
            "static" => ColumnKind::Static,
            other => {
                return Err(SchemaError::UnknownColumnKind {
                    keyspace,
                    table,
                    column: name,
                    kind: other.to_owned(),
                });
            }
        };
        let clustering_order = match order.as_deref() {
            Some(o) if o.eq_ignore_ascii_case("desc") => ClusteringOrder::Desc,
            Some(o) if o.eq_ignore_ascii_case("asc") => ClusteringOrder::Asc,
            _ => ClusteringOrder::None,
        };
        let position = match kind {
            // Regular and static columns have position -1.
            ColumnKind::PartitionKey | ColumnKind::Clustering => {
                u32::try_from(position.unwrap_or(0)).unwrap_or(0)
            }
            _ => 0,
        };
        if let Some(t) = snapshot
            .keyspaces
            .get_mut(&keyspace)
            .and_then(|ks| ks.tables.get_mut(&table))
        {
            t.columns.push(ColumnMetadata {
                name,
                cql_type: cql_type.unwrap_or_default(),
                kind,
                position,
                clustering_order,
            });
        }
    }
    for ks in snapshot.keyspaces.values_mut() {
        for t in ks.tables.values_mut() {
            // Partition key, clustering key (each by position), then static and regular
            // columns by name.
            t.columns.sort_by(|a, b| {
                let rank = |c: &ColumnMetadata| match c.kind {
                    ColumnKind::PartitionKey => 0,
                    ColumnKind::Clustering => 1,
                    _ => 2,
                };
                (rank(a), a.position, &a.name).cmp(&(rank(b), b.position, &b.name))
            });
        }
    }

    const TYPES: &str = "system_schema.types";
    let result = rows(
        conn,
        TYPES,
        "SELECT keyspace_name, type_name, field_names, field_types FROM system_schema.types",
    )
    .await?;
    for row in result.rows::<Type>().map_err(rows_error(TYPES))? {
        let (keyspace, name, names, types) = row.map_err(deserialize_error(TYPES))?;
        let (names, types) = (names.unwrap_or_default(), types.unwrap_or_default());
        if names.len() != types.len() {
            return Err(SchemaError::FieldCountMismatch {
                keyspace,
                name,
                names: names.len(),
                types: types.len(),
            });
        }
        if let Some(ks) = snapshot.keyspaces.get_mut(&keyspace) {
            let fields = names.into_iter().zip(types).collect();
            if let Entry::Vacant(slot) = ks.user_types.entry(name.clone()) {
                slot.insert(UserTypeMetadata {
                    keyspace,
                    name,
                    fields,
                });
            }
        }
    }
    Ok(snapshot)
}

/// Reads the schema on `conn` when the cluster keeps schema metadata; swaps in and announces
/// a snapshot that changed, or announces the failure (the last snapshot stays).
pub(crate) async fn refresh(cluster: &Cluster, conn: &Connection) {
    if !cluster.config.schema_metadata {
        return;
    }
    match read_schema(conn).await {
        Ok(snapshot) => {
            if cluster.schema.load().as_deref() == Some(&snapshot) {
                return;
            }
            let (keyspaces, tables) = (snapshot.keyspaces.len(), snapshot.tables());
            cluster.schema.store(Some(Arc::new(snapshot)));
            cluster
                .ctx
                .events
                .publish(SessionEvent::SchemaRefreshed { keyspaces, tables });
        }
        Err(e) => cluster
            .ctx
            .events
            .publish(SessionEvent::SchemaRefreshFailed {
                reason: e.to_string(),
            }),
    }
}
