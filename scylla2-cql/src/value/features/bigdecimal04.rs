//! `bigdecimal` 0.4: `BigDecimal` ↔ decimal (scale as `[int]`, unscaled value as a varint).
//! Sizing and writing go through `as_bigint_and_exponent` (a temporary copy of the digits).

use bigdecimal_04::BigDecimal;
use bytes::BufMut;
use num_bigint_04::BigInt;

use super::num_bigint04::varint_len;
use crate::types::CqlType;
use crate::value::ser_impls::{Content, mismatch, out_of_range, via_content};
use crate::value::{CqlDecimal, SerializeError, SerializeValue};

impl Content for BigDecimal {
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match typ {
            CqlType::Decimal => {
                let (_, scale) = self.as_bigint_and_exponent();
                if i32::try_from(scale).is_err() {
                    return Err(out_of_range::<Self>(typ, "scale does not fit in 32 bits"));
                }
                crate::value::serialize::check_value_size(self.content_size())
            }
            _ => Err(mismatch::<Self>(typ)),
        }
    }
    fn content_size(&self) -> usize {
        let (unscaled, _) = self.as_bigint_and_exponent();
        4 + varint_len(&unscaled)
    }
    fn write_content(&self, buf: &mut &mut [u8]) {
        let (unscaled, scale) = self.as_bigint_and_exponent();
        buf.put_i32(scale as i32);
        buf.put_slice(&unscaled.to_signed_bytes_be());
    }
}

impl SerializeValue for BigDecimal {
    via_content!();
}

de_via_newtype!(BigDecimal, CqlDecimal, |d| Ok(BigDecimal::new(
    BigInt::from_signed_bytes_be(&d.unscaled.0),
    i64::from(d.scale),
)));
