//! Runtime helpers called by the code that `scylla2-macros` derives (`SerializeRow`,
//! `DeserializeRow`, and `SerializeValue` / `DeserializeValue` for user-defined types).
//!
//! They keep the generated code small and put the matching rules in one tested place. None
//! allocates except to build an error. They are public so that generated code can reach them
//! from other crates; calling them by hand is possible but not needed.
//!
//! The rules they implement:
//! - Rows serialized by name: field `i` must bind marker `i` of the same name (values are
//!   written in field order without knowing the statement, so the orders must agree; a
//!   mismatch is a [`SerializeError::FieldOrder`] naming both positions). Rows with
//!   `send_names` send each value with its name and the server binds them, so any order
//!   works: every field needs a marker of its name and every marker a field.
//! - User-defined types serialized: field `i` must be the type's field `i` of the same name;
//!   fields the type has beyond the struct's (added by `ALTER TYPE ... ADD`, which appends) are
//!   left out of the value, which the protocol reads as null.
//! - User-defined types deserialized: fields are matched by name in any order, fields of the
//!   type that the struct does not have are skipped, and fields missing at the end of the value
//!   are null.
//!
//! ```
//! # use bytes::Bytes;
//! # use scylla2_cql::types::{ColumnSpec, CqlType, UdtType};
//! # use scylla2_cql::value::{ColumnIterator, DeserializeRow, SerializeRow};
//! use scylla2_macros::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};
//!
//! #[derive(Debug, PartialEq, SerializeValue, DeserializeValue)]
//! struct Address {
//!     street: String,
//!     #[scylla2(rename = "zip_code")]
//!     zip: Option<i32>,
//! }
//!
//! #[derive(SerializeRow)]
//! struct NewUser<'a> {
//!     id: i32,
//!     name: &'a str,
//!     home: Address,
//! }
//!
//! #[derive(Debug, DeserializeRow)]
//! struct User<'a> {
//!     name: &'a str, // borrowed from the response frame
//!     home: Address,
//!     id: i32,
//! }
//!
//! # let col = |name: &str, typ: CqlType| ColumnSpec {
//! #     keyspace: "ks".into(), table: "users".into(), name: name.into(), typ,
//! # };
//! let address = CqlType::Udt(Box::new(UdtType {
//!     keyspace: "ks".into(),
//!     name: "address".into(),
//!     fields: vec![("street".into(), CqlType::Text), ("zip_code".into(), CqlType::Int)],
//! }));
//! let markers = [col("id", CqlType::Int), col("name", CqlType::Text), col("home", address)];
//! let user = NewUser { id: 1, name: "ann", home: Address { street: "Main".into(), zip: None } };
//! user.check_types(&markers)?;
//! let mut buf = vec![0u8; user.values_size()];
//! user.write_values(&mut &mut buf[..]);
//!
//! // The written values form a row with the same columns; read it back by name.
//! let frame = Bytes::from(buf);
//! User::check_types(&markers)?;
//! let read = User::deserialize(ColumnIterator::new(&markers, &frame, &frame))?;
//! assert_eq!((read.id, read.name, read.home.zip), (1, "ann", None));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::any::type_name;

use bytes::BufMut;

use super::de_collections::FieldReader;
use super::deserialize::{ColumnIterator, DeserializeError, DeserializeValue, FrameSlice};
use super::serialize::{SerializeError, SerializeValue};
use crate::types::{ColumnSpec, CqlType, UdtType};

pub use super::serialize::check_value_size;

/// Wraps a field's deserialization error with the struct, field and column names.
pub fn de_field_error(
    rust_type: &'static str,
    field: &'static str,
    column: &str,
    source: DeserializeError,
) -> DeserializeError {
    DeserializeError::Field {
        rust_type,
        field,
        column: column.to_owned(),
        source: Box::new(source),
    }
}

/// Checks the type of column `spec` for the field `field` of type `T`.
pub fn check_column<'frame, 'meta, T: DeserializeValue<'frame, 'meta>>(
    rust_type: &'static str,
    field: &'static str,
    spec: &'meta ColumnSpec,
) -> Result<(), DeserializeError> {
    T::check_type(&spec.typ).map_err(|e| de_field_error(rust_type, field, &spec.name, e))
}

/// Reads column `spec` (value `value`) into the field `field` of type `T`.
pub fn read_column<'frame, 'meta, T: DeserializeValue<'frame, 'meta>>(
    rust_type: &'static str,
    field: &'static str,
    spec: &'meta ColumnSpec,
    value: Option<FrameSlice<'frame>>,
) -> Result<T, DeserializeError> {
    T::deserialize(&spec.typ, value).map_err(|e| de_field_error(rust_type, field, &spec.name, e))
}

/// Errors unless a row read by position has exactly `expected` columns.
pub fn check_column_count(expected: usize, actual: usize) -> Result<(), DeserializeError> {
    if expected == actual {
        Ok(())
    } else {
        Err(DeserializeError::WrongColumnCount { expected, actual })
    }
}

/// The next column of a row read by position; `index` is the field's position.
pub fn next_column<'frame, 'meta>(
    row: &mut ColumnIterator<'frame, 'meta>,
    expected: usize,
    index: usize,
) -> Result<(&'meta ColumnSpec, Option<FrameSlice<'frame>>), DeserializeError> {
    match row.next() {
        Some(column) => column,
        None => Err(DeserializeError::WrongColumnCount {
            expected,
            actual: index,
        }),
    }
}

/// A result column that matches no field of `rust_type`.
pub fn unknown_column(rust_type: &'static str, column: &str) -> DeserializeError {
    DeserializeError::UnknownColumn {
        rust_type,
        column: column.to_owned(),
    }
}

/// A result column that appears twice.
pub fn duplicate_column(rust_type: &'static str, column: &str) -> DeserializeError {
    DeserializeError::DuplicateColumn {
        rust_type,
        column: column.to_owned(),
    }
}

/// A field whose column is not in the result.
pub fn missing_column(
    rust_type: &'static str,
    field: &'static str,
    column: &'static str,
) -> DeserializeError {
    DeserializeError::MissingColumn {
        rust_type,
        field,
        column,
    }
}

/// The definition of the user-defined type `typ`, or a type mismatch naming `T`.
pub fn de_udt_type<T: ?Sized>(typ: &CqlType) -> Result<&UdtType, DeserializeError> {
    match typ {
        CqlType::Udt(def) => Ok(def),
        _ => Err(DeserializeError::TypeMismatch {
            rust_type: type_name::<T>(),
            cql_type: typ.clone(),
        }),
    }
}

/// Checks that the user-defined type `typ` (defined by `def`) has a field `udt_field` readable
/// into `T`.
pub fn check_udt_field<'frame, 'meta, T: DeserializeValue<'frame, 'meta>>(
    rust_type: &'static str,
    field: &'static str,
    udt_field: &'static str,
    typ: &'meta CqlType,
    def: &'meta UdtType,
) -> Result<(), DeserializeError> {
    match def.fields.iter().find(|(name, _)| name == udt_field) {
        Some((_, ftyp)) => T::check_type(ftyp).map_err(|e| DeserializeError::UdtField {
            rust_type,
            field,
            udt_field,
            source: Box::new(e),
        }),
        None => Err(missing_udt_field(rust_type, field, udt_field, typ)),
    }
}

/// Reads the UDT field `udt_field` (type `ftyp`, value `value`) into a `T`.
pub fn read_udt_field<'frame, 'meta, T: DeserializeValue<'frame, 'meta>>(
    rust_type: &'static str,
    field: &'static str,
    udt_field: &'static str,
    ftyp: &'meta CqlType,
    value: Option<FrameSlice<'frame>>,
) -> Result<T, DeserializeError> {
    T::deserialize(ftyp, value).map_err(|e| DeserializeError::UdtField {
        rust_type,
        field,
        udt_field,
        source: Box::new(e),
    })
}

/// A field of `rust_type` that the user-defined type `typ` does not have.
pub fn missing_udt_field(
    rust_type: &'static str,
    field: &'static str,
    udt_field: &'static str,
    typ: &CqlType,
) -> DeserializeError {
    DeserializeError::MissingUdtField {
        rust_type,
        field,
        udt_field,
        cql_type: typ.clone(),
    }
}

/// Reads the `[bytes]` fields of a tuple or user-defined type value in order: fields missing
/// at the end of the value read as null; bytes left after the type's last field are an error
/// ([`Self::finish`]).
#[derive(Debug, Clone)]
pub struct UdtFieldReader<'frame> {
    inner: FieldReader<'frame>,
}

impl<'frame> UdtFieldReader<'frame> {
    /// Reads the fields of `value`; a null value (`None`) is
    /// [`DeserializeError::UnexpectedNull`] naming `T`.
    pub fn new<T: ?Sized>(value: Option<FrameSlice<'frame>>) -> Result<Self, DeserializeError> {
        match value {
            Some(v) => Ok(Self {
                inner: FieldReader::new(v),
            }),
            None => Err(DeserializeError::UnexpectedNull {
                rust_type: type_name::<T>(),
            }),
        }
    }

    /// The next field's value (`None` when null or absent).
    pub fn next_field(&mut self) -> Result<Option<FrameSlice<'frame>>, DeserializeError> {
        self.inner.next_field()
    }

    /// Errors when bytes are left after the type's last field.
    pub fn finish(&self) -> Result<(), DeserializeError> {
        self.inner.finish()
    }
}

fn ser_field_error(
    rust_type: &'static str,
    field: &'static str,
    index: usize,
    col: &ColumnSpec,
    source: SerializeError,
) -> SerializeError {
    SerializeError::Field {
        rust_type,
        field,
        index,
        name: col.name.clone(),
        source: Box::new(source),
    }
}

/// Checks the field `field` (position `index`, bound by name to the marker `name`) of a row
/// serialized by name: marker `index` must have that name, and its type must fit `value`.
pub fn check_named_field<V: SerializeValue + ?Sized>(
    rust_type: &'static str,
    field: &'static str,
    name: &'static str,
    index: usize,
    value: &V,
    columns: &[ColumnSpec],
) -> Result<(), SerializeError> {
    let position = || columns.iter().position(|c| c.name == name);
    match columns.get(index) {
        Some(col) if col.name == name => value
            .check_type(&col.typ)
            .map_err(|e| ser_field_error(rust_type, field, index, col, e)),
        Some(col) => match position() {
            Some(marker_index) => Err(SerializeError::FieldOrder {
                rust_type,
                field,
                index,
                marker: col.name.clone(),
                marker_index,
            }),
            None => Err(SerializeError::NoMarkerForField {
                rust_type,
                field,
                name,
            }),
        },
        None => Err(SerializeError::NoMarkerForField {
            rust_type,
            field,
            name,
        }),
    }
}

/// Checks that a row serialized by name with `fields` fields leaves no marker without a value
/// (run after every field was checked with [`check_named_field`]).
pub fn check_no_extra_marker(
    rust_type: &'static str,
    fields: usize,
    columns: &[ColumnSpec],
) -> Result<(), SerializeError> {
    match columns.get(fields) {
        Some(col) => Err(SerializeError::NoFieldForMarker {
            rust_type,
            index: fields,
            name: col.name.clone(),
        }),
        None => Ok(()),
    }
}

/// Checks the field `field` of a row sent with names (`send_names`): a marker must bear its
/// name `name` (at any position), and every marker of that name must fit `value`.
pub fn check_sent_name<V: SerializeValue + ?Sized>(
    rust_type: &'static str,
    field: &'static str,
    name: &'static str,
    value: &V,
    columns: &[ColumnSpec],
) -> Result<(), SerializeError> {
    let mut found = false;
    for (index, col) in columns.iter().enumerate().filter(|(_, c)| c.name == name) {
        found = true;
        value
            .check_type(&col.typ)
            .map_err(|e| ser_field_error(rust_type, field, index, col, e))?;
    }
    if found {
        Ok(())
    } else {
        Err(SerializeError::NoMarkerForField {
            rust_type,
            field,
            name,
        })
    }
}

/// Checks that every bind marker of a statement is named like one of `names` (the names a
/// `send_names` row sends).
pub fn check_markers_have_names(
    rust_type: &'static str,
    names: &[&'static str],
    columns: &[ColumnSpec],
) -> Result<(), SerializeError> {
    match columns
        .iter()
        .enumerate()
        .find(|(_, c)| !names.contains(&c.name.as_str()))
    {
        Some((index, col)) => Err(SerializeError::NoFieldForMarker {
            rust_type,
            index,
            name: col.name.clone(),
        }),
        None => Ok(()),
    }
}

/// Checks the marker count of a row serialized by position.
pub fn check_value_count(
    expected_by_type: usize,
    columns: &[ColumnSpec],
) -> Result<(), SerializeError> {
    if columns.len() == expected_by_type {
        Ok(())
    } else {
        Err(SerializeError::WrongValueCount {
            expected: columns.len(),
            given: expected_by_type,
        })
    }
}

/// Checks the field `field` of a row serialized by position against marker `index` (the
/// caller checked the count with [`check_value_count`]).
pub fn check_positional_field<V: SerializeValue + ?Sized>(
    rust_type: &'static str,
    field: &'static str,
    index: usize,
    value: &V,
    columns: &[ColumnSpec],
) -> Result<(), SerializeError> {
    match columns.get(index) {
        Some(col) => value
            .check_type(&col.typ)
            .map_err(|e| ser_field_error(rust_type, field, index, col, e)),
        None => Err(SerializeError::WrongValueCount {
            expected: columns.len(),
            given: index + 1,
        }),
    }
}

/// The definition of the user-defined type `typ`, or a type mismatch naming `T`.
pub fn ser_udt_type<T: ?Sized>(typ: &CqlType) -> Result<&UdtType, SerializeError> {
    match typ {
        CqlType::Udt(def) => Ok(def),
        _ => Err(SerializeError::TypeMismatch {
            rust_type: type_name::<T>(),
            cql_type: typ.clone(),
        }),
    }
}

/// Checks field `index` of a user-defined type value: the type's field `index` must be named
/// `udt_field`, fit `value`, and `value` must not be unset.
pub fn check_udt_value_field<V: SerializeValue + ?Sized>(
    rust_type: &'static str,
    field: &'static str,
    udt_field: &'static str,
    index: usize,
    value: &V,
    typ: &CqlType,
    def: &UdtType,
) -> Result<(), SerializeError> {
    let Some((name, ftyp)) = def.fields.get(index) else {
        return Err(SerializeError::MissingUdtField {
            rust_type,
            field,
            udt_field,
            cql_type: typ.clone(),
        });
    };
    if name != udt_field {
        return Err(SerializeError::FieldNameMismatch {
            index,
            expected: name.clone(),
            given: udt_field.to_owned(),
            cql_type: typ.clone(),
        });
    }
    if value.is_unset() {
        return Err(SerializeError::NullElement {
            what: "unset",
            cql_type: typ.clone(),
        });
    }
    value
        .check_type(ftyp)
        .map_err(|e| SerializeError::UdtField {
            rust_type,
            field,
            udt_field,
            source: Box::new(e),
        })
}

/// Writes the `[int]` length in front of a value's content (checked by
/// [`super::serialize::check_value_size`] in `check_type`).
pub fn put_content_len(buf: &mut &mut [u8], content_size: usize) {
    buf.put_i32(content_size as i32);
}

/// Size of a value whose content is `content_size` bytes, as a vector element (a vint length
/// then the content).
pub fn vector_element_size(content_size: usize) -> usize {
    super::vint::unsigned_size(content_size as u64) + content_size
}

/// Writes the vint length in front of a vector element's content.
pub fn put_vector_element_len(buf: &mut &mut [u8], content_size: usize) {
    super::vint::put_unsigned(buf, content_size as u64);
}
