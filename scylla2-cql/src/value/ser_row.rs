//! [`SerializeRow`] for `()`, tuples of up to 16 values, slices / `Vec` / arrays of values
//! (including `[&dyn SerializeValue]` and `Vec<CqlValue>`), references, and [`NamedValues`]
//! sent by name.

use super::content::ValueContent;
use super::serialize::{SerializeError, SerializeRow, SerializeValue};
use crate::types::ColumnSpec;

fn wrap(index: usize, col: &ColumnSpec, e: SerializeError) -> SerializeError {
    SerializeError::Column {
        index,
        name: col.name.clone(),
        source: Box::new(e),
    }
}

fn check_count(expected: usize, given: usize) -> Result<(), SerializeError> {
    if expected == given {
        Ok(())
    } else {
        Err(SerializeError::WrongValueCount { expected, given })
    }
}

/// No values.
impl SerializeRow for () {
    fn value_count(&self) -> usize {
        0
    }
    fn check_types(&self, columns: &[ColumnSpec]) -> Result<(), SerializeError> {
        check_count(columns.len(), 0)
    }
    fn values_size(&self) -> usize {
        0
    }
    fn write_values(&self, _buf: &mut &mut [u8]) {}
}

impl<R: SerializeRow + ?Sized> SerializeRow for &R {
    fn value_count(&self) -> usize {
        (**self).value_count()
    }
    fn check_types(&self, columns: &[ColumnSpec]) -> Result<(), SerializeError> {
        (**self).check_types(columns)
    }
    fn values_size(&self) -> usize {
        (**self).values_size()
    }
    fn write_values(&self, buf: &mut &mut [u8]) {
        (**self).write_values(buf)
    }
    fn value_name(&self, index: usize) -> Option<&str> {
        (**self).value_name(index)
    }
    #[inline]
    fn value_at(&self, index: usize) -> Option<&dyn SerializeValue> {
        (**self).value_at(index)
    }
    #[inline]
    fn value_content_at(&self, index: usize) -> Option<ValueContent<'_>> {
        (**self).value_content_at(index)
    }
}

/// One value per bind marker, in order.
impl<T: SerializeValue> SerializeRow for [T] {
    fn value_count(&self) -> usize {
        self.len()
    }
    fn check_types(&self, columns: &[ColumnSpec]) -> Result<(), SerializeError> {
        check_count(columns.len(), self.len())?;
        for (i, (v, col)) in self.iter().zip(columns).enumerate() {
            v.check_type(&col.typ).map_err(|e| wrap(i, col, e))?;
        }
        Ok(())
    }
    fn values_size(&self) -> usize {
        self.iter().map(T::value_size).sum()
    }
    fn write_values(&self, buf: &mut &mut [u8]) {
        for v in self {
            v.write_value(buf);
        }
    }
    #[inline]
    fn value_at(&self, index: usize) -> Option<&dyn SerializeValue> {
        self.get(index).map(|v| v as &dyn SerializeValue)
    }
    #[inline]
    fn value_content_at(&self, index: usize) -> Option<ValueContent<'_>> {
        self.get(index).map(T::value_content)
    }
}

/// Implements [`SerializeRow`] for a contiguous container of values through its slice.
macro_rules! row_via_slice {
    ([$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> SerializeRow for $ty {
            fn value_count(&self) -> usize {
                self.as_slice().value_count()
            }
            fn check_types(&self, columns: &[ColumnSpec]) -> Result<(), SerializeError> {
                self.as_slice().check_types(columns)
            }
            fn values_size(&self) -> usize {
                self.as_slice().values_size()
            }
            fn write_values(&self, buf: &mut &mut [u8]) {
                self.as_slice().write_values(buf)
            }
            #[inline]
            fn value_at(&self, index: usize) -> Option<&dyn SerializeValue> {
                self.as_slice().value_at(index)
            }
            #[inline]
            fn value_content_at(&self, index: usize) -> Option<ValueContent<'_>> {
                self.as_slice().value_content_at(index)
            }
        }
    };
}

row_via_slice!([T: SerializeValue] Vec<T>);
row_via_slice!([T: SerializeValue, const N: usize] [T; N]);

macro_rules! tuple_row {
    ($n:literal; $($t:ident $idx:tt),+) => {
        impl<$($t: SerializeValue),+> SerializeRow for ($($t,)+) {
            fn value_count(&self) -> usize {
                $n
            }
            fn check_types(&self, columns: &[ColumnSpec]) -> Result<(), SerializeError> {
                check_count(columns.len(), $n)?;
                $(
                    self.$idx
                        .check_type(&columns[$idx].typ)
                        .map_err(|e| wrap($idx, &columns[$idx], e))?;
                )+
                Ok(())
            }
            fn values_size(&self) -> usize {
                0 $(+ self.$idx.value_size())+
            }
            fn write_values(&self, buf: &mut &mut [u8]) {
                $(self.$idx.write_value(buf);)+
            }
            #[inline]
            fn value_at(&self, index: usize) -> Option<&dyn SerializeValue> {
                match index {
                    $($idx => Some(&self.$idx),)+
                    _ => None,
                }
            }
            #[inline]
            fn value_content_at(&self, index: usize) -> Option<ValueContent<'_>> {
                match index {
                    $($idx => Some(self.$idx.value_content()),)+
                    _ => None,
                }
            }
        }
    };
}

for_each_tuple!(tuple_row);

/// Values sent by name (QUERY/EXECUTE flag 0x40), in any order.
///
/// Names are matched exactly against the bind markers' names as the server reports them:
/// lower case unless the marker was quoted (`:"Name"`). For values of different Rust types
/// use `V = Box<dyn SerializeValue>` or `V = &dyn SerializeValue`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NamedValues<N, V> {
    values: Vec<(N, V)>,
}

impl<N: AsRef<str>, V: SerializeValue> NamedValues<N, V> {
    /// No values yet.
    pub fn new() -> Self {
        Self { values: Vec::new() }
    }

    /// Adds a value for the bind marker `name`.
    pub fn push(&mut self, name: N, value: V) {
        self.values.push((name, value));
    }

    /// Adds a value for the bind marker `name` (builder form).
    pub fn with(mut self, name: N, value: V) -> Self {
        self.push(name, value);
        self
    }

    /// The (name, value) pairs.
    pub fn values(&self) -> &[(N, V)] {
        &self.values
    }
}

impl<N, V> From<Vec<(N, V)>> for NamedValues<N, V> {
    fn from(values: Vec<(N, V)>) -> Self {
        Self { values }
    }
}

impl<N: AsRef<str>, V: SerializeValue> SerializeRow for NamedValues<N, V> {
    fn value_count(&self) -> usize {
        self.values.len()
    }

    /// Every value must name a bind marker ([`SerializeError::UnknownName`]) and every marker
    /// must have a value ([`SerializeError::MissingName`]); each value is checked against the
    /// markers of its name.
    fn check_types(&self, columns: &[ColumnSpec]) -> Result<(), SerializeError> {
        for (name, _) in &self.values {
            if !columns.iter().any(|c| c.name == name.as_ref()) {
                return Err(SerializeError::UnknownName {
                    name: name.as_ref().to_owned(),
                });
            }
        }
        for (i, col) in columns.iter().enumerate() {
            let Some((_, v)) = self.values.iter().find(|(n, _)| n.as_ref() == col.name) else {
                return Err(SerializeError::MissingName {
                    name: col.name.clone(),
                });
            };
            v.check_type(&col.typ).map_err(|e| wrap(i, col, e))?;
        }
        Ok(())
    }

    fn values_size(&self) -> usize {
        self.values.iter().map(|(_, v)| v.value_size()).sum()
    }

    fn write_values(&self, buf: &mut &mut [u8]) {
        for (_, v) in &self.values {
            v.write_value(buf);
        }
    }

    fn value_name(&self, index: usize) -> Option<&str> {
        self.values.get(index).map(|(n, _)| n.as_ref())
    }

    fn value_at(&self, index: usize) -> Option<&dyn SerializeValue> {
        self.values
            .get(index)
            .map(|(_, v)| v as &dyn SerializeValue)
    }

    fn value_content_at(&self, index: usize) -> Option<ValueContent<'_>> {
        self.values.get(index).map(|(_, v)| v.value_content())
    }
}
