//! [`DeserializeValue`] for scalar Rust types, the newtypes, strings and blobs (borrowed from
//! the frame, copied, or shared as [`Bytes`]), addresses, `Option<T>` and [`MaybeEmpty`].
//!
//! Null and empty are different things: a null (negative length) reads as `None` into an
//! `Option<T>` and is [`DeserializeError::UnexpectedNull`] otherwise; a zero-length value is
//! a valid text, ascii or blob, an empty collection, and otherwise an
//! [`DeserializeError::InvalidValue`] unless read through [`MaybeEmpty`].

use std::any::type_name;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use uuid::Uuid;

use super::deserialize::{DeserializeError, DeserializeValue, FrameSlice};
use super::newtypes::{
    Counter, CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlVarint, MaybeEmpty,
};
use super::vint;
use crate::types::CqlType;
use crate::wire::WireReader;

/// A type mismatch naming `T`.
#[cold]
#[inline(never)]
pub(crate) fn de_mismatch<T: ?Sized>(typ: &CqlType) -> DeserializeError {
    DeserializeError::TypeMismatch {
        rust_type: type_name::<T>(),
        cql_type: typ.clone(),
    }
}

/// An invalid value of type `typ`.
#[cold]
#[inline(never)]
pub(crate) fn invalid(typ: &CqlType, reason: &'static str) -> DeserializeError {
    DeserializeError::InvalidValue {
        cql_type: typ.clone(),
        reason,
    }
}

/// The value, or [`DeserializeError::UnexpectedNull`] naming `T`.
#[inline]
pub(crate) fn non_null<'f, T: ?Sized>(
    v: Option<FrameSlice<'f>>,
) -> Result<FrameSlice<'f>, DeserializeError> {
    // A `match` rather than `ok_or`: the error is built (and dropped) only for a null.
    match v {
        Some(v) => Ok(v),
        None => Err(unexpected_null::<T>()),
    }
}

/// [`DeserializeError::UnexpectedNull`] naming `T` (out of line: nulls are the rare path).
#[cold]
#[inline(never)]
fn unexpected_null<T: ?Sized>() -> DeserializeError {
    DeserializeError::UnexpectedNull {
        rust_type: type_name::<T>(),
    }
}

/// The value's bytes as an array of exactly `N` bytes.
#[inline]
pub(crate) fn exact<const N: usize>(
    typ: &CqlType,
    bytes: &[u8],
) -> Result<[u8; N], DeserializeError> {
    <[u8; N]>::try_from(bytes).map_err(|_| {
        invalid(
            typ,
            match N {
                1 => "expected 1 byte",
                2 => "expected 2 bytes",
                4 => "expected 4 bytes",
                8 => "expected 8 bytes",
                16 => "expected 16 bytes",
                _ => "wrong length",
            },
        )
    })
}

/// Implements [`DeserializeValue`] for `$ty`: accepts the CQL types matching `$pat` and
/// decodes a non-null value with `$decode` (given the column type and the [`FrameSlice`]).
macro_rules! de_non_null {
    ($ty:ty, $pat:pat, |$typ:ident, $v:ident| $decode:expr) => {
        impl<'frame, 'meta> DeserializeValue<'frame, 'meta> for $ty {
            fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
                match typ {
                    $pat => Ok(()),
                    _ => Err(de_mismatch::<Self>(typ)),
                }
            }

            #[inline]
            fn deserialize(
                $typ: &'meta CqlType,
                value: Option<FrameSlice<'frame>>,
            ) -> Result<Self, DeserializeError> {
                let $v = non_null::<Self>(value)?;
                $decode
            }
        }
    };
}

/// A fixed-size value: exactly `$n` bytes, converted by `$conv`.
macro_rules! de_fixed {
    ($ty:ty, $n:literal, $pat:pat, |$b:ident| $conv:expr) => {
        de_non_null!($ty, $pat, |typ, v| {
            let $b: [u8; $n] = exact(typ, v.as_slice())?;
            Ok($conv)
        });
    };
}

de_fixed!(bool, 1, CqlType::Boolean, |b| b[0] != 0);
de_fixed!(i8, 1, CqlType::TinyInt, |b| i8::from_be_bytes(b));
de_fixed!(i16, 2, CqlType::SmallInt, |b| i16::from_be_bytes(b));
de_fixed!(i32, 4, CqlType::Int, |b| i32::from_be_bytes(b));
de_fixed!(i64, 8, CqlType::BigInt | CqlType::Counter, |b| {
    i64::from_be_bytes(b)
});
de_fixed!(f32, 4, CqlType::Float, |b| f32::from_be_bytes(b));
de_fixed!(f64, 8, CqlType::Double, |b| f64::from_be_bytes(b));
de_fixed!(Counter, 8, CqlType::Counter, |b| Counter(
    i64::from_be_bytes(b)
));
de_fixed!(CqlTimestamp, 8, CqlType::Timestamp, |b| CqlTimestamp(
    i64::from_be_bytes(b)
));
de_fixed!(CqlDate, 4, CqlType::Date, |b| CqlDate(u32::from_be_bytes(
    b
)));
de_fixed!(CqlTime, 8, CqlType::Time, |b| CqlTime(i64::from_be_bytes(
    b
)));
de_fixed!(Uuid, 16, CqlType::Uuid | CqlType::Timeuuid, |b| {
    Uuid::from_bytes(b)
});

de_fixed!(Ipv4Addr, 4, CqlType::Inet, |b| Ipv4Addr::from(b));
de_fixed!(Ipv6Addr, 16, CqlType::Inet, |b| Ipv6Addr::from(b));

de_non_null!(IpAddr, CqlType::Inet, |typ, v| {
    let bytes = v.as_slice();
    if let Ok(a) = <[u8; 4]>::try_from(bytes) {
        Ok(IpAddr::from(a))
    } else if let Ok(a) = <[u8; 16]>::try_from(bytes) {
        Ok(IpAddr::from(a))
    } else {
        Err(invalid(typ, "an inet must be 4 or 16 bytes"))
    }
});

/// Decodes a duration's three vints, checking that months and days fit in 32 bits.
pub(crate) fn decode_duration(
    typ: &CqlType,
    bytes: &[u8],
) -> Result<CqlDuration, DeserializeError> {
    let mut r = WireReader::new(bytes);
    let months = vint::read_signed(&mut r)?;
    let days = vint::read_signed(&mut r)?;
    let nanos = vint::read_signed(&mut r)?;
    r.expect_end()?;
    let months =
        i32::try_from(months).map_err(|_| invalid(typ, "duration months out of 32-bit range"))?;
    let days =
        i32::try_from(days).map_err(|_| invalid(typ, "duration days out of 32-bit range"))?;
    Ok(CqlDuration {
        months,
        days,
        nanos,
    })
}

de_non_null!(CqlDuration, CqlType::Duration, |typ, v| decode_duration(
    typ,
    v.as_slice()
));

de_non_null!(CqlVarint, CqlType::Varint, |typ, v| {
    if v.as_slice().is_empty() {
        return Err(invalid(typ, "empty varint"));
    }
    Ok(CqlVarint(v.to_bytes()))
});

/// Decodes a decimal: an `[int]` scale then the unscaled varint (at least one byte).
pub(crate) fn decode_decimal(
    typ: &CqlType,
    v: FrameSlice<'_>,
) -> Result<CqlDecimal, DeserializeError> {
    let bytes = v.as_slice();
    if bytes.len() < 5 {
        return Err(invalid(typ, "a decimal needs a 4-byte scale and a varint"));
    }
    let scale = i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    Ok(CqlDecimal {
        unscaled: CqlVarint(v.with_slice(&bytes[4..]).to_bytes()),
        scale,
    })
}

de_non_null!(CqlDecimal, CqlType::Decimal, |typ, v| decode_decimal(
    typ, v
));

/// Validates text (UTF-8) or ascii (bytes 0..=127).
#[inline]
pub(crate) fn decode_str<'a>(typ: &CqlType, bytes: &'a [u8]) -> Result<&'a str, DeserializeError> {
    if matches!(typ, CqlType::Ascii) && !bytes.is_ascii() {
        return Err(invalid(typ, "non-ASCII byte in an ascii value"));
    }
    crate::wire::utf8(bytes).map_err(|_| invalid(typ, "invalid UTF-8"))
}

de_non_null!(&'frame str, CqlType::Text | CqlType::Ascii, |typ, v| {
    decode_str(typ, v.as_slice())
});

de_non_null!(String, CqlType::Text | CqlType::Ascii, |typ, v| decode_str(
    typ,
    v.as_slice()
)
.map(str::to_owned));

de_non_null!(
    &'frame [u8],
    CqlType::Blob | CqlType::Custom(_),
    |_typ, v| Ok(v.as_slice())
);
de_non_null!(Vec<u8>, CqlType::Blob | CqlType::Custom(_), |_typ, v| Ok(v
    .as_slice()
    .to_vec()));
// `Bytes` shares the frame's memory: no copy.
de_non_null!(Bytes, CqlType::Blob | CqlType::Custom(_), |_typ, v| Ok(
    v.to_bytes()
));

/// `None` for null. An empty (zero-length) value is not null: it goes to `T`.
impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>> DeserializeValue<'frame, 'meta>
    for Option<T>
{
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        T::check_type(typ)
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        value.map(|v| T::deserialize(typ, Some(v))).transpose()
    }
}

/// [`MaybeEmpty::Empty`] for a zero-length value of any type; a null still goes to `T`.
impl<'frame, 'meta, T: DeserializeValue<'frame, 'meta>> DeserializeValue<'frame, 'meta>
    for MaybeEmpty<T>
{
    fn check_type(typ: &'meta CqlType) -> Result<(), DeserializeError> {
        T::check_type(typ)
    }

    fn deserialize(
        typ: &'meta CqlType,
        value: Option<FrameSlice<'frame>>,
    ) -> Result<Self, DeserializeError> {
        match value {
            Some(v) if v.as_slice().is_empty() => Ok(MaybeEmpty::Empty),
            other => T::deserialize(typ, other).map(MaybeEmpty::Value),
        }
    }
}
