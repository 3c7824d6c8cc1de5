//! Stored bytes laid out for accesses that miss the cache: a partition map key kept inside
//! the map's own entry, a short cell value kept inside its cell, and a row's first cell
//! kept inside the row. Under load most of a point read's or write's time went to cache
//! misses on pointers: comparing a probed entry's key read the key's separate allocation,
//! reading or overwriting a cell value touched the value's own allocation, and reaching a
//! row's cells read their vector's.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

use bytes::Bytes;

use super::Cell;

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
        Self::probe(key).unwrap_or_else(|| PartKey::Shared(key.clone()))
    }

    /// The map key to look `key` up with when it is short (an inline copy, compared with
    /// the map's inline keys without a call to `memcmp`); `None` for a longer key, which is
    /// looked up as a slice.
    pub(super) fn probe(key: &[u8]) -> Option<Self> {
        if key.len() > INLINE_KEY {
            return None;
        }
        let mut bytes = [0; INLINE_KEY];
        bytes[..key.len()].copy_from_slice(key);
        Some(PartKey::Inline {
            len: key.len() as u8,
            bytes,
        })
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
        match (self, other) {
            // Both zero-padded past `len` (`of` and `probe` make them so): a fixed-size
            // comparison.
            (PartKey::Inline { len: a, bytes: x }, PartKey::Inline { len: b, bytes: y }) => {
                a == b && x == y
            }
            _ => self.as_slice() == other.as_slice(),
        }
    }
}

impl Eq for PartKey {}

/// A row's cells by slot: slot 0 inside the row, the others in a vector. A point read or
/// write of a table with one regular column (a key-value table) then reaches its cell
/// without following another pointer, on lines next to the row's marker, which it reads
/// anyway.
#[derive(Debug, Clone, Default)]
pub struct Cells {
    first: Option<Cell>,
    rest: Vec<Option<Cell>>,
}

impl Cells {
    /// No cell.
    pub const EMPTY: Cells = Cells {
        first: None,
        rest: Vec::new(),
    };

    /// The cell in `slot`, if written.
    pub fn get(&self, slot: usize) -> Option<&Cell> {
        match slot.checked_sub(1) {
            None => self.first.as_ref(),
            Some(i) => self.rest.get(i)?.as_ref(),
        }
    }

    /// The place of the cell in `slot`, made when missing.
    pub(super) fn slot_mut(&mut self, slot: usize) -> &mut Option<Cell> {
        let Some(i) = slot.checked_sub(1) else {
            return &mut self.first;
        };
        if self.rest.len() <= i {
            self.rest.resize(i + 1, None);
        }
        &mut self.rest[i]
    }

    /// The written cells, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = &Cell> {
        self.first.iter().chain(self.rest.iter().flatten())
    }
}

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
    fn short_keys_are_probed_by_an_inline_copy() {
        let mut map: HashMap<PartKey, usize, ahash::RandomState> = HashMap::default();
        let keys: Vec<Bytes> = (0..=INLINE_KEY + 3)
            .map(|n| Bytes::from((1..=n as u8).collect::<Vec<u8>>()))
            .collect();
        for (i, k) in keys.iter().enumerate() {
            map.insert(PartKey::of(k), i);
        }
        for (i, k) in keys.iter().enumerate() {
            match PartKey::probe(k) {
                Some(probe) => {
                    assert!(k.len() <= INLINE_KEY);
                    assert_eq!(map.get(&probe), Some(&i), "key of {} bytes", k.len());
                    assert!(probe == PartKey::of(k));
                }
                None => assert!(k.len() > INLINE_KEY),
            }
        }
        // A prefix, or the same bytes with a trailing zero, is another key.
        let probe = |b: &[u8]| PartKey::probe(b).expect("short");
        assert_eq!(map.get(&probe(&[1, 2])), Some(&2));
        assert_eq!(map.get(&probe(&[1, 2, 0])), None);
        assert!(probe(&[1, 2]) != probe(&[1, 2, 0]));
        // Same length, another byte anywhere: another key.
        let long: Vec<u8> = (1..=INLINE_KEY as u8).collect();
        for i in 0..INLINE_KEY {
            let mut other = long.clone();
            other[i] ^= 0x80;
            assert!(probe(&long) != probe(&other), "byte {i}");
        }
        assert!(probe(&long) == PartKey::of(&Bytes::from(long.clone())));
        assert!(probe(&[]) == PartKey::of(&Bytes::new()));
    }

    #[test]
    fn cells_are_found_by_slot_inside_or_outside_the_row() {
        let cell = |ts: i64| Cell {
            stamp: super::super::Stamp {
                ts,
                expires: 0,
                ttl: 0,
            },
            value: super::super::CellValue::Counter(ts),
        };
        let mut cells = Cells::default();
        assert!(cells.get(0).is_none() && cells.get(5).is_none());
        assert_eq!(cells.iter().count(), 0);
        *cells.slot_mut(3) = Some(cell(3));
        assert!(cells.get(0).is_none() && cells.get(2).is_none());
        *cells.slot_mut(0) = Some(cell(0));
        *cells.slot_mut(1) = Some(cell(1));
        let ts: Vec<i64> = cells.iter().map(|c| c.stamp.ts).collect();
        assert_eq!(ts, [0, 1, 3]);
        for slot in [0, 1, 3] {
            assert_eq!(cells.get(slot).map(|c| c.stamp.ts), Some(slot as i64));
        }
        assert!(cells.get(2).is_none() && cells.get(4).is_none());
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
