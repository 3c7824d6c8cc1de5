//! Lazy, allocation-free collection iterators ([`ListIter`], [`SetIter`], [`MapIter`]) and the
//! owned collections built on them (`Vec`, arrays, sets, maps), vectors, and Rust tuples read
//! from CQL tuples.
//!
//! A collection's layout is checked when it is read (count against the bytes present, every
//! element length in bounds, nothing left over) without decoding elements; elements are then
//! decoded one at a time as the iterator advances. A null collection reads as empty, because
//! Cassandra returns null for an empty non-frozen collection; a null vector or tuple is an
//! error unless read through `Option`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;

use super::de_impls::{de_mismatch, invalid, non_null};
use super::deserialize::{DeserializeError, DeserializeValue, FrameSlice};
use super::newtypes::CqlVector;
use super::vint;
use crate::types::CqlType;
use crate::wire::WireReader;

#[derive(Debug, Clone, Copy)]
enum Format {
    /// `[bytes]` elements (collections, tuples, UDTs).
    Bytes,
    /// Bare elements of this size (vectors of fixed-size types).
    Fixed(usize),
    /// Unsigned-vint-prefixed elements (vectors of other types).
    VInt,
}

/// Validated raw elements of a collection or vector, yielded one at a time.
#[derive(Debug, Clone)]
pub(crate) struct RawElements<'frame> {
    frame: Option<FrameSlice<'frame>>,
    reader: WireReader<'frame>,
    remaining: usize,
    format: Format,
}

impl<'frame> RawElements<'frame> {
    #[inline]
    pub(crate) fn empty() -> Self {
        Self {
            frame: None,
            reader: WireReader::new(&[]),
            remaining: 0,
            format: Format::Bytes,
        }
    }

    /// A list, set (`per_entry` 1) or map (`per_entry` 2): `[int]` count then `[bytes]`s. A
    /// zero-length value is an empty collection.
    #[inline]
    pub(crate) fn collection(
        typ: &CqlType,
        v: FrameSlice<'frame>,
        per_entry: usize,
    ) -> Result<Self, DeserializeError> {
        let bytes = v.as_slice();
        if bytes.is_empty() {
            return Ok(Self::empty());
        }
        let mut r = WireReader::new(bytes);
        let n = r.read_i32()?;
        let n = usize::try_from(n).map_err(|_| invalid(typ, "negative element count"))?;
        let items = n
            .checked_mul(per_entry)
            .filter(|&items| items <= r.len() / 4)
            .ok_or_else(|| invalid(typ, "element count exceeds the value's length"))?;
        let start = r;
        for _ in 0..items {
            r.read_bytes()?;
        }
        r.expect_end()?;
        Ok(Self {
            frame: Some(v),
            reader: start,
            remaining: items,
            format: Format::Bytes,
        })
    }

    /// A vector of `dim` elements of `elem`.
    pub(crate) fn vector(
        typ: &CqlType,
        elem: &CqlType,
        dim: u32,
        v: FrameSlice<'frame>,
    ) -> Result<Self, DeserializeError> {
        let bytes = v.as_slice();
        let dim = dim as usize;
        let format = match elem.vector_fixed_size() {
            Some(0) if dim > 0 => return Err(invalid(typ, "zero-size vector elements")),
            Some(size) => {
                if size.checked_mul(dim) != Some(bytes.len()) {
                    return Err(invalid(
                        typ,
                        "vector length is not dimension times element size",
                    ));
                }
                Format::Fixed(size)
            }
            None => {
                if dim > bytes.len() {
                    return Err(invalid(typ, "vector dimension exceeds the value's length"));
                }
                let mut r = WireReader::new(bytes);
                for _ in 0..dim {
                    let n = vint::read_unsigned(&mut r)?;
                    r.read_slice(usize::try_from(n).unwrap_or(usize::MAX))?;
                }
                r.expect_end()?;
                Format::VInt
            }
        };
        Ok(Self {
            frame: Some(v),
            reader: WireReader::new(bytes),
            remaining: dim,
            format,
        })
    }

    /// Elements (or map keys and values) left.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.remaining
    }

    /// The next element's bytes (`None` inside is null).
    #[inline]
    pub(crate) fn next_raw(
        &mut self,
    ) -> Option<Result<Option<FrameSlice<'frame>>, DeserializeError>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let frame = self.frame?;
        let r = match self.format {
            Format::Bytes => self
                .reader
                .read_bytes()
                .map(|o| o.map(|s| frame.with_slice(s))),
            Format::Fixed(n) => self.reader.read_slice(n).map(|s| Some(frame.with_slice(s))),
            Format::VInt => vint::read_unsigned(&mut self.reader).and_then(|n| {
                self.reader
                    .read_slice(usize::try_from(n).unwrap_or(usize::MAX))
                    .map(|s| Some(frame.with_slice(s)))
            }),
        };
        Some(r.map_err(DeserializeError::from))
    }
}

/// The elements of a list, set or vector, decoded lazily as `T`.
#[derive(Debug, Clone)]
pub struct ListIter<'frame, 'meta, T> {
    elem_typ: &'meta CqlType,
    raw: RawElements<'frame>,
    _elem: PhantomData<fn() -> T>,
}

impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>> ListIter<'frame, 'meta, T> {
    /// Reads as the Rust type `R` (named in errors).
    fn read<R: ?Sized>(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        let (elem_typ, raw) = match typ {
            CqlType::List(e) | CqlType::Set(e) => (
                &**e,
                match value {
                    Some(v) => RawElements::collection(typ, v, 1)?,
                    None => RawElements::empty(),
                },
            ),
            CqlType::Vector(e, dim) => (
                &**e,
                RawElements::vector(typ, e, *dim, non_null::<R>(value)?)?,
            ),
            _ => return Err(de_mismatch::<R>(typ)),
        };
        Ok(Self {
            elem_typ,
            raw,
            _elem: PhantomData,
        })
    }

    /// Type check of a Rust set `R` (named in errors): from a set or list, not a vector.
    fn check_set<R: ?Sized>(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        match typ {
            CqlType::Set(e) | CqlType::List(e) => T::check_type(e),
            _ => Err(de_mismatch::<R>(typ)),
        }
    }

    /// Reads the elements of a Rust set `R` (named in errors): from a set or list, not a
    /// vector.
    fn read_set<R: ?Sized>(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        if matches!(typ, CqlType::Vector(..)) {
            return Err(de_mismatch::<R>(typ));
        }
        Self::read::<R>(typ, value)
    }
}

impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>> DeserializeValue<'frame, 'meta>
    for ListIter<'frame, 'meta, T>
{
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        match typ {
            CqlType::List(e) | CqlType::Set(e) | CqlType::Vector(e, _) => T::check_type(e),
            _ => Err(de_mismatch::<Self>(typ)),
        }
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        Self::read::<Self>(typ, value)
    }
}

impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>> Iterator for ListIter<'frame, 'meta, T> {
    type Item = Result<T, DeserializeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.raw.next_raw()?;
        Some(raw.and_then(|v| T::deserialize(self.elem_typ, v)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.len(), Some(self.raw.len()))
    }
}

impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>> ExactSizeIterator
    for ListIter<'frame, 'meta, T>
{
}

/// The elements of a set, decoded lazily as `T` (in wire order, which is the set's order).
#[derive(Debug, Clone)]
pub struct SetIter<'frame, 'meta, T>(ListIter<'frame, 'meta, T>);

impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>> DeserializeValue<'frame, 'meta>
    for SetIter<'frame, 'meta, T>
{
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        match typ {
            CqlType::Set(e) => T::check_type(e),
            _ => Err(de_mismatch::<Self>(typ)),
        }
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        match typ {
            CqlType::Set(_) => ListIter::read::<Self>(typ, value).map(SetIter),
            _ => Err(de_mismatch::<Self>(typ)),
        }
    }
}

impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>> Iterator for SetIter<'frame, 'meta, T> {
    type Item = Result<T, DeserializeError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>> ExactSizeIterator
    for SetIter<'frame, 'meta, T>
{
}

/// The entries of a map, decoded lazily as `(K, V)` in wire order.
#[derive(Debug, Clone)]
pub struct MapIter<'frame, 'meta, K, V> {
    key_typ: &'meta CqlType,
    value_typ: &'meta CqlType,
    raw: RawElements<'frame>,
    _kv: PhantomData<fn() -> (K, V)>,
}

impl<'frame, 'meta, K, V> DeserializeValue<'frame, 'meta> for MapIter<'frame, 'meta, K, V>
where
    K: DeserializeValue<'frame, 'meta>,
    V: DeserializeValue<'frame, 'meta>,
{
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        match typ {
            CqlType::Map(k, v) => {
                K::check_type(k)?;
                V::check_type(v)
            }
            _ => Err(de_mismatch::<Self>(typ)),
        }
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        let CqlType::Map(k, v) = typ else {
            return Err(de_mismatch::<Self>(typ));
        };
        Ok(Self {
            key_typ: k,
            value_typ: v,
            raw: match value {
                Some(bytes) => RawElements::collection(typ, bytes, 2)?,
                None => RawElements::empty(),
            },
            _kv: PhantomData,
        })
    }
}

impl<'frame, 'meta, K, V> Iterator for MapIter<'frame, 'meta, K, V>
where
    K: DeserializeValue<'frame, 'meta>,
    V: DeserializeValue<'frame, 'meta>,
{
    type Item = Result<(K, V), DeserializeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let k = self.raw.next_raw()?;
        let v = self.raw.next_raw()?;
        Some((|| {
            let k = K::deserialize(self.key_typ, k?)?;
            let v = V::deserialize(self.value_typ, v?)?;
            Ok((k, v))
        })())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.raw.len() / 2;
        (n, Some(n))
    }
}

impl<'frame, 'meta, K, V> ExactSizeIterator for MapIter<'frame, 'meta, K, V>
where
    K: DeserializeValue<'frame, 'meta>,
    V: DeserializeValue<'frame, 'meta>,
{
}

/// From a list, set or vector.
impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>> DeserializeValue<'frame, 'meta> for Vec<T> {
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        ListIter::<T>::check_type(typ).map_err(|_| de_mismatch::<Self>(typ))
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        let iter = ListIter::<T>::read::<Self>(typ, value)?;
        // The count was checked against the bytes present.
        let mut out = Vec::with_capacity(iter.len());
        for v in iter {
            out.push(v?);
        }
        Ok(out)
    }
}

/// From a list, set or vector of exactly `N` elements.
impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>, const N: usize>
    DeserializeValue<'frame, 'meta> for [T; N]
{
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        match typ {
            CqlType::Vector(_, dim) if *dim as usize != N => Err(de_mismatch::<Self>(typ)),
            _ => ListIter::<T>::check_type(typ).map_err(|_| de_mismatch::<Self>(typ)),
        }
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        let iter = ListIter::<T>::read::<Self>(typ, value)?;
        if iter.len() != N {
            return Err(invalid(typ, "element count differs from the array length"));
        }
        let v: Vec<T> = iter.collect::<Result<_, _>>()?;
        v.try_into()
            .map_err(|_| invalid(typ, "element count differs from the array length"))
    }
}

/// From a vector only.
impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>> DeserializeValue<'frame, 'meta>
    for CqlVector<Vec<T>>
{
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        match typ {
            CqlType::Vector(e, _) => T::check_type(e),
            _ => Err(de_mismatch::<Self>(typ)),
        }
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        match typ {
            CqlType::Vector(..) => Vec::deserialize(typ, value).map(CqlVector),
            _ => Err(de_mismatch::<Self>(typ)),
        }
    }
}

/// From a set or list.
impl<'frame, 'meta, T, S> DeserializeValue<'frame, 'meta> for HashSet<T, S>
where
    T: DeserializeValue<'frame, 'meta> + Eq + Hash,
    S: BuildHasher + Default,
{
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        ListIter::<T>::check_set::<Self>(typ)
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        let iter = ListIter::<T>::read_set::<Self>(typ, value)?;
        let mut out = HashSet::with_capacity_and_hasher(iter.len(), S::default());
        for v in iter {
            out.insert(v?);
        }
        Ok(out)
    }
}

/// From a set or list.
impl<'frame, 'meta, T> DeserializeValue<'frame, 'meta> for BTreeSet<T>
where
    T: DeserializeValue<'frame, 'meta> + Ord,
{
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        ListIter::<T>::check_set::<Self>(typ)
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        ListIter::<T>::read_set::<Self>(typ, value)?.collect()
    }
}

impl<'frame, 'meta, K, V, S> DeserializeValue<'frame, 'meta> for HashMap<K, V, S>
where
    K: DeserializeValue<'frame, 'meta> + Eq + Hash,
    V: DeserializeValue<'frame, 'meta>,
    S: BuildHasher + Default,
{
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        MapIter::<K, V>::check_type(typ).map_err(|_| de_mismatch::<Self>(typ))
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        let iter = MapIter::<K, V>::deserialize(typ, value)?;
        let mut out = HashMap::with_capacity_and_hasher(iter.len(), S::default());
        for kv in iter {
            let (k, v) = kv?;
            out.insert(k, v);
        }
        Ok(out)
    }
}

impl<'frame, 'meta, K, V> DeserializeValue<'frame, 'meta> for BTreeMap<K, V>
where
    K: DeserializeValue<'frame, 'meta> + Ord,
    V: DeserializeValue<'frame, 'meta>,
{
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        MapIter::<K, V>::check_type(typ).map_err(|_| de_mismatch::<Self>(typ))
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        MapIter::<K, V>::deserialize(typ, value)?.collect()
    }
}

/// Reads the `[bytes]` fields of a tuple or UDT value: missing trailing fields are null (the
/// spec lets a UDT value carry fewer fields than its type). For hand-written or derived
/// `DeserializeValue` impls of user-defined types.
#[derive(Debug, Clone)]
pub struct FieldReader<'frame> {
    frame: FrameSlice<'frame>,
    reader: WireReader<'frame>,
}

impl<'frame> FieldReader<'frame> {
    /// Reads the fields of the value `v`.
    pub fn new(v: FrameSlice<'frame>) -> Self {
        Self {
            frame: v,
            reader: WireReader::new(v.as_slice()),
        }
    }

    /// The next field (`None` when null or absent).
    pub fn next_field(&mut self) -> Result<Option<FrameSlice<'frame>>, DeserializeError> {
        if self.reader.is_empty() {
            return Ok(None);
        }
        Ok(self.reader.read_bytes()?.map(|s| self.frame.with_slice(s)))
    }

    /// Errors when bytes are left after the last field of the type.
    pub fn finish(&self) -> Result<(), DeserializeError> {
        Ok(self.reader.expect_end()?)
    }
}

macro_rules! tuple_value {
    ($n:literal; $($t:ident $idx:tt),+) => {
        impl<'frame, 'meta, $($t: DeserializeValue<'frame, 'meta>),+>
            DeserializeValue<'frame, 'meta> for ($($t,)+)
        {
            fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
                match typ {
                    CqlType::Tuple(types) if types.len() == $n => {
                        $($t::check_type(&types[$idx])?;)+
                        Ok(())
                    }
                    _ => Err(de_mismatch::<Self>(typ)),
                }
            }

            fn deserialize(
                typ: &'meta CqlType,
                value: Option<FrameSlice<'frame>>,
            ) -> Result<Self, DeserializeError> {
                let CqlType::Tuple(types) = typ else {
                    return Err(de_mismatch::<Self>(typ));
                };
                if types.len() != $n {
                    return Err(de_mismatch::<Self>(typ));
                }
                let mut fields = FieldReader::new(non_null::<Self>(value)?);
                let out = ($($t::deserialize(&types[$idx], fields.next_field()?)?,)+);
                fields.finish()?;
                Ok(out)
            }
        }
    };
}

for_each_tuple!(tuple_value);
