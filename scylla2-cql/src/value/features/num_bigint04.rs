//! `num-bigint` 0.4: `BigInt` ↔ varint. Sizing does not allocate; writing goes through
//! `to_signed_bytes_be` (one temporary allocation).

use bytes::BufMut;
use num_bigint_04::{BigInt, Sign};

use crate::types::CqlType;
use crate::value::ser_impls::{Content, mismatch, via_content};
use crate::value::{CqlVarint, SerializeError, SerializeValue};

/// Bytes of the shortest two's complement encoding of `v`.
pub(crate) fn varint_len(v: &BigInt) -> usize {
    let bits = v.bits();
    let magnitude_bits = match v.sign() {
        // -2^(8k-1) fits in k bytes: a negative power of two needs one bit less.
        Sign::Minus if v.trailing_zeros() == Some(bits - 1) => bits - 1,
        _ => bits,
    };
    (magnitude_bits / 8 + 1) as usize
}

impl Content for BigInt {
    fn check(&self, typ: &CqlType) -> Result<(), SerializeError> {
        match typ {
            CqlType::Varint => crate::value::serialize::check_value_size(self.content_size()),
            _ => Err(mismatch::<Self>(typ)),
        }
    }
    fn content_size(&self) -> usize {
        varint_len(self)
    }
    fn write_content(&self, buf: &mut &mut [u8]) {
        buf.put_slice(&self.to_signed_bytes_be());
    }
}

impl SerializeValue for BigInt {
    via_content!();
}

de_via_newtype!(BigInt, CqlVarint, |v| Ok(BigInt::from_signed_bytes_be(
    &v.0
)));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_minimal_encodings() {
        for v in [
            0i128,
            1,
            127,
            128,
            255,
            256,
            -1,
            -128,
            -129,
            -256,
            -257,
            i64::MAX.into(),
            i64::MIN.into(),
            i128::MIN,
            i128::MAX,
        ] {
            let b = BigInt::from(v);
            assert_eq!(varint_len(&b), b.to_signed_bytes_be().len(), "{v}");
            assert_eq!(
                b.to_signed_bytes_be(),
                CqlVarint::from_i128(v).0.as_ref(),
                "{v}"
            );
        }
    }
}
