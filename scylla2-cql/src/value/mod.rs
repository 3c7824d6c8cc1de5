//! CQL values: serialization (exact size, then write, after a type check) and deserialization
//! borrowing from the response frame.
//!
//! - [`SerializeValue`] / [`SerializeRow`]: what bound values implement. Rust types map to
//!   CQL types strictly (an `i64` is a bigint, never silently an int); see the impls in
//!   `ser_impls`, `ser_collections` and `ser_row`.
//! - [`DeserializeValue`] / [`DeserializeRow`]: what row columns decode into; types are checked
//!   once per result, then every row decodes lazily without allocating for borrowed targets
//!   (`&str`, `&[u8]`, [`ListIter`], [`MapIter`], …).
//! - [`CqlValue`] and [`Row`]: owned dynamic values of any type.
//! - Newtypes for CQL types without a single Rust counterpart ([`CqlTimestamp`], [`CqlDate`],
//!   [`CqlTime`], [`CqlDuration`], [`CqlDecimal`], [`CqlVarint`], [`Counter`]), the
//!   [`Unset`] / [`MaybeUnset`] markers, [`MaybeEmpty`], and [`CqlVector`].
//!
//! Null versus empty: a null reads as `None` into `Option<T>`; a zero-length value is not null
//! and reads as `""` for text and blobs, an empty collection for collections,
//! [`CqlValue::Empty`] or [`MaybeEmpty::Empty`], and is an error for a plain `i32` or
//! `Option<i32>`. A null collection reads as an empty one (Cassandra returns null for empty
//! non-frozen collections).

pub mod cql_value;
mod cql_value_codec;
mod de_collections;
mod de_impls;
mod de_row;
pub mod deserialize;
mod features;
pub mod newtypes;
mod ser_collections;
pub(crate) mod ser_impls;
mod ser_row;
pub mod serialize;
pub mod vint;

pub use cql_value::CqlValue;
pub use de_collections::{FieldReader, ListIter, MapIter, SetIter};
pub use de_row::Row;
pub use deserialize::{
    ColumnIterator, DeserializeError, DeserializeRow, DeserializeValue, FrameSlice,
};
pub use newtypes::{
    Counter, CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlVarint, CqlVector,
    MaybeEmpty, MaybeUnset, Unset,
};
pub use ser_row::NamedValues;
pub use serialize::{SerializeError, SerializeRow, SerializeValue};
