//! Newtypes for CQL types with no single obvious Rust counterpart (timestamp, date, time,
//! duration, decimal, varint, counter), the "not set" markers [`Unset`] and [`MaybeUnset`],
//! [`MaybeEmpty`] for zero-length values, and the [`CqlVector`] wrapper that sends a
//! collection as a `vector<T, N>`.
//!
//! Their `Display` prints what cqlsh would print for the value.

use std::fmt;

use bytes::Bytes;

/// A `timestamp`: milliseconds since the Unix epoch (negative before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CqlTimestamp(pub i64);

/// A `date`: days with the Unix epoch at 2^31 (`1 << 31` is 1970-01-01), as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CqlDate(pub u32);

/// Offset of the Unix epoch in a [`CqlDate`].
pub const DATE_EPOCH: u32 = 1 << 31;

impl CqlDate {
    /// The date `days` days after 1970-01-01 (before it when negative).
    pub const fn from_unix_days(days: i32) -> Self {
        CqlDate((days as i64 + DATE_EPOCH as i64) as u32)
    }

    /// Days since 1970-01-01.
    pub const fn unix_days(self) -> i64 {
        self.0 as i64 - DATE_EPOCH as i64
    }
}

impl Default for CqlDate {
    fn default() -> Self {
        CqlDate(DATE_EPOCH)
    }
}

/// A `time`: nanoseconds since midnight, `0..=`[`CqlTime::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CqlTime(pub i64);

impl CqlTime {
    /// The last valid nanosecond of a day.
    pub const MAX: i64 = 86_399_999_999_999;

    /// Whether the value is within a day.
    pub const fn is_valid(self) -> bool {
        self.0 >= 0 && self.0 <= Self::MAX
    }
}

/// A `duration`: months, days and nanoseconds, all of the same sign (or zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CqlDuration {
    /// Months.
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Nanoseconds.
    pub nanos: i64,
}

impl CqlDuration {
    /// Whether the components agree in sign, as the spec requires.
    pub const fn is_valid(&self) -> bool {
        let all_nonneg = self.months >= 0 && self.days >= 0 && self.nanos >= 0;
        let all_nonpos = self.months <= 0 && self.days <= 0 && self.nanos <= 0;
        all_nonneg || all_nonpos
    }
}

/// A `varint`: a big-endian two's complement integer of any length, as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct CqlVarint(pub Bytes);

impl CqlVarint {
    /// The shortest encoding of `v`.
    pub fn from_i64(v: i64) -> Self {
        Self::from_i128(i128::from(v))
    }

    /// The shortest encoding of `v`.
    pub fn from_i128(v: i128) -> Self {
        let be = v.to_be_bytes();
        let mut start = 0;
        // Drop leading bytes that only repeat the sign of the next one.
        while start < 15 {
            let (b, next) = (be[start], be[start + 1]);
            if (b == 0 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        CqlVarint(Bytes::copy_from_slice(&be[start..]))
    }

    /// The value if it fits in an `i128` (an empty encoding is `None`).
    pub fn to_i128(&self) -> Option<i128> {
        let b = trim_sign_bytes(self.0.as_ref());
        if b.is_empty() || b.len() > 16 {
            return None;
        }
        Some(be_to_i128(b))
    }

    /// The value if it fits in an `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        self.to_i128().and_then(|v| i64::try_from(v).ok())
    }
}

fn trim_sign_bytes(b: &[u8]) -> &[u8] {
    let mut start = 0;
    while start + 1 < b.len() {
        let (x, next) = (b[start], b[start + 1]);
        if (x == 0 && next & 0x80 == 0) || (x == 0xFF && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    &b[start..]
}

fn be_to_i128(b: &[u8]) -> i128 {
    let fill = if b.first().is_some_and(|x| x & 0x80 != 0) {
        0xFF
    } else {
        0
    };
    let mut out = [fill; 16];
    out[16 - b.len()..].copy_from_slice(b);
    i128::from_be_bytes(out)
}

/// A `decimal`: `unscaled * 10^-scale`, the unscaled part a two's complement varint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct CqlDecimal {
    /// The unscaled value.
    pub unscaled: CqlVarint,
    /// The scale (digits after the decimal point; negative multiplies by a power of ten).
    pub scale: i32,
}

impl CqlDecimal {
    /// `unscaled * 10^-scale`.
    pub fn from_i64_scale(unscaled: i64, scale: i32) -> Self {
        CqlDecimal {
            unscaled: CqlVarint::from_i64(unscaled),
            scale,
        }
    }
}

/// A `counter` value (reading a counter column, or an update's delta).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Counter(pub i64);

/// A bound value that leaves the column unchanged (`[value]` length -2, protocol v4+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Unset;

/// A bound value that may be left unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MaybeUnset<T> {
    /// Leave the column unchanged.
    #[default]
    Unset,
    /// Bind this value.
    Set(T),
}

/// A value that may be empty (zero bytes long, which legacy tables allow for most non-string
/// types and which is not null). Reading an empty value into a plain `i32`, or an
/// `Option<i32>`, is an error; read `MaybeEmpty<i32>` (or `Option<MaybeEmpty<i32>>`) instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaybeEmpty<T> {
    /// A zero-length value.
    Empty,
    /// A value.
    Value(T),
}

/// Sends a collection as a Cassandra 5 `vector<T, N>`: `CqlVector(vec![1.0f32, 2.0, 3.0])`,
/// `CqlVector([1.0f32; 3])`, `CqlVector(&slice[..])`. Plain `Vec`s and slices are sent as
/// lists or sets, whose encoding differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CqlVector<C>(pub C);

/// Gregorian (year, month, day) of a day count since 1970-01-01 (valid for any `i64` the
/// callers pass: days of a `date` or of a millisecond `timestamp`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl fmt::Display for CqlDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.unix_days());
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Display for CqlTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_valid() {
            return write!(f, "{}", self.0);
        }
        let secs = self.0 / 1_000_000_000;
        let nanos = self.0 % 1_000_000_000;
        write!(
            f,
            "{:02}:{:02}:{:02}.{nanos:09}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

impl fmt::Display for CqlTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400_000);
        let ms = self.0.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        let secs = ms / 1000;
        write!(
            f,
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            ms % 1000
        )
    }
}

impl fmt::Display for CqlDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.months == 0 && self.days == 0 && self.nanos == 0 {
            return f.write_str("0s");
        }
        if self.months < 0 || self.days < 0 || self.nanos < 0 {
            f.write_str("-")?;
        }
        let months = self.months.unsigned_abs();
        let days = self.days.unsigned_abs();
        let nanos = self.nanos.unsigned_abs();
        let units: [(u64, &str); 9] = [
            (u64::from(months / 12), "y"),
            (u64::from(months % 12), "mo"),
            (u64::from(days), "d"),
            (nanos / 3_600_000_000_000, "h"),
            (nanos / 60_000_000_000 % 60, "m"),
            (nanos / 1_000_000_000 % 60, "s"),
            (nanos / 1_000_000 % 1000, "ms"),
            (nanos / 1000 % 1000, "us"),
            (nanos % 1000, "ns"),
        ];
        for (v, unit) in units {
            if v != 0 {
                write!(f, "{v}{unit}")?;
            }
        }
        Ok(())
    }
}

/// Longest integer printed in decimal: conversion is quadratic in the length, so longer
/// (hostile or absurd) values print as two's complement hex instead.
const MAX_DECIMAL_PRINT_BYTES: usize = 4096;

/// Decimal digits of a big-endian two's complement integer (`"-"` included when negative).
pub(crate) fn twos_complement_to_decimal(bytes: &[u8]) -> String {
    if bytes.len() > MAX_DECIMAL_PRINT_BYTES {
        let mut out = String::from("0x");
        for b in bytes {
            out.push_str(&format!("{b:02x}"));
        }
        return out;
    }
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut mag: Vec<u8> = bytes.to_vec();
    if negative {
        // Two's complement negation: invert, then add one.
        for b in mag.iter_mut() {
            *b = !*b;
        }
        for b in mag.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }
    let mut chunks: Vec<u32> = Vec::new();
    loop {
        let mut rem: u64 = 0;
        let mut nonzero = false;
        for b in mag.iter_mut() {
            let cur = (rem << 8) | u64::from(*b);
            *b = (cur / 1_000_000_000) as u8;
            rem = cur % 1_000_000_000;
            nonzero |= *b != 0;
        }
        chunks.push(rem as u32);
        if !nonzero {
            break;
        }
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let mut iter = chunks.iter().rev();
    if let Some(first) = iter.next() {
        out.push_str(&first.to_string());
    }
    for c in iter {
        out.push_str(&format!("{c:09}"));
    }
    out
}

impl fmt::Display for CqlVarint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&twos_complement_to_decimal(&self.0))
    }
}

/// Prints like Java's `BigDecimal::toString` (what Cassandra and cqlsh show): plain notation
/// when the exponent is small, scientific otherwise, so that output stays proportional to the
/// digits whatever the scale.
impl fmt::Display for CqlDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = twos_complement_to_decimal(&self.unscaled.0);
        let (sign, digits) = match digits.strip_prefix('-') {
            Some(d) => ("-", d),
            None => ("", digits.as_str()),
        };
        let scale = i64::from(self.scale);
        let adjusted = digits.len() as i64 - 1 - scale;
        if scale == 0 {
            write!(f, "{sign}{digits}")
        } else if scale > 0 && adjusted >= -6 {
            let scale = scale as usize;
            if digits.len() > scale {
                let (int, frac) = digits.split_at(digits.len() - scale);
                write!(f, "{sign}{int}.{frac}")
            } else {
                // At most 6 leading zeros here.
                write!(f, "{sign}0.{}{digits}", "0".repeat(scale - digits.len()))
            }
        } else {
            let (first, rest) = digits.split_at(1);
            let point = if rest.is_empty() { "" } else { "." };
            let exp_sign = if adjusted >= 0 { "+" } else { "" };
            write!(f, "{sign}{first}{point}{rest}E{exp_sign}{adjusted}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_minimal_encodings_from_spec_table() {
        let cases: [(i64, &[u8]); 8] = [
            (0, &[0x00]),
            (1, &[0x01]),
            (127, &[0x7F]),
            (128, &[0x00, 0x80]),
            (129, &[0x00, 0x81]),
            (-1, &[0xFF]),
            (-128, &[0x80]),
            (-129, &[0xFF, 0x7F]),
        ];
        for (v, bytes) in cases {
            let vi = CqlVarint::from_i64(v);
            assert_eq!(vi.0.as_ref(), bytes, "{v}");
            assert_eq!(vi.to_i64(), Some(v));
            assert_eq!(vi.to_string(), v.to_string());
        }
        // Non-minimal encodings decode too.
        assert_eq!(
            CqlVarint(Bytes::from_static(&[0xFF, 0xFF])).to_i64(),
            Some(-1)
        );
        assert_eq!(CqlVarint(Bytes::new()).to_i64(), None);
        let big = CqlVarint::from_i128(i128::MIN);
        assert_eq!(big.to_string(), i128::MIN.to_string());
    }

    #[test]
    fn displays_like_cqlsh() {
        assert_eq!(CqlDate::from_unix_days(19782).to_string(), "2024-02-29");
        assert_eq!(CqlDate::from_unix_days(-1).to_string(), "1969-12-31");
        assert_eq!(
            CqlTime(45_296_789_000_000).to_string(),
            "12:34:56.789000000"
        );
        assert_eq!(
            CqlTimestamp(1_709_210_096_789).to_string(),
            "2024-02-29 12:34:56.789Z"
        );
        assert_eq!(
            CqlTimestamp(-315_619_200_000).to_string(),
            "1960-01-01 00:00:00.000Z"
        );
        let d = CqlDuration {
            months: 14,
            days: 25,
            nanos: 18_367_008_009_010,
        };
        assert_eq!(d.to_string(), "1y2mo25d5h6m7s8ms9us10ns");
        assert_eq!(
            CqlDecimal::from_i64_scale(123_456, 3).to_string(),
            "123.456"
        );
        assert_eq!(CqlDecimal::from_i64_scale(-1, 6).to_string(), "-0.000001");
        assert_eq!(CqlDecimal::from_i64_scale(12, -3).to_string(), "1.2E+4");
        assert_eq!(CqlDecimal::from_i64_scale(5, -1).to_string(), "5E+1");
        assert_eq!(CqlDecimal::from_i64_scale(1, 7).to_string(), "1E-7");
        assert_eq!(
            CqlDecimal::from_i64_scale(-123, i32::MAX).to_string(),
            "-1.23E-2147483645"
        );
    }
}
