//! [`CqlValue`]: an owned value of any CQL type, for dynamic code (tools, tests, `SELECT *`).
//! Its serialization is checked against the column type; it deserializes from every type
//! (see `cql_value_codec`). `Display` prints a CQL literal, as cqlsh prints values inside
//! collections: strings and date/time/inet values quoted, blobs as `0x…`, maps `{k: v}`.

use std::fmt;
use std::net::IpAddr;

use bytes::Bytes;
use uuid::Uuid;

use super::newtypes::{
    CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlVarint, civil_from_days,
};

/// An owned value of any CQL type. Null is `None` in an `Option<CqlValue>`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CqlValue {
    /// ascii.
    Ascii(String),
    /// text / varchar.
    Text(String),
    /// blob (shares the frame's memory when decoded).
    Blob(Bytes),
    /// boolean.
    Boolean(bool),
    /// counter.
    Counter(i64),
    /// decimal.
    Decimal(CqlDecimal),
    /// double.
    Double(f64),
    /// float.
    Float(f32),
    /// int.
    Int(i32),
    /// bigint.
    BigInt(i64),
    /// timestamp.
    Timestamp(CqlTimestamp),
    /// uuid.
    Uuid(Uuid),
    /// timeuuid.
    Timeuuid(Uuid),
    /// inet.
    Inet(IpAddr),
    /// date.
    Date(CqlDate),
    /// time.
    Time(CqlTime),
    /// smallint.
    SmallInt(i16),
    /// tinyint.
    TinyInt(i8),
    /// duration.
    Duration(CqlDuration),
    /// varint.
    Varint(CqlVarint),
    /// list.
    List(Vec<CqlValue>),
    /// set, in wire order.
    Set(Vec<CqlValue>),
    /// map, as entries in wire order.
    Map(Vec<(CqlValue, CqlValue)>),
    /// tuple; `None` fields are null.
    Tuple(Vec<Option<CqlValue>>),
    /// A user-defined type value: fields in the type's order (a value may have fewer fields
    /// than its type; missing trailing fields are null).
    Udt {
        /// Keyspace of the type.
        keyspace: String,
        /// Type name.
        name: String,
        /// (field name, value) pairs; `None` is null.
        fields: Vec<(String, Option<CqlValue>)>,
    },
    /// vector.
    Vector(Vec<CqlValue>),
    /// A zero-length value of a type other than text, ascii or blob (legal for legacy reasons,
    /// and not null).
    Empty,
    /// A value of a custom type, as raw bytes.
    Custom(Bytes),
}

impl CqlValue {
    /// The variant's name, used as the Rust type in errors.
    pub fn variant_name(&self) -> &'static str {
        match self {
            CqlValue::Ascii(_) => "CqlValue::Ascii",
            CqlValue::Text(_) => "CqlValue::Text",
            CqlValue::Blob(_) => "CqlValue::Blob",
            CqlValue::Boolean(_) => "CqlValue::Boolean",
            CqlValue::Counter(_) => "CqlValue::Counter",
            CqlValue::Decimal(_) => "CqlValue::Decimal",
            CqlValue::Double(_) => "CqlValue::Double",
            CqlValue::Float(_) => "CqlValue::Float",
            CqlValue::Int(_) => "CqlValue::Int",
            CqlValue::BigInt(_) => "CqlValue::BigInt",
            CqlValue::Timestamp(_) => "CqlValue::Timestamp",
            CqlValue::Uuid(_) => "CqlValue::Uuid",
            CqlValue::Timeuuid(_) => "CqlValue::Timeuuid",
            CqlValue::Inet(_) => "CqlValue::Inet",
            CqlValue::Date(_) => "CqlValue::Date",
            CqlValue::Time(_) => "CqlValue::Time",
            CqlValue::SmallInt(_) => "CqlValue::SmallInt",
            CqlValue::TinyInt(_) => "CqlValue::TinyInt",
            CqlValue::Duration(_) => "CqlValue::Duration",
            CqlValue::Varint(_) => "CqlValue::Varint",
            CqlValue::List(_) => "CqlValue::List",
            CqlValue::Set(_) => "CqlValue::Set",
            CqlValue::Map(_) => "CqlValue::Map",
            CqlValue::Tuple(_) => "CqlValue::Tuple",
            CqlValue::Udt { .. } => "CqlValue::Udt",
            CqlValue::Vector(_) => "CqlValue::Vector",
            CqlValue::Empty => "CqlValue::Empty",
            CqlValue::Custom(_) => "CqlValue::Custom",
        }
    }

    /// The text of an `Ascii` or `Text` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            CqlValue::Ascii(s) | CqlValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// An integer value of any integer type that fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            CqlValue::TinyInt(v) => Some(i64::from(*v)),
            CqlValue::SmallInt(v) => Some(i64::from(*v)),
            CqlValue::Int(v) => Some(i64::from(*v)),
            CqlValue::BigInt(v) | CqlValue::Counter(v) => Some(*v),
            CqlValue::Varint(v) => v.to_i64(),
            _ => None,
        }
    }

    /// The elements of a `List`, `Set` or `Vector`.
    pub fn as_elements(&self) -> Option<&[CqlValue]> {
        match self {
            CqlValue::List(v) | CqlValue::Set(v) | CqlValue::Vector(v) => Some(v),
            _ => None,
        }
    }
}

macro_rules! from_impl {
    ($($ty:ty => $variant:ident),+ $(,)?) => {
        $(
            impl From<$ty> for CqlValue {
                fn from(v: $ty) -> Self {
                    CqlValue::$variant(v.into())
                }
            }
        )+
    };
}

from_impl!(
    bool => Boolean,
    i8 => TinyInt,
    i16 => SmallInt,
    i32 => Int,
    i64 => BigInt,
    f32 => Float,
    f64 => Double,
    String => Text,
    &str => Text,
    Bytes => Blob,
    Vec<u8> => Blob,
    Uuid => Uuid,
    IpAddr => Inet,
    CqlTimestamp => Timestamp,
    CqlDate => Date,
    CqlTime => Time,
    CqlDuration => Duration,
    CqlDecimal => Decimal,
    CqlVarint => Varint,
);

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for (i, part) in s.split('\'').enumerate() {
        if i > 0 {
            f.write_str("''")?;
        }
        f.write_str(part)?;
    }
    f.write_str("'")
}

fn write_hex(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    f.write_str("0x")?;
    for x in b {
        write!(f, "{x:02x}")?;
    }
    Ok(())
}

fn write_float(f: &mut fmt::Formatter<'_>, v: f64) -> fmt::Result {
    if v.is_nan() {
        f.write_str("NaN")
    } else if v.is_infinite() {
        f.write_str(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        write!(f, "{v}")
    }
}

fn write_opt(f: &mut fmt::Formatter<'_>, v: &Option<CqlValue>) -> fmt::Result {
    match v {
        Some(v) => write!(f, "{v}"),
        None => f.write_str("null"),
    }
}

fn write_seq<T>(
    f: &mut fmt::Formatter<'_>,
    open: &str,
    close: &str,
    items: &[T],
    mut each: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    f.write_str(open)?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        each(f, item)?;
    }
    f.write_str(close)
}

impl fmt::Display for CqlValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CqlValue::Ascii(s) | CqlValue::Text(s) => write_quoted(f, s),
            CqlValue::Blob(b) | CqlValue::Custom(b) => write_hex(f, b),
            CqlValue::Boolean(v) => write!(f, "{v}"),
            CqlValue::Counter(v) | CqlValue::BigInt(v) => write!(f, "{v}"),
            CqlValue::Decimal(v) => write!(f, "{v}"),
            CqlValue::Double(v) => write_float(f, *v),
            CqlValue::Float(v) => write_float(f, f64::from(*v)),
            CqlValue::Int(v) => write!(f, "{v}"),
            CqlValue::Timestamp(v) => write!(f, "'{v}'"),
            CqlValue::Uuid(v) | CqlValue::Timeuuid(v) => write!(f, "{v}"),
            CqlValue::Inet(v) => write!(f, "'{v}'"),
            CqlValue::Date(v) => {
                let (y, _, _) = civil_from_days(v.unix_days());
                if (0..=9999).contains(&y) {
                    write!(f, "'{v}'")
                } else {
                    // cqlsh prints dates it cannot represent as the raw day count.
                    write!(f, "{}", v.unix_days())
                }
            }
            CqlValue::Time(v) => write!(f, "'{v}'"),
            CqlValue::SmallInt(v) => write!(f, "{v}"),
            CqlValue::TinyInt(v) => write!(f, "{v}"),
            CqlValue::Duration(v) => write!(f, "{v}"),
            CqlValue::Varint(v) => write!(f, "{v}"),
            CqlValue::List(v) | CqlValue::Vector(v) => {
                write_seq(f, "[", "]", v, |f, e| write!(f, "{e}"))
            }
            CqlValue::Set(v) => write_seq(f, "{", "}", v, |f, e| write!(f, "{e}")),
            CqlValue::Map(v) => write_seq(f, "{", "}", v, |f, (k, v)| write!(f, "{k}: {v}")),
            CqlValue::Tuple(v) => write_seq(f, "(", ")", v, write_opt),
            CqlValue::Udt { fields, .. } => write_seq(f, "{", "}", fields, |f, (n, v)| {
                write!(f, "{n}: ")?;
                write_opt(f, v)
            }),
            CqlValue::Empty => Ok(()),
        }
    }
}
