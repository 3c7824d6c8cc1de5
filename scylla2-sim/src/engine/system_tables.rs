//! The system tables whose shape depends on the server emulated (Apache Cassandra 4.0 or
//! ScyllaDB) and their rows: `system.local`, `peers`, `peers_v2` (Cassandra only; ScyllaDB
//! has none, so it answers Invalid as for any unknown table), `size_estimates`,
//! `system_schema.tables`, `system_schema.scylla_keyspaces` (ScyllaDB only),
//! `system_traces.sessions` / `events` and `system_auth.roles`.
//!
//! Rows are written by column name, so a column one server lacks is simply not there.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::Engine;
use super::schema::{ColumnKind, Keyspace};
use super::storage::TableData;
use super::system::{
    Def, SUPPORTED_FEATURES, SystemTable, bigint, boolean, double, inet, int, put, t,
    table_columns, text_map, texts, uuid,
};
use super::traces::TraceSession;
use crate::engine::schema::TableSchema;
use crate::model::{ClusterView, ColumnType, NodeInfo};

/// What the emulated server reports about itself, beyond each node's `NodeInfo`.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `cql_version` of `system.local` and SUPPORTED.
    pub cql_version: String,
    /// Roles shown by `system_auth.roles` (the users of PasswordAuthenticator).
    pub roles: Vec<String>,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            cql_version: "3.4.5".into(),
            roles: Vec::new(),
        }
    }
}

/// Cassandra's storage (gossip) port, shown as `listen_port` / `broadcast_port` / `peer_port`.
const STORAGE_PORT: i32 = 7000;

fn text() -> ColumnType {
    ColumnType::Text
}
fn map(k: ColumnType, v: ColumnType, frozen: bool) -> ColumnType {
    ColumnType::Map(Box::new(k), Box::new(v), frozen)
}
fn tokens() -> ColumnType {
    ColumnType::Set(Box::new(text()), false)
}

/// The definitions of the tables this module owns, per server.
pub(super) fn defs(name: &str, scylla: bool) -> Option<Vec<Def>> {
    use ColumnType::{BigInt, Boolean, Double, Inet, Int, Timestamp, Timeuuid, Uuid};
    let features = ("supported_features", text());
    Some(match (name, scylla) {
        // SystemKeyspace.Local (4.0): the ports came with 4.0; no supported_features.
        ("local", false) => table_columns(
            [("key", text())],
            [],
            [
                ("bootstrapped", text()),
                ("broadcast_address", Inet),
                ("broadcast_port", Int),
                ("cluster_name", text()),
                ("cql_version", text()),
                ("data_center", text()),
                ("gossip_generation", Int),
                ("host_id", Uuid),
                ("listen_address", Inet),
                ("listen_port", Int),
                ("native_protocol_version", text()),
                ("partitioner", text()),
                ("rack", text()),
                ("release_version", text()),
                ("rpc_address", Inet),
                ("rpc_port", Int),
                ("schema_version", Uuid),
                ("tokens", tokens()),
                ("truncated_at", map(Uuid, ColumnType::Blob, false)),
            ],
        ),
        // ScyllaDB's system.local (db/system_keyspace.cc): no ports, supported_features.
        ("local", true) => table_columns(
            [("key", text())],
            [],
            [
                ("bootstrapped", text()),
                ("broadcast_address", Inet),
                ("cluster_name", text()),
                ("cql_version", text()),
                ("data_center", text()),
                ("gossip_generation", Int),
                ("host_id", Uuid),
                ("listen_address", Inet),
                ("native_protocol_version", text()),
                ("partitioner", text()),
                ("rack", text()),
                ("release_version", text()),
                ("rpc_address", Inet),
                ("schema_version", Uuid),
                features.clone(),
                ("tokens", tokens()),
            ],
        ),
        ("peers", _) => {
            let mut regular = vec![
                ("data_center", text()),
                ("host_id", Uuid),
                ("preferred_ip", Inet),
                ("rack", text()),
                ("release_version", text()),
                ("rpc_address", Inet),
                ("schema_version", Uuid),
            ];
            if scylla {
                regular.push(features);
            }
            regular.push(("tokens", tokens()));
            with_kinds([("peer", Inet)], [], regular)
        }
        // SystemKeyspace.PeersV2 (4.0).
        ("peers_v2", false) => table_columns(
            [("peer", Inet)],
            [("peer_port", Int)],
            [
                ("data_center", text()),
                ("host_id", Uuid),
                ("native_address", Inet),
                ("native_port", Int),
                ("preferred_ip", Inet),
                ("preferred_port", Int),
                ("rack", text()),
                ("release_version", text()),
                ("schema_version", Uuid),
                ("tokens", tokens()),
            ],
        ),
        // SystemKeyspace.LegacySizeEstimates (same in ScyllaDB).
        ("size_estimates", _) => table_columns(
            [("keyspace_name", text())],
            [
                ("table_name", text()),
                ("range_start", text()),
                ("range_end", text()),
            ],
            [
                ("mean_partition_size", BigInt),
                ("partitions_count", BigInt),
            ],
        ),
        // SchemaKeyspace.Tables as of 4.0 (allow_auto_snapshot, incremental_backups and
        // memtable came later); ScyllaDB's schema_tables.cc has the pre-4.0 set.
        ("tables", _) => {
            let mut regular = vec![
                ("bloom_filter_fp_chance", Double),
                ("caching", map(text(), text(), true)),
                ("comment", text()),
                ("compaction", map(text(), text(), true)),
                ("compression", map(text(), text(), true)),
                ("crc_check_chance", Double),
                ("dclocal_read_repair_chance", Double),
                ("default_time_to_live", Int),
                ("extensions", map(text(), ColumnType::Blob, true)),
                ("flags", ColumnType::Set(Box::new(text()), true)),
                ("gc_grace_seconds", Int),
                ("id", Uuid),
                ("max_index_interval", Int),
                ("memtable_flush_period_in_ms", Int),
                ("min_index_interval", Int),
                ("read_repair_chance", Double),
                ("speculative_retry", text()),
            ];
            if !scylla {
                regular.extend([
                    ("additional_write_policy", text()),
                    ("cdc", Boolean),
                    ("read_repair", text()),
                ]);
            }
            with_kinds(
                [("keyspace_name", text())],
                [("table_name", text())],
                regular,
            )
        }
        // db/schema_tables.cc scylla_keyspaces().
        ("scylla_keyspaces", true) => table_columns(
            [("keyspace_name", text())],
            [],
            [
                ("consistency", text()),
                ("initial_tablets", Int),
                ("storage_options", map(text(), text(), false)),
                ("storage_type", text()),
            ],
        ),
        // TraceKeyspace.Sessions / Events; ScyllaDB's tracing/trace_keyspace_helper.cc has
        // no ports but request sizes, the user and span ids.
        ("sessions", _) => {
            let mut regular = vec![
                ("client", Inet),
                ("command", text()),
                ("coordinator", Inet),
                ("duration", Int),
                ("parameters", map(text(), text(), false)),
                ("request", text()),
                ("started_at", Timestamp),
            ];
            if scylla {
                regular.extend([
                    ("request_size", Int),
                    ("response_size", Int),
                    ("username", text()),
                ]);
            } else {
                regular.push(("coordinator_port", Int));
            }
            with_kinds([("session_id", Uuid)], [], regular)
        }
        ("events", _) => {
            let mut regular = vec![
                ("activity", text()),
                ("source", Inet),
                ("source_elapsed", Int),
                ("thread", text()),
            ];
            if scylla {
                regular.extend([("scylla_parent_id", BigInt), ("scylla_span_id", BigInt)]);
            } else {
                regular.push(("source_port", Int));
            }
            with_kinds([("session_id", Uuid)], [("event_id", Timeuuid)], regular)
        }
        // AuthKeyspace.Roles (same columns in ScyllaDB).
        ("roles", _) => table_columns(
            [("role", text())],
            [],
            [
                ("can_login", Boolean),
                ("is_superuser", Boolean),
                ("member_of", ColumnType::Set(Box::new(text()), false)),
                ("salted_hash", text()),
            ],
        ),
        _ => return None,
    })
}

fn with_kinds<const P: usize, const C: usize>(
    pk: [(&'static str, ColumnType); P],
    ck: [(&'static str, ColumnType); C],
    regular: Vec<(&'static str, ColumnType)>,
) -> Vec<Def> {
    let mut out = table_columns(pk, ck, []);
    out.extend(
        regular
            .into_iter()
            .map(|(n, t)| (n, t, ColumnKind::Regular)),
    );
    out
}

/// The tables each server has in these keyspaces: (keyspace, table, kind).
pub(super) fn mode_tables(scylla: bool) -> Vec<(&'static str, &'static str, SystemTable)> {
    use SystemTable::*;
    let mut out = vec![
        ("system", "local", Local),
        ("system", "peers", Peers),
        ("system", "size_estimates", SizeEstimates),
        ("system_schema", "tables", Tables),
        ("system_traces", "sessions", TraceSessions),
        ("system_traces", "events", TraceEvents),
        ("system_auth", "roles", Roles),
    ];
    if scylla {
        out.push(("system_schema", "scylla_keyspaces", ScyllaKeyspaces));
    } else {
        out.push(("system", "peers_v2", PeersV2));
    }
    out
}

/// Writes a row from (column, value) pairs; columns the table lacks are skipped, missing
/// ones are null.
fn put_named(data: &mut TableData, s: &TableSchema, values: &[(&str, Option<Bytes>)]) {
    let row = s
        .columns
        .iter()
        .map(|c| {
            values
                .iter()
                .find(|(n, _)| *n == c.name)
                .and_then(|(_, v)| v.clone())
        })
        .collect();
    put(data, s, row);
}

/// A node's schema version; a nil version (not filled by the server) means the current one.
fn version(n: &NodeInfo, engine: &Engine) -> uuid::Uuid {
    if n.schema_version.is_nil() {
        engine.schema_version()
    } else {
        n.schema_version
    }
}

fn node_values(n: &NodeInfo, engine: &Engine) -> Vec<(&'static str, Option<Bytes>)> {
    let tokens: Vec<String> = n.tokens.iter().map(i64::to_string).collect();
    vec![
        ("data_center", t(&n.datacenter)),
        ("host_id", uuid(n.host_id)),
        ("rack", t(&n.rack)),
        ("release_version", t(&n.release_version)),
        ("schema_version", uuid(version(n, engine))),
        ("supported_features", t(SUPPORTED_FEATURES)),
        ("tokens", texts(tokens.iter().map(String::as_str))),
    ]
}

/// Computes the rows of the tables this module owns; false for other tables.
pub(super) fn materialize(
    engine: &Engine,
    which: SystemTable,
    s: &TableSchema,
    cluster: &dyn ClusterView,
    data: &mut TableData,
) -> bool {
    match which {
        SystemTable::Local => {
            let n = cluster.local();
            let cql = engine.identity().cql_version;
            let mut v = node_values(&n, engine);
            v.extend([
                ("key", t("local")),
                ("bootstrapped", t("COMPLETED")),
                ("broadcast_address", inet(n.address)),
                ("broadcast_port", int(STORAGE_PORT)),
                ("cluster_name", t("Test Cluster")),
                ("cql_version", t(&cql)),
                ("gossip_generation", int(1)),
                ("listen_address", inet(n.address)),
                ("listen_port", int(STORAGE_PORT)),
                ("native_protocol_version", t("4")),
                (
                    "partitioner",
                    t("org.apache.cassandra.dht.Murmur3Partitioner"),
                ),
                ("rpc_address", inet(n.address)),
                // SystemKeyspace.persistLocalMetadata: the native transport port.
                ("rpc_port", int(i32::from(n.port))),
            ]);
            put_named(data, s, &v);
        }
        SystemTable::Peers | SystemTable::PeersV2 => {
            for n in cluster.peers() {
                let mut v = node_values(&n, engine);
                v.extend([
                    ("peer", inet(n.address)),
                    ("peer_port", int(STORAGE_PORT)),
                    ("preferred_ip", inet(n.address)),
                    ("rpc_address", inet(n.address)),
                    ("native_address", inet(n.address)),
                    ("native_port", int(i32::from(n.port))),
                ]);
                put_named(data, s, &v);
            }
        }
        SystemTable::SizeEstimates => size_estimates(engine, s, cluster, data),
        SystemTable::TraceSessions | SystemTable::TraceEvents => {
            for session in engine.trace_sessions() {
                trace_rows(which, s, &session, data);
            }
        }
        SystemTable::Roles => {
            let roles = engine.identity().roles;
            for role in &roles {
                put_named(
                    data,
                    s,
                    &[
                        ("role", t(role)),
                        ("can_login", boolean(true)),
                        ("is_superuser", boolean(role == "cassandra")),
                        // The hash is not the password's (PasswordAuthenticator keeps a bcrypt
                        // hash; nothing here needs to verify one).
                        (
                            "salted_hash",
                            t("$2a$10$simulator.hash.not.a.real.bcrypt.value"),
                        ),
                    ],
                );
            }
        }
        SystemTable::Tables | SystemTable::ScyllaKeyspaces => {
            let schema = engine.schema_read();
            for ks in schema.keyspaces.values() {
                if which == SystemTable::Tables {
                    table_rows(engine.scylla_mode(), s, ks, data);
                } else {
                    let mut v = vec![("keyspace_name", t(&ks.name))];
                    if let Some(n) = ks.tablets {
                        v.push(("initial_tablets", int(n as i32)));
                    }
                    put_named(data, s, &v);
                }
            }
        }
        _ => return false,
    }
    true
}

fn trace_rows(which: SystemTable, s: &TableSchema, session: &TraceSession, data: &mut TableData) {
    let complete = std::time::Instant::now() >= session.complete_at;
    if which == SystemTable::TraceSessions {
        let params = session
            .parameters
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        put_named(
            data,
            s,
            &[
                ("session_id", uuid(session.session_id)),
                ("client", inet(session.client)),
                ("command", t(session.command)),
                ("coordinator", inet(session.coordinator)),
                // TraceKeyspace.makeStartSessionMutation: the broadcast (storage) port.
                ("coordinator_port", int(STORAGE_PORT)),
                (
                    "duration",
                    if complete {
                        int(session.duration)
                    } else {
                        None
                    },
                ),
                ("parameters", text_map(params)),
                ("request", t(session.request)),
                ("started_at", bigint(session.started_at)),
            ],
        );
        return;
    }
    for e in &session.events {
        put_named(
            data,
            s,
            &[
                ("session_id", uuid(session.session_id)),
                ("event_id", uuid(e.event_id)),
                ("activity", t(&e.activity)),
                ("source", inet(e.source)),
                ("source_port", int(STORAGE_PORT)),
                ("source_elapsed", int(e.source_elapsed)),
                ("thread", t(&e.thread)),
            ],
        );
    }
}

/// One row per user table and local primary range (the ranges ending at this node's
/// tokens), with the partitions stored in that range (`SizeEstimatesRecorder`).
fn size_estimates(
    engine: &Engine,
    s: &TableSchema,
    cluster: &dyn ClusterView,
    data: &mut TableData,
) {
    let local = cluster.local();
    let mut all: Vec<i64> = local.tokens.clone();
    for p in cluster.peers() {
        all.extend(p.tokens);
    }
    all.sort_unstable();
    let mut ranges = Vec::new();
    for end in &local.tokens {
        let pos = all.partition_point(|t| t < end);
        let start = if pos == 0 {
            all.last().copied().unwrap_or(i64::MIN)
        } else {
            all[pos - 1]
        };
        ranges.push((start, *end));
    }
    let schema = engine.schema_read();
    for ks in schema.keyspaces.values() {
        if super::system::is_system_keyspace(&ks.name) {
            continue;
        }
        for (name, table) in &ks.tables {
            let stored = table.data.read().unwrap_or_else(|p| p.into_inner());
            for (start, end) in &ranges {
                let in_range = |tok: i64| {
                    if start < end {
                        *start < tok && tok <= *end
                    } else {
                        tok > *start || tok <= *end
                    }
                };
                let count = stored.partition_tokens().filter(|t| in_range(*t)).count() as i64;
                put_named(
                    data,
                    s,
                    &[
                        ("keyspace_name", t(&ks.name)),
                        ("table_name", t(name)),
                        ("range_start", t(&start.to_string())),
                        ("range_end", t(&end.to_string())),
                        (
                            "mean_partition_size",
                            bigint(if count > 0 { 64 } else { 0 }),
                        ),
                        ("partitions_count", bigint(count)),
                    ],
                );
            }
        }
    }
}

/// A `frozen<map<text, text>>` option of `system_schema.tables`.
type Options = &'static [(&'static str, &'static str)];

fn table_rows(scylla: bool, s: &TableSchema, ks: &Keyspace, data: &mut TableData) {
    for (name, table) in &ks.tables {
        let (compaction, compression, speculative): (Options, Options, &str) = if scylla {
            (
                &[("class", "SizeTieredCompactionStrategy")],
                &[(
                    "sstable_compression",
                    "org.apache.cassandra.io.compress.LZ4Compressor",
                )],
                "99.0PERCENTILE",
            )
        } else {
            // CompactionParams.DEFAULT / CompressionParams.DEFAULT (16 KiB chunks in 4.0).
            (
                &[
                    (
                        "class",
                        "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
                    ),
                    ("max_threshold", "32"),
                    ("min_threshold", "4"),
                ],
                &[
                    ("chunk_length_in_kb", "16"),
                    ("class", "org.apache.cassandra.io.compress.LZ4Compressor"),
                ],
                "99p",
            )
        };
        let caching = [("keys", "ALL"), ("rows_per_partition", "NONE")];
        let flags: &[&str] = if table.schema().is_counter {
            &["compound", "counter"]
        } else {
            &["compound"]
        };
        put_named(
            data,
            s,
            &[
                ("keyspace_name", t(&ks.name)),
                ("table_name", t(name)),
                ("bloom_filter_fp_chance", double(0.01)),
                ("caching", text_map(caching.into_iter())),
                ("comment", t("")),
                ("compaction", text_map(compaction.iter().copied())),
                ("compression", text_map(compression.iter().copied())),
                ("crc_check_chance", double(1.0)),
                ("dclocal_read_repair_chance", double(0.0)),
                (
                    "default_time_to_live",
                    int(table.default_ttl.load(Ordering::Relaxed)),
                ),
                ("extensions", Some(Bytes::from_static(&[0, 0, 0, 0]))),
                ("flags", texts(flags.iter().copied())),
                ("gc_grace_seconds", int(864_000)),
                ("id", uuid(table.id)),
                ("max_index_interval", int(2048)),
                ("memtable_flush_period_in_ms", int(0)),
                ("min_index_interval", int(128)),
                ("read_repair_chance", double(0.0)),
                ("speculative_retry", t(speculative)),
                ("additional_write_policy", t("99p")),
                ("read_repair", t("BLOCKING")),
            ],
        );
    }
}
