//! CQL values: serialization (exact size, then write, after a type check) and deserialization
//! borrowing from the response frame.
//!
//! - [`SerializeValue`] / [`SerializeRow`]: what bound values implement. Rust types map to
//!   CQL types strictly (an `i64` is a bigint, never silently an int); see the impls in
//!   `ser_impls`, `ser_collections` and `ser_row`.
//! - [`ValueContent`]: a bound value's content without serializing it (borrowed, or inline
//!   when short), which rows hand out by position to compute partition-key tokens cheaply.
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

/// Invokes `$m!(n; A 0, B 1, …)` once for every tuple arity from 1 to 16: the tuple impls of
/// the value and row traits share this list.
macro_rules! for_each_tuple {
    ($m:ident) => {
        $m!(1; A 0);
        $m!(2; A 0, B 1);
        $m!(3; A 0, B 1, C 2);
        $m!(4; A 0, B 1, C 2, D 3);
        $m!(5; A 0, B 1, C 2, D 3, E 4);
        $m!(6; A 0, B 1, C 2, D 3, E 4, F 5);
        $m!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
        $m!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
        $m!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
        $m!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
        $m!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
        $m!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
        $m!(13; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
        $m!(14; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
        $m!(15; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
        $m!(16; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);
    };
}

pub(crate) mod content;
pub(crate) mod cql_value;
mod cql_value_access;
mod cql_value_codec;
mod de_collections;
mod de_impls;
mod de_row;
pub mod derive_support;
pub(crate) mod deserialize;
mod features;
pub(crate) mod newtypes;
mod row_view;
mod ser_collections;
pub(crate) mod ser_impls;
mod ser_row;
pub(crate) mod serialize;
pub mod vint;

pub use content::{INLINE_CONTENT_BYTES, InlineContent, ValueContent};
pub use cql_value::CqlValue;
pub use de_collections::{FieldReader, ListIter, MapIter, SetIter};
pub use de_row::Row;
pub use deserialize::{
    ColumnIterator, DeserializeError, DeserializeRow, DeserializeValue, FrameSlice,
};
pub use newtypes::{
    Counter, CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlVarint, CqlVector,
    DATE_EPOCH, MaybeEmpty, MaybeUnset, Unset,
};
pub use row_view::RowView;
pub use ser_row::NamedValues;
pub use serialize::{SerializeError, SerializeRow, SerializeValue};
