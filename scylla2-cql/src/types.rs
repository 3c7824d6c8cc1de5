//! CQL data types (`[option]`, v4 §4.2.5.2 / v5 §4.2.5.2) and column specifications.
//!
//! Types are parsed once per prepared statement or per result that carries metadata, so they
//! are owned; rows decode lazily against them without allocating.

use crate::wire::{WireError, WireReader};

/// Maximum nesting depth accepted when parsing a type from the network.
pub const MAX_TYPE_DEPTH: usize = 64;

/// A CQL data type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CqlType {
    /// A custom type, by its Java class name (e.g. `DurationType` on v4 servers).
    Custom(String),
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
    /// varchar / text.
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
    /// `list<T>`.
    List(Box<CqlType>),
    /// map<K, V>.
    Map(Box<CqlType>, Box<CqlType>),
    /// `set<T>`.
    Set(Box<CqlType>),
    /// A user-defined type.
    Udt(Box<UdtType>),
    /// tuple<...>.
    Tuple(Vec<CqlType>),
    /// Cassandra 5 `vector<T, N>` (sent on the wire as a custom `VectorType` class name).
    Vector(Box<CqlType>, u32),
}

/// A user-defined type's definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UdtType {
    /// Keyspace of the type.
    pub keyspace: String,
    /// Type name.
    pub name: String,
    /// Fields in declaration order.
    pub fields: Vec<(String, CqlType)>,
}

/// Where a column comes from and its type (`<col_spec_i>`, v4 §4.2.5.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnSpec {
    /// Keyspace.
    pub keyspace: String,
    /// Table.
    pub table: String,
    /// Column name.
    pub name: String,
    /// Column type.
    pub typ: CqlType,
}

/// An error parsing a type from the network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypeParseError {
    /// An `[option]` id this crate does not know.
    #[error("unknown type option id {0:#06x}")]
    UnknownTypeId(u16),
    /// Types nested deeper than [`MAX_TYPE_DEPTH`].
    #[error("type nesting deeper than {MAX_TYPE_DEPTH}")]
    TooDeep,
    /// A custom `VectorType(...)` class name that could not be parsed.
    #[error("invalid vector type name {0:?}")]
    InvalidVector(String),
    /// Truncated or malformed bytes.
    #[error(transparent)]
    Wire(#[from] WireError),
}

impl CqlType {
    /// Parses an `[option]` describing a type.
    pub fn parse(r: &mut WireReader<'_>) -> Result<Self, TypeParseError> {
        Self::parse_depth(r, 0)
    }

    fn parse_depth(r: &mut WireReader<'_>, depth: usize) -> Result<Self, TypeParseError> {
        if depth > MAX_TYPE_DEPTH {
            return Err(TypeParseError::TooDeep);
        }
        let id = r.read_u16()?;
        Ok(match id {
            0x0000 => {
                let name = r.read_string()?;
                match parse_custom_class(name, 0)? {
                    Some(t) => t,
                    None => CqlType::Custom(name.to_owned()),
                }
            }
            0x0001 => CqlType::Ascii,
            0x0002 => CqlType::BigInt,
            0x0003 => CqlType::Blob,
            0x0004 => CqlType::Boolean,
            0x0005 => CqlType::Counter,
            0x0006 => CqlType::Decimal,
            0x0007 => CqlType::Double,
            0x0008 => CqlType::Float,
            0x0009 => CqlType::Int,
            0x000A | 0x000D => CqlType::Text,
            0x000B => CqlType::Timestamp,
            0x000C => CqlType::Uuid,
            0x000E => CqlType::Varint,
            0x000F => CqlType::Timeuuid,
            0x0010 => CqlType::Inet,
            0x0011 => CqlType::Date,
            0x0012 => CqlType::Time,
            0x0013 => CqlType::SmallInt,
            0x0014 => CqlType::TinyInt,
            0x0015 => CqlType::Duration,
            0x0020 => CqlType::List(Box::new(Self::parse_depth(r, depth + 1)?)),
            0x0021 => {
                let k = Self::parse_depth(r, depth + 1)?;
                let v = Self::parse_depth(r, depth + 1)?;
                CqlType::Map(Box::new(k), Box::new(v))
            }
            0x0022 => CqlType::Set(Box::new(Self::parse_depth(r, depth + 1)?)),
            0x0030 => {
                let keyspace = r.read_string()?.to_owned();
                let name = r.read_string()?.to_owned();
                let n = r.read_count_u16()?;
                // Each field takes at least 4 bytes: never preallocate past what is there.
                let mut fields = Vec::with_capacity(n.min(r.len() / 4));
                for _ in 0..n {
                    let fname = r.read_string()?.to_owned();
                    let ftype = Self::parse_depth(r, depth + 1)?;
                    fields.push((fname, ftype));
                }
                CqlType::Udt(Box::new(UdtType {
                    keyspace,
                    name,
                    fields,
                }))
            }
            0x0031 => {
                let n = r.read_count_u16()?;
                let mut elems = Vec::with_capacity(n.min(r.len() / 2));
                for _ in 0..n {
                    elems.push(Self::parse_depth(r, depth + 1)?);
                }
                CqlType::Tuple(elems)
            }
            other => return Err(TypeParseError::UnknownTypeId(other)),
        })
    }

    /// Size of a value of this type inside a `vector<T, N>` when it is written bare, without a
    /// length: Cassandra 5 writes elements of fixed-size types (boolean, int, float, bigint,
    /// double, timestamp, uuid, timeuuid, and vectors of those) bare and precedes all others
    /// (including smallint, tinyint, date, time and counter, which Cassandra does not mark as
    /// fixed-size) with an unsigned vint length.
    pub fn vector_fixed_size(&self) -> Option<usize> {
        match self {
            CqlType::Boolean => Some(1),
            CqlType::Int | CqlType::Float => Some(4),
            CqlType::BigInt | CqlType::Double | CqlType::Timestamp => Some(8),
            CqlType::Uuid | CqlType::Timeuuid => Some(16),
            CqlType::Vector(elem, dim) => elem.vector_fixed_size()?.checked_mul(*dim as usize),
            _ => None,
        }
    }

    /// The CQL name of this type, as written in CQL statements (e.g. `map<text, int>`).
    pub fn cql_name(&self) -> String {
        self.to_string()
    }
}

const MARSHAL: &str = "org.apache.cassandra.db.marshal.";

/// Maps a custom class name to a known type: `DurationType` and `VectorType(T, N)`; the
/// element class names inside a vector are the marshal class names of native types.
fn parse_custom_class(name: &str, depth: usize) -> Result<Option<CqlType>, TypeParseError> {
    if depth > MAX_TYPE_DEPTH {
        return Err(TypeParseError::TooDeep);
    }
    let short = name.strip_prefix(MARSHAL).unwrap_or(name);
    if let Some(inner) = short
        .strip_prefix("VectorType(")
        .and_then(|s| s.strip_suffix(')'))
    {
        let invalid = || TypeParseError::InvalidVector(name.to_owned());
        let (elem, dim) = inner.rsplit_once(',').ok_or_else(invalid)?;
        let dim: u32 = dim.trim().parse().map_err(|_| invalid())?;
        let elem = parse_custom_class(elem.trim(), depth + 1)?.ok_or_else(invalid)?;
        return Ok(Some(CqlType::Vector(Box::new(elem), dim)));
    }
    let simple = match short {
        "DurationType" => CqlType::Duration,
        "AsciiType" => CqlType::Ascii,
        "LongType" => CqlType::BigInt,
        "BytesType" => CqlType::Blob,
        "BooleanType" => CqlType::Boolean,
        "CounterColumnType" => CqlType::Counter,
        "DecimalType" => CqlType::Decimal,
        "DoubleType" => CqlType::Double,
        "FloatType" => CqlType::Float,
        "Int32Type" => CqlType::Int,
        "TimestampType" => CqlType::Timestamp,
        "UUIDType" => CqlType::Uuid,
        "UTF8Type" => CqlType::Text,
        "IntegerType" => CqlType::Varint,
        "TimeUUIDType" => CqlType::Timeuuid,
        "InetAddressType" => CqlType::Inet,
        "SimpleDateType" => CqlType::Date,
        "TimeType" => CqlType::Time,
        "ShortType" => CqlType::SmallInt,
        "ByteType" => CqlType::TinyInt,
        _ => return Ok(None),
    };
    Ok(Some(simple))
}

impl std::fmt::Display for CqlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CqlType::Custom(name) => write!(f, "'{name}'"),
            CqlType::Ascii => f.write_str("ascii"),
            CqlType::BigInt => f.write_str("bigint"),
            CqlType::Blob => f.write_str("blob"),
            CqlType::Boolean => f.write_str("boolean"),
            CqlType::Counter => f.write_str("counter"),
            CqlType::Decimal => f.write_str("decimal"),
            CqlType::Double => f.write_str("double"),
            CqlType::Float => f.write_str("float"),
            CqlType::Int => f.write_str("int"),
            CqlType::Timestamp => f.write_str("timestamp"),
            CqlType::Uuid => f.write_str("uuid"),
            CqlType::Text => f.write_str("text"),
            CqlType::Varint => f.write_str("varint"),
            CqlType::Timeuuid => f.write_str("timeuuid"),
            CqlType::Inet => f.write_str("inet"),
            CqlType::Date => f.write_str("date"),
            CqlType::Time => f.write_str("time"),
            CqlType::SmallInt => f.write_str("smallint"),
            CqlType::TinyInt => f.write_str("tinyint"),
            CqlType::Duration => f.write_str("duration"),
            CqlType::List(t) => write!(f, "list<{t}>"),
            CqlType::Set(t) => write!(f, "set<{t}>"),
            CqlType::Map(k, v) => write!(f, "map<{k}, {v}>"),
            CqlType::Udt(u) => write!(f, "{}.{}", u.keyspace, u.name),
            CqlType::Tuple(ts) => {
                f.write_str("tuple<")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(">")
            }
            CqlType::Vector(t, n) => write!(f, "vector<{t}, {n}>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<CqlType, TypeParseError> {
        let mut r = WireReader::new(bytes);
        let t = CqlType::parse(&mut r)?;
        r.expect_end()?;
        Ok(t)
    }

    #[test]
    fn parses_nested_collections() {
        // map<varchar, list<int>>
        let t = parse(&[0x00, 0x21, 0x00, 0x0D, 0x00, 0x20, 0x00, 0x09]).unwrap();
        assert_eq!(
            t,
            CqlType::Map(
                Box::new(CqlType::Text),
                Box::new(CqlType::List(Box::new(CqlType::Int)))
            )
        );
        assert_eq!(t.to_string(), "map<text, list<int>>");
    }

    #[test]
    fn parses_custom_duration_and_vector() {
        let name = b"org.apache.cassandra.db.marshal.DurationType";
        let mut bytes = vec![0x00, 0x00, 0x00, name.len() as u8];
        bytes.extend_from_slice(name);
        assert_eq!(parse(&bytes).unwrap(), CqlType::Duration);

        let name = b"org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType, 3)";
        let mut bytes = vec![0x00, 0x00, 0x00, name.len() as u8];
        bytes.extend_from_slice(name);
        assert_eq!(
            parse(&bytes).unwrap(),
            CqlType::Vector(Box::new(CqlType::Float), 3)
        );
    }

    #[test]
    fn rejects_deep_and_unknown() {
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(&[0x00, 0x20]);
        }
        deep.extend_from_slice(&[0x00, 0x09]);
        assert_eq!(parse(&deep), Err(TypeParseError::TooDeep));
        assert_eq!(
            parse(&[0x00, 0x99]),
            Err(TypeParseError::UnknownTypeId(0x99))
        );
        // A UDT claiming 65535 fields with no bytes behind it errors without preallocating.
        assert!(parse(&[0x00, 0x30, 0, 1, b'k', 0, 1, b't', 0xff, 0xff]).is_err());
    }
}
