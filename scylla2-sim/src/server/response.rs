//! Response encoding, written by hand straight into the connection's output buffer.
//!
//! The crate's response builders allocate a `Vec` per message and cannot express several
//! error bodies (read timeout / failure, CAS write unknown, CDC, Scylla's rate limit), so every
//! response body here follows native_protocol_v4.spec §4.2 / §9 and the v5 spec directly.
//! Envelope bodies are compressed (v4) through `cassandra_protocol::compression`.

use std::net::{IpAddr, SocketAddr};

use cassandra_protocol::compression::Compression;

use crate::model::{
    ChangeType, ColumnSpec, ColumnType, PreparedInfo, Rows, SchemaChange, SchemaTarget,
};

mod error;
pub(crate) use error::{ErrorCtx, error};

pub(crate) const OP_ERROR: u8 = 0x00;
pub(crate) const OP_READY: u8 = 0x02;
pub(crate) const OP_AUTHENTICATE: u8 = 0x03;
pub(crate) const OP_SUPPORTED: u8 = 0x06;
pub(crate) const OP_RESULT: u8 = 0x08;
pub(crate) const OP_EVENT: u8 = 0x0C;
pub(crate) const OP_AUTH_SUCCESS: u8 = 0x10;

/// Scylla's rate-limit error code (advertised in SUPPORTED).
pub(crate) const RATE_LIMIT_ERROR_CODE: i32 = 0xF000;
/// Scylla's LWT bit in PREPARED metadata flags (advertised in SUPPORTED).
pub(crate) const LWT_FLAG: u32 = 0x8000_0000;

/// Starts an envelope; returns its start offset for [`end`].
pub(crate) fn begin(out: &mut Vec<u8>, version: u8, stream: i16, opcode: u8) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0x80 | version, 0]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.push(opcode);
    out.extend_from_slice(&[0, 0, 0, 0]);
    start
}

/// Finishes the envelope started at `start`: compresses the body (v4) and patches the length.
pub(crate) fn end(out: &mut Vec<u8>, start: usize, compression: Compression) {
    let body_start = start + 9;
    if compression.is_compressed()
        && out.len() > body_start
        && let Ok(c) = compression.encode(&out[body_start..])
    {
        out.truncate(body_start);
        out.extend_from_slice(&c);
        out[start + 1] |= 0x01;
    }
    let len = (out.len() - body_start) as i32;
    out[start + 5..start + 9].copy_from_slice(&len.to_be_bytes());
}

/// A version-1 (time-based) UUID for tracing session ids.
pub(crate) fn time_uuid() -> [u8; 16] {
    use std::sync::atomic::{AtomicU16, Ordering};
    static SEQ: AtomicU16 = AtomicU16::new(0);
    let since_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // 100 ns intervals since 1582-10-15.
    let ts = (since_unix.as_nanos() / 100) as u64 + 0x01B2_1DD2_1381_4000;
    let seq = SEQ.fetch_add(1, Ordering::Relaxed) & 0x3fff;
    let mut u = [0u8; 16];
    u[..4].copy_from_slice(&(ts as u32).to_be_bytes());
    u[4..6].copy_from_slice(&((ts >> 32) as u16).to_be_bytes());
    u[6..8].copy_from_slice(&((((ts >> 48) as u16) & 0x0fff) | 0x1000).to_be_bytes());
    u[8..10].copy_from_slice(&(seq | 0x8000).to_be_bytes());
    u[10..].copy_from_slice(&[0x01, 0x5c, 0x11, 0x1a, 0x2b, 0x3c]);
    u
}

pub(crate) fn short(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}
pub(crate) fn int(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_be_bytes());
}
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    short(out, b.len() as u16);
    out.extend_from_slice(b);
}
pub(crate) fn short_bytes(out: &mut Vec<u8>, b: &[u8]) {
    short(out, b.len() as u16);
    out.extend_from_slice(b);
}
pub(crate) fn bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            int(out, b.len() as i32);
            out.extend_from_slice(b);
        }
        None => int(out, -1),
    }
}
/// A custom payload (`[bytes map]`) holding ScyllaDB's `tablets-routing-v1` entry: the
/// serialized `tuple<bigint, bigint, list<tuple<uuid, int>>>` of (first token exclusive, last
/// token inclusive, replicas as (host id, shard)), as `result_message::add_tablet_info`
/// builds it.
pub(crate) fn tablets_payload(
    out: &mut Vec<u8>,
    first: i64,
    last: i64,
    replicas: &[(uuid::Uuid, i32)],
) {
    short(out, 1);
    string(out, "tablets-routing-v1");
    let at = out.len();
    int(out, 0);
    bytes(out, Some(&first.to_be_bytes()));
    bytes(out, Some(&last.to_be_bytes()));
    let list_at = out.len();
    int(out, 0);
    int(out, replicas.len() as i32);
    for (host, shard) in replicas {
        int(out, 4 + 16 + 4 + 4);
        bytes(out, Some(host.as_bytes()));
        bytes(out, Some(&shard.to_be_bytes()));
    }
    let list_len = (out.len() - list_at - 4) as i32;
    out[list_at..list_at + 4].copy_from_slice(&list_len.to_be_bytes());
    let len = (out.len() - at - 4) as i32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

pub(crate) fn string_list(out: &mut Vec<u8>, l: &[String]) {
    short(out, l.len() as u16);
    for s in l {
        string(out, s);
    }
}
fn inet_addr(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            out.push(4);
            out.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            out.push(16);
            out.extend_from_slice(&a.octets());
        }
    }
}
pub(crate) fn inet(out: &mut Vec<u8>, addr: SocketAddr) {
    inet_addr(out, addr.ip());
    int(out, i32::from(addr.port()));
}

/// SUPPORTED body: a string multimap.
pub(crate) fn supported(out: &mut Vec<u8>, entries: &[(String, Vec<String>)]) {
    short(out, entries.len() as u16);
    for (k, v) in entries {
        string(out, k);
        string_list(out, v);
    }
}

/// A CQL type option (v4 §4.2.5.2). `custom_duration`: announce `duration` as the CUSTOM
/// `DurationType`, as Cassandra does below v5 (v4 has no id 0x0015: `DataType.fromType`
/// falls back to CUSTOM for a type newer than the connection's version); ScyllaDB sends
/// 0x0015 on every version (`type_codec::encode`).
pub(crate) fn col_type(out: &mut Vec<u8>, t: &ColumnType, custom_duration: bool) {
    let id = |out: &mut Vec<u8>, v: u16| short(out, v);
    match t {
        ColumnType::Custom(c) => {
            id(out, 0);
            string(out, c);
        }
        ColumnType::Ascii => id(out, 0x01),
        ColumnType::BigInt => id(out, 0x02),
        ColumnType::Blob => id(out, 0x03),
        ColumnType::Boolean => id(out, 0x04),
        ColumnType::Counter => id(out, 0x05),
        ColumnType::Decimal => id(out, 0x06),
        ColumnType::Double => id(out, 0x07),
        ColumnType::Float => id(out, 0x08),
        ColumnType::Int => id(out, 0x09),
        ColumnType::Timestamp => id(out, 0x0B),
        ColumnType::Uuid => id(out, 0x0C),
        ColumnType::Text => id(out, 0x0D),
        ColumnType::Varint => id(out, 0x0E),
        ColumnType::Timeuuid => id(out, 0x0F),
        ColumnType::Inet => id(out, 0x10),
        ColumnType::Date => id(out, 0x11),
        ColumnType::Time => id(out, 0x12),
        ColumnType::SmallInt => id(out, 0x13),
        ColumnType::TinyInt => id(out, 0x14),
        ColumnType::Duration if custom_duration => {
            id(out, 0);
            string(out, "org.apache.cassandra.db.marshal.DurationType");
        }
        ColumnType::Duration => id(out, 0x15),
        ColumnType::List(e, _) => {
            id(out, 0x20);
            col_type(out, e, custom_duration);
        }
        ColumnType::Map(k, v, _) => {
            id(out, 0x21);
            col_type(out, k, custom_duration);
            col_type(out, v, custom_duration);
        }
        ColumnType::Set(e, _) => {
            id(out, 0x22);
            col_type(out, e, custom_duration);
        }
        ColumnType::Udt {
            keyspace,
            name,
            fields,
            ..
        } => {
            id(out, 0x30);
            string(out, keyspace);
            string(out, name);
            short(out, fields.len() as u16);
            for (n, t) in fields {
                string(out, n);
                col_type(out, t, custom_duration);
            }
        }
        ColumnType::Tuple(ts) => {
            id(out, 0x31);
            short(out, ts.len() as u16);
            for t in ts {
                col_type(out, t, custom_duration);
            }
        }
        ColumnType::Vector(e, n) => {
            id(out, 0);
            string(
                out,
                &format!(
                    "org.apache.cassandra.db.marshal.VectorType({}, {n})",
                    marshal_class(e)
                ),
            );
        }
    }
}

/// Cassandra marshal class name of a type (for custom vector types).
fn marshal_class(t: &ColumnType) -> String {
    let p = "org.apache.cassandra.db.marshal.";
    let simple = match t {
        ColumnType::Ascii => "AsciiType",
        ColumnType::BigInt => "LongType",
        ColumnType::Blob => "BytesType",
        ColumnType::Boolean => "BooleanType",
        ColumnType::Counter => "CounterColumnType",
        ColumnType::Decimal => "DecimalType",
        ColumnType::Double => "DoubleType",
        ColumnType::Float => "FloatType",
        ColumnType::Int => "Int32Type",
        ColumnType::Timestamp => "TimestampType",
        ColumnType::Uuid => "UUIDType",
        ColumnType::Text => "UTF8Type",
        ColumnType::Varint => "IntegerType",
        ColumnType::Timeuuid => "TimeUUIDType",
        ColumnType::Inet => "InetAddressType",
        ColumnType::Date => "SimpleDateType",
        ColumnType::Time => "TimeType",
        ColumnType::SmallInt => "ShortType",
        ColumnType::TinyInt => "ByteType",
        ColumnType::Duration => "DurationType",
        ColumnType::Custom(c) => return c.clone(),
        ColumnType::List(e, _) => return format!("{p}ListType({})", marshal_class(e)),
        ColumnType::Set(e, _) => return format!("{p}SetType({})", marshal_class(e)),
        ColumnType::Map(k, v, _) => {
            return format!("{p}MapType({},{})", marshal_class(k), marshal_class(v));
        }
        ColumnType::Tuple(ts) => {
            let inner: Vec<String> = ts.iter().map(marshal_class).collect();
            return format!("{p}TupleType({})", inner.join(","));
        }
        ColumnType::Udt { .. } => "BytesType",
        ColumnType::Vector(e, n) => return format!("{p}VectorType({}, {n})", marshal_class(e)),
    };
    format!("{p}{simple}")
}

fn global_spec(cols: &[ColumnSpec]) -> Option<(&str, &str)> {
    let first = cols.first()?;
    cols.iter()
        .all(|c| c.keyspace == first.keyspace && c.table == first.table)
        .then_some((first.keyspace.as_str(), first.table.as_str()))
}

fn col_specs(out: &mut Vec<u8>, cols: &[ColumnSpec], global: bool, custom_duration: bool) {
    for c in cols {
        if !global {
            string(out, &c.keyspace);
            string(out, &c.table);
        }
        string(out, &c.name);
        col_type(out, &c.typ, custom_duration);
    }
}

/// How a rows metadata block is written.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MetaOpts<'a> {
    /// Omit the column specs (NO_METADATA).
    pub no_metadata: bool,
    /// v5: the result metadata changed; send this new id (METADATA_CHANGED).
    pub new_metadata_id: Option<&'a [u8]>,
    /// `duration` as a CUSTOM type (Cassandra below v5, see [`col_type`]).
    pub custom_duration: bool,
}

fn rows_metadata(out: &mut Vec<u8>, cols: &[ColumnSpec], paging: Option<&[u8]>, o: MetaOpts<'_>) {
    let global = global_spec(cols);
    let mut flags = 0i32;
    if paging.is_some() {
        flags |= 0x02;
    }
    if o.no_metadata {
        flags |= 0x04;
    } else if global.is_some() {
        flags |= 0x01;
    }
    if o.new_metadata_id.is_some() {
        flags |= 0x08;
    }
    int(out, flags);
    int(out, cols.len() as i32);
    if let Some(p) = paging {
        bytes(out, Some(p));
    }
    if let Some(id) = o.new_metadata_id {
        short_bytes(out, id);
    }
    if !o.no_metadata {
        if let Some((ks, t)) = global {
            string(out, ks);
            string(out, t);
        }
        col_specs(out, cols, global.is_some(), o.custom_duration);
    }
}

/// RESULT Void body.
pub(crate) fn result_void(out: &mut Vec<u8>) {
    int(out, 1);
}

/// RESULT Rows body.
pub(crate) fn result_rows(out: &mut Vec<u8>, rows: &Rows, o: MetaOpts<'_>) {
    int(out, 2);
    rows_metadata(out, &rows.columns, rows.paging_state.as_deref(), o);
    int(out, rows.rows.len() as i32);
    for row in &rows.rows {
        for cell in row {
            bytes(out, cell.as_deref());
        }
    }
}

/// RESULT Set_keyspace body.
pub(crate) fn result_set_keyspace(out: &mut Vec<u8>, ks: &str) {
    int(out, 3);
    string(out, ks);
}

fn change_type(c: ChangeType) -> &'static str {
    match c {
        ChangeType::Created => "CREATED",
        ChangeType::Updated => "UPDATED",
        ChangeType::Dropped => "DROPPED",
    }
}

/// The schema change part shared by RESULT Schema_change and the SCHEMA_CHANGE event.
pub(crate) fn schema_change(out: &mut Vec<u8>, sc: &SchemaChange) {
    string(out, change_type(sc.change));
    match &sc.target {
        SchemaTarget::Keyspace(ks) => {
            string(out, "KEYSPACE");
            string(out, ks);
        }
        SchemaTarget::Table(ks, t) => {
            string(out, "TABLE");
            string(out, ks);
            string(out, t);
        }
        SchemaTarget::Type(ks, t) => {
            string(out, "TYPE");
            string(out, ks);
            string(out, t);
        }
    }
}

/// RESULT Schema_change body.
pub(crate) fn result_schema_change(out: &mut Vec<u8>, sc: &SchemaChange) {
    int(out, 5);
    schema_change(out, sc);
}

/// RESULT Prepared body.
/// `with_metadata_id`: v5, or v4 with SCYLLA_USE_METADATA_ID.
pub(crate) fn result_prepared(
    out: &mut Vec<u8>,
    info: &PreparedInfo,
    with_metadata_id: bool,
    lwt_mark: bool,
    custom_duration: bool,
) {
    int(out, 4);
    short_bytes(out, &info.id);
    if with_metadata_id {
        short_bytes(out, &info.result_metadata_id);
    }
    let global = global_spec(&info.bind_columns);
    let mut flags = if global.is_some() { 0x01u32 } else { 0 };
    if lwt_mark && info.is_lwt {
        flags |= LWT_FLAG;
    }
    int(out, flags as i32);
    int(out, info.bind_columns.len() as i32);
    int(out, info.pk_indexes.len() as i32);
    for i in &info.pk_indexes {
        short(out, *i);
    }
    if let Some((ks, t)) = global {
        string(out, ks);
        string(out, t);
    }
    col_specs(out, &info.bind_columns, global.is_some(), custom_duration);
    if info.result_columns.is_empty() {
        int(out, 0x04);
        int(out, 0);
    } else {
        let o = MetaOpts {
            custom_duration,
            ..MetaOpts::default()
        };
        rows_metadata(out, &info.result_columns, None, o);
    }
}

/// A pushed event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// TOPOLOGY_CHANGE: NEW_NODE / REMOVED_NODE.
    Topology {
        /// NEW_NODE or REMOVED_NODE.
        change: String,
        /// The node's CQL address.
        address: SocketAddr,
    },
    /// STATUS_CHANGE: UP / DOWN.
    Status {
        /// UP or DOWN.
        change: String,
        /// The node's CQL address.
        address: SocketAddr,
    },
    /// SCHEMA_CHANGE.
    Schema(SchemaChange),
}

impl Event {
    /// The REGISTER name of the event type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::Topology { .. } => "TOPOLOGY_CHANGE",
            Event::Status { .. } => "STATUS_CHANGE",
            Event::Schema(_) => "SCHEMA_CHANGE",
        }
    }
}

/// EVENT body.
pub(crate) fn event(out: &mut Vec<u8>, e: &Event) {
    string(out, e.type_name());
    match e {
        Event::Topology { change, address } | Event::Status { change, address } => {
            string(out, change);
            inet(out, *address);
        }
        Event::Schema(sc) => schema_change(out, sc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SimError;
    use bytes::Bytes;

    fn spec(name: &str, typ: ColumnType) -> ColumnSpec {
        ColumnSpec {
            keyspace: "ks".into(),
            table: "t".into(),
            name: name.into(),
            typ,
        }
    }

    #[test]
    fn rows_body_matches_spec_layout() {
        let rows = Rows {
            columns: vec![spec("k", ColumnType::Int)].into(),
            rows: vec![vec![Some(Bytes::from_static(&[0, 0, 0, 7]))], vec![None]],
            paging_state: None,
        };
        let mut out = Vec::new();
        result_rows(&mut out, &rows, MetaOpts::default());
        let expected: &[u8] = &[
            0, 0, 0, 2, // Rows
            0, 0, 0, 1, // flags: global table spec
            0, 0, 0, 1, // 1 column
            0, 2, b'k', b's', 0, 1, b't', // ks.t
            0, 1, b'k', 0, 9, // k int
            0, 0, 0, 2, // 2 rows
            0, 0, 0, 4, 0, 0, 0, 7, // 7
            0xff, 0xff, 0xff, 0xff, // null
        ];
        assert_eq!(out, expected);
    }

    #[test]
    fn envelope_and_errors() {
        let mut out = Vec::new();
        let s = begin(&mut out, 4, 5, OP_ERROR);
        error(
            &mut out,
            &SimError::ReadTimeout {
                consistency: 1,
                received: 0,
                block_for: 1,
                data_present: false,
            },
            ErrorCtx {
                v5: false,
                rate_limit_ext: false,
                node: "127.0.0.1".parse().unwrap(),
                scylla: false,
            },
        );
        end(&mut out, s, Compression::None);
        assert_eq!(
            &out[..9],
            &[0x84, 0, 0, 5, 0, 0, 0, 0, (out.len() - 9) as u8]
        );
        assert_eq!(&out[9..13], &[0, 0, 0x12, 0]);
        let n = out.len();
        assert_eq!(&out[n - 11..], &[0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0]);

        let mut out = Vec::new();
        error(
            &mut out,
            &SimError::RateLimitReached {
                keyspace: "ks".into(),
                table: "t".into(),
                op_type: 1,
                rejected_by_coordinator: true,
            },
            ErrorCtx {
                v5: true,
                rate_limit_ext: true,
                node: "127.0.0.1".parse().unwrap(),
                scylla: true,
            },
        );
        assert_eq!(&out[..4], &[0, 0, 0xF0, 0]);
        assert_eq!(&out[out.len() - 2..], &[1, 1]);
    }

    #[test]
    fn compressed_envelope_sets_flag() {
        let mut out = Vec::new();
        let s = begin(&mut out, 4, 1, OP_RESULT);
        out.extend_from_slice(&[7u8; 100]);
        end(&mut out, s, Compression::Lz4);
        assert_eq!(out[1], 1);
        let len = i32::from_be_bytes([out[5], out[6], out[7], out[8]]) as usize;
        assert_eq!(len, out.len() - 9);
        assert_eq!(
            Compression::Lz4.decode(out[9..].to_vec()).unwrap(),
            vec![7u8; 100]
        );
    }

    #[test]
    fn types_encode() {
        let mut out = Vec::new();
        col_type(
            &mut out,
            &ColumnType::Map(
                Box::new(ColumnType::Text),
                Box::new(ColumnType::List(Box::new(ColumnType::Int), false)),
                false,
            ),
            false,
        );
        assert_eq!(out, vec![0, 0x21, 0, 0x0D, 0, 0x20, 0, 0x09]);
        // duration: id 0x0015 (v5, ScyllaDB), or Cassandra's CUSTOM DurationType below v5
        // (`DataType.fromType`: DURATION is a v5 type).
        let mut out = Vec::new();
        col_type(&mut out, &ColumnType::Duration, false);
        assert_eq!(out, vec![0, 0x15]);
        let mut out = Vec::new();
        col_type(
            &mut out,
            &ColumnType::List(Box::new(ColumnType::Duration), false),
            true,
        );
        let class = "org.apache.cassandra.db.marshal.DurationType";
        let mut want = vec![0, 0x20, 0, 0, 0, class.len() as u8];
        want.extend_from_slice(class.as_bytes());
        assert_eq!(out, want);
    }
}
