//! Variable-length integers (`[unsigned vint]` and zig-zag `[vint]`, v5 §3) as used inside
//! values: duration components and the element lengths of vectors with variable-size elements.
//!
//! An unsigned vint of `n` bytes (n ≤ 8) starts with `n - 1` one bits, then a zero bit, then
//! the value's most significant bits; 9 bytes means a first byte of `0xFF` followed by the
//! whole 64-bit value.

use bytes::BufMut;

use crate::wire::{WireError, WireReader};

/// Encoded size of an unsigned vint.
pub const fn unsigned_size(v: u64) -> usize {
    let mut n = 1;
    while n < 9 {
        if n == 8 || v >> (7 * n) == 0 {
            if n == 8 && v >> 56 != 0 {
                return 9;
            }
            return n;
        }
        n += 1;
    }
    9
}

/// Zig-zag encodes a signed value.
pub const fn zigzag(v: i64) -> u64 {
    ((v >> 63) ^ (v << 1)) as u64
}

/// Decodes a zig-zag encoded value.
pub const fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Encoded size of a signed vint.
pub const fn signed_size(v: i64) -> usize {
    unsigned_size(zigzag(v))
}

/// Writes an unsigned vint.
pub fn put_unsigned(buf: &mut impl BufMut, v: u64) {
    let n = unsigned_size(v);
    if n == 9 {
        buf.put_u8(0xFF);
        buf.put_u64(v);
        return;
    }
    let be = v.to_be_bytes();
    let mut bytes = [0u8; 8];
    bytes[8 - n..].copy_from_slice(&be[8 - n..]);
    // n - 1 leading one bits mark the extra bytes.
    bytes[8 - n] |= !(0xFFu8 >> (n - 1));
    buf.put_slice(&bytes[8 - n..]);
}

/// Writes a signed (zig-zag) vint.
pub fn put_signed(buf: &mut impl BufMut, v: i64) {
    put_unsigned(buf, zigzag(v));
}

/// Reads an unsigned vint (non-minimal encodings are accepted).
pub fn read_unsigned(r: &mut WireReader<'_>) -> Result<u64, WireError> {
    let first = r.read_u8()?;
    let extra = first.leading_ones() as usize;
    let mut v: u64 = if extra >= 8 {
        0
    } else {
        u64::from(first & (0xFF >> extra))
    };
    for &b in r.read_slice(extra)? {
        v = (v << 8) | u64::from(b);
    }
    Ok(v)
}

/// Reads a signed (zig-zag) vint.
pub fn read_signed(r: &mut WireReader<'_>) -> Result<i64, WireError> {
    read_unsigned(r).map(unzigzag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_unsigned(&mut out, v);
        assert_eq!(out.len(), unsigned_size(v));
        out
    }

    #[test]
    fn spec_examples() {
        // v5 §3: 256 000 is encoded on 3 bytes as [110]00011 11101000 00000000.
        assert_eq!(enc(256_000), [0b1100_0011, 0b1110_1000, 0]);
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(127), [0x7F]);
        assert_eq!(enc(128), [0x80, 0x80]);
        assert_eq!(enc(u64::MAX), [0xFF; 9]);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(-2), 3);
        assert_eq!(unzigzag(5), -3);
    }

    #[test]
    fn round_trips_and_boundaries() {
        for shift in 0..64 {
            for v in [(1u64 << shift) - 1, 1u64 << shift, (1u64 << shift) + 1] {
                let bytes = enc(v);
                let mut r = WireReader::new(&bytes);
                assert_eq!(read_unsigned(&mut r).unwrap(), v);
                assert!(r.is_empty());
            }
        }
        for v in [i64::MIN, -1, 0, 1, i64::MAX] {
            let mut out = Vec::new();
            put_signed(&mut out, v);
            assert_eq!(out.len(), signed_size(v));
            assert_eq!(read_signed(&mut WireReader::new(&out)).unwrap(), v);
        }
        assert!(read_unsigned(&mut WireReader::new(&[0xC0, 0x01])).is_err());
    }
}
