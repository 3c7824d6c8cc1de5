//! Applying a planned write to a partition: simple cells with last-write-wins, collection
//! element operations, counters, row/range/partition tombstones.

use bytes::Bytes;

use super::{RowTarget, UpOp, WriteKind, WritePlan};
use crate::engine::exec::{Eval, Expr, Val};
use crate::engine::schema::ColumnKind;
use crate::engine::storage::{ElemWrite, Row, TableData, WriteCtx, list_key};
use crate::engine::types::normalize::normalize;
use crate::engine::types::{order, split_items};
use crate::model::{ColumnType, SimError};

fn list_items(v: &Bytes) -> Result<Vec<Bytes>, SimError> {
    let items =
        split_items(v, 1).ok_or_else(|| SimError::Invalid("Invalid collection value".into()))?;
    items
        .into_iter()
        .map(|i| {
            i.map(|b| v.slice_ref(b))
                .ok_or_else(|| SimError::Invalid("null is not supported inside collections".into()))
        })
        .collect()
}

/// Collection elements of a full value: (sort key, element key, value).
fn elements(typ: &ColumnType, v: &Bytes, prepend: bool) -> Result<Vec<ElemWrite>, SimError> {
    Ok(match typ {
        ColumnType::List(..) => {
            let items = list_items(v)?;
            let mut keys: Vec<Vec<u8>> = (0..items.len()).map(|_| list_key(prepend)).collect();
            if prepend {
                keys.reverse();
            }
            keys.into_iter()
                .zip(items)
                .map(|(k, item)| (k.clone(), Bytes::from(k), Some(item)))
                .collect()
        }
        ColumnType::Set(t, _) => list_items(v)?
            .into_iter()
            .map(|item| {
                let mut sk = Vec::new();
                order::encode(t, &item, &mut sk);
                (sk, item, Some(Bytes::new()))
            })
            .collect(),
        ColumnType::Map(k, _, _) => {
            let items = list_items_pairs(v)?;
            items
                .into_iter()
                .map(|(key, val)| {
                    let mut sk = Vec::new();
                    order::encode(k, &key, &mut sk);
                    (sk, key, Some(val))
                })
                .collect()
        }
        _ => Vec::new(),
    })
}

fn list_items_pairs(v: &Bytes) -> Result<Vec<(Bytes, Bytes)>, SimError> {
    let items = split_items(v, 2).ok_or_else(|| SimError::Invalid("Invalid map value".into()))?;
    items
        .chunks(2)
        .map(|c| match (c[0], c[1]) {
            (Some(a), Some(b)) => Ok((v.slice_ref(a), v.slice_ref(b))),
            _ => Err(SimError::Invalid(
                "null is not supported inside collections".into(),
            )),
        })
        .collect()
}

fn is_multicell(t: &ColumnType) -> bool {
    matches!(
        t,
        ColumnType::List(_, false) | ColumnType::Set(_, false) | ColumnType::Map(_, _, false)
    )
}

static NO_CLUSTERING: [(Vec<u8>, Vec<Bytes>); 1] = [(Vec::new(), Vec::new())];

fn op_may_fail(op: &UpOp) -> bool {
    let fails = |e: &Expr| matches!(e, Expr::Build(..));
    match op {
        UpOp::Set(e) | UpOp::Add(e) | UpOp::Prepend(e) | UpOp::Remove(e) | UpOp::DeleteElem(e) => {
            fails(e)
        }
        UpOp::SetElem(k, v) => fails(k) || fails(v),
        UpOp::Delete => false,
    }
}

fn eval_op(ev: &Eval<'_>, op: &UpOp) -> Result<(Val, Option<Val>), SimError> {
    Ok(match op {
        UpOp::Set(e) | UpOp::Add(e) | UpOp::Prepend(e) | UpOp::Remove(e) | UpOp::DeleteElem(e) => {
            (ev.eval(e)?, None)
        }
        UpOp::SetElem(k, v) => (ev.eval(k)?, Some(ev.eval(v)?)),
        UpOp::Delete => (Val::Null, None),
    })
}

/// Applies one statement to one partition.
pub(super) fn apply(
    p: &WritePlan,
    ev: &Eval<'_>,
    data: &mut TableData,
    token: i64,
    key: &Bytes,
    target: &RowTarget,
    ctx: &WriteCtx,
) -> Result<(), SimError> {
    // Expressions that can fail (composite literals with markers) are checked before
    // touching storage so a bad value changes nothing; plain values cannot fail.
    for (_, op) in &p.ops {
        if op_may_fail(op) {
            eval_op(ev, op)?;
        }
    }
    let part = data.get_or_create(token, key);
    if p.kind == WriteKind::Delete && p.ops.is_empty() {
        match target {
            RowTarget::Partition | RowTarget::NoClustering => part.delete(ctx.ts),
            RowTarget::Rows(rows) => {
                for (enc, ck) in rows {
                    part.row_mut(enc, ck).delete(ctx.ts);
                }
            }
            RowTarget::Ranges(ranges) => {
                for (a, b) in ranges {
                    part.delete_range(a.clone(), b.clone(), ctx.ts);
                }
            }
        }
        return Ok(());
    }
    let rows: &[(Vec<u8>, Vec<Bytes>)] = match target {
        RowTarget::Rows(r) => r,
        RowTarget::NoClustering => &NO_CLUSTERING,
        RowTarget::Partition => &[],
        RowTarget::Ranges(_) => {
            return Err(SimError::Invalid(
                "Range deletions are not supported for specific columns".into(),
            ));
        }
    };
    // Static cells.
    let shadow = part.deleted_at;
    if p.schema.has_static {
        apply_ops(p, ev, ColumnKind::Static, part.statics_mut(), shadow, ctx)?;
    }
    for (enc, ck) in rows {
        let shadow_base = part.deleted_at;
        let row = part.row_mut(enc, ck);
        let shadow = shadow_base.max(row.deleted_at.unwrap_or(i64::MIN));
        if p.kind == WriteKind::Insert {
            row.mark(ctx);
        }
        apply_ops(p, ev, ColumnKind::Regular, row, shadow, ctx)?;
    }
    Ok(())
}

/// Applies the statement's operations on columns of `kind` to `row` (the partition's static
/// row or one clustering row), whose cells older than `shadow` are deleted.
fn apply_ops(
    p: &WritePlan,
    ev: &Eval<'_>,
    kind: ColumnKind,
    row: &mut Row,
    shadow: i64,
    ctx: &WriteCtx,
) -> Result<(), SimError> {
    for (ci, op) in &p.ops {
        let column = &p.schema.columns[*ci];
        if column.kind == kind {
            let (a, b) = eval_op(ev, op)?;
            apply_op(
                row,
                column.slot,
                &column.typ,
                op,
                &a,
                b.as_ref(),
                shadow,
                ctx,
            )?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn apply_op(
    row: &mut Row,
    slot: usize,
    typ: &ColumnType,
    op: &UpOp,
    a: &Val,
    b: Option<&Val>,
    shadow: i64,
    ctx: &WriteCtx,
) -> Result<(), SimError> {
    if *a == Val::Unset || b == Some(&Val::Unset) {
        return Ok(());
    }
    match op {
        UpOp::Delete => {
            if is_multicell(typ) {
                row.collection_delete(slot, ctx.ts);
            } else {
                row.write(slot, None, ctx);
            }
        }
        UpOp::Set(_) => {
            if is_multicell(typ) {
                let items = match a {
                    Val::Set(v) => Some(elements(typ, v, false)?),
                    _ => None,
                };
                row.collection_replace(slot, items, ctx);
            } else if *typ == ColumnType::Counter {
                return Err(SimError::Invalid(
                    "Cannot set the value of counter column (only increment/decrement allowed)"
                        .into(),
                ));
            } else {
                row.write(slot, a.bytes().map(|b| normalize(typ, b)), ctx);
            }
        }
        UpOp::Add(_) | UpOp::Remove(_) if *typ == ColumnType::Counter => {
            let v = a.bytes().ok_or_else(|| {
                SimError::Invalid("Invalid null value for counter increment".into())
            })?;
            let arr: [u8; 8] = v[..]
                .try_into()
                .map_err(|_| SimError::Invalid("Invalid counter increment".into()))?;
            let d = i64::from_be_bytes(arr);
            let d = if matches!(op, UpOp::Remove(_)) {
                d.wrapping_neg()
            } else {
                d
            };
            row.counter_add(slot, d, shadow, ctx);
        }
        UpOp::Add(_) | UpOp::Prepend(_) => {
            if let Val::Set(v) = a {
                let items = elements(typ, v, matches!(op, UpOp::Prepend(_)))?;
                row.collection_add(slot, items, ctx);
            }
        }
        UpOp::Remove(_) => {
            let Val::Set(v) = a else { return Ok(()) };
            match typ {
                ColumnType::List(..) => {
                    let remove = list_items(v)?;
                    let dead: Vec<ElemWrite> = row
                        .live_elems(slot, shadow, ctx.now_s)
                        .into_iter()
                        .filter(|(_, e)| e.value.as_ref().is_some_and(|x| remove.contains(x)))
                        .map(|(k, e)| (k.clone(), e.key.clone(), None))
                        .collect();
                    row.collection_add(slot, dead, ctx);
                }
                ColumnType::Set(t, _) | ColumnType::Map(t, _, _) => {
                    let dead = list_items(v)?
                        .into_iter()
                        .map(|item| {
                            let mut sk = Vec::new();
                            order::encode(t, &item, &mut sk);
                            (sk, item, None)
                        })
                        .collect();
                    row.collection_add(slot, dead, ctx);
                }
                _ => {}
            }
        }
        UpOp::SetElem(..) | UpOp::DeleteElem(_) => {
            let Val::Set(k) = a else {
                return Err(SimError::Invalid(
                    "Invalid null value for map key or list index".into(),
                ));
            };
            let value = match (op, b) {
                (UpOp::SetElem(..), Some(Val::Set(v))) => Some(v.clone()),
                _ => None,
            };
            match typ {
                ColumnType::List(..) => {
                    let arr: [u8; 4] = k[..]
                        .try_into()
                        .map_err(|_| SimError::Invalid("Invalid list index".into()))?;
                    let idx = i32::from_be_bytes(arr);
                    let live = row.live_elems(slot, shadow, ctx.now_s);
                    let n = live.len();
                    let (sk, ek) = usize::try_from(idx)
                        .ok()
                        .and_then(|i| live.get(i))
                        .map(|(sk, e)| ((*sk).clone(), e.key.clone()))
                        .ok_or_else(|| {
                            SimError::Invalid(format!(
                                "List index {idx} out of bound, list has size {n}"
                            ))
                        })?;
                    row.collection_add(slot, vec![(sk, ek, value)], ctx);
                }
                ColumnType::Set(t, _) | ColumnType::Map(t, _, _) => {
                    let mut sk = Vec::new();
                    order::encode(t, k, &mut sk);
                    let value = if matches!(typ, ColumnType::Set(..)) {
                        None
                    } else {
                        value
                    };
                    row.collection_add(slot, vec![(sk, k.clone(), value)], ctx);
                }
                _ => {}
            }
        }
    }
    Ok(())
}
