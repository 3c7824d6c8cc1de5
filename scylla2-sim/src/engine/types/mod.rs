//! Value handling per column type: validation of serialized values ([`validate`]),
//! byte-comparable encoding for clustering order ([`order`]), literal conversion
//! ([`literal`]) and the textual type names system tables show ([`names`]).

pub mod literal;
pub mod names;
pub mod normalize;
pub mod order;
pub mod validate;

/// Reads a big-endian i32 at the start of `b`.
pub(crate) fn read_i32(b: &[u8]) -> Option<i32> {
    let arr: [u8; 4] = b.get(..4)?.try_into().ok()?;
    Some(i32::from_be_bytes(arr))
}

/// Splits CQL v4 collection bytes: `[int n]` then n `[int len][bytes]` items (len < 0 = null).
pub(crate) fn split_items(b: &[u8], per_item: usize) -> Option<Vec<Option<&[u8]>>> {
    let n = read_i32(b)?;
    if n < 0 {
        return None;
    }
    let mut rest = &b[4..];
    let total = (n as usize).checked_mul(per_item)?;
    // Each item takes at least 4 bytes: cap the preallocation by what is there.
    let mut out = Vec::with_capacity(total.min(rest.len() / 4));
    for _ in 0..total {
        let (item, r) = split_value(rest)?;
        out.push(item);
        rest = r;
    }
    if !rest.is_empty() {
        return None;
    }
    Some(out)
}

/// One `[int len][bytes]` value; returns it (None = null) and the rest.
pub(crate) fn split_value(b: &[u8]) -> Option<(Option<&[u8]>, &[u8])> {
    let len = read_i32(b)?;
    let rest = &b[4..];
    if len < 0 {
        return Some((None, rest));
    }
    let len = len as usize;
    if rest.len() < len {
        return None;
    }
    Some((Some(&rest[..len]), &rest[len..]))
}

/// Writes `[int n]` and items as a CQL collection.
pub(crate) fn write_collection<'a>(
    n: usize,
    items: impl Iterator<Item = Option<&'a [u8]>>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + n * 8);
    out.extend_from_slice(&(n as i32).to_be_bytes());
    for item in items {
        write_value(&mut out, item);
    }
    out
}

/// Writes one `[int len][bytes]` value (null = -1).
pub(crate) fn write_value(out: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        Some(v) => {
            out.extend_from_slice(&(v.len() as i32).to_be_bytes());
            out.extend_from_slice(v);
        }
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

/// Reads an unsigned vint (Cassandra's encoding: leading 1-bits count extra bytes).
pub(crate) fn read_unsigned_vint(b: &[u8]) -> Option<(u64, &[u8])> {
    let first = *b.first()?;
    let extra = first.leading_ones() as usize;
    if b.len() < 1 + extra {
        return None;
    }
    let mut v: u64 = if extra >= 8 {
        0
    } else {
        u64::from(first & (0xffu8 >> extra))
    };
    for byte in &b[1..=extra] {
        v = (v << 8) | u64::from(*byte);
    }
    Some((v, &b[1 + extra..]))
}

/// Writes an unsigned vint.
pub(crate) fn write_unsigned_vint(out: &mut Vec<u8>, v: u64) {
    // Cassandra's computeUnsignedVIntSize: total bytes from the magnitude.
    let magnitude = (v | 1).leading_zeros() as usize;
    let extra = ((639 - magnitude * 9) >> 6) - 1;
    if extra == 8 {
        out.push(0xff);
        out.extend_from_slice(&v.to_be_bytes());
        return;
    }
    let bytes = v.to_be_bytes();
    let mut first = bytes[7 - extra];
    first |= !(0xffu8 >> extra);
    out.push(first);
    out.extend_from_slice(&bytes[8 - extra..]);
}

/// Reads a signed (zigzag) vint.
pub(crate) fn read_signed_vint(b: &[u8]) -> Option<(i64, &[u8])> {
    let (v, rest) = read_unsigned_vint(b)?;
    Some((((v >> 1) as i64) ^ -((v & 1) as i64), rest))
}

/// Writes a signed (zigzag) vint.
pub(crate) fn write_signed_vint(out: &mut Vec<u8>, v: i64) {
    write_unsigned_vint(out, ((v << 1) ^ (v >> 63)) as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vint_round_trips_and_layout() {
        for v in [
            0i64,
            1,
            -1,
            63,
            -64,
            64,
            1000,
            -1000,
            i64::MAX,
            i64::MIN,
            1 << 40,
        ] {
            let mut out = Vec::new();
            write_signed_vint(&mut out, v);
            let (back, rest) = read_signed_vint(&out).unwrap();
            assert_eq!(back, v);
            assert!(rest.is_empty());
        }
        let mut out = Vec::new();
        write_unsigned_vint(&mut out, 0x7f);
        assert_eq!(out, [0x7f]);
        out.clear();
        write_unsigned_vint(&mut out, 0x80);
        assert_eq!(out, [0x80, 0x80]);
        out.clear();
        write_unsigned_vint(&mut out, 0x3fff);
        assert_eq!(out, [0xbf, 0xff]);
        out.clear();
        write_unsigned_vint(&mut out, 0x4000);
        assert_eq!(out, [0xc0, 0x40, 0x00]);
    }

    #[test]
    fn split_items_rejects_truncation() {
        assert!(split_items(&[0, 0, 0, 1, 0, 0, 0, 2, 1], 1).is_none());
        assert!(split_items(&[0, 0, 0, 1, 0, 0, 0, 1, 1, 9], 1).is_none());
        assert!(split_items(&[0xff, 0, 0, 0], 1).is_none());
        let items = split_items(&[0, 0, 0, 2, 0, 0, 0, 1, 7, 0xff, 0xff, 0xff, 0xff], 1).unwrap();
        assert_eq!(items, vec![Some(&[7u8][..]), None]);
    }
}
