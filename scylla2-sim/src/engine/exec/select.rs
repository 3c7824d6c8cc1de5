//! SELECT: planning (selectors, restrictions, ordering, limits), row reading with liveness,
//! filtering, COUNT, DISTINCT, and paging with an opaque position-based paging state.

use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::paging::PageState;
use super::where_::{self, KeyPlan, Range, eval_vals, split_partition_key};
use super::write::{pk_binds, resolve_table};
use super::{Binds, Eval, Expr, compile_value};
use crate::cql::ast::{Op, Select, Selector};
use crate::engine::schema::{Column, ColumnKind, Schema, Table, TableSchema};
use crate::engine::storage::{Cell, CellValue, Partition, Row, TableData, cell_live};
use crate::engine::types::{order, write_collection, write_value};
use crate::engine::{Engine, Now};
use crate::model::{ClusterView, ColumnSpec, ColumnType, QueryParams, QueryResult, Rows, SimError};

/// One selected expression.
#[derive(Debug, Clone)]
pub enum SelItem {
    /// A column's value.
    Col(usize),
    /// writetime(col).
    WriteTime(usize),
    /// ttl(col).
    Ttl(usize),
    /// token(pk).
    Token,
}

/// A planned SELECT.
#[derive(Debug)]
pub struct SelectPlan {
    pub(crate) table: Arc<Table>,
    schema: Arc<TableSchema>,
    keys: KeyPlan,
    /// None = `*`.
    items: Option<Vec<(SelItem, ColumnSpec)>>,
    count: Option<ColumnSpec>,
    distinct: bool,
    reversed: bool,
    limit: Option<Expr>,
    per_partition_limit: Option<Expr>,
}

fn col(schema: &TableSchema, name: &str) -> Result<usize, SimError> {
    schema
        .by_name
        .get(name)
        .copied()
        .ok_or_else(|| SimError::Invalid(format!("Undefined column name {name}")))
}

const FILTERING: &str = "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING";

/// Plans a SELECT.
pub fn plan(
    schema: &Schema,
    sel: &Select,
    keyspace: Option<&str>,
    binds: &mut Binds,
) -> Result<SelectPlan, SimError> {
    let table = resolve_table(schema, &sel.table, keyspace)?;
    let ts = table.schema();
    let s = &*ts;
    if sel.json {
        return Err(SimError::Invalid(
            "SELECT JSON is not supported by the simulator".into(),
        ));
    }
    let mut items = Vec::new();
    let mut count = None;
    for (selector, alias) in &sel.selectors {
        let (item, name, typ) = match selector {
            Selector::Column(c) => {
                let ci = col(s, c)?;
                (SelItem::Col(ci), c.clone(), s.columns[ci].typ.clone())
            }
            Selector::WriteTime(c) | Selector::Ttl(c) => {
                let ci = col(s, c)?;
                let column = &s.columns[ci];
                if matches!(
                    column.kind,
                    ColumnKind::PartitionKey | ColumnKind::Clustering
                ) {
                    return Err(SimError::Invalid(format!(
                        "Cannot use selection function writetime on PRIMARY KEY part {c}"
                    )));
                }
                if matches!(
                    column.typ,
                    ColumnType::List(_, false)
                        | ColumnType::Set(_, false)
                        | ColumnType::Map(_, _, false)
                ) {
                    return Err(SimError::Invalid(format!(
                        "Cannot use selection function writetime on non-frozen collection {c}"
                    )));
                }
                if matches!(selector, Selector::Ttl(_)) {
                    (SelItem::Ttl(ci), format!("ttl({c})"), ColumnType::Int)
                } else {
                    (
                        SelItem::WriteTime(ci),
                        format!("writetime({c})"),
                        ColumnType::BigInt,
                    )
                }
            }
            Selector::Token(cols) => {
                let names: Vec<&str> = s.pk.iter().map(|i| s.columns[*i].name.as_str()).collect();
                if cols.iter().map(String::as_str).ne(names.iter().copied()) {
                    return Err(SimError::Invalid(
                        "The token function arguments must be the partition key columns in order"
                            .into(),
                    ));
                }
                (
                    SelItem::Token,
                    format!("system.token({})", cols.join(", ")),
                    ColumnType::BigInt,
                )
            }
            Selector::CountAll => {
                count = Some(s.spec(alias.as_deref().unwrap_or("count"), ColumnType::BigInt));
                continue;
            }
            Selector::Call(f, _) => {
                return Err(SimError::Invalid(format!("Unknown function '{f}'")));
            }
        };
        items.push((item, s.spec(alias.as_deref().unwrap_or(&name), typ)));
    }
    if count.is_some() && !items.is_empty() {
        return Err(SimError::Invalid(
            "COUNT(*) cannot be mixed with other selectors in the simulator".into(),
        ));
    }
    let keys = where_::plan(s, &sel.where_, binds)?;
    let needs_filtering = keys
        .filters
        .iter()
        .map(|f| f.0)
        .chain(keys.in_filters.iter().map(|f| f.0))
        .any(|c| {
            // Partition key parts and clustering columns beyond the prefix filter too.
            matches!(
                s.columns[c].kind,
                ColumnKind::Regular
                    | ColumnKind::Static
                    | ColumnKind::PartitionKey
                    | ColumnKind::Clustering
            )
        })
        || (keys.pk.is_none() && keys.has_clustering_restriction());
    if needs_filtering && !sel.allow_filtering && table.system.is_none() {
        return Err(SimError::Invalid(FILTERING.into()));
    }
    let mut reversed = false;
    if !sel.order_by.is_empty() {
        if keys.pk.is_none() {
            return Err(SimError::Invalid("ORDER BY is only supported when the partition key is restricted by an EQ or an IN.".into()));
        }
        for (i, (c, desc)) in sel.order_by.iter().enumerate() {
            let ci = col(s, c)?;
            let column = &s.columns[ci];
            if column.kind != ColumnKind::Clustering || column.position != i {
                return Err(SimError::Invalid(format!(
                    "Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY ({c})"
                )));
            }
            let rev = *desc != column.desc;
            if i == 0 {
                reversed = rev;
            } else if rev != reversed {
                return Err(SimError::Invalid("Unsupported order by relation".into()));
            }
        }
    }
    if sel.distinct {
        for (item, spec) in &items {
            let ok = matches!(item, SelItem::Col(ci) if matches!(s.columns[*ci].kind, ColumnKind::PartitionKey | ColumnKind::Static));
            if !ok {
                return Err(SimError::Invalid(format!(
                    "SELECT DISTINCT queries must only request partition key columns and/or static columns (not {})",
                    spec.name
                )));
            }
        }
    }
    let limit = match &sel.limit {
        Some(t) => Some(compile_value(t, &ColumnType::Int, "[limit]", s, binds)?),
        None => None,
    };
    let per_partition_limit = match &sel.per_partition_limit {
        Some(t) => Some(compile_value(
            t,
            &ColumnType::Int,
            "[per_partition_limit]",
            s,
            binds,
        )?),
        None => None,
    };
    let star = sel.selectors.is_empty();
    Ok(SelectPlan {
        table: table.clone(),
        schema: ts.clone(),
        keys,
        items: if star { None } else { Some(items) },
        count,
        distinct: sel.distinct,
        reversed,
        limit,
        per_partition_limit,
    })
}

impl SelectPlan {
    /// Marker indexes of the partition key when bound by `= ?`.
    pub fn pk_binds(&self) -> Option<Vec<u16>> {
        pk_binds(self.keys.pk.as_deref())
    }

    /// Whether this is `SELECT *`.
    pub fn is_star(&self) -> bool {
        self.items.is_none() && self.count.is_none()
    }

    /// The result columns (for `*`: the table's current columns).
    pub fn result_columns(&self) -> Vec<ColumnSpec> {
        if let Some(c) = &self.count {
            return vec![c.clone()];
        }
        match &self.items {
            Some(items) => items.iter().map(|(_, s)| s.clone()).collect(),
            None => {
                let s = self.table.schema();
                if self.distinct {
                    s.star
                        .iter()
                        .zip(&s.star_specs)
                        .filter(|(i, _)| {
                            matches!(
                                s.columns[**i].kind,
                                ColumnKind::PartitionKey | ColumnKind::Static
                            )
                        })
                        .map(|(_, c)| c.clone())
                        .collect()
                } else {
                    s.star_specs.clone()
                }
            }
        }
    }

    /// The keyspace.
    pub fn keyspace(&self) -> Arc<str> {
        self.schema.keyspace.clone()
    }

    /// Whether the table was dropped since planning.
    pub fn is_dropped(&self) -> bool {
        self.table.dropped.load(Ordering::Relaxed)
    }
}

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

fn stamp_of(
    row: &Row,
    column: &Column,
    shadow: i64,
    now_s: i64,
) -> Option<crate::engine::storage::Stamp> {
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
fn column_value(
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

/// Executes a SELECT.
pub fn execute(
    engine: &Engine,
    p: &SelectPlan,
    ev: &Eval<'_>,
    params: &QueryParams,
    now: &Now,
    cluster: &dyn ClusterView,
) -> Result<QueryResult, SimError> {
    if p.is_dropped() {
        return Err(SimError::Invalid(format!(
            "unconfigured table {}",
            p.schema.name
        )));
    }
    let current = p.table.schema();
    if let Some(sys) = &p.table.system {
        let data = crate::engine::system::materialize(engine, *sys, &current, cluster)?;
        return run(p, &current, &data, ev, params, now).map(QueryResult::Rows);
    }
    if p.keys.pk.is_none() {
        let mut data = p.table.data.write().unwrap_or_else(|e| e.into_inner());
        if data.needs_merge() {
            data.merge();
        }
    }
    let data = p.table.data.read().unwrap_or_else(|e| e.into_inner());
    run(p, &current, &data, ev, params, now).map(QueryResult::Rows)
}

struct Filter {
    col: usize,
    op: Op,
    values: Vec<Bytes>,
}

fn run(
    p: &SelectPlan,
    s: &TableSchema,
    data: &TableData,
    ev: &Eval<'_>,
    params: &QueryParams,
    now: &Now,
) -> Result<Rows, SimError> {
    let limit = ev.int(p.limit.as_ref(), "[limit]")?;
    let ppl = ev.int(p.per_partition_limit.as_ref(), "[per_partition_limit]")?;
    for l in [limit, ppl].into_iter().flatten() {
        if l <= 0 {
            return Err(SimError::Invalid("LIMIT must be strictly positive".into()));
        }
    }
    let limit = limit.map_or(u32::MAX, |l| l as u32);
    let ppl = ppl.map_or(u32::MAX, |l| l as u32);
    let ranges: Vec<Range> = if p.keys.has_clustering_restriction() {
        where_::resolve_ranges(&p.schema, &p.keys, ev)?
    } else {
        vec![(Bound::Unbounded, Bound::Unbounded)]
    };
    let mut filters = Vec::with_capacity(p.keys.filters.len() + p.keys.in_filters.len());
    for (c, op, e) in &p.keys.filters {
        filters.push(Filter {
            col: *c,
            op: *op,
            values: vec![ev.required(e, &s.columns[*c].name)?],
        });
    }
    for (c, v) in &p.keys.in_filters {
        filters.push(Filter {
            col: *c,
            op: Op::Eq,
            values: eval_vals(ev, v, &s.columns[*c].name)?,
        });
    }
    let token_bounds = (
        match &p.keys.token.0 {
            Some((e, incl)) => Some((token_of(ev, e)?, *incl)),
            None => None,
        },
        match &p.keys.token.1 {
            Some((e, incl)) => Some((token_of(ev, e)?, *incl)),
            None => None,
        },
    );
    let state = match &params.paging_state {
        Some(b) if p.count.is_none() => Some(
            PageState::decode(b)
                .ok_or_else(|| SimError::ProtocolError("Invalid paging state".into()))?,
        ),
        _ => None,
    };
    let page = match params.page_size {
        Some(n) if n > 0 && p.count.is_none() => n as usize,
        _ => usize::MAX,
    };
    let star_cols: Vec<(SelItem, ColumnSpec)>;
    let cols: &[(SelItem, ColumnSpec)] = match &p.items {
        Some(items) => items,
        None => {
            let specs = p.result_columns();
            star_cols = specs
                .into_iter()
                .map(|spec| {
                    (
                        SelItem::Col(s.by_name.get(&spec.name).copied().unwrap_or(0)),
                        spec,
                    )
                })
                .collect();
            &star_cols
        }
    };
    let mut out = Rows {
        columns: match &p.count {
            Some(c) => vec![c.clone()],
            None => cols.iter().map(|(_, c)| c.clone()).collect(),
        },
        rows: Vec::new(),
        paging_state: None,
    };
    let mut total = state.as_ref().map_or(0, |st| st.total);
    let mut count: i64 = 0;
    let mut last: Option<PageState> = None;
    let mut more = false;
    let resume_key = state.as_ref().map(|st| (st.token, st.key.clone()));

    let partitions: Box<dyn Iterator<Item = (i64, &Bytes, &Partition)>> = match &p.keys.pk {
        Some(pk) => {
            let keys = where_::resolve_partitions(&p.schema, pk, ev)?;
            let found: Vec<(i64, &Bytes, &Partition)> = keys
                .iter()
                .filter_map(|(t, k)| data.get_entry(k).map(|(k, part)| (*t, k, part)))
                .collect();
            Box::new(found.into_iter())
        }
        None => {
            let start = match &resume_key {
                Some(k) => Bound::Included(k.clone()),
                None => match token_bounds.0 {
                    Some((t, true)) => Bound::Included((t, Bytes::new())),
                    Some((t, false)) if t < i64::MAX => Bound::Included((t + 1, Bytes::new())),
                    Some(_) => Bound::Excluded((i64::MAX, Bytes::new())),
                    None => Bound::Unbounded,
                },
            };
            Box::new(data.scan(start))
        }
    };
    'parts: for (token, key, part) in partitions {
        let token = &token;
        if let Some(rk) = &resume_key
            && (*token, key) < (rk.0, &rk.1)
        {
            continue;
        }
        if !token_ok(*token, token_bounds) {
            if token_bounds.1.is_some_and(|(t, _)| *token > t) && p.keys.pk.is_none() {
                break;
            }
            continue;
        }
        let resuming = state
            .as_ref()
            .filter(|st| st.token == *token && st.key == *key);
        if resuming.is_some_and(|st| st.ck.is_none()) {
            continue;
        }
        let pk_parts = split_partition_key(key, s.pk.len());
        let mut in_part = resuming.map_or(0, |st| st.in_partition);
        let mut emitted_any = in_part > 0;
        if p.distinct {
            let live = part.static_live(now.secs)
                || part.rows.iter().any(|(k, r)| part.row_live(k, r, now.secs));
            if live && passes(s, &filters, &pk_parts, &[], part, None, &[], now.secs) {
                if out.rows.len() == page {
                    more = true;
                    break 'parts;
                }
                let row = cols
                    .iter()
                    .map(|(item, _)| {
                        item_value(s, item, *token, &pk_parts, &[], part, None, &[], now.secs)
                    })
                    .collect();
                out.rows.push(row);
                total += 1;
                last = Some(PageState {
                    token: *token,
                    key: key.clone(),
                    ck: None,
                    in_partition: 1,
                    total,
                });
                if total >= limit {
                    break 'parts;
                }
            }
            continue;
        }
        let range_iter: Box<dyn Iterator<Item = &Range>> = if p.reversed {
            Box::new(ranges.iter().rev())
        } else {
            Box::new(ranges.iter())
        };
        for range in range_iter {
            let rows = part.rows.range(as_slice(&range.0), as_slice(&range.1));
            let rows: Box<dyn Iterator<Item = (&[u8], &Row)>> = if p.reversed {
                Box::new(rows.rev())
            } else {
                rows
            };
            for (ck_enc, row) in rows {
                if let Some(Some(after)) = resuming.map(|st| &st.ck) {
                    let done = if p.reversed {
                        ck_enc >= after.as_slice()
                    } else {
                        ck_enc <= after.as_slice()
                    };
                    if done {
                        continue;
                    }
                }
                if !part.row_live(ck_enc, row, now.secs) {
                    continue;
                }
                if !passes(
                    s,
                    &filters,
                    &pk_parts,
                    &row.ck,
                    part,
                    Some(row),
                    ck_enc,
                    now.secs,
                ) {
                    continue;
                }
                if in_part >= ppl {
                    continue 'parts;
                }
                if p.count.is_some() {
                    count += 1;
                } else {
                    if out.rows.len() == page {
                        more = true;
                        break 'parts;
                    }
                    let values = cols
                        .iter()
                        .map(|(item, _)| {
                            item_value(
                                s,
                                item,
                                *token,
                                &pk_parts,
                                &row.ck,
                                part,
                                Some(row),
                                ck_enc,
                                now.secs,
                            )
                        })
                        .collect();
                    out.rows.push(values);
                }
                in_part += 1;
                total += 1;
                emitted_any = true;
                last = Some(PageState {
                    token: *token,
                    key: key.clone(),
                    ck: Some(ck_enc.to_vec()),
                    in_partition: in_part,
                    total,
                });
                if total >= limit {
                    break 'parts;
                }
            }
        }
        // A partition with only static cells shows one row when clustering is unrestricted.
        if !emitted_any
            && s.has_static
            && !p.keys.has_clustering_restriction()
            && part.static_live(now.secs)
            && passes(s, &filters, &pk_parts, &[], part, None, &[], now.secs)
        {
            if p.count.is_some() {
                count += 1;
            } else {
                if out.rows.len() == page {
                    more = true;
                    break 'parts;
                }
                let values = cols
                    .iter()
                    .map(|(item, _)| {
                        item_value(s, item, *token, &pk_parts, &[], part, None, &[], now.secs)
                    })
                    .collect();
                out.rows.push(values);
            }
            total += 1;
            last = Some(PageState {
                token: *token,
                key: key.clone(),
                ck: None,
                in_partition: 1,
                total,
            });
            if total >= limit {
                break 'parts;
            }
        }
    }
    if p.count.is_some() {
        out.rows = vec![vec![Some(Bytes::copy_from_slice(&count.to_be_bytes()))]];
        return Ok(out);
    }
    if more {
        out.paging_state = last.map(|l| l.encode());
    }
    Ok(out)
}

fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn token_of(ev: &Eval<'_>, e: &Expr) -> Result<i64, SimError> {
    let b = ev.required(e, "token")?;
    let arr: [u8; 8] = b[..]
        .try_into()
        .map_err(|_| SimError::Invalid("Invalid token value".into()))?;
    Ok(i64::from_be_bytes(arr))
}

type TokenBounds = (Option<(i64, bool)>, Option<(i64, bool)>);

fn token_ok(t: i64, b: TokenBounds) -> bool {
    let lo =
        b.0.is_none_or(|(x, incl)| if incl { t >= x } else { t > x });
    let hi =
        b.1.is_none_or(|(x, incl)| if incl { t <= x } else { t < x });
    lo && hi
}

#[allow(clippy::too_many_arguments)]
fn passes(
    s: &TableSchema,
    filters: &[Filter],
    pk: &[Bytes],
    ck: &[Bytes],
    part: &Partition,
    row: Option<&Row>,
    ck_enc: &[u8],
    now_s: i64,
) -> bool {
    filters.iter().all(|f| {
        let typ = &s.columns[f.col].typ;
        let Some(v) = column_value(s, f.col, pk, ck, part, row, ck_enc, now_s) else {
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

#[allow(clippy::too_many_arguments)]
fn item_value(
    s: &TableSchema,
    item: &SelItem,
    token: i64,
    pk: &[Bytes],
    ck: &[Bytes],
    part: &Partition,
    row: Option<&Row>,
    ck_enc: &[u8],
    now_s: i64,
) -> Option<Bytes> {
    match item {
        SelItem::Col(ci) => column_value(s, *ci, pk, ck, part, row, ck_enc, now_s),
        SelItem::Token => Some(Bytes::copy_from_slice(&token.to_be_bytes())),
        SelItem::WriteTime(ci) | SelItem::Ttl(ci) => {
            let c = &s.columns[*ci];
            let (r, shadow) = if c.kind == ColumnKind::Static {
                (&part.statics, part.deleted_at)
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
