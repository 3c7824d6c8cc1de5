//! Serialization traits: a value states its exact `[value]` size and writes itself into a
//! slice of that size, after being checked against the column type it is bound to.

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
pub trait SerializeValue {
    /// Checks that this value can be sent as `typ` (and is in range for it).
    fn check_type(&self, typ: &CqlType) -> Result<(), SerializeError>;

    /// Exact size of the `[value]` this writes, 4-byte length prefix included.
    fn value_size(&self) -> usize;

    /// Writes the `[value]` (length prefix, then content) at the front of `buf`, advancing it
    /// by exactly [`Self::value_size`] bytes.
    fn write_value(&self, buf: &mut &mut [u8]);
}

/// A row of bound values (a tuple, a slice, a derived struct, …).
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
}
