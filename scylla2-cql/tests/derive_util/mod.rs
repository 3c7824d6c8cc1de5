//! Helpers shared by the `derive_*` tests: column specs, hand-built rows, and serialization of
//! rows and values into exactly-sized buffers.
#![allow(dead_code)]

use bytes::Bytes;
use scylla2_cql::types::{ColumnSpec, CqlType, UdtType};
use scylla2_cql::value::{
    ColumnIterator, DeserializeError, DeserializeRow, DeserializeValue, FrameSlice, SerializeError,
    SerializeRow, SerializeValue,
};

/// A column `name` of type `typ` in ks.t.
pub fn spec(name: &str, typ: CqlType) -> ColumnSpec {
    ColumnSpec {
        keyspace: "ks".into(),
        table: "t".into(),
        name: name.into(),
        typ,
    }
}

/// A user-defined type ks.`name` with `fields`.
pub fn udt(name: &str, fields: &[(&str, CqlType)]) -> CqlType {
    CqlType::Udt(Box::new(UdtType {
        keyspace: "ks".into(),
        name: name.into(),
        fields: fields
            .iter()
            .map(|(n, t)| ((*n).to_owned(), t.clone()))
            .collect(),
    }))
}

/// Appends a `[bytes]` (`None` is null, length -1).
pub fn put_cell(out: &mut Vec<u8>, cell: Option<&[u8]>) {
    match cell {
        Some(b) => {
            out.extend_from_slice(&(b.len() as i32).to_be_bytes());
            out.extend_from_slice(b);
        }
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

/// The bytes of one row made of `cells`.
pub fn row(cells: &[Option<&[u8]>]) -> Bytes {
    let mut out = Vec::new();
    for c in cells {
        put_cell(&mut out, *c);
    }
    Bytes::from(out)
}

/// Checks `specs` for `R` then reads the row in `frame`.
pub fn decode<'f, 'm, R: DeserializeRow<'f, 'm>>(
    specs: &'m [ColumnSpec],
    frame: &'f Bytes,
) -> Result<R, DeserializeError> {
    R::check_types(specs)?;
    R::deserialize(ColumnIterator::new(specs, frame, frame))
}

/// Checks `row` against `specs`, then writes its values into a buffer of exactly
/// `values_size` bytes (asserting the whole buffer is filled).
pub fn serialize_row<R: SerializeRow + ?Sized>(
    row: &R,
    specs: &[ColumnSpec],
) -> Result<Vec<u8>, SerializeError> {
    row.check_types(specs)?;
    let mut out = vec![0u8; row.values_size()];
    let mut w: &mut [u8] = &mut out;
    row.write_values(&mut w);
    assert!(w.is_empty(), "values_size larger than what was written");
    Ok(out)
}

/// Checks `v` against `typ`, then writes its `[value]` into an exactly-sized buffer.
pub fn serialize_value<V: SerializeValue + ?Sized>(
    v: &V,
    typ: &CqlType,
) -> Result<Vec<u8>, SerializeError> {
    v.check_type(typ)?;
    let mut out = vec![0u8; v.value_size()];
    let mut w: &mut [u8] = &mut out;
    v.write_value(&mut w);
    assert!(w.is_empty(), "value_size larger than what was written");
    Ok(out)
}

/// Checks `typ` for `V` and reads the `[value]` (length prefix included) in `frame`.
pub fn deserialize_value<'f, 'm, V: DeserializeValue<'f, 'm>>(
    typ: &'m CqlType,
    frame: &'f Bytes,
) -> Result<V, DeserializeError> {
    V::check_type(typ)?;
    let len = i32::from_be_bytes(frame[..4].try_into().unwrap());
    let value = if len < 0 {
        None
    } else {
        Some(FrameSlice::new(frame, &frame[4..4 + len as usize]))
    };
    assert!(len < 0 || frame.len() == 4 + len as usize, "trailing bytes");
    V::deserialize(typ, value)
}
