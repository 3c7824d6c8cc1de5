//! Stored bytes laid out for reads that miss the cache: a partition map key kept inside the
//! map's own entry, and a cell value kept in the same allocation as its reference count.
//! Under load most of a point read's time went to cache misses on pointers: comparing a
//! probed entry's key read the key's separate allocation, and cloning a cell value for the
//! answer wrote a reference count that lived apart from the bytes copied next.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

use bytes::Bytes;

/// The longest partition key kept inline in the map's entry.
const INLINE_KEY: usize = 22;

/// A partition key as the partition map holds it: up to [`INLINE_KEY`] bytes inside the
/// entry itself, longer keys as shared bytes. Hashes and compares as the byte slice it holds,
/// so that the map is searched with a plain `&[u8]`.
#[derive(Debug, Clone)]
pub(super) enum PartKey {
    /// A short key.
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    /// A longer key.
    Shared(Bytes),
}

impl PartKey {
    /// The map key for `key`: a copy when short, else `key` itself (a reference, no copy).
    pub(super) fn of(key: &Bytes) -> Self {
        if key.len() > INLINE_KEY {
            return PartKey::Shared(key.clone());
        }
        let mut bytes = [0; INLINE_KEY];
        bytes[..key.len()].copy_from_slice(key);
        PartKey::Inline {
            len: key.len() as u8,
            bytes,
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            PartKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            PartKey::Shared(b) => b,
        }
    }
}

impl Borrow<[u8]> for PartKey {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Hash for PartKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `[u8]` hashes: `Borrow` requires the same hash for the same bytes.
        self.as_slice().hash(state);
    }
}

impl PartialEq for PartKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for PartKey {}

/// The longest cell value kept beside its reference count.
const INLINE_VALUE: usize = 64;

/// A stored copy of a cell value: up to [`INLINE_VALUE`] bytes in one allocation with the
/// reference count that every clone for an answer writes, so that the copy into the answer
/// that follows finds the bytes already in cache ([`crate::shared_bytes`]); longer values as
/// a plain copy (no room wasted on a size class).
pub(super) fn stored_value(v: &[u8]) -> Bytes {
    if v.len() > INLINE_VALUE {
        return Bytes::copy_from_slice(v);
    }
    crate::shared_bytes::shared_copy(v)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn keys_are_found_by_their_bytes_whatever_their_length() {
        let mut map: HashMap<PartKey, usize, ahash::RandomState> = HashMap::default();
        let keys: Vec<Bytes> = (0..=INLINE_KEY + 3)
            .map(|n| Bytes::from((0..n as u8).collect::<Vec<u8>>()))
            .collect();
        for (i, k) in keys.iter().enumerate() {
            assert!(map.insert(PartKey::of(k), i).is_none());
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(map.get(&k[..]), Some(&i), "key of {} bytes", k.len());
            assert_eq!(PartKey::of(k).as_slice(), &k[..]);
        }
        // Same prefix, other length: another key.
        assert_eq!(map.get(&[0u8, 1, 2, 3, 0][..]), None);
        assert!(matches!(
            PartKey::of(&keys[INLINE_KEY]),
            PartKey::Inline { .. }
        ));
        assert!(matches!(
            PartKey::of(&keys[INLINE_KEY + 1]),
            PartKey::Shared(_)
        ));
    }

    #[test]
    fn stored_values_keep_their_bytes() {
        for n in [
            0,
            1,
            8,
            INLINE_VALUE - 1,
            INLINE_VALUE,
            INLINE_VALUE + 1,
            300,
        ] {
            let v: Vec<u8> = (0..n).map(|i| (i * 7) as u8).collect();
            let stored = stored_value(&v);
            let clone = stored.clone();
            drop(stored);
            assert_eq!(&clone[..], &v[..], "{n} bytes");
            assert_eq!(clone.slice(n / 2..), &v[n / 2..]);
        }
    }
}
