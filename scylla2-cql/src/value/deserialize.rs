//! Deserialization traits: values borrow from the response frame (`'frame`) and are checked
//! against column types that may live elsewhere, e.g. in a prepared statement (`'meta`).

use bytes::Bytes;

use crate::types::{ColumnSpec, CqlType};
use crate::wire::{WireError, WireReader};

/// A value's bytes inside the response frame, so that a `Bytes` slice can be cut from it
/// without copying.
#[derive(Debug, Clone, Copy)]
pub struct FrameSlice<'frame> {
    frame: &'frame Bytes,
    slice: &'frame [u8],
}

impl<'frame> FrameSlice<'frame> {
    /// A slice of `frame`. `slice` must lie inside `frame` for [`Self::to_bytes`] to share
    /// memory; otherwise the bytes are copied.
    #[inline]
    pub fn new(frame: &'frame Bytes, slice: &'frame [u8]) -> Self {
        Self { frame, slice }
    }

    /// The whole of `frame`.
    pub fn whole(frame: &'frame Bytes) -> Self {
        Self {
            frame,
            slice: frame.as_ref(),
        }
    }

    /// The value's bytes.
    #[inline]
    pub fn as_slice(&self) -> &'frame [u8] {
        self.slice
    }

    /// The frame the value lives in.
    pub fn frame(&self) -> &'frame Bytes {
        self.frame
    }

    /// A shared `Bytes` of the value (no copy when the slice lies inside the frame).
    pub fn to_bytes(&self) -> Bytes {
        let start = self.frame.as_ptr() as usize;
        let ptr = self.slice.as_ptr() as usize;
        if ptr >= start && ptr + self.slice.len() <= start + self.frame.len() {
            self.frame.slice_ref(self.slice)
        } else {
            Bytes::copy_from_slice(self.slice)
        }
    }

    /// A sub-slice of this one, in the same frame.
    #[inline]
    pub fn with_slice(&self, slice: &'frame [u8]) -> Self {
        Self {
            frame: self.frame,
            slice,
        }
    }
}

/// An error decoding a value or a row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeserializeError {
    /// The Rust type cannot be read from that CQL type.
    #[error("cannot deserialize CQL type {cql_type} into Rust type {rust_type}")]
    TypeMismatch {
        /// The Rust type's name.
        rust_type: &'static str,
        /// The column's CQL type.
        cql_type: CqlType,
    },
    /// A null arrived for a type that cannot hold one (use `Option<T>`).
    #[error(
        "unexpected null for Rust type {rust_type}: the value may be null, read it as \
         Option<{rust_type}>"
    )]
    UnexpectedNull {
        /// The Rust type's name.
        rust_type: &'static str,
    },
    /// The bytes do not form a valid value of the type.
    #[error("invalid {cql_type} value: {reason}")]
    InvalidValue {
        /// The CQL type being decoded.
        cql_type: CqlType,
        /// What was wrong.
        reason: &'static str,
    },
    /// The row has a different number of columns than the Rust type.
    #[error("wrong column count: the result has {actual}, the Rust type expects {expected}")]
    WrongColumnCount {
        /// Columns the Rust type reads.
        expected: usize,
        /// Columns in the result.
        actual: usize,
    },
    /// A column failed; names it.
    #[error("column {index} ({name}): {source}")]
    Column {
        /// Column index.
        index: usize,
        /// Column name.
        name: String,
        /// What was wrong.
        source: Box<DeserializeError>,
    },
    /// A field of a derived row struct failed; names the struct, the field and its column.
    #[error("{rust_type}.{field} (column {column:?}): {source}")]
    Field {
        /// The struct's name.
        rust_type: &'static str,
        /// The Rust field.
        field: &'static str,
        /// The result column it was read from.
        column: String,
        /// What was wrong.
        source: Box<DeserializeError>,
    },
    /// A field of a derived row struct has no column of its name in the result.
    #[error("{rust_type}.{field}: the result has no column {column:?}")]
    MissingColumn {
        /// The struct's name.
        rust_type: &'static str,
        /// The Rust field.
        field: &'static str,
        /// The column name the field reads.
        column: &'static str,
    },
    /// A column looked up by name ([`RowView::get_by_name`](super::RowView::get_by_name))
    /// is not in the result.
    #[error("the result has no column {column:?}")]
    NoSuchColumn {
        /// The name looked up.
        column: String,
    },
    /// A column looked up by position ([`RowView::get`](super::RowView::get)) is past the
    /// row's last column.
    #[error("column index {index} is out of range: the result has {count} columns")]
    ColumnOutOfRange {
        /// The position looked up.
        index: usize,
        /// Columns in the result.
        count: usize,
    },
    /// A result column matches no field of a derived row struct.
    #[error("column {column:?} matches no field of {rust_type}")]
    UnknownColumn {
        /// The struct's name.
        rust_type: &'static str,
        /// The column's name.
        column: String,
    },
    /// A result has two columns of the name a derived row struct reads by name.
    #[error("column {column:?} appears more than once in the result, {rust_type} reads it by name")]
    DuplicateColumn {
        /// The struct's name.
        rust_type: &'static str,
        /// The column's name.
        column: String,
    },
    /// A field of a derived user-defined type struct failed; names the struct, the field and
    /// the UDT field.
    #[error("{rust_type}.{field} (UDT field {udt_field:?}): {source}")]
    UdtField {
        /// The struct's name.
        rust_type: &'static str,
        /// The Rust field.
        field: &'static str,
        /// The UDT field it was read from.
        udt_field: &'static str,
        /// What was wrong.
        source: Box<DeserializeError>,
    },
    /// A field of a derived user-defined type struct has no field of its name in the type.
    #[error("{rust_type}.{field}: the user-defined type {cql_type} has no field {udt_field:?}")]
    MissingUdtField {
        /// The struct's name.
        rust_type: &'static str,
        /// The Rust field.
        field: &'static str,
        /// The UDT field name the Rust field reads.
        udt_field: &'static str,
        /// The user-defined type.
        cql_type: CqlType,
    },
    /// Truncated or malformed bytes.
    #[error(transparent)]
    Wire(#[from] WireError),
}

/// A type that can be read from a CQL value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a CQL value",
    label = "no CQL mapping for `{Self}`",
    note = "CQL values read into Rust primitives, `String`/`&str`, `Vec<u8>`/`&[u8]`/`Bytes`, uuid, collections, tuples, `Option<T>` (needed for columns that may be NULL), the `Cql*` newtypes, `CqlValue`, and structs deriving `DeserializeValue` (user-defined types)",
    note = "`chrono`, `time`, `num-bigint` and `bigdecimal` types need the features `chrono-04`, `time-03`, `num-bigint-04`, `bigdecimal-04` (of `scylla2`, or of `scylla2-cql`)"
)]
pub trait DeserializeValue<'frame, 'meta>: Sized {
    /// Checks once per result that `typ` can be read into `Self`.
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError>;

    /// Reads a value (`None` is null) of type `typ`, already checked by [`Self::check_type`].
    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError>;
}

/// Iterates over the raw columns of one row: each is its spec and its bytes (`None` = null).
#[derive(Debug, Clone)]
pub struct ColumnIterator<'frame, 'meta> {
    specs: std::slice::Iter<'meta, ColumnSpec>,
    index: usize,
    frame: &'frame Bytes,
    reader: WireReader<'frame>,
}

impl<'frame, 'meta> ColumnIterator<'frame, 'meta> {
    /// Columns of one row read from `row_bytes` (a slice inside `frame`), described by `specs`.
    #[inline]
    pub fn new(specs: &'meta [ColumnSpec], frame: &'frame Bytes, row_bytes: &'frame [u8]) -> Self {
        Self {
            specs: specs.iter(),
            index: 0,
            frame,
            reader: WireReader::new(row_bytes),
        }
    }

    /// The specs of the columns not read yet.
    pub fn specs_remaining(&self) -> &'meta [ColumnSpec] {
        self.specs.as_slice()
    }

    /// Columns not read yet.
    pub fn columns_remaining(&self) -> usize {
        self.specs.len()
    }

    /// The unread bytes of the row.
    pub fn remaining_bytes(&self) -> &'frame [u8] {
        self.reader.remaining()
    }
}

impl<'frame, 'meta> Iterator for ColumnIterator<'frame, 'meta> {
    type Item = Result<(&'meta ColumnSpec, Option<FrameSlice<'frame>>), DeserializeError>;

    /// A truncated column is an error naming the column ([`DeserializeError::Column`]).
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let spec = self.specs.next()?;
        let index = self.index;
        self.index += 1;
        Some(match self.reader.read_bytes() {
            Ok(v) => Ok((spec, v.map(|s| FrameSlice::new(self.frame, s)))),
            Err(e) => Err(truncated_column(index, spec, e)),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.specs.len(), Some(self.specs.len()))
    }
}

/// The error for column `index` (`spec`) whose bytes could not be read (kept out of line so
/// the hot path stays small).
#[cold]
#[inline(never)]
fn truncated_column(index: usize, spec: &ColumnSpec, e: WireError) -> DeserializeError {
    DeserializeError::Column {
        index,
        name: spec.name.clone(),
        source: Box::new(e.into()),
    }
}

/// A type that one row decodes into (a tuple here; derived structs come from the macros).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read as a result row",
    label = "expected a tuple of column types or a struct deriving `DeserializeRow`",
    note = "a row is a tuple, one element per column: a single column is `(T,)`, e.g. `rows::<(i32,)>()`",
    note = "a row type that borrows (`&str`, `&[u8]`) lives only as long as the result it was read from; read owned types (`String`, `Vec<u8>`) to keep rows, or `rows_stream::<T>()` across pages"
)]
pub trait DeserializeRow<'frame, 'meta>: Sized {
    /// Checks once per result that the columns can be read into `Self`.
    fn check_types(columns: &'meta [ColumnSpec]) -> Result<(), DeserializeError>;

    /// Reads one row, whose columns were checked by [`Self::check_types`].
    fn deserialize(row: ColumnIterator<'frame, 'meta>) -> Result<Self, DeserializeError>;

    /// Reads one row from the front of `columns`, whose bytes may run on past the row (the
    /// rest of a page), and leaves `columns` at the row's end: what the row iterators call.
    ///
    /// The default finds the row's end first (each column's length) and then calls
    /// [`Self::deserialize`] on exactly that row, so an implementation that reads columns out
    /// of order or leaves some unread stays right. The tuples read each column once instead;
    /// an implementation that reads the row's columns in order may do the same (the row
    /// iterators skip the columns it leaves unread).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use scylla2_cql::types::{ColumnSpec, CqlType};
    /// use scylla2_cql::value::{ColumnIterator, DeserializeRow};
    ///
    /// let spec = |name: &str| ColumnSpec {
    ///     keyspace: "ks".into(),
    ///     table: "t".into(),
    ///     name: name.into(),
    ///     typ: CqlType::Int,
    /// };
    /// let specs = [spec("a"), spec("b")];
    /// // Two rows of two int columns each, back to back.
    /// let page = Bytes::from_static(&[
    ///     0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2, //
    ///     0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 4,
    /// ]);
    /// let mut columns = ColumnIterator::new(&specs, &page, &page);
    /// assert_eq!(<(i32, i32)>::deserialize_prefix(&mut columns)?, (1, 2));
    /// assert_eq!(columns.remaining_bytes().len(), 16); // the second row
    /// # Ok::<(), scylla2_cql::value::DeserializeError>(())
    /// ```
    #[inline]
    fn deserialize_prefix(
        columns: &mut ColumnIterator<'frame, 'meta>,
    ) -> Result<Self, DeserializeError> {
        let specs = columns.specs_remaining();
        let start = columns.remaining_bytes();
        for column in columns.by_ref() {
            column?;
        }
        let row = &start[..start.len() - columns.remaining_bytes().len()];
        Self::deserialize(ColumnIterator::new(specs, columns.frame, row))
    }
}
