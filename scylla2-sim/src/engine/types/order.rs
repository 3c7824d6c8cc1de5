//! Byte-comparable encoding of values: `encode(typ, v)` produces bytes whose lexicographic
//! order is the CQL order of the type (ints numerically, text/blob by bytes, uuid/timeuuid
//! like Cassandra, floats by `Float.compare`). Each component encoding is prefix-free, so a
//! composite clustering key is the concatenation of its components, a DESC component is
//! its bitwise complement, and a key prefix bounds every key that extends it.

use super::{read_i32, split_items, split_value};
use crate::model::ColumnType;

fn signed_be(out: &mut Vec<u8>, b: &[u8]) {
    if let Some((first, rest)) = b.split_first() {
        out.push(first ^ 0x80);
        out.extend_from_slice(rest);
    }
}

/// Escaped variable-length bytes: 0x00 → 0x00 0xff, terminated by 0x00 0x00.
fn escaped(out: &mut Vec<u8>, b: &[u8]) {
    for &c in b {
        out.push(c);
        if c == 0 {
            out.push(0xff);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

fn float_bits(out: &mut Vec<u8>, b: &[u8]) {
    if b.is_empty() {
        return;
    }
    if b[0] & 0x80 != 0 {
        out.extend(b.iter().map(|c| !c));
    } else {
        out.push(b[0] ^ 0x80);
        out.extend_from_slice(&b[1..]);
    }
}

fn uuid(out: &mut Vec<u8>, b: &[u8], time_only: bool) {
    if b.len() != 16 {
        escaped(out, b);
        return;
    }
    let version = b[6] >> 4;
    if !time_only {
        out.push(version);
    }
    if version == 1 {
        // 60-bit timestamp: time_hi (12 bits), time_mid, time_low.
        let hi = (u64::from(b[6] & 0x0f) << 8) | u64::from(b[7]);
        let mid = (u64::from(b[4]) << 8) | u64::from(b[5]);
        let low = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let ts = (hi << 48) | (mid << 32) | low;
        out.extend_from_slice(&ts.to_be_bytes());
    } else {
        out.extend_from_slice(&b[..8]);
    }
    // Least significant half: Cassandra compares `lsb ^ 0x8080808080808080` as a signed long,
    // i.e. the first byte unsigned and the other seven as signed bytes.
    out.push(b[8]);
    out.extend(b[9..].iter().map(|c| c ^ 0x80));
}

fn varint(out: &mut Vec<u8>, b: &[u8]) {
    // Strip redundant sign-extension bytes so lengths are canonical.
    let mut s = b;
    while s.len() > 1 && ((s[0] == 0 && s[1] & 0x80 == 0) || (s[0] == 0xff && s[1] & 0x80 != 0)) {
        s = &s[1..];
    }
    let negative = s.first().is_some_and(|c| c & 0x80 != 0);
    let len = s.len() as u32;
    if negative {
        out.push(0);
        out.extend_from_slice(&(!len).to_be_bytes());
    } else {
        out.push(1);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// Appends the byte-comparable encoding of `v` (a valid value of `typ`) to `out`.
pub fn encode(typ: &ColumnType, v: &[u8], out: &mut Vec<u8>) {
    // Empty values sort first: marker 0x00 for empty, 0x01 otherwise.
    if v.is_empty() {
        out.push(0);
        return;
    }
    out.push(1);
    match typ {
        ColumnType::BigInt
        | ColumnType::Counter
        | ColumnType::Int
        | ColumnType::SmallInt
        | ColumnType::TinyInt
        | ColumnType::Timestamp
        | ColumnType::Time => signed_be(out, v),
        // Dates are unsigned with the epoch at 2^31; booleans are one byte.
        ColumnType::Date | ColumnType::Boolean => out.extend_from_slice(v),
        ColumnType::Float | ColumnType::Double => float_bits(out, v),
        ColumnType::Uuid => uuid(out, v, false),
        ColumnType::Timeuuid => uuid(out, v, true),
        ColumnType::Varint => varint(out, v),
        ColumnType::Decimal => {
            // Approximation: scale then unscaled value (exact for equal scales).
            let scale = read_i32(v).unwrap_or(0);
            out.extend_from_slice(&((scale as u32) ^ 0x8000_0000).to_be_bytes());
            varint(out, &v[4.min(v.len())..]);
        }
        ColumnType::List(t, _) | ColumnType::Set(t, _) | ColumnType::Vector(t, _) => {
            let items = match typ {
                ColumnType::Vector(_, n) => vector_items(t, *n, v),
                _ => split_items(v, 1),
            };
            for item in items.unwrap_or_default().into_iter().flatten() {
                out.push(1);
                encode(t, item, out);
            }
            out.push(0);
        }
        ColumnType::Map(k, val, _) => {
            let items = split_items(v, 2).unwrap_or_default();
            for pair in items.chunks(2) {
                out.push(1);
                encode(k, pair[0].unwrap_or_default(), out);
                encode(val, pair[1].unwrap_or_default(), out);
            }
            out.push(0);
        }
        ColumnType::Tuple(types) => fields(types.iter(), v, out),
        ColumnType::Udt { fields: f, .. } => fields(f.iter().map(|(_, t)| t), v, out),
        ColumnType::Ascii
        | ColumnType::Text
        | ColumnType::Blob
        | ColumnType::Inet
        | ColumnType::Duration
        | ColumnType::Custom(_) => escaped(out, v),
    }
}

fn vector_items<'a>(t: &ColumnType, n: u32, v: &'a [u8]) -> Option<Vec<Option<&'a [u8]>>> {
    let size = super::validate::fixed_size(t)?;
    Some(v.chunks(size).take(n as usize).map(Some).collect())
}

fn fields<'a>(types: impl Iterator<Item = &'a ColumnType>, v: &[u8], out: &mut Vec<u8>) {
    let mut rest = v;
    for t in types {
        match split_value(rest) {
            Some((Some(x), r)) => {
                out.push(2);
                encode(t, x, out);
                rest = r;
            }
            Some((None, r)) => {
                out.push(1);
                rest = r;
            }
            None => out.push(1),
        }
    }
}

/// Appends the encoding of a clustering component, complemented when descending.
pub fn encode_component(typ: &ColumnType, desc: bool, v: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    encode(typ, v, out);
    if desc {
        out[start..].iter_mut().for_each(|b| *b = !*b);
    }
}

/// The smallest byte string greater than every string starting with `prefix`
/// (None when there is none: all bytes 0xff).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last != 0xff {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

/// Compares two values of `typ` in CQL order.
pub fn compare(typ: &ColumnType, a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let mut ea = Vec::with_capacity(a.len() + 4);
    let mut eb = Vec::with_capacity(b.len() + 4);
    encode(typ, a, &mut ea);
    encode(typ, b, &mut eb);
    ea.cmp(&eb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn orders_like_cql() {
        let c = |t: &ColumnType, a: &[u8], b: &[u8]| compare(t, a, b);
        assert_eq!(
            c(
                &ColumnType::Int,
                &(-5i32).to_be_bytes(),
                &3i32.to_be_bytes()
            ),
            Less
        );
        assert_eq!(
            c(
                &ColumnType::BigInt,
                &i64::MAX.to_be_bytes(),
                &(-1i64).to_be_bytes()
            ),
            Greater
        );
        assert_eq!(c(&ColumnType::Text, b"ab", b"abc"), Less);
        assert_eq!(c(&ColumnType::Text, b"a\0", b"a"), Greater);
        assert_eq!(c(&ColumnType::Text, b"b", b"abc"), Greater);
        assert_eq!(
            c(
                &ColumnType::Double,
                &(-2.5f64).to_be_bytes(),
                &(-1.0f64).to_be_bytes()
            ),
            Less
        );
        assert_eq!(
            c(
                &ColumnType::Double,
                &(-0.5f64).to_be_bytes(),
                &(0.25f64).to_be_bytes()
            ),
            Less
        );
        assert_eq!(
            c(
                &ColumnType::Float,
                &(3.0f32).to_be_bytes(),
                &(2.0f32).to_be_bytes()
            ),
            Greater
        );
        assert_eq!(c(&ColumnType::Varint, &[0xff], &[0x00, 0x80]), Less); // -1 < 128
        assert_eq!(c(&ColumnType::Varint, &[0x80, 0x00], &[0xff]), Less); // -32768 < -1
        assert_eq!(c(&ColumnType::Varint, &[0x01, 0x00], &[0x7f]), Greater); // 256 > 127
        // timeuuid: by timestamp, not bytes (time_low is the first field).
        let t1 = uuid::Uuid::parse_str("ffffffff-0000-1000-8000-000000000000").unwrap();
        let t2 = uuid::Uuid::parse_str("00000000-0001-1000-8000-000000000000").unwrap();
        assert_eq!(c(&ColumnType::Timeuuid, t1.as_bytes(), t2.as_bytes()), Less);
        assert_eq!(c(&ColumnType::Int, &[], &0i32.to_be_bytes()), Less);
    }

    #[test]
    fn desc_components_reverse_and_prefixes_bound() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        encode_component(&ColumnType::Int, true, &1i32.to_be_bytes(), &mut a);
        encode_component(&ColumnType::Int, true, &2i32.to_be_bytes(), &mut b);
        assert!(a > b);
        let mut p = Vec::new();
        encode_component(&ColumnType::Text, false, b"ab", &mut p);
        let mut full = p.clone();
        encode_component(&ColumnType::Int, false, &7i32.to_be_bytes(), &mut full);
        let succ = prefix_successor(&p).unwrap();
        assert!(full > p && full < succ);
        let mut other = Vec::new();
        encode_component(&ColumnType::Text, false, b"ab\0", &mut other);
        assert!(other > succ || other < p);
        assert_eq!(prefix_successor(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xff]), None);
    }
}
