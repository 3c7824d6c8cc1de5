//! Stored bytes laid out for accesses that miss the cache: a partition map key kept inside
//! the map's own entry, and a short cell value kept inside its cell. Under load most of a
//! point read's or write's time went to cache misses on pointers: comparing a probed entry's
//! key read the key's separate allocation, and reading or overwriting a cell value touched
//! the value's own allocation.

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

/// The longest cell value kept inside its cell.
const INLINE_VALUE: usize = 64;

/// A cell value as storage holds it: up to [`INLINE_VALUE`] bytes inside the cell itself,
/// longer values as shared bytes. Under load a short value out of line cost a cache miss on
/// every overwrite (dropping the old value's reference count) and on every read (cloning
/// it); inside the cell it shares the cache lines of the cell's stamp, which both read
/// anyway, and a read copies it into the answer.
#[derive(Clone)]
pub enum StoredValue {
    /// A short value.
    Inline {
        /// Its length.
        len: u8,
        /// Its bytes (the first `len`).
        bytes: [u8; INLINE_VALUE],
    },
    /// A longer value.
    Shared(Bytes),
}

impl StoredValue {
    /// The stored form of `v`: a copy either way (a slice of a network frame would pin the
    /// whole frame).
    pub(super) fn of(v: &[u8]) -> Self {
        if v.len() > INLINE_VALUE {
            return StoredValue::Shared(Bytes::copy_from_slice(v));
        }
        let mut bytes = [0; INLINE_VALUE];
        bytes[..v.len()].copy_from_slice(v);
        StoredValue::Inline {
            len: v.len() as u8,
            bytes,
        }
    }

    /// The value's bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            StoredValue::Inline { len, bytes } => &bytes[..usize::from(*len)],
            StoredValue::Shared(b) => b,
        }
    }

    /// The value as shared bytes for an answer: a short value copied beside its reference
    /// count ([`crate::shared_bytes`]), a longer one shared.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            StoredValue::Inline { len, bytes } => {
                crate::shared_bytes::shared_copy(&bytes[..usize::from(*len)])
            }
            StoredValue::Shared(b) => b.clone(),
        }
    }
}

impl std::fmt::Debug for StoredValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_slice(), f)
    }
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
            let stored = StoredValue::of(&v);
            assert_eq!(
                matches!(stored, StoredValue::Inline { .. }),
                n <= INLINE_VALUE,
                "{n} bytes"
            );
            assert_eq!(stored.as_slice(), &v[..], "{n} bytes");
            let bytes = stored.to_bytes();
            let clone = stored.clone();
            drop(stored);
            assert_eq!(clone.as_slice(), &v[..], "{n} bytes");
            assert_eq!(&bytes[..], &v[..], "{n} bytes");
            assert_eq!(bytes.slice(n / 2..), &v[n / 2..]);
        }
    }
}
