//! Serialization (checked against the column type) and deserialization (from any type) of
//! [`CqlValue`].
//!
//! Serializing checks the variant against the type recursively: text and ascii are
//! interchangeable (with an ASCII check), uuid and timeuuid too (with a version-1 check), a
//! `BigInt` fits a counter, lists and sets are interchangeable, and `Empty` fits any type
//! outside fixed-size vector elements. UDT fields go by position and must carry the type's
//! field names; a value may have fewer fields than its type.

use bytes::BufMut;

use super::content::ValueContent;
use super::cql_value::CqlValue;
use super::de_collections::{FieldReader, RawElements};
use super::de_impls::{decode_decimal, decode_duration, decode_str, exact, invalid, non_null};
use super::deserialize::{DeserializeError, DeserializeValue, FrameSlice};
use super::newtypes::{CqlDate, CqlTime, CqlTimestamp, CqlVarint};
use super::ser_impls::{Content, inline_content, via_content};
use super::serialize::{SerializeError, SerializeValue, check_value_size};
use crate::types::CqlType;

fn mismatch(v: &CqlValue, typ: &CqlType) -> SerializeError {
    SerializeError::TypeMismatch {
        rust_type: v.variant_name(),
        cql_type: typ.clone(),
    }
}

fn check_elements(elems: &[CqlValue], elem_typ: &CqlType) -> Result<(), SerializeError> {
    elems.iter().try_for_each(|e| e.check(elem_typ))
}

impl CqlValue {
    fn check_shape(&self, typ: &CqlType) -> Result<(), SerializeError> {
        use CqlType as T;
        use CqlValue as V;
        match (self, typ) {
            (V::Empty, T::Vector(..)) => Err(mismatch(self, typ)),
            (V::Empty, _) => Ok(()),
            (V::Ascii(s) | V::Text(s), T::Ascii | T::Text) => s.as_str().check(typ),
            (V::Blob(_), T::Blob) | (V::Custom(_), T::Custom(_) | T::Blob) => Ok(()),
            (V::Boolean(_), T::Boolean)
            | (V::Counter(_), T::Counter)
            | (V::BigInt(_), T::BigInt | T::Counter)
            | (V::Double(_), T::Double)
            | (V::Float(_), T::Float)
            | (V::Int(_), T::Int)
            | (V::Timestamp(_), T::Timestamp)
            | (V::Inet(_), T::Inet)
            | (V::Date(_), T::Date)
            | (V::SmallInt(_), T::SmallInt)
            | (V::TinyInt(_), T::TinyInt) => Ok(()),
            (V::Decimal(d), T::Decimal) => d.check(typ),
            (V::Uuid(u) | V::Timeuuid(u), T::Uuid | T::Timeuuid) => u.check(typ),
            (V::Time(t), T::Time) => t.check(typ),
            (V::Duration(d), T::Duration) => d.check(typ),
            (V::Varint(v), T::Varint) => v.check(typ),
            (V::List(elems) | V::Set(elems), T::List(e) | T::Set(e)) => check_elements(elems, e),
            (V::Map(entries), T::Map(kt, vt)) => entries.iter().try_for_each(|(k, v)| {
                k.check(kt)?;
                v.check(vt)
            }),
            (V::Tuple(fields), T::Tuple(types)) if fields.len() == types.len() => fields
                .iter()
                .zip(types)
                .try_for_each(|(f, t)| f.as_ref().map_or(Ok(()), |f| f.check(t))),
            (V::Udt { fields, .. }, T::Udt(def)) if fields.len() <= def.fields.len() => {
                for (index, ((name, value), (tname, ftyp))) in
                    fields.iter().zip(&def.fields).enumerate()
                {
                    if name != tname {
                        return Err(SerializeError::FieldNameMismatch {
                            index,
                            expected: tname.clone(),
                            given: name.clone(),
                            cql_type: typ.clone(),
                        });
                    }
                    if let Some(v) = value {
                        v.check(ftyp)?;
                    }
                }
                Ok(())
            }
            (V::Vector(elems), T::Vector(e, dim)) => {
                if elems.len() != *dim as usize {
                    return Err(SerializeError::OutOfRange {
                        rust_type: self.variant_name(),
                        cql_type: typ.clone(),
                        reason: "element count differs from the vector's dimension",
                    });
                }
                let fixed = e.vector_fixed_size();
                for elem in elems {
                    elem.check(e)?;
                    if elem.fixed_size() != fixed {
                        return Err(SerializeError::OutOfRange {
                            rust_type: elem.variant_name(),
                            cql_type: typ.clone(),
                            reason: "element size does not fit the vector's element type",
                        });
                    }
                }
                Ok(())
            }
            _ => Err(mismatch(self, typ)),
        }
    }
}

impl Content for CqlValue {
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
        self.check_shape(typ)?;
        check_value_size(self.content_size())
    }

    fn content_size(&self) -> usize {
        use CqlValue as V;
        match self {
            V::Ascii(s) | V::Text(s) => s.len(),
            V::Blob(b) | V::Custom(b) => b.len(),
            V::Boolean(_) | V::TinyInt(_) => 1,
            V::SmallInt(_) => 2,
            V::Int(_) | V::Float(_) | V::Date(_) => 4,
            V::Counter(_) | V::BigInt(_) | V::Double(_) | V::Timestamp(_) | V::Time(_) => 8,
            V::Uuid(_) | V::Timeuuid(_) => 16,
            V::Inet(a) => a.content_size(),
            V::Decimal(d) => d.content_size(),
            V::Duration(d) => d.content_size(),
            V::Varint(v) => v.0.len(),
            V::List(e) | V::Set(e) => 4 + e.iter().map(|e| 4 + e.content_size()).sum::<usize>(),
            V::Map(e) => {
                4 + e
                    .iter()
                    .map(|(k, v)| 8 + k.content_size() + v.content_size())
                    .sum::<usize>()
            }
            V::Tuple(f) => f.iter().map(SerializeValue::value_size).sum(),
            V::Udt { fields, .. } => fields.iter().map(|(_, v)| v.value_size()).sum(),
            V::Vector(e) => e.iter().map(SerializeValue::vector_element_size).sum(),
            V::Empty => 0,
        }
    }

    fn write_content(&self, buf: &mut &mut [u8]) {
        use CqlValue as V;
        match self {
            V::Ascii(s) | V::Text(s) => buf.put_slice(s.as_bytes()),
            V::Blob(b) | V::Custom(b) => buf.put_slice(b),
            V::Boolean(v) => buf.put_u8(u8::from(*v)),
            V::TinyInt(v) => buf.put_i8(*v),
            V::SmallInt(v) => buf.put_i16(*v),
            V::Int(v) => buf.put_i32(*v),
            V::Float(v) => buf.put_f32(*v),
            V::Date(v) => buf.put_u32(v.0),
            V::Counter(v) | V::BigInt(v) => buf.put_i64(*v),
            V::Double(v) => buf.put_f64(*v),
            V::Timestamp(v) => buf.put_i64(v.0),
            V::Time(v) => buf.put_i64(v.0),
            V::Uuid(v) | V::Timeuuid(v) => buf.put_slice(v.as_bytes()),
            V::Inet(a) => a.write_content(buf),
            V::Decimal(d) => d.write_content(buf),
            V::Duration(d) => d.write_content(buf),
            V::Varint(v) => buf.put_slice(&v.0),
            V::List(e) | V::Set(e) => {
                buf.put_i32(e.len() as i32);
                e.iter().for_each(|e| e.write_value(buf));
            }
            V::Map(e) => {
                buf.put_i32(e.len() as i32);
                for (k, v) in e {
                    k.write_value(buf);
                    v.write_value(buf);
                }
            }
            V::Tuple(f) => f.iter().for_each(|f| f.write_value(buf)),
            V::Udt { fields, .. } => fields.iter().for_each(|(_, v)| v.write_value(buf)),
            V::Vector(e) => e.iter().for_each(|e| e.write_vector_element(buf)),
            V::Empty => {}
        }
    }

    fn fixed_size(&self) -> Option<usize> {
        use CqlValue as V;
        match self {
            V::Boolean(_) => Some(1),
            V::Int(_) | V::Float(_) => Some(4),
            V::BigInt(_) | V::Double(_) | V::Timestamp(_) => Some(8),
            V::Uuid(_) | V::Timeuuid(_) => Some(16),
            V::Vector(e) => e
                .iter()
                .try_fold(0usize, |acc, e| Some(acc + e.fixed_size()?)),
            _ => None,
        }
    }

    fn key_content(&self) -> ValueContent<'_> {
        use CqlValue as V;
        match self {
            V::Ascii(s) | V::Text(s) => ValueContent::Borrowed(s.as_bytes()),
            V::Blob(b) | V::Custom(b) => ValueContent::Borrowed(b),
            V::Varint(v) => ValueContent::Borrowed(&v.0),
            _ => inline_content(self),
        }
    }
}

impl SerializeValue for CqlValue {
    via_content!();
}

fn decode_opt(
    typ: &CqlType,
    v: Option<FrameSlice<'_>>,
) -> Result<Option<CqlValue>, DeserializeError> {
    v.map(|v| decode(typ, v)).transpose()
}

fn decode_elements(
    outer: &CqlType,
    elem: &CqlType,
    mut raw: RawElements<'_>,
) -> Result<Vec<CqlValue>, DeserializeError> {
    // The count was checked against the bytes present.
    let mut out = Vec::with_capacity(raw.len());
    while let Some(v) = raw.next_raw() {
        let v = v?.ok_or_else(|| invalid(outer, "null element in a collection"))?;
        out.push(decode(elem, v)?);
    }
    Ok(out)
}

/// Decodes a non-null value of any type.
pub(crate) fn decode(typ: &CqlType, v: FrameSlice<'_>) -> Result<CqlValue, DeserializeError> {
    use CqlType as T;
    use CqlValue as V;
    let b = v.as_slice();
    if b.is_empty() && !matches!(typ, T::Ascii | T::Text | T::Blob | T::Custom(_)) {
        return Ok(V::Empty);
    }
    Ok(match typ {
        T::Custom(_) => V::Custom(v.to_bytes()),
        T::Ascii => V::Ascii(decode_str(typ, b)?.to_owned()),
        T::Text => V::Text(decode_str(typ, b)?.to_owned()),
        T::Blob => V::Blob(v.to_bytes()),
        T::Boolean => V::Boolean(exact::<1>(typ, b)?[0] != 0),
        T::TinyInt => V::TinyInt(i8::from_be_bytes(exact(typ, b)?)),
        T::SmallInt => V::SmallInt(i16::from_be_bytes(exact(typ, b)?)),
        T::Int => V::Int(i32::from_be_bytes(exact(typ, b)?)),
        T::BigInt => V::BigInt(i64::from_be_bytes(exact(typ, b)?)),
        T::Counter => V::Counter(i64::from_be_bytes(exact(typ, b)?)),
        T::Float => V::Float(f32::from_be_bytes(exact(typ, b)?)),
        T::Double => V::Double(f64::from_be_bytes(exact(typ, b)?)),
        T::Timestamp => V::Timestamp(CqlTimestamp(i64::from_be_bytes(exact(typ, b)?))),
        T::Date => V::Date(CqlDate(u32::from_be_bytes(exact(typ, b)?))),
        T::Time => V::Time(CqlTime(i64::from_be_bytes(exact(typ, b)?))),
        T::Uuid => V::Uuid(uuid::Uuid::from_bytes(exact(typ, b)?)),
        T::Timeuuid => V::Timeuuid(uuid::Uuid::from_bytes(exact(typ, b)?)),
        T::Inet => V::Inet(std::net::IpAddr::deserialize(typ, Some(v))?),
        T::Decimal => V::Decimal(decode_decimal(typ, v)?),
        T::Varint => V::Varint(CqlVarint(v.to_bytes())),
        T::Duration => V::Duration(decode_duration(typ, b)?),
        T::List(e) => V::List(decode_elements(
            typ,
            e,
            RawElements::collection(typ, v, 1)?,
        )?),
        T::Set(e) => V::Set(decode_elements(
            typ,
            e,
            RawElements::collection(typ, v, 1)?,
        )?),
        T::Map(kt, vt) => {
            let mut raw = RawElements::collection(typ, v, 2)?;
            let mut out = Vec::with_capacity(raw.len() / 2);
            while let (Some(k), Some(v)) = (raw.next_raw(), raw.next_raw()) {
                let k = k?.ok_or_else(|| invalid(typ, "null map key"))?;
                let v = v?.ok_or_else(|| invalid(typ, "null map value"))?;
                out.push((decode(kt, k)?, decode(vt, v)?));
            }
            V::Map(out)
        }
        T::Tuple(types) => {
            let mut r = FieldReader::new(v);
            let mut out = Vec::with_capacity(types.len().min(b.len() / 4));
            for t in types {
                out.push(decode_opt(t, r.next_field()?)?);
            }
            r.finish()?;
            V::Tuple(out)
        }
        T::Udt(def) => {
            let mut r = FieldReader::new(v);
            let mut fields = Vec::with_capacity(def.fields.len().min(b.len() / 4));
            for (name, t) in &def.fields {
                fields.push((name.clone(), decode_opt(t, r.next_field()?)?));
            }
            r.finish()?;
            V::Udt {
                keyspace: def.keyspace.clone(),
                name: def.name.clone(),
                fields,
            }
        }
        T::Vector(e, dim) => V::Vector(decode_elements(
            typ,
            e,
            RawElements::vector(typ, e, *dim, v)?,
        )?),
    })
}

/// Reads any type; a zero-length value of a non-string type is [`CqlValue::Empty`].
impl<'frame, 'meta> DeserializeValue<'frame, 'meta> for CqlValue {
    fn check_type(_typ: &'meta CqlType) -> Result<(), DeserializeError> {
        Ok(())
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        decode(typ, non_null::<Self>(value)?)
    }
}
