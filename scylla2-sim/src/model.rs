//! Types shared by the CQL engine (`engine`, `cql`) and the protocol server (`server`): column
//! types, bound values, results, errors, and the view of the cluster the engine reads system
//! tables from. The server turns these into protocol bytes; the engine never sees bytes of
//! the protocol, only serialized CQL values.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use uuid::Uuid;

/// The server the simulator answers as: Apache Cassandra 4.0 (nodes without shards) or
/// ScyllaDB (nodes with shards). It picks error wordings, client warnings, how `duration`
/// is announced on v4 and the shape of LWT results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// Apache Cassandra 4.0.
    #[default]
    Cassandra,
    /// ScyllaDB.
    Scylla,
}

/// A CQL column type as the simulator models it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// ascii.
    Ascii,
    /// bigint.
    BigInt,
    /// blob.
    Blob,
    /// boolean.
    Boolean,
    /// counter.
    Counter,
    /// decimal.
    Decimal,
    /// double.
    Double,
    /// float.
    Float,
    /// int.
    Int,
    /// timestamp.
    Timestamp,
    /// uuid.
    Uuid,
    /// text / varchar.
    Text,
    /// varint.
    Varint,
    /// timeuuid.
    Timeuuid,
    /// inet.
    Inet,
    /// date.
    Date,
    /// time.
    Time,
    /// smallint.
    SmallInt,
    /// tinyint.
    TinyInt,
    /// duration.
    Duration,
    /// `list<T>`; `frozen` as declared.
    List(Box<ColumnType>, bool),
    /// `set<T>`.
    Set(Box<ColumnType>, bool),
    /// map<K, V>.
    Map(Box<ColumnType>, Box<ColumnType>, bool),
    /// tuple<...> (always frozen).
    Tuple(Vec<ColumnType>),
    /// A user-defined type, resolved to its definition.
    Udt {
        /// Keyspace of the type.
        keyspace: String,
        /// Type name.
        name: String,
        /// Fields in order.
        fields: Vec<(String, ColumnType)>,
        /// Declared frozen.
        frozen: bool,
    },
    /// vector<T, N> (Cassandra 5); sent as custom `VectorType(...)`.
    Vector(Box<ColumnType>, u32),
    /// A custom type by class name.
    Custom(String),
}

/// A column of a result or a bind marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Keyspace.
    pub keyspace: String,
    /// Table.
    pub table: String,
    /// Column (or bind marker) name.
    pub name: String,
    /// Type.
    pub typ: ColumnType,
}

/// A value bound by the client: serialized CQL bytes, null, or not set (v4+ `[value]` -2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoundValue {
    /// Serialized bytes.
    Set(Bytes),
    /// NULL.
    Null,
    /// Not set: leave the column untouched.
    Unset,
}

/// Query parameters of a QUERY or EXECUTE (and the common part of BATCH). The default is
/// consistency ONE and nothing else set.
#[derive(Debug, Clone)]
pub struct QueryParams {
    /// Consistency code.
    pub consistency: u16,
    /// Values by position.
    pub values: Vec<BoundValue>,
    /// Names, when values were sent by name (same length as `values`).
    pub names: Option<Vec<String>>,
    /// Skip result metadata.
    pub skip_metadata: bool,
    /// Page size in rows (None = no paging).
    pub page_size: Option<i32>,
    /// Paging state from a previous page.
    pub paging_state: Option<Bytes>,
    /// Serial consistency code.
    pub serial_consistency: Option<u16>,
    /// Client timestamp (microseconds).
    pub timestamp: Option<i64>,
    /// v5 per-query keyspace.
    pub keyspace: Option<String>,
    /// v5 now_in_seconds.
    pub now_in_seconds: Option<i32>,
}

impl Default for QueryParams {
    fn default() -> Self {
        QueryParams {
            consistency: 1,
            values: Vec::new(),
            names: None,
            skip_metadata: false,
            page_size: None,
            paging_state: None,
            serial_consistency: None,
            timestamp: None,
            keyspace: None,
            now_in_seconds: None,
        }
    }
}

/// Rows of a result.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    /// Result columns (shared with the statement's plan: a read does not copy them).
    pub columns: std::sync::Arc<[ColumnSpec]>,
    /// Rows; each cell is serialized CQL bytes or null.
    pub rows: Vec<Vec<Option<Bytes>>>,
    /// Paging state when more pages follow.
    pub paging_state: Option<Bytes>,
}

/// What a schema change touched (v4 §4.2.6 SCHEMA_CHANGE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaTarget {
    /// A keyspace.
    Keyspace(String),
    /// A table: keyspace, table.
    Table(String, String),
    /// A user type: keyspace, type.
    Type(String, String),
}

/// CREATED / UPDATED / DROPPED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    /// CREATED.
    Created,
    /// UPDATED.
    Updated,
    /// DROPPED.
    Dropped,
}

/// A schema change, returned by DDL and pushed as an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaChange {
    /// Kind of change.
    pub change: ChangeType,
    /// What changed.
    pub target: SchemaTarget,
}

/// The result of a statement.
#[derive(Debug, Clone)]
pub enum QueryResult {
    /// No result.
    Void,
    /// Rows.
    Rows(Rows),
    /// USE ks.
    SetKeyspace(String),
    /// DDL.
    SchemaChange(SchemaChange),
}

/// What a PREPARE returns.
#[derive(Debug, Clone)]
pub struct PreparedInfo {
    /// Statement id (MD5-like, 16 bytes).
    pub id: Bytes,
    /// v5 result metadata id (changes when the result columns change).
    pub result_metadata_id: Bytes,
    /// Bind markers.
    pub bind_columns: Vec<ColumnSpec>,
    /// Indexes of the partition key columns among the bind markers, in key order
    /// (empty when not every key column is bound).
    pub pk_indexes: Vec<u16>,
    /// Result columns (empty for non-SELECT).
    pub result_columns: Vec<ColumnSpec>,
    /// A conditional (LWT) statement.
    pub is_lwt: bool,
}

/// A write type for write timeouts and failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteType {
    /// SIMPLE.
    Simple,
    /// BATCH.
    Batch,
    /// UNLOGGED_BATCH.
    UnloggedBatch,
    /// COUNTER.
    Counter,
    /// BATCH_LOG.
    BatchLog,
    /// CAS.
    Cas,
    /// VIEW.
    View,
    /// CDC.
    Cdc,
}

/// An error as a real node gives it (v4 §9, v5 §9), plus Scylla's rate-limit error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// 0x0000.
    #[error("server error: {0}")]
    ServerError(String),
    /// 0x000A.
    #[error("protocol error: {0}")]
    ProtocolError(String),
    /// 0x0100.
    #[error("bad credentials: {0}")]
    BadCredentials(String),
    /// 0x1000. Displayed as Cassandra words it (`UnavailableException`); in ScyllaDB mode the
    /// server writes ScyllaDB's wording (`exceptions::unavailable_exception`).
    #[error("Cannot achieve consistency level {}", consistency_name(*.consistency))]
    Unavailable {
        /// Consistency.
        consistency: u16,
        /// Required replicas.
        required: i32,
        /// Alive replicas.
        alive: i32,
    },
    /// 0x1001.
    #[error("overloaded: {0}")]
    Overloaded(String),
    /// 0x1002.
    #[error("is bootstrapping")]
    IsBootstrapping,
    /// 0x1003.
    #[error("truncate error: {0}")]
    TruncateError(String),
    /// 0x1100.
    #[error("write timeout")]
    WriteTimeout {
        /// Consistency.
        consistency: u16,
        /// Acknowledged.
        received: i32,
        /// Required.
        block_for: i32,
        /// Write type.
        write_type: WriteType,
    },
    /// 0x1200.
    #[error("read timeout")]
    ReadTimeout {
        /// Consistency.
        consistency: u16,
        /// Answered.
        received: i32,
        /// Required.
        block_for: i32,
        /// Whether the data replica answered.
        data_present: bool,
    },
    /// 0x1300.
    #[error("read failure")]
    ReadFailure {
        /// Consistency.
        consistency: u16,
        /// Answered.
        received: i32,
        /// Required.
        block_for: i32,
        /// Failed replicas.
        failures: i32,
        /// Whether the data replica answered.
        data_present: bool,
    },
    /// 0x1400.
    #[error("function failure: {keyspace}.{function}")]
    FunctionFailure {
        /// Keyspace.
        keyspace: String,
        /// Function.
        function: String,
        /// Argument types.
        arg_types: Vec<String>,
    },
    /// 0x1500.
    #[error("write failure")]
    WriteFailure {
        /// Consistency.
        consistency: u16,
        /// Acknowledged.
        received: i32,
        /// Required.
        block_for: i32,
        /// Failed replicas.
        failures: i32,
        /// Write type.
        write_type: WriteType,
    },
    /// 0x1600 (v5).
    #[error("CDC write failure: {0}")]
    CdcWriteFailure(String),
    /// 0x1700 (v5).
    #[error("CAS write unknown")]
    CasWriteUnknown {
        /// Consistency.
        consistency: u16,
        /// Acknowledged.
        received: i32,
        /// Required.
        block_for: i32,
    },
    /// 0x2000.
    #[error("syntax error: {0}")]
    SyntaxError(String),
    /// 0x2100.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 0x2200.
    #[error("invalid: {0}")]
    Invalid(String),
    /// 0x2300.
    #[error("config error: {0}")]
    ConfigError(String),
    /// 0x2400.
    #[error("already exists: {keyspace}.{table}")]
    AlreadyExists {
        /// Keyspace.
        keyspace: String,
        /// Table ("" when the keyspace itself exists).
        table: String,
        /// Message.
        message: String,
    },
    /// 0x2500.
    #[error("unprepared")]
    Unprepared {
        /// The unknown id.
        id: Bytes,
    },
    /// Scylla's per-partition rate limit error (code from SUPPORTED), worded as ScyllaDB's
    /// `rate_limit_exception`.
    #[error(
        "Per-partition rate limit reached for {} in table {keyspace}.{table}, rejected by {}",
        if *.op_type == 0 { "read" } else { "write" },
        if *.rejected_by_coordinator { "coordinator" } else { "replicas" }
    )]
    RateLimitReached {
        /// Keyspace of the rate-limited table.
        keyspace: String,
        /// The rate-limited table.
        table: String,
        /// 0 = read, 1 = write.
        op_type: u8,
        /// Rejected by the coordinator.
        rejected_by_coordinator: bool,
    },
}

/// The protocol name of a consistency code (`ConsistencyLevel` in both servers).
pub fn consistency_name(code: u16) -> &'static str {
    match code {
        0 => "ANY",
        1 => "ONE",
        2 => "TWO",
        3 => "THREE",
        4 => "QUORUM",
        5 => "ALL",
        6 => "LOCAL_QUORUM",
        7 => "EACH_QUORUM",
        8 => "SERIAL",
        9 => "LOCAL_SERIAL",
        10 => "LOCAL_ONE",
        _ => "UNKNOWN",
    }
}

/// A node as the system tables show it.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// Index of the node in the cluster.
    pub index: usize,
    /// Address clients connect to (`rpc_address`).
    pub address: IpAddr,
    /// CQL port.
    pub port: u16,
    /// Data center.
    pub datacenter: String,
    /// Rack.
    pub rack: String,
    /// Vnode tokens.
    pub tokens: Vec<i64>,
    /// Host id.
    pub host_id: Uuid,
    /// Release version, e.g. "5.4.0" (Scylla reports a Cassandra-compatible 3.0.8).
    pub release_version: String,
    /// Schema version (equal on every node once DDL settled).
    pub schema_version: Uuid,
    /// Whether the node is up (stopped nodes stay in peers as down).
    pub up: bool,
    /// Number of shards (0 = Cassandra mode).
    pub shards: u32,
}

/// Per node and shard request counters (`system_sim.requests`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// Node index.
    pub node: usize,
    /// Shard.
    pub shard: u32,
    /// Requests received (QUERY, EXECUTE, BATCH).
    pub received: u64,
    /// Requests whose token this node is a replica of AND this shard owns.
    pub owned: u64,
    /// Requests with a token (routable at all).
    pub with_token: u64,
    /// PREPARE requests received (not counted in `received`).
    pub prepared: u64,
}

/// What the engine needs to know of the cluster to answer system tables and place replicas.
pub trait ClusterView: Send + Sync {
    /// The node executing the statement.
    fn local(&self) -> NodeInfo;
    /// Every other node of the cluster.
    fn peers(&self) -> Vec<NodeInfo>;
    /// Statistics for `system_sim.requests`.
    fn request_stats(&self) -> Vec<RequestStats>;
    /// The nodes replicas are placed on, `up` false for every node that is down (stopped or
    /// paused), and the index of the local node. By default the local node and its peers.
    fn placement(&self) -> (arc_swap::Guard<Arc<Vec<NodeInfo>>>, usize) {
        let local = self.local();
        let index = local.index;
        let mut all = vec![local];
        all.extend(self.peers());
        (arc_swap::Guard::from_inner(Arc::new(all)), index)
    }
}
