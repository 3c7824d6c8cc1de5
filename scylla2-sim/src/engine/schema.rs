//! The cluster schema: keyspaces (replication), tables (columns, keys, clustering order) and
//! user types, plus conversion of DDL types to [`ColumnType`]s.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use uuid::Uuid;

use super::ring::Replication;
use super::storage::TableData;
use super::system::SystemTable;
use super::types::names::type_name;
use crate::cql::ast::{CqlType, QualifiedName};
use crate::model::{ColumnSpec, ColumnType, Flavor, SimError};

/// The role of a column in its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Part of the partition key.
    PartitionKey,
    /// A clustering column.
    Clustering,
    /// A static column.
    Static,
    /// A regular column.
    Regular,
}

impl ColumnKind {
    /// The `kind` string of `system_schema.columns`.
    pub fn schema_name(self) -> &'static str {
        match self {
            ColumnKind::PartitionKey => "partition_key",
            ColumnKind::Clustering => "clustering",
            ColumnKind::Static => "static",
            ColumnKind::Regular => "regular",
        }
    }
}

/// A column of a table.
#[derive(Debug, Clone)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Type.
    pub typ: ColumnType,
    /// Role.
    pub kind: ColumnKind,
    /// Position within the partition key or clustering key (0 otherwise).
    pub position: usize,
    /// Cell slot for static and regular columns.
    pub slot: usize,
    /// Clustering order is descending.
    pub desc: bool,
}

/// A table's columns and keys (immutable; ALTER replaces the Arc).
#[derive(Debug)]
pub struct TableSchema {
    /// Keyspace.
    pub keyspace: Arc<str>,
    /// Table name.
    pub name: String,
    /// Columns in declaration order.
    pub columns: Vec<Column>,
    /// Column index by name.
    pub by_name: HashMap<String, usize>,
    /// Partition key column indexes in key order.
    pub pk: Vec<usize>,
    /// Clustering column indexes in key order.
    pub ck: Vec<usize>,
    /// Number of cell slots.
    pub slots: usize,
    /// A counter table.
    pub is_counter: bool,
    /// Whether any static column exists.
    pub has_static: bool,
    /// Column indexes in `SELECT *` order.
    pub star: Vec<usize>,
    /// Result columns of `SELECT *`.
    pub star_specs: Vec<ColumnSpec>,
    /// The server whose wording this table's errors use.
    pub flavor: Flavor,
}

impl TableSchema {
    /// Builds a schema; computes slots and the `SELECT *` order.
    pub fn new(keyspace: Arc<str>, name: String, mut columns: Vec<Column>) -> Self {
        let mut slots = 0;
        for c in &mut columns {
            if matches!(c.kind, ColumnKind::Static | ColumnKind::Regular) {
                c.slot = slots;
                slots += 1;
            }
        }
        Self::with_slots(keyspace, name, columns, slots)
    }

    fn with_slots(keyspace: Arc<str>, name: String, columns: Vec<Column>, slots: usize) -> Self {
        let by_name = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        let mut pk: Vec<usize> = (0..columns.len())
            .filter(|i| columns[*i].kind == ColumnKind::PartitionKey)
            .collect();
        pk.sort_by_key(|i| columns[*i].position);
        let mut ck: Vec<usize> = (0..columns.len())
            .filter(|i| columns[*i].kind == ColumnKind::Clustering)
            .collect();
        ck.sort_by_key(|i| columns[*i].position);
        let mut statics: Vec<usize> = (0..columns.len())
            .filter(|i| columns[*i].kind == ColumnKind::Static)
            .collect();
        statics.sort_by(|a, b| columns[*a].name.cmp(&columns[*b].name));
        let mut regulars: Vec<usize> = (0..columns.len())
            .filter(|i| columns[*i].kind == ColumnKind::Regular)
            .collect();
        regulars.sort_by(|a, b| columns[*a].name.cmp(&columns[*b].name));
        let star: Vec<usize> = pk
            .iter()
            .chain(&ck)
            .chain(&statics)
            .chain(&regulars)
            .copied()
            .collect();
        let star_specs: Vec<ColumnSpec> = star
            .iter()
            .map(|i| ColumnSpec {
                keyspace: keyspace.to_string(),
                table: name.clone(),
                name: columns[*i].name.clone(),
                typ: columns[*i].typ.clone(),
            })
            .collect();
        let is_counter = columns.iter().any(|c| c.typ == ColumnType::Counter);
        let has_static = !statics.is_empty();
        TableSchema {
            keyspace,
            name,
            columns,
            by_name,
            pk,
            ck,
            slots,
            is_counter,
            has_static,
            star,
            star_specs,
            flavor: Flavor::default(),
        }
    }

    /// The error for an unknown column `name`: Cassandra's `TableMetadata.getExistingColumn`
    /// wording, or ScyllaDB's (`unrecognized_entity_exception` in reads, `Unknown identifier`
    /// in INSERT / UPDATE / DELETE, `update_statement.cc`).
    pub fn unknown_column(&self, name: &str, in_write: bool) -> SimError {
        SimError::Invalid(match self.flavor {
            Flavor::Cassandra => format!(
                "Undefined column name {name} in table {}.{}",
                self.keyspace, self.name
            ),
            Flavor::Scylla if in_write => format!("Unknown identifier {name}"),
            Flavor::Scylla => format!("Unrecognized name {name}"),
        })
    }

    /// Whether a plan made against `self` is invalidated now that the table is `current`:
    /// ScyllaDB drops a table's prepared statements on any ALTER
    /// (`query_processor::migration_subscriber::on_update_column_family`), Cassandra when the
    /// columns changed (`TableMetadata.changeAffectsPreparedStatements`).
    pub fn invalidates_plans(&self, current: &TableSchema) -> bool {
        if std::ptr::eq(self, current) {
            return false;
        }
        self.flavor == Flavor::Scylla
            || self.columns.len() != current.columns.len()
            || self
                .columns
                .iter()
                .zip(&current.columns)
                .any(|(a, b)| a.name != b.name || a.typ != b.typ || a.kind != b.kind)
    }

    /// A copy with extra columns appended (ALTER TABLE ADD).
    pub fn with_added(&self, added: Vec<(String, ColumnType, bool)>) -> Self {
        let mut columns = self.columns.clone();
        let mut slots = self.slots;
        for (name, typ, is_static) in added {
            columns.push(Column {
                name,
                typ,
                kind: if is_static {
                    ColumnKind::Static
                } else {
                    ColumnKind::Regular
                },
                position: 0,
                slot: slots,
                desc: false,
            });
            slots += 1;
        }
        let mut t = Self::with_slots(self.keyspace.clone(), self.name.clone(), columns, slots);
        t.flavor = self.flavor;
        t
    }

    /// A copy without the named columns (ALTER TABLE DROP); other slots are unchanged so
    /// the dropped values stay unreachable even if a column of that name is added again.
    pub fn without(&self, dropped: &[String]) -> Self {
        let columns = self
            .columns
            .iter()
            .filter(|c| !dropped.contains(&c.name))
            .cloned()
            .collect();
        let mut t = Self::with_slots(
            self.keyspace.clone(),
            self.name.clone(),
            columns,
            self.slots,
        );
        t.flavor = self.flavor;
        t
    }

    /// Looks a column up by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.by_name.get(name).map(|i| &self.columns[*i])
    }

    /// A result/bind column spec for a column of this table under another name.
    pub fn spec(&self, name: &str, typ: ColumnType) -> ColumnSpec {
        ColumnSpec {
            keyspace: self.keyspace.to_string(),
            table: self.name.clone(),
            name: name.to_string(),
            typ,
        }
    }
}

/// A table: schema, data and lifecycle.
#[derive(Debug)]
pub struct Table {
    /// Current schema.
    pub schema: RwLock<Arc<TableSchema>>,
    /// Rows.
    pub data: RwLock<TableData>,
    /// Set when dropped (prepared statements referencing it fail).
    pub dropped: AtomicBool,
    /// Table id.
    pub id: Uuid,
    /// A system table computed on read.
    pub system: Option<SystemTable>,
    /// `default_time_to_live` in seconds (0 = none).
    pub default_ttl: std::sync::atomic::AtomicI32,
    /// Secondary indexes: (name, target column, target kind).
    pub indexes: RwLock<Vec<(String, String, String)>>,
}

impl Table {
    /// A new table.
    pub fn new(schema: TableSchema, system: Option<SystemTable>) -> Self {
        let id = Uuid::from_u64_pair(
            hash64(schema.keyspace.as_bytes(), 7),
            hash64(schema.name.as_bytes(), 11),
        );
        Table {
            schema: RwLock::new(Arc::new(schema)),
            data: RwLock::new(TableData::default()),
            dropped: AtomicBool::new(false),
            id,
            system,
            default_ttl: std::sync::atomic::AtomicI32::new(0),
            indexes: RwLock::new(Vec::new()),
        }
    }

    /// The current schema.
    pub fn schema(&self) -> Arc<TableSchema> {
        match self.schema.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

/// A user-defined type.
#[derive(Debug, Clone)]
pub struct UserType {
    /// Fields.
    pub fields: Vec<(String, ColumnType)>,
}

/// A keyspace.
#[derive(Debug, Clone)]
pub struct Keyspace {
    /// Name.
    pub name: Arc<str>,
    /// Strategy.
    pub replication: Replication,
    /// Replication options as `system_schema.keyspaces.replication` shows them.
    pub replication_map: BTreeMap<String, String>,
    /// durable_writes.
    pub durable_writes: bool,
    /// Tables.
    pub tables: BTreeMap<String, Arc<Table>>,
    /// User types in creation order.
    pub types: Vec<(String, UserType)>,
    /// ScyllaDB tablets: `Some(initial tablet count, 0 = automatic)` when enabled.
    pub tablets: Option<usize>,
}

/// The error for an unknown (or dropped) table: Cassandra's `Schema.validateTable` or
/// ScyllaDB's `validation.cc` wording.
pub fn unknown_table(flavor: Flavor, name: &str) -> SimError {
    SimError::Invalid(match flavor {
        Flavor::Cassandra => format!("table {name} does not exist"),
        Flavor::Scylla => format!("unconfigured table {name}"),
    })
}

/// Every keyspace.
#[derive(Debug, Default)]
pub struct Schema {
    /// Keyspaces by name.
    pub keyspaces: BTreeMap<String, Keyspace>,
    /// Schema version.
    pub version: Uuid,
    /// The server whose wording errors use.
    pub flavor: Flavor,
}

impl Schema {
    /// Finds a table.
    pub fn table(&self, keyspace: &str, name: &str) -> Result<Arc<Table>, SimError> {
        let ks = self
            .keyspaces
            .get(keyspace)
            .ok_or_else(|| self.unknown_keyspace(keyspace))?;
        ks.tables
            .get(name)
            .cloned()
            .ok_or_else(|| self.unknown_table(name))
    }

    /// The error for an unknown keyspace: Cassandra's `Schema.validateTable` or ScyllaDB's
    /// `validation.cc` wording.
    pub fn unknown_keyspace(&self, keyspace: &str) -> SimError {
        SimError::Invalid(match self.flavor {
            Flavor::Cassandra => format!("keyspace {keyspace} does not exist"),
            Flavor::Scylla => format!("Keyspace {keyspace} does not exist"),
        })
    }

    /// The error for an unknown table (as in [`Schema::unknown_keyspace`]).
    pub fn unknown_table(&self, name: &str) -> SimError {
        unknown_table(self.flavor, name)
    }

    /// Converts a DDL type, resolving user types in `keyspace`.
    pub fn resolve_type(&self, keyspace: &str, t: &CqlType) -> Result<ColumnType, SimError> {
        self.resolve(keyspace, t, false, false)
    }

    fn resolve(
        &self,
        keyspace: &str,
        t: &CqlType,
        frozen: bool,
        nested: bool,
    ) -> Result<ColumnType, SimError> {
        let f = frozen || nested;
        Ok(match t {
            CqlType::Native(n) => {
                native_type(n).ok_or_else(|| SimError::Invalid(format!("Unknown type {n}")))?
            }
            CqlType::List(e) => {
                ColumnType::List(Box::new(self.resolve(keyspace, e, false, true)?), f)
            }
            CqlType::Set(e) => {
                ColumnType::Set(Box::new(self.resolve(keyspace, e, false, true)?), f)
            }
            CqlType::Map(k, v) => ColumnType::Map(
                Box::new(self.resolve(keyspace, k, false, true)?),
                Box::new(self.resolve(keyspace, v, false, true)?),
                f,
            ),
            CqlType::Tuple(ts) => ColumnType::Tuple(
                ts.iter()
                    .map(|t| self.resolve(keyspace, t, false, true))
                    .collect::<Result<_, _>>()?,
            ),
            CqlType::Frozen(inner) => self.resolve(keyspace, inner, true, nested)?,
            CqlType::Vector(e, n) => {
                ColumnType::Vector(Box::new(self.resolve(keyspace, e, false, true)?), *n)
            }
            CqlType::Custom(c) => ColumnType::Custom(c.clone()),
            CqlType::Udt(QualifiedName { keyspace: ks, name }) => {
                let ks_name = ks.as_deref().unwrap_or(keyspace);
                let udt = self
                    .keyspaces
                    .get(ks_name)
                    .and_then(|k| k.types.iter().find(|(n, _)| n == name))
                    .ok_or_else(|| SimError::Invalid(format!("Unknown type {ks_name}.{name}")))?;
                ColumnType::Udt {
                    keyspace: ks_name.to_string(),
                    name: name.clone(),
                    fields: udt.1.fields.clone(),
                    frozen: f,
                }
            }
        })
    }
}

/// A native type by its CQL name (`varchar` is `text`): table columns, casts, type hints
/// and the blobAsX / XAsBlob functions all read types through this one table.
pub(crate) fn native_type(n: &str) -> Option<ColumnType> {
    Some(match n {
        "ascii" => ColumnType::Ascii,
        "bigint" => ColumnType::BigInt,
        "blob" => ColumnType::Blob,
        "boolean" => ColumnType::Boolean,
        "counter" => ColumnType::Counter,
        "decimal" => ColumnType::Decimal,
        "double" => ColumnType::Double,
        "duration" => ColumnType::Duration,
        "float" => ColumnType::Float,
        "inet" => ColumnType::Inet,
        "int" => ColumnType::Int,
        "smallint" => ColumnType::SmallInt,
        "text" | "varchar" => ColumnType::Text,
        "time" => ColumnType::Time,
        "timestamp" => ColumnType::Timestamp,
        "timeuuid" => ColumnType::Timeuuid,
        "tinyint" => ColumnType::TinyInt,
        "uuid" => ColumnType::Uuid,
        "varint" => ColumnType::Varint,
        "date" => ColumnType::Date,
        _ => return None,
    })
}

/// A 64-bit FNV-1a variant hash with a seed, finished with a murmur-style mix.
pub fn hash64(data: &[u8], seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A 16-byte id from two different 64-bit hashes.
pub fn id16(data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(16);
    out.extend_from_slice(&hash64(data, 1).to_be_bytes());
    out.extend_from_slice(&hash64(data, 2).to_be_bytes());
    Bytes::from(out)
}

/// The result metadata id of a list of result columns.
pub fn metadata_id(specs: &[ColumnSpec]) -> Bytes {
    let mut buf = Vec::new();
    for s in specs {
        buf.extend_from_slice(s.keyspace.as_bytes());
        buf.push(0);
        buf.extend_from_slice(s.table.as_bytes());
        buf.push(0);
        buf.extend_from_slice(s.name.as_bytes());
        buf.push(0);
        buf.extend_from_slice(type_name(&s.typ).as_bytes());
        buf.push(1);
    }
    id16(&buf)
}
