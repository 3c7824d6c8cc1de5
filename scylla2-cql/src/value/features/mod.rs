//! Conversions for optional crates, each behind its feature: `chrono-04`, `time-03`,
//! `num-bigint-04` and `bigdecimal-04`.

/// Implements [`SerializeValue`](crate::value::SerializeValue) for a type that converts to a
/// fixed-size newtype (the conversion may fail with an out-of-range reason).
#[allow(unused_macros)]
macro_rules! ser_via_newtype {
    ($ty:ty, $cql:pat, $size:expr, $fixed:expr, |$v:ident| $conv:expr) => {
        impl $crate::value::ser_impls::Content for $ty {
            fn check(
                &self,
                typ: &$crate::types::CqlType,
            ) -> Result<(), $crate::value::SerializeError> {
                match typ {
                    $cql => {
                        let $v = self;
                        let converted: Result<_, &'static str> = $conv;
                        converted.map(|_| ()).map_err(|reason| {
                            $crate::value::ser_impls::out_of_range::<Self>(typ, reason)
                        })
                    }
                    _ => Err($crate::value::ser_impls::mismatch::<Self>(typ)),
                }
            }
            fn content_size(&self) -> usize {
                $size
            }
            fn write_content(&self, buf: &mut &mut [u8]) {
                let $v = self;
                let converted: Result<_, &'static str> = $conv;
                match converted {
                    Ok(n) => $crate::value::ser_impls::Content::write_content(&n, buf),
                    // Refused by the type check; keep the promised size.
                    Err(_) => bytes::BufMut::put_bytes(buf, 0, $size),
                }
            }
            fn fixed_size(&self) -> Option<usize> {
                $fixed
            }
        }

        impl $crate::value::SerializeValue for $ty {
            $crate::value::ser_impls::via_content!();
        }
    };
}

/// Implements [`DeserializeValue`](crate::value::DeserializeValue) for a type converted from a
/// newtype (the conversion may fail with a reason).
#[allow(unused_macros)]
macro_rules! de_via_newtype {
    ($ty:ty, $newtype:ty, |$v:ident| $conv:expr) => {
        impl<'frame, 'meta> $crate::value::DeserializeValue<'frame, 'meta> for $ty {
            fn check_type(
                typ: &'meta $crate::types::CqlType,
            ) -> Result<(), $crate::value::DeserializeError> {
                <$newtype as $crate::value::DeserializeValue>::check_type(typ).map_err(|_| {
                    $crate::value::DeserializeError::TypeMismatch {
                        rust_type: std::any::type_name::<Self>(),
                        cql_type: typ.clone(),
                    }
                })
            }

            fn deserialize(
                typ: &'meta $crate::types::CqlType,
                value: Option<$crate::value::FrameSlice<'frame>>,
            ) -> Result<Self, $crate::value::DeserializeError> {
                let $v = <$newtype as $crate::value::DeserializeValue>::deserialize(typ, value)?;
                let converted: Result<Self, &'static str> = $conv;
                converted.map_err(|reason| $crate::value::DeserializeError::InvalidValue {
                    cql_type: typ.clone(),
                    reason,
                })
            }
        }
    };
}

#[cfg(feature = "bigdecimal-04")]
mod bigdecimal04;
#[cfg(feature = "chrono-04")]
mod chrono04;
#[cfg(feature = "num-bigint-04")]
mod num_bigint04;
#[cfg(feature = "time-03")]
mod time03;
