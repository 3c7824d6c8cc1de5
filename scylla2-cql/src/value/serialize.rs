//! Serialization traits: a value states its exact `[value]` size and writes itself into a
//! slice of that size, after being checked against the column type it is bound to.
//!
//! Sizes never depend on the column type: a statement sent without metadata (QUERY with
//! values) is sized and written without knowing its types. Hence a Rust type maps to one
//! encoding; vectors, whose encoding differs from lists, are sent through
//! [`CqlVector`](super::CqlVector).

use bytes::BufMut;

use super::content::ValueContent;
use crate::types::{ColumnSpec, CqlType};

/// An error found before anything is sent: a bound value does not fit its column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SerializeError {
    /// The Rust type cannot be sent as that CQL type.
    #[error("cannot serialize Rust type {rust_type} as CQL type {cql_type}")]
    TypeMismatch {
        /// The Rust type's name.
        rust_type: &'static str,
        /// The column's CQL type.
        cql_type: CqlType,
    },
    /// The value is of a fitting type but out of the CQL type's range (or too long).
    #[error("value of Rust type {rust_type} out of range for CQL type {cql_type}: {reason}")]
    OutOfRange {
        /// The Rust type's name.
        rust_type: &'static str,
        /// The column's CQL type.
        cql_type: CqlType,
        /// What is out of range.
        reason: &'static str,
    },
    /// A value too large for a `[value]` (more than `i32::MAX` bytes).
    #[error("serialized value too large: {size} bytes")]
    ValueTooLarge {
        /// Its size.
        size: usize,
    },
    /// The statement has a different number of bind markers than values given.
    #[error("wrong number of bound values: the statement expects {expected}, {given} given")]
    WrongValueCount {
        /// Bind markers in the statement.
        expected: usize,
        /// Values given.
        given: usize,
    },
    /// A named value has no matching bind marker.
    #[error("no bind marker named {name:?}")]
    UnknownName {
        /// The value's name.
        name: String,
    },
    /// A bind marker has no value of that name.
    #[error("no value for bind marker {name:?}")]
    MissingName {
        /// The marker's name.
        name: String,
    },
    /// A null or unset value where the protocol forbids one (inside a collection, a vector,
    /// or unset inside a tuple or user-defined type).
    #[error("{what} is not allowed inside a {cql_type} value")]
    NullElement {
        /// `"null"` or `"unset"`.
        what: &'static str,
        /// The enclosing CQL type.
        cql_type: CqlType,
    },
    /// A user-defined type value's field name differs from the type's field at that position.
    #[error("field {index} of {cql_type} is {expected:?}, the value names it {given:?}")]
    FieldNameMismatch {
        /// Field position.
        index: usize,
        /// The type's field name.
        expected: String,
        /// The value's field name.
        given: String,
        /// The user-defined type.
        cql_type: CqlType,
    },
    /// A field of a derived row struct did not fit its bind marker; names the struct, the
    /// field and the marker.
    #[error("{rust_type}.{field} (bind marker {index} {name:?}): {source}")]
    Field {
        /// The struct's name.
        rust_type: &'static str,
        /// The Rust field.
        field: &'static str,
        /// Index of the bind marker.
        index: usize,
        /// Name of the bind marker.
        name: String,
        /// What was wrong.
        source: Box<SerializeError>,
    },
    /// A derived row struct declares its fields in another order than the statement's bind
    /// markers (values are written in field order, so the orders must agree).
    #[error(
        "{rust_type}.{field} is field {index}, but bind marker {index} is {marker:?} and \
         {field:?} is marker {marker_index}: declare the fields in bind marker order"
    )]
    FieldOrder {
        /// The struct's name.
        rust_type: &'static str,
        /// The Rust field.
        field: &'static str,
        /// Position of the field among the struct's fields.
        index: usize,
        /// Name of the bind marker at that position.
        marker: String,
        /// Position of the marker named like the field.
        marker_index: usize,
    },
    /// A field of a derived row struct has no bind marker of its name.
    #[error("{rust_type}.{field}: the statement has no bind marker {name:?}")]
    NoMarkerForField {
        /// The struct's name.
        rust_type: &'static str,
        /// The Rust field.
        field: &'static str,
        /// The marker name the field binds to.
        name: &'static str,
    },
    /// A bind marker has no field in a derived row struct.
    #[error("bind marker {index} ({name:?}) has no field in {rust_type}")]
    NoFieldForMarker {
        /// The struct's name.
        rust_type: &'static str,
        /// Index of the bind marker.
        index: usize,
        /// Name of the bind marker.
        name: String,
    },
    /// A field of a derived user-defined type struct did not fit the type's field.
    #[error("{rust_type}.{field} (UDT field {udt_field:?}): {source}")]
    UdtField {
        /// The struct's name.
        rust_type: &'static str,
        /// The Rust field.
        field: &'static str,
        /// The UDT field.
        udt_field: &'static str,
        /// What was wrong.
        source: Box<SerializeError>,
    },
    /// A derived user-defined type struct has more fields than the type.
    #[error("{rust_type}.{field}: the user-defined type {cql_type} has no field {udt_field:?}")]
    MissingUdtField {
        /// The struct's name.
        rust_type: &'static str,
        /// The Rust field.
        field: &'static str,
        /// The UDT field name the Rust field writes.
        udt_field: &'static str,
        /// The user-defined type.
        cql_type: CqlType,
    },
    /// A column's value did not fit; names the column.
    #[error("bind marker {index} ({name}): {source}")]
    Column {
        /// Index of the bind marker.
        index: usize,
        /// Name of the bind marker.
        name: String,
        /// What was wrong.
        source: Box<SerializeError>,
    },
}

/// A value that can be bound to a statement.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be bound as a CQL value",
    label = "no CQL mapping for `{Self}`",
    note = "CQL values are Rust primitives, strings, blobs, uuid, collections, tuples, `Option<T>` for NULL, the `Cql*` newtypes, and structs deriving `SerializeValue` (user-defined types)",
    note = "`chrono`, `time`, `num-bigint` and `bigdecimal` types need the features `chrono-04`, `time-03`, `num-bigint-04`, `bigdecimal-04` (of `scylla2`, or of `scylla2-cql`)"
)]
pub trait SerializeValue {
    /// Checks that this value can be sent as `typ` (and is in range for it).
    fn check_type(&self, typ: &CqlType) -> Result<(), SerializeError>;

    /// Exact size of the `[value]` this writes, 4-byte length prefix included.
    fn value_size(&self) -> usize;

    /// Writes the `[value]` (length prefix, then content) at the front of `buf`, advancing it
    /// by exactly [`Self::value_size`] bytes.
    fn write_value(&self, buf: &mut &mut [u8]);

    /// Whether this value is null (written as length -1).
    fn is_null(&self) -> bool {
        false
    }

    /// Whether this value is "not set" (written as length -2; top-level bound values only).
    fn is_unset(&self) -> bool {
        false
    }

    /// This value's content (what [`Self::write_value`] writes after the length) without
    /// writing it, to compute partition-key tokens cheaply. Implementations must agree with
    /// `write_value`: [`ValueContent::Null`] exactly when the written length is negative, and
    /// otherwise the very bytes written after it. The default,
    /// [`ValueContent::Unavailable`], makes the caller serialize the value instead; every
    /// implementation in this crate answers without serializing when it can.
    fn value_content(&self) -> ValueContent<'_> {
        ValueContent::Unavailable
    }

    /// Inside a `vector<T, N>`, elements of a fixed-size type (see
    /// [`CqlType::vector_fixed_size`]) are written bare; others are preceded by their length as
    /// an unsigned vint. `Some(n)` says this value is written bare in `n` bytes.
    fn vector_fixed_size(&self) -> Option<usize> {
        None
    }

    /// Size of this value as a vector element.
    fn vector_element_size(&self) -> usize {
        let n = self.value_size().saturating_sub(4);
        match self.vector_fixed_size() {
            Some(_) => n,
            None => super::vint::unsigned_size(n as u64) + n,
        }
    }

    /// Writes this value as a vector element, advancing `buf` by
    /// [`Self::vector_element_size`]. The default goes through a temporary buffer; every
    /// implementation in this crate overrides it to write in place.
    fn write_vector_element(&self, buf: &mut &mut [u8]) {
        let mut scratch = vec![0u8; self.value_size()];
        let mut w: &mut [u8] = &mut scratch;
        self.write_value(&mut w);
        let content = scratch.get(4..).unwrap_or_default();
        if self.vector_fixed_size().is_none() {
            super::vint::put_unsigned(buf, content.len() as u64);
        }
        buf.put_slice(content);
    }
}

/// Errors when a value's content does not fit in an `[int]` length.
pub fn check_value_size(size: usize) -> Result<(), SerializeError> {
    if size > i32::MAX as usize {
        Err(SerializeError::ValueTooLarge { size })
    } else {
        Ok(())
    }
}

/// Writes an `[int]` length (the caller checked it with [`check_value_size`]).
pub fn put_len(buf: &mut impl BufMut, len: usize) {
    buf.put_i32(len as i32);
}

/// A row of bound values (a tuple, a slice, a derived struct, …).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a row of bound values",
    label = "expected a tuple, slice, `Vec` or struct deriving `SerializeRow`",
    note = "bound values are a row: a single value is the one-element tuple `(value,)`, no values is `()`",
    note = "a struct binds by name with `#[derive(SerializeRow)]`"
)]
pub trait SerializeRow {
    /// Number of values.
    fn value_count(&self) -> usize;

    /// Checks count and types against the statement's bind markers.
    fn check_types(&self, columns: &[ColumnSpec]) -> Result<(), SerializeError>;

    /// Exact size of all `[value]`s (without the `[short]` count before them).
    fn values_size(&self) -> usize;

    /// Writes all `[value]`s in order, advancing `buf` by [`Self::values_size`].
    fn write_values(&self, buf: &mut &mut [u8]);

    /// For values sent by name (QUERY/EXECUTE flag 0x40): the name of value `index`.
    /// `None` (the default) sends values by position.
    fn value_name(&self, index: usize) -> Option<&str> {
        let _ = index;
        None
    }

    /// Value `index` on its own, so that a partition key can be read from its
    /// [`SerializeValue::value_content`] without serializing the row. `None` when `index` is
    /// out of range, or (the default) when this row does not hand out its values: the caller
    /// then serializes the whole row.
    fn value_at(&self, index: usize) -> Option<&dyn SerializeValue> {
        let _ = index;
        None
    }

    /// The [`SerializeValue::value_content`] of value `index`, `None` as for
    /// [`Self::value_at`]. The default goes through `value_at`; rows of statically known
    /// value types (tuples, derived structs) answer without a dynamic call.
    #[inline]
    fn value_content_at(&self, index: usize) -> Option<ValueContent<'_>> {
        self.value_at(index).map(SerializeValue::value_content)
    }
}
