//! Typed accessors of [`CqlValue`] (`as_int`, `as_text`, …): each returns the value when the
//! variant is the one named, `None` otherwise, without converting between types (the
//! lenient integer reading is `CqlValue::as_i64`).

use std::net::IpAddr;

use bytes::Bytes;
use uuid::Uuid;

use super::CqlValue;
use super::newtypes::{CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlVarint};

/// `as_x(&self) -> Option<T>` for variants holding a `Copy` value.
macro_rules! copy_accessors {
    ($($(#[$doc:meta])* $name:ident: $variant:ident => $ty:ty;)+) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Option<$ty> {
            match self {
                CqlValue::$variant(v) => Some(*v),
                _ => None,
            }
        }
    )+};
}

/// `as_x(&self) -> Option<&T>` for variants holding an owned value.
macro_rules! ref_accessors {
    ($($(#[$doc:meta])* $name:ident: $variant:ident => $ty:ty;)+) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Option<&$ty> {
            match self {
                CqlValue::$variant(v) => Some(v),
                _ => None,
            }
        }
    )+};
}

impl CqlValue {
    copy_accessors! {
        /// An `int`.
        ///
        /// ```
        /// use scylla2_cql::value::CqlValue;
        /// assert_eq!(CqlValue::Int(7).as_int(), Some(7));
        /// assert_eq!(CqlValue::BigInt(7).as_int(), None);
        /// ```
        as_int: Int => i32;
        /// A `bigint`.
        as_bigint: BigInt => i64;
        /// A `smallint`.
        as_smallint: SmallInt => i16;
        /// A `tinyint`.
        as_tinyint: TinyInt => i8;
        /// A `counter`.
        as_counter: Counter => i64;
        /// A `boolean`.
        as_boolean: Boolean => bool;
        /// A `double`.
        as_double: Double => f64;
        /// A `float`.
        as_float: Float => f32;
        /// A `uuid`.
        as_uuid: Uuid => Uuid;
        /// A `timeuuid`.
        as_timeuuid: Timeuuid => Uuid;
        /// An `inet`.
        as_inet: Inet => IpAddr;
        /// A `date`.
        as_date: Date => CqlDate;
        /// A `time`.
        as_time: Time => CqlTime;
        /// A `timestamp`.
        as_timestamp: Timestamp => CqlTimestamp;
        /// A `duration`.
        as_duration: Duration => CqlDuration;
    }

    ref_accessors! {
        /// A `blob`.
        as_blob: Blob => Bytes;
        /// A `decimal`.
        as_decimal: Decimal => CqlDecimal;
        /// A `varint`.
        as_varint: Varint => CqlVarint;
        /// The elements of a `list`.
        as_list: List => [CqlValue];
        /// The elements of a `set`.
        as_set: Set => [CqlValue];
        /// The entries of a `map`, in the order received.
        as_map: Map => [(CqlValue, CqlValue)];
        /// The fields of a `tuple` (`None` is null).
        as_tuple: Tuple => [Option<CqlValue>];
        /// The elements of a `vector`.
        as_vector: Vector => [CqlValue];
    }

    /// The text of a `text` or `ascii` value (the same as [`CqlValue::as_str`]).
    ///
    /// ```
    /// use scylla2_cql::value::CqlValue;
    /// assert_eq!(CqlValue::Text("hi".into()).as_text(), Some("hi"));
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        self.as_str()
    }

    /// The fields of a user-defined type, `(name, value)` in the type's order.
    pub fn as_udt(&self) -> Option<&[(String, Option<CqlValue>)]> {
        match self {
            CqlValue::Udt { fields, .. } => Some(fields),
            _ => None,
        }
    }
}
