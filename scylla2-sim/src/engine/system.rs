//! System keyspaces (`system`, `system_schema`, `system_sim`): table definitions and their
//! contents, computed on read from the schema and the [`ClusterView`] and then queried like
//! any table (so WHERE, paging and projections work the same).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;

use super::Engine;
use super::exec::where_::partition_key;
use super::murmur3::murmur3_token;
use super::ring::Replication;
use super::schema::{Column, ColumnKind, Keyspace, Schema, Table, TableSchema};
use super::storage::{Partition, TableData, WriteCtx};
use super::types::names::type_name;
use super::types::order::encode_component;
use super::types::write_collection;
use crate::model::{ClusterView, ColumnType, SimError};

/// A system table computed on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemTable {
    /// system.local.
    Local,
    /// system.peers.
    Peers,
    /// system_schema.keyspaces.
    Keyspaces,
    /// system_schema.tables.
    Tables,
    /// system_schema.columns.
    Columns,
    /// system_schema.types.
    Types,
    /// system_schema.indexes.
    Indexes,
    /// An always-empty table (views, functions, aggregates, triggers, indexes, ...).
    Empty,
    /// system_sim.requests.
    Requests,
    /// system.peers_v2 (Cassandra mode).
    PeersV2,
    /// system.size_estimates.
    SizeEstimates,
    /// system_traces.sessions.
    TraceSessions,
    /// system_traces.events.
    TraceEvents,
    /// system_auth.roles.
    Roles,
    /// system_schema.scylla_keyspaces (ScyllaDB mode).
    ScyllaKeyspaces,
}

/// Whether a keyspace is a system keyspace (not user-modifiable).
pub fn is_system_keyspace(name: &str) -> bool {
    matches!(
        name,
        "system"
            | "system_schema"
            | "system_sim"
            | "system_auth"
            | "system_distributed"
            | "system_traces"
    )
}

/// Scylla's `supported_features` of system.local / peers.
pub const SUPPORTED_FEATURES: &str = "CDC,CDC_GENERATIONS_V2,COLLECTION_INDEXING,COMPUTED_COLUMNS,CORRECT_COUNTER_ORDER,CORRECT_IDX_TOKEN_IN_SECONDARY_INDEX,CORRECT_NON_COMPOUND_RANGE_TOMBSTONES,CORRECT_STATIC_COMPACT_IN_MC,COUNTERS,DIGEST_FOR_NULL_VALUES,DIGEST_INSENSITIVE_TO_EXPIRY,DIGEST_MULTIPARTITION_READ,HINTED_HANDOFF_SEPARATE_CONNECTION,INDEXES,LARGE_PARTITIONS,LA_SSTABLE_FORMAT,LWT,MATERIALIZED_VIEWS,MC_SSTABLE_FORMAT,MD_SSTABLE_FORMAT,ME_SSTABLE_FORMAT,NONFROZEN_UDTS,PARALLELIZED_AGGREGATION,PER_TABLE_CACHING,PER_TABLE_PARTITIONERS,RANGE_SCAN_DATA_VARIANT,RANGE_TOMBSTONES,ROLES,ROW_LEVEL_REPAIR,SCHEMA_TABLES_V3,SEPARATE_PAGE_SIZE_AND_SAFETY_LIMIT,STREAM_WITH_RPC_STREAM,TOMBSTONE_GC_OPTIONS,TRUNCATION_TABLE,TYPED_ERRORS_IN_READ_RPC,UDA,UDA_NATIVE_PARALLELIZED_AGGREGATION,UNBOUNDED_RANGE_TOMBSTONES,VIEW_VIRTUAL_COLUMNS,WRITE_FAILURE_REPLY,XXHASH";

fn text() -> ColumnType {
    ColumnType::Text
}
fn frozen_map() -> ColumnType {
    ColumnType::Map(Box::new(text()), Box::new(text()), true)
}
fn frozen_list() -> ColumnType {
    ColumnType::List(Box::new(text()), true)
}

pub(super) type Def = (&'static str, ColumnType, ColumnKind);

/// The columns of a table in declaration order: partition key, clustering, then regular.
pub(super) fn table_columns<const P: usize, const C: usize, const R: usize>(
    pk: [(&'static str, ColumnType); P],
    ck: [(&'static str, ColumnType); C],
    regular: [(&'static str, ColumnType); R],
) -> Vec<Def> {
    let tag = |kind| move |(name, typ)| (name, typ, kind);
    let mut out = Vec::with_capacity(P + C + R);
    out.extend(pk.into_iter().map(tag(ColumnKind::PartitionKey)));
    out.extend(ck.into_iter().map(tag(ColumnKind::Clustering)));
    out.extend(regular.into_iter().map(tag(ColumnKind::Regular)));
    out
}

/// The columns of a `system_schema` table: partitioned by `keyspace_name`.
fn by_keyspace<const C: usize, const R: usize>(
    ck: [(&'static str, ColumnType); C],
    regular: [(&'static str, ColumnType); R],
) -> Vec<Def> {
    table_columns([("keyspace_name", text())], ck, regular)
}

fn defs(which: &str, scylla: bool) -> Vec<Def> {
    if let Some(d) = super::system_tables::defs(which, scylla) {
        return d;
    }
    match which {
        "keyspaces" => by_keyspace(
            [],
            [
                ("durable_writes", ColumnType::Boolean),
                ("replication", frozen_map()),
            ],
        ),
        "columns" => by_keyspace(
            [("table_name", text()), ("column_name", text())],
            [
                ("clustering_order", text()),
                ("column_name_bytes", ColumnType::Blob),
                ("kind", text()),
                ("position", ColumnType::Int),
                ("type", text()),
            ],
        ),
        "types" => by_keyspace(
            [("type_name", text())],
            [
                ("field_names", frozen_list()),
                ("field_types", frozen_list()),
            ],
        ),
        "views" => by_keyspace(
            [("view_name", text())],
            [
                ("base_table_id", ColumnType::Uuid),
                ("base_table_name", text()),
                ("id", ColumnType::Uuid),
                ("include_all_columns", ColumnType::Boolean),
                ("where_clause", text()),
            ],
        ),
        "functions" => by_keyspace(
            [("function_name", text()), ("argument_types", frozen_list())],
            [
                ("argument_names", frozen_list()),
                ("body", text()),
                ("called_on_null_input", ColumnType::Boolean),
                ("language", text()),
                ("return_type", text()),
            ],
        ),
        "aggregates" => by_keyspace(
            [
                ("aggregate_name", text()),
                ("argument_types", frozen_list()),
            ],
            [
                ("final_func", text()),
                ("initcond", text()),
                ("return_type", text()),
                ("state_func", text()),
                ("state_type", text()),
            ],
        ),
        "triggers" => by_keyspace(
            [("table_name", text()), ("trigger_name", text())],
            [("options", frozen_map())],
        ),
        "indexes" => by_keyspace(
            [("table_name", text()), ("index_name", text())],
            [("kind", text()), ("options", frozen_map())],
        ),
        "dropped_columns" => by_keyspace(
            [("table_name", text()), ("column_name", text())],
            [("dropped_time", ColumnType::Timestamp), ("type", text())],
        ),
        "requests" => table_columns(
            [("node", ColumnType::Int)],
            [("shard", ColumnType::Int)],
            [
                ("owned", ColumnType::BigInt),
                ("received", ColumnType::BigInt),
                ("with_token", ColumnType::BigInt),
            ],
        ),
        _ => Vec::new(),
    }
}

fn make_table(ks: &Arc<str>, name: &str, which: SystemTable, scylla: bool) -> Arc<Table> {
    let mut pk = 0;
    let mut ck = 0;
    let columns = defs(name, scylla)
        .into_iter()
        .map(|(n, typ, kind)| {
            let position = match kind {
                ColumnKind::PartitionKey => {
                    pk += 1;
                    pk - 1
                }
                ColumnKind::Clustering => {
                    ck += 1;
                    ck - 1
                }
                _ => 0,
            };
            Column {
                name: n.to_string(),
                typ,
                kind,
                position,
                slot: 0,
                desc: false,
            }
        })
        .collect();
    Arc::new(Table::new(
        TableSchema::new(ks.clone(), name.to_string(), columns),
        Some(which),
    ))
}

fn system_keyspace(name: &str, tables: &[(&str, SystemTable)], scylla: bool) -> Keyspace {
    let ks: Arc<str> = Arc::from(name);
    let mut map = BTreeMap::new();
    map.insert(
        "class".to_string(),
        "org.apache.cassandra.locator.LocalStrategy".to_string(),
    );
    Keyspace {
        name: ks.clone(),
        replication: Replication::Local,
        replication_map: map,
        durable_writes: true,
        tables: tables
            .iter()
            .map(|(n, w)| (n.to_string(), make_table(&ks, n, *w, scylla)))
            .collect(),
        types: Vec::new(),
        tablets: None,
    }
}

/// The schema at start: the system keyspaces of Apache Cassandra 4.0 (`scylla` false) or
/// ScyllaDB.
pub fn initial_schema(scylla: bool) -> Schema {
    let mut s = Schema::default();
    for ks in system_keyspaces(scylla) {
        s.keyspaces.insert(ks.name.to_string(), ks);
    }
    s.version = uuid::Uuid::from_u64_pair(0x005c_11a2_0000_0001, 1);
    s
}

/// The system keyspaces of one server.
pub(super) fn system_keyspaces(scylla: bool) -> Vec<Keyspace> {
    use SystemTable::*;
    let mut tables: BTreeMap<&str, Vec<(&str, SystemTable)>> = BTreeMap::new();
    for (ks, t, w) in super::system_tables::mode_tables(scylla) {
        tables.entry(ks).or_default().push((t, w));
    }
    tables.entry("system_schema").or_default().extend([
        ("keyspaces", Keyspaces),
        ("columns", Columns),
        ("types", Types),
        ("views", Empty),
        ("functions", Empty),
        ("aggregates", Empty),
        ("triggers", Empty),
        ("indexes", Indexes),
        ("dropped_columns", Empty),
    ]);
    tables
        .entry("system_sim")
        .or_default()
        .push(("requests", Requests));
    tables
        .into_iter()
        .map(|(ks, t)| system_keyspace(ks, &t, scylla))
        .collect()
}

pub(super) fn t(s: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(s.as_bytes()))
}
pub(super) fn inet(a: IpAddr) -> Option<Bytes> {
    Some(match a {
        IpAddr::V4(a) => Bytes::copy_from_slice(&a.octets()),
        IpAddr::V6(a) => Bytes::copy_from_slice(&a.octets()),
    })
}
pub(super) fn uuid(u: uuid::Uuid) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(u.as_bytes()))
}
pub(super) fn int(v: i32) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(&v.to_be_bytes()))
}
pub(super) fn bigint(v: i64) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(&v.to_be_bytes()))
}
pub(super) fn double(v: f64) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(&v.to_be_bytes()))
}
pub(super) fn boolean(v: bool) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(&[u8::from(v)]))
}
pub(super) fn texts<'a>(items: impl ExactSizeIterator<Item = &'a str>) -> Option<Bytes> {
    let n = items.len();
    Some(Bytes::from(write_collection(
        n,
        items.map(|s| Some(s.as_bytes())),
    )))
}
pub(super) fn text_map<'a>(m: impl ExactSizeIterator<Item = (&'a str, &'a str)>) -> Option<Bytes> {
    let mut out = (m.len() as i32).to_be_bytes().to_vec();
    for (k, v) in m {
        super::types::write_value(&mut out, Some(k.as_bytes()));
        super::types::write_value(&mut out, Some(v.as_bytes()));
    }
    Some(Bytes::from(out))
}

/// Inserts a row given values for every column in declaration order.
pub(super) fn put(data: &mut TableData, s: &TableSchema, values: Vec<Option<Bytes>>) {
    let pk: Vec<Bytes> =
        s.pk.iter()
            .map(|i| values[*i].clone().unwrap_or_default())
            .collect();
    let key = partition_key(&pk);
    let token = murmur3_token(&key);
    let mut enc = Vec::new();
    let mut ck = Vec::with_capacity(s.ck.len());
    for i in &s.ck {
        let v = values[*i].clone().unwrap_or_default();
        encode_component(&s.columns[*i].typ, s.columns[*i].desc, &v, &mut enc);
        ck.push(v);
    }
    let ctx = WriteCtx {
        ts: 1,
        ttl: 0,
        now_s: 0,
    };
    let part: &mut Partition = data.get_or_create(token, &key);
    let row = part.row_mut(&enc, &ck);
    row.mark(&ctx);
    for (c, v) in s.columns.iter().zip(values) {
        if matches!(c.kind, ColumnKind::Regular | ColumnKind::Static) && v.is_some() {
            row.write(c.slot, v, &ctx);
        }
    }
}

/// Computes the rows of a system table.
pub fn materialize(
    engine: &Engine,
    which: SystemTable,
    s: &TableSchema,
    cluster: &dyn ClusterView,
) -> Result<TableData, SimError> {
    let mut data = TableData::default();
    if super::system_tables::materialize(engine, which, s, cluster, &mut data) {
        data.merge();
        return Ok(data);
    }
    match which {
        SystemTable::Requests => {
            for r in cluster.request_stats() {
                put(
                    &mut data,
                    s,
                    vec![
                        int(r.node as i32),
                        int(r.shard as i32),
                        bigint(r.owned as i64),
                        bigint(r.received as i64),
                        bigint(r.with_token as i64),
                    ],
                );
            }
        }
        SystemTable::Keyspaces
        | SystemTable::Columns
        | SystemTable::Types
        | SystemTable::Indexes => {
            let schema = engine.schema_read();
            for ks in schema.keyspaces.values() {
                schema_rows(&mut data, s, which, ks);
            }
        }
        _ => {}
    }
    data.merge();
    Ok(data)
}

fn schema_rows(data: &mut TableData, s: &TableSchema, which: SystemTable, ks: &Keyspace) {
    match which {
        SystemTable::Keyspaces => put(
            data,
            s,
            vec![
                t(&ks.name),
                boolean(ks.durable_writes),
                text_map(
                    ks.replication_map
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str())),
                ),
            ],
        ),
        SystemTable::Types => {
            for (name, ut) in &ks.types {
                let types: Vec<String> = ut.fields.iter().map(|(_, t)| type_name(t)).collect();
                put(
                    data,
                    s,
                    vec![
                        t(&ks.name),
                        t(name),
                        texts(ut.fields.iter().map(|(n, _)| n.as_str())),
                        texts(types.iter().map(String::as_str)),
                    ],
                );
            }
        }
        SystemTable::Indexes => {
            for (name, table) in &ks.tables {
                let idx = table
                    .indexes
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                for (index, column, kind) in idx {
                    let target = if kind == "values" {
                        column
                    } else {
                        format!("{kind}({column})")
                    };
                    put(
                        data,
                        s,
                        vec![
                            t(&ks.name),
                            t(name),
                            t(&index),
                            t("COMPOSITES"),
                            text_map([("target", target.as_str())].into_iter()),
                        ],
                    );
                }
            }
        }
        SystemTable::Columns => {
            for (name, table) in &ks.tables {
                let ts = table.schema();
                for c in &ts.columns {
                    let order = match c.kind {
                        ColumnKind::Clustering if c.desc => "desc",
                        ColumnKind::Clustering => "asc",
                        _ => "none",
                    };
                    let position = match c.kind {
                        ColumnKind::PartitionKey | ColumnKind::Clustering => c.position as i32,
                        _ => -1,
                    };
                    put(
                        data,
                        s,
                        vec![
                            t(&ks.name),
                            t(name),
                            t(&c.name),
                            t(order),
                            Some(Bytes::copy_from_slice(c.name.as_bytes())),
                            t(c.kind.schema_name()),
                            int(position),
                            t(&type_name(&c.typ)),
                        ],
                    );
                }
            }
        }
        _ => {}
    }
}
