//! [`SerializeValue`] for collections (lists and sets from slices, `Vec`, arrays and sets;
//! maps), vectors through [`CqlVector`], and Rust tuples as CQL tuples.
//!
//! Layouts (v4 §6.4/6.7/6.9, v5 §5.21/5.25): a list, set or map is an `[int]` count then
//! `[bytes]` elements (keys and values alternating); a tuple is its `[bytes]` fields; a vector
//! is its elements bare (fixed-size element types) or each preceded by an unsigned vint length.
//! Null and unset elements are refused inside collections and vectors; unset is refused inside
//! tuples.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasher;

use bytes::BufMut;

use super::newtypes::CqlVector;
use super::ser_impls::{Content, mismatch, out_of_range, via_content};
use super::serialize::{SerializeError, SerializeValue, check_value_size};
use crate::types::CqlType;

fn check_element(
    outer: &CqlType,
    elem_typ: &CqlType,
    elem: &(impl SerializeValue + ?Sized),
) -> Result<(), SerializeError> {
    if elem.is_unset() {
        return Err(SerializeError::NullElement {
            what: "unset",
            cql_type: outer.clone(),
        });
    }
    if elem.is_null() {
        return Err(SerializeError::NullElement {
            what: "null",
            cql_type: outer.clone(),
        });
    }
    elem.check_type(elem_typ)
}

/// Checks a list or set whose elements are `elems`.
fn check_list<'a, T: SerializeValue + 'a, R: ?Sized>(
    typ: &CqlType,
    elems: impl Iterator<Item = &'a T>,
    content_size: usize,
    allow_list: bool,
) -> Result<(), SerializeError> {
    let elem_typ = match typ {
        CqlType::Set(e) => e,
        CqlType::List(e) if allow_list => e,
        _ => return Err(mismatch::<R>(typ)),
    };
    for e in elems {
        check_element(typ, elem_typ, e)?;
    }
    check_value_size(content_size)
}

fn list_size<'a, T: SerializeValue + 'a>(elems: impl Iterator<Item = &'a T>) -> usize {
    4 + elems.map(T::value_size).sum::<usize>()
}

fn write_list<'a, T: SerializeValue + 'a>(
    buf: &mut &mut [u8],
    count: usize,
    elems: impl Iterator<Item = &'a T>,
) {
    buf.put_i32(count as i32);
    for e in elems {
        e.write_value(buf);
    }
}

macro_rules! list_like {
    ([$($gen:tt)*] $ty:ty, $allow_list:expr) => {
        impl<$($gen)*> Content for $ty {
            fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
                check_list::<T, Self>(typ, self.iter(), self.content_size(), $allow_list)
            }
            fn content_size(&self) -> usize {
                list_size(self.iter())
            }
            fn write_content(&self, buf: &mut &mut [u8]) {
                write_list(buf, self.len(), self.iter())
            }
        }

        impl<$($gen)*> SerializeValue for $ty {
            via_content!();
        }
    };
}

list_like!([T: SerializeValue] [T], true);
list_like!([T: SerializeValue] Vec<T>, true);
list_like!([T: SerializeValue, const N: usize] [T; N], true);
list_like!([T: SerializeValue, S: BuildHasher] HashSet<T, S>, false);
list_like!([T: SerializeValue] BTreeSet<T>, false);

fn check_map<'a, K: SerializeValue + 'a, V: SerializeValue + 'a, R: ?Sized>(
    typ: &CqlType,
    entries: impl Iterator<Item = (&'a K, &'a V)>,
    content_size: usize,
) -> Result<(), SerializeError> {
    let CqlType::Map(kt, vt) = typ else {
        return Err(mismatch::<R>(typ));
    };
    for (k, v) in entries {
        check_element(typ, kt, k)?;
        check_element(typ, vt, v)?;
    }
    check_value_size(content_size)
}

macro_rules! map_like {
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> Content for $ty {
            fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
                check_map::<K, V, Self>(typ, self.iter(), self.content_size())
            }
            fn content_size(&self) -> usize {
                4 + self
                    .iter()
                    .map(|(k, v)| k.value_size() + v.value_size())
                    .sum::<usize>()
            }
            fn write_content(&self, buf: &mut &mut [u8]) {
                buf.put_i32(self.len() as i32);
                for (k, v) in self.iter() {
                    k.write_value(buf);
                    v.write_value(buf);
                }
            }
        }

        impl<$($gen)*> SerializeValue for $ty {
            via_content!();
        }
    };
}

map_like!([K: SerializeValue, V: SerializeValue, S: BuildHasher] HashMap<K, V, S>);
map_like!([K: SerializeValue, V: SerializeValue] BTreeMap<K, V>);

/// Checks, sizes and writes vectors of any element slice.
fn check_vector<T: SerializeValue, R: ?Sized>(
    typ: &CqlType,
    elems: &[T],
    content_size: usize,
) -> Result<(), SerializeError> {
    let CqlType::Vector(elem_typ, dim) = typ else {
        return Err(mismatch::<R>(typ));
    };
    if elems.len() != *dim as usize {
        return Err(out_of_range::<R>(
            typ,
            "element count differs from the vector's dimension",
        ));
    }
    let fixed = elem_typ.vector_fixed_size();
    for e in elems {
        check_element(typ, elem_typ, e)?;
        if e.vector_fixed_size() != fixed {
            // E.g. an empty value where a bare fixed-size element is expected.
            return Err(out_of_range::<R>(
                typ,
                "element size does not fit the vector's element type",
            ));
        }
    }
    check_value_size(content_size)
}

fn vector_fixed<T: SerializeValue>(elems: &[T]) -> Option<usize> {
    elems
        .iter()
        .try_fold(0usize, |acc, e| Some(acc + e.vector_fixed_size()?))
}

macro_rules! vector_like {
    ([$($gen:tt)*] $ty:ty, |$s:ident| $slice:expr) => {
        impl<$($gen)*> Content for $ty {
            fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
                let $s = self;
                check_vector::<T, Self>(typ, $slice, self.content_size())
            }
            fn content_size(&self) -> usize {
                let $s = self;
                $slice.iter().map(T::vector_element_size).sum()
            }
            fn write_content(&self, buf: &mut &mut [u8]) {
                let $s = self;
                for e in $slice.iter() {
                    e.write_vector_element(buf);
                }
            }
            fn fixed_size(&self) -> Option<usize> {
                let $s = self;
                vector_fixed($slice)
            }
        }

        impl<$($gen)*> SerializeValue for $ty {
            via_content!();
        }
    };
}

vector_like!([T: SerializeValue] CqlVector<Vec<T>>, |s| s.0.as_slice());
vector_like!([T: SerializeValue, const N: usize] CqlVector<[T; N]>, |s| s.0.as_slice());
vector_like!(['a, T: SerializeValue] CqlVector<&'a [T]>, |s| s.0);
vector_like!(['a, T: SerializeValue] CqlVector<&'a Vec<T>>, |s| s.0.as_slice());
vector_like!(['a, T: SerializeValue, const N: usize] CqlVector<&'a [T; N]>, |s| s.0.as_slice());

macro_rules! tuple_value {
    ($n:literal; $($t:ident $idx:tt),+) => {
        impl<$($t: SerializeValue),+> Content for ($($t,)+) {
            fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
                let CqlType::Tuple(types) = typ else {
                    return Err(mismatch::<Self>(typ));
                };
                if types.len() != $n {
                    return Err(mismatch::<Self>(typ));
                }
                $(
                    if self.$idx.is_unset() {
                        return Err(SerializeError::NullElement {
                            what: "unset",
                            cql_type: typ.clone(),
                        });
                    }
                    self.$idx.check_type(&types[$idx])?;
                )+
                check_value_size(self.content_size())
            }
            fn content_size(&self) -> usize {
                0 $(+ self.$idx.value_size())+
            }
            fn write_content(&self, buf: &mut &mut [u8]) {
                $(self.$idx.write_value(buf);)+
            }
        }

        impl<$($t: SerializeValue),+> SerializeValue for ($($t,)+) {
            via_content!();
        }
    };
}

for_each_tuple!(tuple_value);
