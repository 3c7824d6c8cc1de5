//! SELECT's per-row helpers: token bounds, the row filters, a selected item's value in a
//! row, and the hand-off of a row to the page or to the grouper.

use std::ops::Bound;

use bytes::Bytes;

use super::super::group_by::Grouper;
use super::super::read::{RowView, stamp_of};
use super::super::{Eval, Expr};
use super::{Filter, SelItem};
use crate::cql::ast::Op;
use crate::engine::schema::{ColumnKind, TableSchema};
use crate::engine::types::order;
use crate::model::{Rows, SimError};

pub(super) fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

pub(super) fn token_of(ev: &Eval<'_>, e: &Expr) -> Result<i64, SimError> {
    let b = ev.required(e, "token")?;
    let arr: [u8; 8] = b[..]
        .try_into()
        .map_err(|_| SimError::Invalid("Invalid token value".into()))?;
    Ok(i64::from_be_bytes(arr))
}

type TokenBounds = (Option<(i64, bool)>, Option<(i64, bool)>);

pub(super) fn token_ok(t: i64, b: TokenBounds) -> bool {
    let lo =
        b.0.is_none_or(|(x, incl)| if incl { t >= x } else { t > x });
    let hi =
        b.1.is_none_or(|(x, incl)| if incl { t <= x } else { t < x });
    lo && hi
}

/// Feeds `view` (of partition `key`) to the grouper or, without aggregates, adds its
/// `select`ed values to `out`; false (and nothing done) when that page is already full.
pub(super) fn emit(
    grouper: Option<&mut Grouper<'_>>,
    out: &mut Rows,
    page: usize,
    view: &RowView<'_>,
    key: &Bytes,
    value: impl Fn(&SelItem) -> Result<Option<Bytes>, SimError>,
    select: impl Fn(&RowView<'_>) -> Result<Vec<Option<Bytes>>, SimError>,
) -> Result<bool, SimError> {
    if let Some(g) = grouper {
        return g.feed(key, view.ck, &value);
    } else {
        if out.rows.len() == page {
            return Ok(false);
        }
        out.rows.push(select(view)?);
    }
    Ok(true)
}

/// Whether `view` passes every filter.
pub(super) fn passes(s: &TableSchema, filters: &[Filter], view: &RowView<'_>) -> bool {
    filters.iter().all(|f| {
        let typ = &s.columns[f.col].typ;
        let Some(v) = view.value(s, f.col) else {
            return false;
        };
        if f.values.len() > 1 {
            return f.values.contains(&v);
        }
        let Some(x) = f.values.first() else {
            return false;
        };
        let ord = order::compare(typ, &v, x);
        match f.op {
            Op::Eq => v == *x,
            Op::Ne => v != *x,
            Op::Lt => ord.is_lt(),
            Op::Le => ord.is_le(),
            Op::Gt => ord.is_gt(),
            Op::Ge => ord.is_ge(),
        }
    })
}

/// The value of one selected item in `view` (of the partition at `token`).
pub(super) fn item_value(
    s: &TableSchema,
    item: &SelItem,
    token: i64,
    view: &RowView<'_>,
    ev: &Eval<'_>,
) -> Result<Option<Bytes>, SimError> {
    if let SelItem::Expr(e) = item {
        return e.eval(&|i: &SelItem| item_value(s, i, token, view, ev), ev);
    }
    Ok(item_value_plain(s, item, token, view))
}

fn item_value_plain(
    s: &TableSchema,
    item: &SelItem,
    token: i64,
    view: &RowView<'_>,
) -> Option<Bytes> {
    let RowView {
        part,
        row,
        ck_enc,
        now_s,
        ..
    } = *view;
    match item {
        SelItem::Col(ci) => view.value(s, *ci),
        SelItem::Token => Some(Bytes::copy_from_slice(&token.to_be_bytes())),
        SelItem::Fn(f) => Some(f.eval()),
        SelItem::Expr(_) => None,
        SelItem::WriteTime(ci) | SelItem::Ttl(ci) => {
            let c = &s.columns[*ci];
            let (r, shadow) = if c.kind == ColumnKind::Static {
                (part.statics(), part.deleted_at)
            } else {
                let r = row?;
                (r, part.row_shadow(ck_enc, r))
            };
            let stamp = stamp_of(r, c, shadow, now_s)?;
            if matches!(item, SelItem::WriteTime(_)) {
                Some(Bytes::copy_from_slice(&stamp.ts.to_be_bytes()))
            } else if stamp.expires == 0 {
                None
            } else {
                Some(Bytes::copy_from_slice(
                    &((stamp.expires - now_s) as i32).to_be_bytes(),
                ))
            }
        }
    }
}
