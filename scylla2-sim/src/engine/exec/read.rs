//! Reading rows: live cell values (simple, counters, collections rebuilt from live
//! elements), write stamps, and column values of a row including key columns.

use bytes::Bytes;

use super::where_::split_partition_key;
use crate::engine::schema::{Column, ColumnKind, TableSchema};
use crate::engine::storage::{Cell, CellValue, Partition, Row, Stamp, cell_live};
use crate::engine::types::{write_collection, write_value};
use crate::model::ColumnType;

/// The value of a static or regular cell, if live.
pub fn cell_bytes(column: &Column, row: &Row, shadow: i64, now_s: i64) -> Option<Bytes> {
    let cell: &Cell = row.cells.get(column.slot)?;
    if !cell_live(cell, shadow, now_s) {
        return None;
    }
    match &cell.value {
        CellValue::Value(v) => Some(v.to_bytes()),
        CellValue::Counter(v) => Some(Bytes::copy_from_slice(&v.to_be_bytes())),
        CellValue::Dead => None,
        CellValue::Collection(..) => {
            let live = row.live_elems(column.slot, shadow, now_s);
            let out = match column.typ {
                ColumnType::Map(..) => {
                    let mut out = (live.len() as i32).to_be_bytes().to_vec();
                    for (_, e) in &live {
                        write_value(&mut out, Some(&e.key));
                        write_value(&mut out, e.value.as_deref());
                    }
                    out
                }
                ColumnType::Set(..) => {
                    write_collection(live.len(), live.iter().map(|(_, e)| Some(&e.key[..])))
                }
                _ => write_collection(live.len(), live.iter().map(|(_, e)| e.value.as_deref())),
            };
            Some(Bytes::from(out))
        }
    }
}

pub(crate) fn stamp_of(row: &Row, column: &Column, shadow: i64, now_s: i64) -> Option<Stamp> {
    let cell = row.cells.get(column.slot)?;
    (matches!(cell.value, CellValue::Value(_) | CellValue::Counter(_))
        && cell.stamp.live(shadow, now_s))
    .then_some(cell.stamp)
}

/// One row of a partition as a query reads it at `now_s`: its key parts and cells (`row`
/// None: the partition's static-only row).
#[derive(Clone, Copy)]
pub(crate) struct RowView<'a> {
    /// The partition key components.
    pub(crate) pk: &'a [Bytes],
    /// The clustering key components (empty for the static row).
    pub(crate) ck: &'a [Bytes],
    /// The partition (static cells, shadowing deletions).
    pub(crate) part: &'a Partition,
    /// The clustering row, if any.
    pub(crate) row: Option<&'a Row>,
    /// The encoded clustering key (empty for the static row).
    pub(crate) ck_enc: &'a [u8],
    /// The read time in seconds.
    pub(crate) now_s: i64,
}

impl<'a> RowView<'a> {
    /// The static-only row of a partition.
    pub(crate) fn statics(pk: &'a [Bytes], part: &'a Partition, now_s: i64) -> Self {
        Self {
            pk,
            ck: &[],
            part,
            row: None,
            ck_enc: &[],
            now_s,
        }
    }

    /// The value of column `ci` of `s` in this row, if live.
    pub(crate) fn value(&self, s: &TableSchema, ci: usize) -> Option<Bytes> {
        let c = &s.columns[ci];
        match c.kind {
            ColumnKind::PartitionKey => self.pk.get(c.position).cloned(),
            ColumnKind::Clustering => self.ck.get(c.position).cloned(),
            ColumnKind::Static => {
                cell_bytes(c, self.part.statics(), self.part.deleted_at, self.now_s)
            }
            ColumnKind::Regular => self
                .row
                .and_then(|r| cell_bytes(c, r, self.part.row_shadow(self.ck_enc, r), self.now_s)),
        }
    }
}

/// Values of `cols` for one row (`row` None = the static-only row of a partition).
#[allow(clippy::too_many_arguments)]
pub fn row_values(
    s: &TableSchema,
    cols: &[usize],
    key: &Bytes,
    ck: &[Bytes],
    part: &Partition,
    row: Option<&Row>,
    ck_enc: &[u8],
    now_s: i64,
) -> Vec<Option<Bytes>> {
    let pk_parts = split_partition_key(key, s.pk.len());
    let view = RowView {
        pk: &pk_parts,
        ck,
        part,
        row,
        ck_enc,
        now_s,
    };
    cols.iter().map(|ci| view.value(s, *ci)).collect()
}
