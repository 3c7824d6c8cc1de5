//! A bound value's content — the bytes its `[value]` carries after the `[int]` length — handed
//! out without serializing the row around it, for computing partition keys (tokens) cheaply:
//! [`ValueContent`] borrows the bytes when the value holds them (text, blobs), copies them
//! inline when they are short (integers, uuids, addresses), or says to serialize the value.

/// Content bytes that [`InlineContent`] holds without allocating.
pub const INLINE_CONTENT_BYTES: usize = 16;

/// Up to [`INLINE_CONTENT_BYTES`] content bytes, held by value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct InlineContent {
    bytes: [u8; INLINE_CONTENT_BYTES],
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
        Some(Self {
            bytes,
            len: size as u8,
        })
    }

    /// The first `N` bytes of an array (`N` at most [`INLINE_CONTENT_BYTES`]; longer arrays
    /// keep their first 16 bytes).
    #[inline]
    pub fn from_array<const N: usize>(array: [u8; N]) -> Self {
        let mut bytes = [0u8; INLINE_CONTENT_BYTES];
        let n = N.min(INLINE_CONTENT_BYTES);
        bytes[..n].copy_from_slice(&array[..n]);
        Self {
            bytes,
            len: n as u8,
        }
    }

    /// The bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(INLINE_CONTENT_BYTES)]
    }

    /// All [`INLINE_CONTENT_BYTES`] bytes: the content, then zeros.
    #[inline]
    pub fn padded(&self) -> &[u8; INLINE_CONTENT_BYTES] {
        &self.bytes
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
        f.debug_tuple("InlineContent")
            .field(&self.as_slice())
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

    /// The content bytes when known: `None` for [`ValueContent::Null`] and
    /// [`ValueContent::Unavailable`].
    #[inline]
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            ValueContent::Borrowed(b) => Some(b),
            ValueContent::Inline(c) => Some(c.as_slice()),
            ValueContent::Null | ValueContent::Unavailable => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    #[test]
    fn inline_holds_up_to_16_bytes() {
        let c = InlineContent::write_with(4, |b| b.put_i32(-2)).unwrap();
        assert_eq!(c.as_slice(), [0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(c.len(), 4);
        assert_eq!(&c.padded()[4..], [0u8; 12]);
        assert!(InlineContent::write_with(17, |b| b.put_bytes(1, 17)).is_none());
        let full = InlineContent::write_with(16, |b| b.put_bytes(7, 16)).unwrap();
        assert_eq!(full.as_slice(), [7u8; 16]);
        assert!(InlineContent::write_with(0, |_| {}).unwrap().is_empty());
        assert_eq!(InlineContent::from_array([1, 2, 3]).as_slice(), [1, 2, 3]);
        assert_eq!(InlineContent::from_array([9u8; 20]).as_slice(), [9u8; 16]);
    }

    #[test]
    fn bytes_of_each_kind() {
        assert_eq!(ValueContent::Null.bytes(), None);
        assert_eq!(ValueContent::Unavailable.bytes(), None);
        assert_eq!(ValueContent::Borrowed(b"ab").bytes(), Some(&b"ab"[..]));
        assert_eq!(
            ValueContent::inline_with(2, |b| b.put_u16(0x0102)).bytes(),
            Some(&[1u8, 2][..])
        );
        assert_eq!(
            ValueContent::inline_with(20, |b| b.put_bytes(0, 20)),
            ValueContent::Unavailable
        );
    }
}
