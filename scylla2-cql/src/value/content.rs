//! A bound value's content — the bytes its `[value]` carries after the `[int]` length — handed
//! out without serializing the row around it, for computing partition keys (tokens) cheaply:
//! [`ValueContent`] borrows the bytes when the value holds them (text, blobs), copies them
//! inline when they are short (integers, uuids, addresses), or says to serialize the value.

/// Content bytes that [`InlineContent`] holds without allocating.
pub const INLINE_CONTENT_BYTES: usize = 16;

/// Up to [`INLINE_CONTENT_BYTES`] content bytes, held by value in one little-endian 128-bit
/// word (content byte i is bits 8i..8i+8; zeros above the content). A word rather than a
/// byte array so that the content travels in registers: a byte array is stored piecewise,
/// and reading it back whole stalls the CPU's store forwarding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct InlineContent {
    word: u128,
    len: u8,
}

impl InlineContent {
    /// `size` bytes written by `write` (which must write exactly `size` bytes); `None` when
    /// `size` is above [`INLINE_CONTENT_BYTES`].
    #[inline]
    pub fn write_with(size: usize, write: impl FnOnce(&mut &mut [u8])) -> Option<Self> {
        if size > INLINE_CONTENT_BYTES {
            return None;
        }
        let mut bytes = [0u8; INLINE_CONTENT_BYTES];
        write(&mut &mut bytes[..size]);
        Some(Self::from_word(u128::from_le_bytes(bytes), size))
    }

    /// The first `len` bytes (at most [`INLINE_CONTENT_BYTES`]) of `word` read
    /// little-endian; the bytes above them are cleared.
    #[inline]
    pub fn from_word(word: u128, len: usize) -> Self {
        let len = len.min(INLINE_CONTENT_BYTES);
        let mask = u128::MAX.checked_shr(8 * (INLINE_CONTENT_BYTES - len) as u32);
        Self {
            word: word & mask.unwrap_or(0),
            len: len as u8,
        }
    }

    /// The first `N` bytes of an array (`N` at most [`INLINE_CONTENT_BYTES`]; longer arrays
    /// keep their first 16 bytes).
    #[inline]
    pub fn from_array<const N: usize>(array: [u8; N]) -> Self {
        let n = N.min(INLINE_CONTENT_BYTES);
        let mut bytes = [0u8; INLINE_CONTENT_BYTES];
        bytes[..n].copy_from_slice(&array[..n]);
        Self::from_word(u128::from_le_bytes(bytes), n)
    }

    /// The content as a little-endian word, zeros above it.
    #[inline]
    pub fn word(&self) -> u128 {
        self.word
    }

    /// The content bytes, then zeros up to [`INLINE_CONTENT_BYTES`].
    #[inline]
    pub fn to_bytes(&self) -> [u8; INLINE_CONTENT_BYTES] {
        self.word.to_le_bytes()
    }

    /// Number of content bytes.
    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are no content bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for InlineContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.to_bytes();
        f.debug_tuple("InlineContent")
            .field(&&bytes[..self.len()])
            .finish()
    }
}

/// A value's content as [`SerializeValue::value_content`](super::SerializeValue::value_content)
/// reports it. It always agrees with what `write_value` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueContent<'a> {
    /// The value is written with a negative length: null or "not set".
    Null,
    /// The content bytes, borrowed from the value.
    Borrowed(&'a [u8]),
    /// The content bytes, copied.
    Inline(InlineContent),
    /// Not available without serializing: `write_value` gives the content.
    Unavailable,
}

impl<'a> ValueContent<'a> {
    /// The content of a value of this `size` (content bytes) written by `write`: inline when
    /// it fits, [`ValueContent::Unavailable`] otherwise.
    #[inline]
    pub fn inline_with(size: usize, write: impl FnOnce(&mut &mut [u8])) -> Self {
        match InlineContent::write_with(size, write) {
            Some(c) => ValueContent::Inline(c),
            None => ValueContent::Unavailable,
        }
    }

    /// Calls `f` with the content bytes when known: `None` for [`ValueContent::Null`] and
    /// [`ValueContent::Unavailable`].
    #[inline]
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        match self {
            ValueContent::Borrowed(b) => Some(f(b)),
            ValueContent::Inline(c) => Some(f(&c.to_bytes()[..c.len()])),
            ValueContent::Null | ValueContent::Unavailable => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    fn bytes_of(c: &InlineContent) -> Vec<u8> {
        c.to_bytes()[..c.len()].to_vec()
    }

    #[test]
    fn inline_holds_up_to_16_bytes() {
        let c = InlineContent::write_with(4, |b| b.put_i32(-2)).unwrap();
        assert_eq!(bytes_of(&c), [0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(c.len(), 4);
        assert_eq!(c.word(), 0xfeff_ffff);
        assert!(InlineContent::write_with(17, |b| b.put_bytes(1, 17)).is_none());
        let full = InlineContent::write_with(16, |b| b.put_bytes(7, 16)).unwrap();
        assert_eq!(bytes_of(&full), [7u8; 16]);
        assert!(InlineContent::write_with(0, |_| {}).unwrap().is_empty());
        assert_eq!(bytes_of(&InlineContent::from_array([1, 2, 3])), [1, 2, 3]);
        assert_eq!(bytes_of(&InlineContent::from_array([9u8; 20])), [9u8; 16]);
        // Bytes above the length are cleared.
        let w = InlineContent::from_word(u128::MAX, 3);
        assert_eq!(w.word(), 0xff_ffff);
        assert_eq!(InlineContent::from_word(u128::MAX, 0).word(), 0);
        assert_eq!(InlineContent::from_word(u128::MAX, 99).word(), u128::MAX);
        assert_eq!(format!("{w:?}"), "InlineContent([255, 255, 255])");
    }

    #[test]
    fn bytes_of_each_kind() {
        let len = |c: ValueContent<'_>| c.with_bytes(<[u8]>::to_vec);
        assert_eq!(len(ValueContent::Null), None);
        assert_eq!(len(ValueContent::Unavailable), None);
        assert_eq!(len(ValueContent::Borrowed(b"ab")), Some(b"ab".to_vec()));
        assert_eq!(
            len(ValueContent::inline_with(2, |b| b.put_u16(0x0102))),
            Some(vec![1, 2])
        );
        assert_eq!(
            ValueContent::inline_with(20, |b| b.put_bytes(0, 20)),
            ValueContent::Unavailable
        );
    }
}
