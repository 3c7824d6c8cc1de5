//! [`SerializeValue`] for scalar Rust types, the newtypes, strings, blobs, addresses, and the
//! wrappers `&T`, `Box<T>`, `Arc<T>`, `Option<T>`, [`Unset`] and [`MaybeUnset`].
//!
//! Most impls go through the crate-private [`Content`] trait (the value without its length
//! prefix) and the `via_content!` macro, which derives the `[value]` and vector-element
//! forms from it, so sizes and writes cannot drift apart.

use std::any::type_name;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use bytes::{BufMut, Bytes};
use uuid::Uuid;

use super::content::ValueContent;
use super::newtypes::{
    Counter, CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlVarint, MaybeEmpty,
    MaybeUnset, Unset,
};
use super::serialize::{SerializeError, SerializeValue, check_value_size};
use super::vint;
use crate::types::CqlType;

/// A value's content, without the `[int]` length in front.
pub(crate) trait Content {
    /// Type (and range) check.
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError>;
    /// Bytes of content.
    fn content_size(&self) -> usize;
    /// Writes exactly [`Self::content_size`] bytes.
    fn write_content(&self, buf: &mut &mut [u8]);
    /// `Some(n)` when written bare inside a vector.
    fn fixed_size(&self) -> Option<usize> {
        None
    }
    /// The content for [`SerializeValue::value_content`]; by default written inline when
    /// short ([`inline_content`]).
    #[inline]
    fn key_content(&self) -> ValueContent<'_> {
        inline_content(self)
    }
}

/// The content of `value` written inline when it fits, [`ValueContent::Unavailable`]
/// otherwise.
#[inline]
pub(crate) fn inline_content<C: Content + ?Sized>(value: &C) -> ValueContent<'_> {
    ValueContent::inline_with(value.content_size(), |buf| value.write_content(buf))
}

/// Implements the [`SerializeValue`] methods from a [`Content`] impl.
// `#[inline]`: these run for every bound value of every request, and without it a
// non-generic impl (`str`, `i64`, …) is a call from the driver's crate.
macro_rules! via_content {
    () => {
        #[inline]
        fn check_type(
            &self,
            typ: &$crate::types::CqlType,
        ) -> Result<(), $crate::value::SerializeError> {
            $crate::value::ser_impls::Content::check(self, typ)
        }

        #[inline]
        fn value_size(&self) -> usize {
            4 + $crate::value::ser_impls::Content::content_size(self)
        }

        #[inline]
        fn write_value(&self, buf: &mut &mut [u8]) {
            $crate::value::serialize::put_len(
                buf,
                $crate::value::ser_impls::Content::content_size(self),
            );
            $crate::value::ser_impls::Content::write_content(self, buf);
        }

        fn vector_fixed_size(&self) -> Option<usize> {
            $crate::value::ser_impls::Content::fixed_size(self)
        }

        #[inline]
        fn value_content(&self) -> $crate::value::ValueContent<'_> {
            $crate::value::ser_impls::Content::key_content(self)
        }

        fn vector_element_size(&self) -> usize {
            let n = $crate::value::ser_impls::Content::content_size(self);
            match $crate::value::ser_impls::Content::fixed_size(self) {
                Some(_) => n,
                None => $crate::value::vint::unsigned_size(n as u64) + n,
            }
        }

        fn write_vector_element(&self, buf: &mut &mut [u8]) {
            if $crate::value::ser_impls::Content::fixed_size(self).is_none() {
                $crate::value::vint::put_unsigned(
                    buf,
                    $crate::value::ser_impls::Content::content_size(self) as u64,
                );
            }
            $crate::value::ser_impls::Content::write_content(self, buf);
        }
    };
}
pub(crate) use via_content;

/// A type mismatch naming `T`.
pub(crate) fn mismatch<T: ?Sized>(typ: &CqlType) -> SerializeError {
    SerializeError::TypeMismatch {
        rust_type: type_name::<T>(),
        cql_type: typ.clone(),
    }
}

/// An out-of-range error naming `T`.
pub(crate) fn out_of_range<T: ?Sized>(typ: &CqlType, reason: &'static str) -> SerializeError {
    SerializeError::OutOfRange {
        rust_type: type_name::<T>(),
        cql_type: typ.clone(),
        reason,
    }
}

macro_rules! fixed_scalar {
    ($ty:ty, $size:expr, $fixed:expr, $pat:pat, |$v:ident, $buf:ident| $write:expr) => {
        impl Content for $ty {
            #[inline]
            fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
                match typ {
                    $pat => Ok(()),
                    _ => Err(mismatch::<Self>(typ)),
                }
            }
            #[inline]
            fn content_size(&self) -> usize {
                $size
            }
            #[inline]
            fn write_content(&self, $buf: &mut &mut [u8]) {
                let $v = self;
                $write
            }
            fn fixed_size(&self) -> Option<usize> {
                $fixed
            }
        }

        impl SerializeValue for $ty {
            via_content!();
        }
    };
}

fixed_scalar!(bool, 1, Some(1), CqlType::Boolean, |v, buf| buf
    .put_u8(u8::from(*v)));
fixed_scalar!(i8, 1, None, CqlType::TinyInt, |v, buf| buf.put_i8(*v));
fixed_scalar!(i16, 2, None, CqlType::SmallInt, |v, buf| buf.put_i16(*v));
fixed_scalar!(i32, 4, Some(4), CqlType::Int, |v, buf| buf.put_i32(*v));
fixed_scalar!(
    i64,
    8,
    Some(8),
    CqlType::BigInt | CqlType::Counter,
    |v, buf| buf.put_i64(*v)
);
fixed_scalar!(f32, 4, Some(4), CqlType::Float, |v, buf| buf.put_f32(*v));
fixed_scalar!(f64, 8, Some(8), CqlType::Double, |v, buf| buf.put_f64(*v));
fixed_scalar!(Counter, 8, None, CqlType::Counter, |v, buf| buf
    .put_i64(v.0));
fixed_scalar!(CqlTimestamp, 8, Some(8), CqlType::Timestamp, |v, buf| buf
    .put_i64(v.0));
fixed_scalar!(CqlDate, 4, None, CqlType::Date, |v, buf| buf.put_u32(v.0));
fixed_scalar!(Ipv4Addr, 4, None, CqlType::Inet, |v, buf| buf
    .put_slice(&v.octets()));
fixed_scalar!(Ipv6Addr, 16, None, CqlType::Inet, |v, buf| buf
    .put_slice(&v.octets()));

impl Content for IpAddr {
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match typ {
            CqlType::Inet => Ok(()),
            _ => Err(mismatch::<Self>(typ)),
        }
    }
    fn content_size(&self) -> usize {
        match self {
            IpAddr::V4(_) => 4,
            IpAddr::V6(_) => 16,
        }
    }
    fn write_content(&self, buf: &mut &mut [u8]) {
        match self {
            IpAddr::V4(a) => buf.put_slice(&a.octets()),
            IpAddr::V6(a) => buf.put_slice(&a.octets()),
        }
    }
}

impl SerializeValue for IpAddr {
    via_content!();
}

impl Content for CqlTime {
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match typ {
            CqlType::Time if self.is_valid() => Ok(()),
            CqlType::Time => Err(out_of_range::<Self>(
                typ,
                "time must be 0..=86399999999999 nanoseconds",
            )),
            _ => Err(mismatch::<Self>(typ)),
        }
    }
    fn content_size(&self) -> usize {
        8
    }
    fn write_content(&self, buf: &mut &mut [u8]) {
        buf.put_i64(self.0);
    }
}

impl SerializeValue for CqlTime {
    via_content!();
}

impl Content for Uuid {
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match typ {
            CqlType::Uuid => Ok(()),
            CqlType::Timeuuid if self.get_version_num() == 1 => Ok(()),
            CqlType::Timeuuid => Err(out_of_range::<Self>(
                typ,
                "a timeuuid must be a version 1 UUID",
            )),
            _ => Err(mismatch::<Self>(typ)),
        }
    }
    #[inline]
    fn content_size(&self) -> usize {
        16
    }
    #[inline]
    fn write_content(&self, buf: &mut &mut [u8]) {
        buf.put_slice(self.as_bytes());
    }
    fn fixed_size(&self) -> Option<usize> {
        Some(16)
    }
}

impl SerializeValue for Uuid {
    via_content!();
}

impl Content for CqlDuration {
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match typ {
            CqlType::Duration if self.is_valid() => Ok(()),
            CqlType::Duration => Err(out_of_range::<Self>(
                typ,
                "months, days and nanoseconds must not differ in sign",
            )),
            _ => Err(mismatch::<Self>(typ)),
        }
    }
    fn content_size(&self) -> usize {
        vint::signed_size(i64::from(self.months))
            + vint::signed_size(i64::from(self.days))
            + vint::signed_size(self.nanos)
    }
    fn write_content(&self, buf: &mut &mut [u8]) {
        vint::put_signed(buf, i64::from(self.months));
        vint::put_signed(buf, i64::from(self.days));
        vint::put_signed(buf, self.nanos);
    }
}

impl SerializeValue for CqlDuration {
    via_content!();
}

impl Content for CqlVarint {
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match typ {
            CqlType::Varint => check_value_size(self.0.len()),
            _ => Err(mismatch::<Self>(typ)),
        }
    }
    fn content_size(&self) -> usize {
        self.0.len()
    }
    fn write_content(&self, buf: &mut &mut [u8]) {
        buf.put_slice(&self.0);
    }
    fn key_content(&self) -> ValueContent<'_> {
        ValueContent::Borrowed(&self.0)
    }
}

impl SerializeValue for CqlVarint {
    via_content!();
}

impl Content for CqlDecimal {
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match typ {
            CqlType::Decimal if self.unscaled.0.is_empty() => Err(out_of_range::<Self>(
                typ,
                "the unscaled varint of a decimal needs at least one byte",
            )),
            CqlType::Decimal => check_value_size(self.content_size()),
            _ => Err(mismatch::<Self>(typ)),
        }
    }
    fn content_size(&self) -> usize {
        4 + self.unscaled.0.len()
    }
    fn write_content(&self, buf: &mut &mut [u8]) {
        buf.put_i32(self.scale);
        buf.put_slice(&self.unscaled.0);
    }
}

impl SerializeValue for CqlDecimal {
    via_content!();
}

impl Content for str {
    #[inline]
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match typ {
            CqlType::Text => check_value_size(self.len()),
            CqlType::Ascii if self.is_ascii() => check_value_size(self.len()),
            CqlType::Ascii => Err(out_of_range::<Self>(typ, "non-ASCII characters")),
            _ => Err(mismatch::<Self>(typ)),
        }
    }
    #[inline]
    fn content_size(&self) -> usize {
        self.len()
    }
    #[inline]
    fn write_content(&self, buf: &mut &mut [u8]) {
        buf.put_slice(self.as_bytes());
    }
    #[inline]
    fn key_content(&self) -> ValueContent<'_> {
        ValueContent::Borrowed(self.as_bytes())
    }
}

impl Content for [u8] {
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match typ {
            CqlType::Blob | CqlType::Custom(_) => check_value_size(self.len()),
            _ => Err(mismatch::<Self>(typ)),
        }
    }
    fn content_size(&self) -> usize {
        self.len()
    }
    fn write_content(&self, buf: &mut &mut [u8]) {
        buf.put_slice(self);
    }
    #[inline]
    fn key_content(&self) -> ValueContent<'_> {
        ValueContent::Borrowed(self)
    }
}

impl SerializeValue for str {
    via_content!();
}

impl SerializeValue for [u8] {
    via_content!();
}

/// Forwards every method (defaults included) to `self.$via`, typed `$target`.
macro_rules! forward {
    ($target:ty, |$s:ident| $via:expr) => {
        fn check_type(&self, typ: &CqlType) -> Result<(), SerializeError> {
            let $s = self;
            <$target as SerializeValue>::check_type($via, typ).map_err(|e| match e {
                SerializeError::TypeMismatch { cql_type, .. } => SerializeError::TypeMismatch {
                    rust_type: type_name::<Self>(),
                    cql_type,
                },
                other => other,
            })
        }
        fn value_size(&self) -> usize {
            let $s = self;
            <$target as SerializeValue>::value_size($via)
        }
        fn write_value(&self, buf: &mut &mut [u8]) {
            let $s = self;
            <$target as SerializeValue>::write_value($via, buf)
        }
        fn is_null(&self) -> bool {
            let $s = self;
            <$target as SerializeValue>::is_null($via)
        }
        fn is_unset(&self) -> bool {
            let $s = self;
            <$target as SerializeValue>::is_unset($via)
        }
        fn vector_fixed_size(&self) -> Option<usize> {
            let $s = self;
            <$target as SerializeValue>::vector_fixed_size($via)
        }
        fn vector_element_size(&self) -> usize {
            let $s = self;
            <$target as SerializeValue>::vector_element_size($via)
        }
        fn write_vector_element(&self, buf: &mut &mut [u8]) {
            let $s = self;
            <$target as SerializeValue>::write_vector_element($via, buf)
        }
        #[inline]
        fn value_content(&self) -> ValueContent<'_> {
            let $s = self;
            <$target as SerializeValue>::value_content($via)
        }
    };
}

impl SerializeValue for String {
    forward!(str, |s| s.as_str());
}

impl SerializeValue for Cow<'_, str> {
    forward!(str, |s| s.as_ref());
}

impl SerializeValue for Vec<u8> {
    forward!([u8], |s| s.as_slice());
}

impl SerializeValue for Bytes {
    forward!([u8], |s| s.as_ref());
}

impl<const N: usize> SerializeValue for [u8; N] {
    forward!([u8], |s| s.as_slice());
}

/// Implements [`SerializeValue`] for a smart pointer or reference by forwarding every method
/// (defaults included) to the pointee, unchanged.
macro_rules! deref_forward {
    ($($ptr:ty),+ $(,)?) => {$(
        impl<T: SerializeValue + ?Sized> SerializeValue for $ptr {
            fn check_type(&self, typ: &CqlType) -> Result<(), SerializeError> {
                (**self).check_type(typ)
            }
            fn value_size(&self) -> usize {
                (**self).value_size()
            }
            fn write_value(&self, buf: &mut &mut [u8]) {
                (**self).write_value(buf)
            }
            fn is_null(&self) -> bool {
                (**self).is_null()
            }
            fn is_unset(&self) -> bool {
                (**self).is_unset()
            }
            fn vector_fixed_size(&self) -> Option<usize> {
                (**self).vector_fixed_size()
            }
            fn vector_element_size(&self) -> usize {
                (**self).vector_element_size()
            }
            fn write_vector_element(&self, buf: &mut &mut [u8]) {
                (**self).write_vector_element(buf)
            }
            #[inline]
            fn value_content(&self) -> ValueContent<'_> {
                (**self).value_content()
            }
        }
    )+};
}

deref_forward!(&T, Box<T>, Arc<T>);

/// `None` is null, which fits any column; `Some` is checked like the value.
impl<T: SerializeValue> SerializeValue for Option<T> {
    fn check_type(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match self {
            Some(v) => v.check_type(typ),
            None => Ok(()),
        }
    }
    fn value_size(&self) -> usize {
        self.as_ref().map_or(4, T::value_size)
    }
    fn write_value(&self, buf: &mut &mut [u8]) {
        match self {
            Some(v) => v.write_value(buf),
            None => buf.put_i32(-1),
        }
    }
    fn is_null(&self) -> bool {
        self.as_ref().is_none_or(T::is_null)
    }
    fn is_unset(&self) -> bool {
        self.as_ref().is_some_and(T::is_unset)
    }
    fn vector_fixed_size(&self) -> Option<usize> {
        self.as_ref().and_then(T::vector_fixed_size)
    }
    fn vector_element_size(&self) -> usize {
        // A null element is rejected by the vector's type check; sized as empty otherwise.
        self.as_ref().map_or(1, T::vector_element_size)
    }
    fn write_vector_element(&self, buf: &mut &mut [u8]) {
        match self {
            Some(v) => v.write_vector_element(buf),
            None => buf.put_u8(0),
        }
    }
    #[inline]
    fn value_content(&self) -> ValueContent<'_> {
        match self {
            Some(v) => v.value_content(),
            None => ValueContent::Null,
        }
    }
}

/// "Not set" fits any column; it is refused inside collections, tuples and UDTs.
impl SerializeValue for Unset {
    fn check_type(&self, _typ: &CqlType) -> Result<(), SerializeError> {
        Ok(())
    }
    fn value_size(&self) -> usize {
        4
    }
    fn write_value(&self, buf: &mut &mut [u8]) {
        buf.put_i32(-2);
    }
    fn is_unset(&self) -> bool {
        true
    }
    fn vector_element_size(&self) -> usize {
        1
    }
    fn write_vector_element(&self, buf: &mut &mut [u8]) {
        buf.put_u8(0);
    }
    fn value_content(&self) -> ValueContent<'_> {
        ValueContent::Null
    }
}

impl<T: SerializeValue> SerializeValue for MaybeUnset<T> {
    fn check_type(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match self {
            MaybeUnset::Set(v) => v.check_type(typ),
            MaybeUnset::Unset => Ok(()),
        }
    }
    fn value_size(&self) -> usize {
        match self {
            MaybeUnset::Set(v) => v.value_size(),
            MaybeUnset::Unset => 4,
        }
    }
    fn write_value(&self, buf: &mut &mut [u8]) {
        match self {
            MaybeUnset::Set(v) => v.write_value(buf),
            MaybeUnset::Unset => Unset.write_value(buf),
        }
    }
    fn is_null(&self) -> bool {
        matches!(self, MaybeUnset::Set(v) if v.is_null())
    }
    fn is_unset(&self) -> bool {
        match self {
            MaybeUnset::Set(v) => v.is_unset(),
            MaybeUnset::Unset => true,
        }
    }
    fn vector_fixed_size(&self) -> Option<usize> {
        match self {
            MaybeUnset::Set(v) => v.vector_fixed_size(),
            MaybeUnset::Unset => None,
        }
    }
    fn vector_element_size(&self) -> usize {
        match self {
            MaybeUnset::Set(v) => v.vector_element_size(),
            MaybeUnset::Unset => 1,
        }
    }
    fn write_vector_element(&self, buf: &mut &mut [u8]) {
        match self {
            MaybeUnset::Set(v) => v.write_vector_element(buf),
            MaybeUnset::Unset => buf.put_u8(0),
        }
    }
    #[inline]
    fn value_content(&self) -> ValueContent<'_> {
        match self {
            MaybeUnset::Set(v) => v.value_content(),
            MaybeUnset::Unset => ValueContent::Null,
        }
    }
}

/// [`MaybeEmpty::Empty`] writes a zero-length value, which any type accepts except inside a
/// vector of fixed-size elements.
impl<T: SerializeValue> SerializeValue for MaybeEmpty<T> {
    fn check_type(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match self {
            MaybeEmpty::Value(v) => v.check_type(typ),
            MaybeEmpty::Empty => Ok(()),
        }
    }
    fn value_size(&self) -> usize {
        match self {
            MaybeEmpty::Value(v) => v.value_size(),
            MaybeEmpty::Empty => 4,
        }
    }
    fn write_value(&self, buf: &mut &mut [u8]) {
        match self {
            MaybeEmpty::Value(v) => v.write_value(buf),
            MaybeEmpty::Empty => buf.put_i32(0),
        }
    }
    fn is_null(&self) -> bool {
        matches!(self, MaybeEmpty::Value(v) if v.is_null())
    }
    fn is_unset(&self) -> bool {
        matches!(self, MaybeEmpty::Value(v) if v.is_unset())
    }
    fn vector_fixed_size(&self) -> Option<usize> {
        match self {
            MaybeEmpty::Value(v) => v.vector_fixed_size(),
            MaybeEmpty::Empty => None,
        }
    }
    fn vector_element_size(&self) -> usize {
        match self {
            MaybeEmpty::Value(v) => v.vector_element_size(),
            MaybeEmpty::Empty => 1,
        }
    }
    fn write_vector_element(&self, buf: &mut &mut [u8]) {
        match self {
            MaybeEmpty::Value(v) => v.write_vector_element(buf),
            MaybeEmpty::Empty => buf.put_u8(0),
        }
    }
    #[inline]
    fn value_content(&self) -> ValueContent<'_> {
        match self {
            MaybeEmpty::Value(v) => v.value_content(),
            MaybeEmpty::Empty => ValueContent::Borrowed(&[]),
        }
    }
}
