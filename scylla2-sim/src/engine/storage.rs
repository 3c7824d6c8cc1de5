//! In-memory storage: partitions ordered by (token, key), clustering rows ordered by their
//! byte-comparable key, cells with timestamps and TTLs, collection elements, counters, and
//! tombstones (partition, row, range, cell, collection). Reads resolve last-write-wins.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::atomic::{AtomicI64, Ordering};

use bytes::Bytes;

mod inline;

use inline::PartKey;
pub use inline::{Cells, StoredValue};

/// "No timestamp": older than everything.
pub const NO_TS: i64 = i64::MIN;

/// A collection element write: (sort key, element key, value or None to delete).
pub type ElemWrite = (Vec<u8>, Bytes, Option<Bytes>);

/// Write attributes of one statement.
#[derive(Debug, Clone, Copy)]
pub struct WriteCtx {
    /// Write timestamp (µs).
    pub ts: i64,
    /// TTL in seconds (0 = none).
    pub ttl: i32,
    /// Now in seconds (for TTL expiry).
    pub now_s: i64,
}

impl WriteCtx {
    fn expires(&self) -> i64 {
        if self.ttl > 0 {
            self.now_s + i64::from(self.ttl)
        } else {
            0
        }
    }
}

/// A live-or-not stamp: timestamp and expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Timestamp (µs).
    pub ts: i64,
    /// Expiry (seconds since epoch; 0 = never).
    pub expires: i64,
    /// TTL it was written with.
    pub ttl: i32,
}

impl Stamp {
    fn of(ctx: &WriteCtx) -> Self {
        Stamp {
            ts: ctx.ts,
            expires: ctx.expires(),
            ttl: ctx.ttl,
        }
    }

    /// Alive above `shadow` at `now_s`.
    pub fn live(&self, shadow: i64, now_s: i64) -> bool {
        self.ts > shadow && (self.expires == 0 || self.expires > now_s)
    }
}

/// One element of a non-frozen collection.
#[derive(Debug, Clone)]
pub struct Elem {
    /// Element key (set element, map key; list: the internal ordering key).
    pub key: Bytes,
    /// Value (map value, list element; set: empty). None = element tombstone.
    pub value: Option<Bytes>,
    /// Stamp.
    pub stamp: Stamp,
}

/// What a cell holds.
#[derive(Debug, Clone)]
pub enum CellValue {
    /// A serialized value.
    Value(StoredValue),
    /// A cell tombstone.
    Dead,
    /// A non-frozen collection: deletion time and elements by byte-comparable key.
    Collection(i64, BTreeMap<Vec<u8>, Elem>),
    /// A counter.
    Counter(i64),
}

/// A cell.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Stamp of the last write.
    pub stamp: Stamp,
    /// Content.
    pub value: CellValue,
}

/// A clustering row (or the static row).
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// Clustering key values.
    pub ck: Vec<Bytes>,
    /// Primary key liveness marker (INSERT).
    pub marker: Option<Stamp>,
    /// Row tombstone timestamp.
    pub deleted_at: Option<i64>,
    /// Cells by slot.
    pub cells: Cells,
}

/// A range tombstone over encoded clustering keys.
#[derive(Debug, Clone)]
pub struct RangeTombstone {
    /// Start bound.
    pub start: Bound<Vec<u8>>,
    /// End bound.
    pub end: Bound<Vec<u8>>,
    /// Deletion timestamp.
    pub ts: i64,
}

impl RangeTombstone {
    fn covers(&self, key: &[u8]) -> bool {
        let after_start = match &self.start {
            Bound::Included(s) => key >= s.as_slice(),
            Bound::Excluded(s) => key > s.as_slice(),
            Bound::Unbounded => true,
        };
        let before_end = match &self.end {
            Bound::Included(e) => key <= e.as_slice(),
            Bound::Excluded(e) => key < e.as_slice(),
            Bound::Unbounded => true,
        };
        after_start && before_end
    }
}

/// A partition.
#[derive(Debug, Clone)]
pub struct Partition {
    /// Partition deletion timestamp.
    pub deleted_at: i64,
    /// Static cells, made by the first write to a table with static columns (boxed: most
    /// tables have none, and the partition, which the partition map holds inline, stays
    /// small).
    statics: Option<Box<Row>>,
    /// Rows by encoded clustering key.
    pub rows: RowMap,
    /// Range tombstones.
    pub ranges: Vec<RangeTombstone>,
}

/// The static row of a partition without one.
static NO_STATICS: Row = Row {
    ck: Vec::new(),
    marker: None,
    deleted_at: None,
    cells: Cells::EMPTY,
};

impl Default for Partition {
    fn default() -> Self {
        Partition {
            deleted_at: NO_TS,
            statics: None,
            rows: RowMap::default(),
            ranges: Vec::new(),
        }
    }
}

/// Rows of a partition by encoded clustering key; a single row (tables without clustering
/// columns) is kept without a tree, and inside the partition: a point read then follows one
/// pointer fewer (each a likely cache miss under load).
#[derive(Debug, Clone, Default)]
#[allow(clippy::large_enum_variant)]
pub enum RowMap {
    /// No row.
    #[default]
    Empty,
    /// One row.
    One(Vec<u8>, Row),
    /// Several rows.
    Many(BTreeMap<Vec<u8>, Row>),
}

/// An iterator over rows in clustering order (either direction); no allocation.
#[derive(Debug)]
pub enum RowIter<'a> {
    /// No row, or the one row of a partition without a tree.
    One(Option<(&'a [u8], &'a Row)>),
    /// Rows of a tree within bounds.
    Many(std::collections::btree_map::Range<'a, Vec<u8>, Row>),
}

impl<'a> Iterator for RowIter<'a> {
    type Item = (&'a [u8], &'a Row);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            RowIter::One(row) => row.take(),
            RowIter::Many(range) => range.next().map(|(k, r)| (k.as_slice(), r)),
        }
    }
}

impl DoubleEndedIterator for RowIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            RowIter::One(row) => row.take(),
            RowIter::Many(range) => range.next_back().map(|(k, r)| (k.as_slice(), r)),
        }
    }
}

fn bounds_valid(lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a <= b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
        | (Bound::Excluded(a), Bound::Included(b)) => a < b,
        _ => true,
    }
}

fn in_bounds(k: &[u8], lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> bool {
    let after = match lo {
        Bound::Included(a) => k >= a,
        Bound::Excluded(a) => k > a,
        Bound::Unbounded => true,
    };
    let before = match hi {
        Bound::Included(b) => k <= b,
        Bound::Excluded(b) => k < b,
        Bound::Unbounded => true,
    };
    after && before
}

impl RowMap {
    /// The row at `key`.
    pub fn get(&self, key: &[u8]) -> Option<&Row> {
        match self {
            RowMap::Empty => None,
            RowMap::One(k, r) => (k.as_slice() == key).then_some(r),
            RowMap::Many(m) => m.get(key),
        }
    }

    /// The row at `key`, created (with clustering values `ck`) when missing.
    pub fn get_or_insert(&mut self, key: &[u8], ck: &[Bytes]) -> &mut Row {
        let new_row = || Row {
            ck: ck.iter().map(|b| Bytes::copy_from_slice(b)).collect(),
            ..Row::default()
        };
        match self {
            RowMap::Empty => {
                *self = RowMap::One(key.to_vec(), new_row());
            }
            RowMap::One(k, _) if k.as_slice() != key => {
                let RowMap::One(k, r) = std::mem::take(self) else {
                    return self.get_or_insert(key, ck);
                };
                let mut m = BTreeMap::new();
                m.insert(k, r);
                m.insert(key.to_vec(), new_row());
                *self = RowMap::Many(m);
            }
            RowMap::Many(m) if !m.contains_key(key) => {
                m.insert(key.to_vec(), new_row());
            }
            _ => {}
        }
        match self {
            RowMap::One(_, r) => r,
            RowMap::Many(m) => m.entry(key.to_vec()).or_insert_with(new_row),
            RowMap::Empty => {
                *self = RowMap::One(key.to_vec(), new_row());
                self.get_or_insert(key, ck)
            }
        }
    }

    /// Rows within bounds, in order.
    pub fn range<'a>(&'a self, lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> RowIter<'a> {
        if !bounds_valid(lo, hi) {
            return RowIter::One(None);
        }
        match self {
            RowMap::Empty => RowIter::One(None),
            RowMap::One(k, r) => RowIter::One(in_bounds(k, lo, hi).then_some((k.as_slice(), r))),
            RowMap::Many(m) => RowIter::Many(m.range::<[u8], _>((lo, hi))),
        }
    }

    /// Every row in order.
    pub fn iter(&self) -> RowIter<'_> {
        self.range(Bound::Unbounded, Bound::Unbounded)
    }
}

/// A table's partitions: a hash map by serialized key for point access, plus a token-ordered
/// index for scans (new keys are queued and merged before the next scan).
#[derive(Debug, Default)]
pub struct TableData {
    map: HashMap<PartKey, Entry, ahash::RandomState>,
    index: BTreeSet<(i64, Bytes)>,
    pending: Vec<(i64, Bytes)>,
}

/// A partition with its key's bytes (the map's own key may be an inline copy).
#[derive(Debug, Default)]
struct Entry {
    key: Bytes,
    part: Partition,
}

impl TableData {
    /// The partition with this serialized key.
    pub fn get(&self, key: &[u8]) -> Option<&Partition> {
        self.entry(key).map(|e| &e.part)
    }

    /// The stored key and partition for a serialized key.
    pub fn get_entry(&self, key: &[u8]) -> Option<(&Bytes, &Partition)> {
        self.entry(key).map(|e| (&e.key, &e.part))
    }

    fn entry(&self, key: &[u8]) -> Option<&Entry> {
        match PartKey::probe(key) {
            Some(k) => self.map.get(&k),
            None => self.map.get(key),
        }
    }

    /// The partition with this key, created when missing.
    pub fn get_or_create(&mut self, token: i64, key: &Bytes) -> &mut Partition {
        let pending = &mut self.pending;
        let mut new_entry = || {
            // Own the key bytes: a slice of a network frame would pin the whole frame.
            let owned = Bytes::copy_from_slice(key);
            pending.push((token, owned.clone()));
            Entry {
                key: owned,
                part: Partition::default(),
            }
        };
        let map_key = match PartKey::probe(key) {
            // A short key's map key is a copy already: one probe finds or places it.
            Some(k) => k,
            // A longer one is placed under its own copy; the lookup key (a reference to
            // `key`) only finds it.
            None => {
                if !self.map.contains_key(&key[..]) {
                    let entry = new_entry();
                    self.map.insert(PartKey::of(&entry.key), entry);
                }
                PartKey::of(key)
            }
        };
        &mut self.map.entry(map_key).or_insert_with(new_entry).part
    }

    /// Whether new partitions wait to be merged into the scan index.
    pub fn needs_merge(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Merges new partitions into the scan index.
    pub fn merge(&mut self) {
        self.index.extend(self.pending.drain(..));
    }

    /// Partitions from `start` on, in (token, key) order (call [`Self::merge`] first).
    pub fn scan(
        &self,
        start: Bound<(i64, Bytes)>,
    ) -> impl Iterator<Item = (i64, &Bytes, &Partition)> {
        self.index
            .range((start, Bound::Unbounded))
            .filter_map(|(t, k)| self.map.get(&k[..]).map(|e| (*t, k, &e.part)))
    }

    /// The token of every partition, merged into the scan index or not (statistics).
    pub fn partition_tokens(&self) -> impl Iterator<Item = i64> + '_ {
        self.index
            .iter()
            .chain(&self.pending)
            .filter(|(_, k)| self.map.contains_key(&k[..]))
            .map(|(t, _)| *t)
    }

    /// Removes every partition.
    pub fn clear(&mut self) {
        self.map.clear();
        self.index.clear();
        self.pending.clear();
    }
}

static LIST_SEQ: AtomicI64 = AtomicI64::new(1);

/// A fresh list element ordering key: increasing for appends, decreasing for prepends.
pub fn list_key(prepend: bool) -> Vec<u8> {
    let n = LIST_SEQ.fetch_add(1, Ordering::Relaxed);
    let v: i64 = if prepend { -n } else { n };
    let mut out = Vec::with_capacity(8);
    out.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
    out
}

impl Partition {
    /// The deletion timestamp shadowing a clustering row (partition, range and row tombstones).
    pub fn row_shadow(&self, key: &[u8], row: &Row) -> i64 {
        let mut shadow = self.deleted_at.max(row.deleted_at.unwrap_or(NO_TS));
        for rt in &self.ranges {
            if rt.ts > shadow && rt.covers(key) {
                shadow = rt.ts;
            }
        }
        shadow
    }

    /// Whether the static row has a live cell.
    pub fn static_live(&self, now_s: i64) -> bool {
        row_has_live_cell(self.statics(), self.deleted_at, now_s)
    }

    /// Whether a row is live (marker or any live cell).
    pub fn row_live(&self, key: &[u8], row: &Row, now_s: i64) -> bool {
        let shadow = self.row_shadow(key, row);
        row.marker.is_some_and(|m| m.live(shadow, now_s)) || row_has_live_cell(row, shadow, now_s)
    }

    /// The static row (empty when no static cell was written).
    pub fn statics(&self) -> &Row {
        self.statics.as_deref().unwrap_or(&NO_STATICS)
    }

    /// The static row, made when missing.
    pub fn statics_mut(&mut self) -> &mut Row {
        self.statics.get_or_insert_with(Box::default)
    }

    /// The row at `key`, created when missing.
    pub fn row_mut(&mut self, key: &[u8], ck: &[Bytes]) -> &mut Row {
        self.rows.get_or_insert(key, ck)
    }

    /// Deletes the whole partition.
    pub fn delete(&mut self, ts: i64) {
        self.deleted_at = self.deleted_at.max(ts);
    }

    /// Deletes a clustering range.
    pub fn delete_range(&mut self, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, ts: i64) {
        self.ranges.push(RangeTombstone { start, end, ts });
    }
}

fn row_has_live_cell(row: &Row, shadow: i64, now_s: i64) -> bool {
    row.cells.iter().any(|c| cell_live(c, shadow, now_s))
}

/// Whether a cell contributes a value.
pub fn cell_live(c: &Cell, shadow: i64, now_s: i64) -> bool {
    match &c.value {
        CellValue::Value(_) | CellValue::Counter(_) => c.stamp.live(shadow, now_s),
        CellValue::Dead => false,
        CellValue::Collection(del, elems) => {
            let s = shadow.max(*del);
            elems
                .values()
                .any(|e| e.value.is_some() && e.stamp.live(s, now_s))
        }
    }
}

impl Row {
    fn slot(&mut self, slot: usize) -> &mut Option<Cell> {
        self.cells.slot_mut(slot)
    }

    /// Sets the primary key marker.
    pub fn mark(&mut self, ctx: &WriteCtx) {
        let s = Stamp::of(ctx);
        if self.marker.is_none_or(|m| m.ts <= s.ts) {
            self.marker = Some(s);
        }
    }

    /// Deletes the row.
    pub fn delete(&mut self, ts: i64) {
        self.deleted_at = Some(self.deleted_at.unwrap_or(NO_TS).max(ts));
    }

    /// Writes a simple cell (None = delete) with last-write-wins.
    pub fn write(&mut self, slot: usize, value: Option<Bytes>, ctx: &WriteCtx) {
        let stamp = Stamp::of(ctx);
        let cell = self.slot(slot);
        if let Some(old) = cell {
            let old_wins = match (&old.value, &value) {
                // Equal timestamps: tombstones win, then the greater value.
                _ if old.stamp.ts != stamp.ts => old.stamp.ts > stamp.ts,
                (CellValue::Dead, _) => true,
                (_, None) => false,
                (CellValue::Value(a), Some(b)) => a.as_slice() >= &b[..],
                _ => false,
            };
            if old_wins {
                return;
            }
        }
        *cell = Some(Cell {
            stamp,
            value: match value {
                Some(v) => CellValue::Value(StoredValue::of(&v)),
                None => CellValue::Dead,
            },
        });
    }

    /// Replaces a collection (delete at ts-1 then add) or deletes it (`items` None).
    pub fn collection_replace(
        &mut self,
        slot: usize,
        items: Option<Vec<ElemWrite>>,
        ctx: &WriteCtx,
    ) {
        self.collection_delete(slot, ctx.ts - 1);
        if let Some(items) = items {
            self.collection_add(slot, items, ctx);
        }
    }

    /// Deletes a whole collection at `ts`.
    pub fn collection_delete(&mut self, slot: usize, ts: i64) {
        let cell = self.slot(slot);
        match cell {
            Some(Cell {
                value: CellValue::Collection(del, elems),
                ..
            }) => {
                *del = (*del).max(ts);
                elems.retain(|_, e| e.stamp.ts > ts);
            }
            _ => {
                *cell = Some(Cell {
                    stamp: Stamp {
                        ts,
                        expires: 0,
                        ttl: 0,
                    },
                    value: CellValue::Collection(ts, BTreeMap::new()),
                });
            }
        }
    }

    fn collection(&mut self, slot: usize, ctx: &WriteCtx) -> Option<&mut BTreeMap<Vec<u8>, Elem>> {
        let cell = self.slot(slot);
        if !matches!(
            cell,
            Some(Cell {
                value: CellValue::Collection(..),
                ..
            })
        ) {
            *cell = Some(Cell {
                stamp: Stamp::of(ctx),
                value: CellValue::Collection(NO_TS, BTreeMap::new()),
            });
        }
        match cell {
            Some(Cell {
                value: CellValue::Collection(_, elems),
                stamp,
            }) => {
                if stamp.ts < ctx.ts {
                    *stamp = Stamp::of(ctx);
                }
                Some(elems)
            }
            // Just set to a collection above.
            _ => None,
        }
    }

    /// Adds or overwrites elements: (sort key, element key, value). A None value deletes.
    pub fn collection_add(&mut self, slot: usize, items: Vec<ElemWrite>, ctx: &WriteCtx) {
        let stamp = Stamp::of(ctx);
        let Some(elems) = self.collection(slot, ctx) else {
            return;
        };
        for (sort, key, value) in items {
            match elems.get(&sort) {
                Some(old) if old.stamp.ts > stamp.ts => {}
                _ => {
                    let key = Bytes::copy_from_slice(&key);
                    let value = value.map(|v| Bytes::copy_from_slice(&v));
                    elems.insert(sort, Elem { key, value, stamp });
                }
            }
        }
    }

    /// Live elements of a collection cell (in order).
    pub fn live_elems(&self, slot: usize, shadow: i64, now_s: i64) -> Vec<(&Vec<u8>, &Elem)> {
        match self.cells.get(slot) {
            Some(Cell {
                value: CellValue::Collection(del, elems),
                ..
            }) => {
                let s = shadow.max(*del);
                elems
                    .iter()
                    .filter(|(_, e)| e.value.is_some() && e.stamp.live(s, now_s))
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Adds to a counter.
    pub fn counter_add(&mut self, slot: usize, delta: i64, shadow: i64, ctx: &WriteCtx) {
        let stamp = Stamp::of(ctx);
        let cell = self.slot(slot);
        let base = match cell {
            Some(Cell {
                value: CellValue::Counter(v),
                stamp: s,
            }) if s.live(shadow, ctx.now_s) => *v,
            _ => 0,
        };
        *cell = Some(Cell {
            stamp,
            value: CellValue::Counter(base.wrapping_add(delta)),
        });
    }
}

/// Microseconds since the Unix epoch, strictly increasing across calls.
pub fn now_micros() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(actual) => last = actual,
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::TableData;

    #[test]
    fn partitions_are_made_once_under_their_own_copy_of_the_key() {
        let mut data = TableData::default();
        // Short keys (inline in the map) and longer ones (shared bytes), each written twice.
        let keys: Vec<Bytes> = [1usize, 22, 23, 40]
            .iter()
            .map(|&n| Bytes::from(vec![n as u8; n]))
            .collect();
        for round in 0..2 {
            for (i, k) in keys.iter().enumerate() {
                let frame = Bytes::from([&b"frame"[..], k].concat()).slice(5..);
                let part = data.get_or_create(i as i64, &frame);
                if round == 0 {
                    assert_eq!(part.deleted_at, super::NO_TS);
                    part.delete(i as i64 + 10);
                } else {
                    assert_eq!(part.deleted_at, i as i64 + 10, "key of {} bytes", k.len());
                }
            }
        }
        assert!(data.needs_merge());
        data.merge();
        let scanned: Vec<(i64, Bytes)> = data
            .scan(std::ops::Bound::Unbounded)
            .map(|(t, k, _)| (t, k.clone()))
            .collect();
        let expected: Vec<(i64, Bytes)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (i as i64, k.clone()))
            .collect();
        assert_eq!(scanned, expected, "one partition per key, in token order");
        for k in &keys {
            let (stored, part) = data.get_entry(k).expect("stored");
            assert_eq!(stored, k);
            assert!(part.deleted_at > 0);
        }
        assert!(data.get(&[7u8; 30]).is_none());
    }
}
