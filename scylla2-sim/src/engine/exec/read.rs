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
    let cell: &Cell = row.cells.get(column.slot)?.as_ref()?;
    if !cell_live(cell, shadow, now_s) {
        return None;
    }
    match &cell.value {
        CellValue::Value(b) => Some(b.clone()),
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
    let cell = row.cells.get(column.slot)?.as_ref()?;
    (matches!(cell.value, CellValue::Value(_) | CellValue::Counter(_))
        && cell.stamp.live(shadow, now_s))
    .then_some(cell.stamp)
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
    cols.iter()
        .map(|ci| column_value(s, *ci, &pk_parts, ck, part, row, ck_enc, now_s))
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn column_value(
    s: &TableSchema,
    ci: usize,
    pk: &[Bytes],
    ck: &[Bytes],
    part: &Partition,
    row: Option<&Row>,
    ck_enc: &[u8],
    now_s: i64,
) -> Option<Bytes> {
    let c = &s.columns[ci];
    match c.kind {
        ColumnKind::PartitionKey => pk.get(c.position).cloned(),
        ColumnKind::Clustering => ck.get(c.position).cloned(),
        ColumnKind::Static => cell_bytes(c, &part.statics, part.deleted_at, now_s),
        ColumnKind::Regular => {
            row.and_then(|r| cell_bytes(c, r, part.row_shadow(ck_enc, r), now_s))
        }
    }
}
