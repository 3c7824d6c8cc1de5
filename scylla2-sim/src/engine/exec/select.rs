//! SELECT: planning (selectors, restrictions, ordering, limits), row reading with liveness,
//! filtering, COUNT, DISTINCT, and paging with an opaque position-based paging state.

use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::aggregate::TimeFn;
use super::group_by::{Aggregation, Grouper, Out};
use super::paging::{PageState, ReadPos};
use super::read::RowView;
pub use super::read::{cell_bytes, row_values};
use super::where_::{self, KeyPlan, Range, Vals, eval_vals, split_partition_key};
use super::write::{pk_binds, resolve_table};
use super::{Binds, Either, Eval, Expr, compile_opt};
use crate::cql::ast::{Op, Select};
use crate::engine::schema::{ColumnKind, Schema, Table, TableSchema, unknown_table};
use crate::engine::storage::{Partition, TableData};
use crate::engine::{Engine, Now};
use crate::model::{ClusterView, ColumnSpec, ColumnType, QueryParams, QueryResult, Rows, SimError};
use rows::{as_slice, emit, item_value, passes, token_of, token_ok};

mod rows;

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
    /// An argument-less function such as now().
    Fn(TimeFn),
    /// An expression (cast, arithmetic, scalar function) of other items.
    Expr(Box<super::selection::SelExpr>),
}

/// A planned SELECT.
#[derive(Debug)]
pub struct SelectPlan {
    pub(crate) table: Arc<Table>,
    schema: Arc<TableSchema>,
    keys: KeyPlan,
    /// None = `*`.
    items: Option<Vec<(SelItem, ColumnSpec)>>,
    aggs: Option<Aggregation>,
    /// The result columns when they do not depend on the table's current columns (not `*`),
    /// built once: every result shares them.
    specs: Option<Arc<[ColumnSpec]>>,
    /// SELECT JSON.
    json: bool,
    /// IN on the partition key with ORDER BY: rows of all partitions sorted by these
    /// clustering positions (type, descending) after the read.
    post_order: Option<Vec<(usize, ColumnType, bool)>>,
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
        .ok_or_else(|| schema.unknown_column(name, false))
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
    let planned = super::selection::plan(s, &sel.selectors, binds)?;
    let aggregating = planned.iter().any(|(o, _)| matches!(o, Out::Agg(..)));
    let mut items = Vec::new();
    let mut agg_cols = Vec::new();
    for (o, spec) in planned {
        match o {
            Out::Item(item) if !aggregating => items.push((item, spec)),
            o => agg_cols.push((o, spec)),
        }
    }
    let keys = where_::plan(s, &sel.where_, binds)?;
    let group_ck = if sel.group_by.is_empty() {
        None
    } else {
        Some(super::group_by::plan_group_by(
            s,
            &keys,
            &sel.group_by,
            sel.distinct,
        )?)
    };
    if group_ck.is_some() && !aggregating {
        // GROUP BY without aggregates: every selector shows its group's first row.
        agg_cols = items
            .drain(..)
            .map(|(i, spec)| (Out::Item(i), spec))
            .collect();
        if sel.selectors.is_empty() {
            agg_cols = ts
                .star
                .iter()
                .zip(&ts.star_specs)
                .map(|(ci, spec)| (Out::Item(SelItem::Col(*ci)), spec.clone()))
                .collect();
        }
    }
    if aggregating && group_ck.is_none() && sel.per_partition_limit.is_some() {
        return Err(SimError::Invalid(
            "PER PARTITION LIMIT is not allowed with aggregate queries.".into(),
        ));
    }
    // Any restriction evaluated per row needs ALLOW FILTERING, except `=` on an indexed column
    // (the simulator scans; a real node would read the index).
    let indexed: Vec<String> = table
        .indexes
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(_, c, _)| c.clone())
        .collect();
    let by_index = keys
        .filters
        .iter()
        .any(|(c, op, _)| *op == Op::Eq && indexed.contains(&s.columns[*c].name));
    let needs_filtering = !by_index
        && (!keys.filters.is_empty()
            || !keys.in_filters.is_empty()
            || (keys.pk.is_none() && keys.has_clustering_restriction()));
    if needs_filtering && !sel.allow_filtering && table.system.is_none() {
        return Err(SimError::Invalid(FILTERING.into()));
    }
    let mut reversed = false;
    let mut post_order = None;
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
            // IN on the partition key: the server sorts every partition's rows together
            // by the ORDER BY columns (Cassandra `SelectStatement.orderResults`).
            let multi = keys.pk.as_ref().is_some_and(|pk| {
                // A literal IN of one value is an `=` (Cassandra
                // `SingleColumnRelation.newINRestriction`).
                pk.iter().any(|v| match v {
                    where_::Vals::Eq(_) => false,
                    where_::Vals::In(list) => list.len() > 1,
                    where_::Vals::InBind(_) => true,
                })
            });
            if multi {
                post_order.get_or_insert_with(Vec::new).push((
                    column.position,
                    column.typ.clone(),
                    *desc,
                ));
            }
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
    let limit = compile_opt(sel.limit.as_ref(), &ColumnType::Int, "[limit]", s, binds)?;
    let per_partition_limit = compile_opt(
        sel.per_partition_limit.as_ref(),
        &ColumnType::Int,
        "[per_partition_limit]",
        s,
        binds,
    )?;
    let star = sel.selectors.is_empty();
    let items = if star && group_ck.is_none() {
        None
    } else {
        Some(items)
    };
    let aggs = if agg_cols.is_empty() {
        None
    } else {
        Some(Aggregation {
            cols: agg_cols,
            group_ck,
        })
    };
    let specs = match (&aggs, &items) {
        (Some(aggs), _) => Some(aggs.cols.iter().map(|(_, c)| c.clone()).collect()),
        (None, Some(items)) => Some(items.iter().map(|(_, c)| c.clone()).collect()),
        (None, None) => None,
    };
    Ok(SelectPlan {
        table: table.clone(),
        schema: ts.clone(),
        keys,
        items,
        aggs,
        specs,
        json: sel.json,
        post_order,
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
        self.items.is_none() && self.aggs.is_none()
    }

    /// The result columns (for `*`: the table's current columns).
    pub fn result_columns(&self) -> Vec<ColumnSpec> {
        let cols = self.selected_columns();
        if self.json {
            return vec![super::json::json_spec(&cols)];
        }
        cols
    }

    fn selected_columns(&self) -> Vec<ColumnSpec> {
        if let Some(aggs) = &self.aggs {
            return aggs.cols.iter().map(|(_, c)| c.clone()).collect();
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
    pub fn keyspace(&self) -> &str {
        &self.schema.keyspace
    }

    /// The table's name.
    pub fn table_name(&self) -> &str {
        &self.schema.name
    }

    /// The tokens of the partitions this read is restricted to with these values: None for a
    /// range scan, Some(None) when they cannot be evaluated (executing reports why).
    pub fn tokens(&self, ev: &Eval<'_>) -> Option<Option<where_::PartitionTokens>> {
        let pk = self.keys.pk.as_deref()?;
        Some(where_::partition_tokens(&self.schema, pk, ev).ok())
    }

    /// For an aggregate: whether the partition key is restricted, and by an IN.
    pub fn aggregate_keys(&self) -> Option<(bool, bool)> {
        self.aggs.as_ref()?;
        let Some(pk) = self.keys.pk.as_deref() else {
            return Some((false, false));
        };
        let multi = pk.iter().any(|v| match v {
            Vals::In(items) => items.len() > 1,
            Vals::InBind(_) => true,
            Vals::Eq(_) => false,
        });
        Some((true, multi))
    }

    /// Whether this reads a system table (placed on the local node only).
    pub fn is_system(&self) -> bool {
        self.table.system.is_some()
    }

    /// Whether a DROP or an ALTER since planning invalidated this plan (see
    /// [`TableSchema::invalidates_plans`]).
    pub fn is_invalidated(&self) -> bool {
        self.is_dropped() || self.schema.invalidates_plans(&self.table.schema())
    }

    /// Whether the table was dropped since planning.
    pub fn is_dropped(&self) -> bool {
        self.table.dropped.load(Ordering::Relaxed)
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
        return Err(unknown_table(p.schema.flavor, &p.schema.name));
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
    // Restrictions, explicit selectors and aggregates use the plan's column indexes; `*`
    // follows the current schema (slots are stable across ALTER TABLE).
    let ps: &TableSchema = &p.schema;
    let is: &TableSchema = if p.items.is_some() { ps } else { s };
    let limit = ev.int(p.limit.as_ref(), "[limit]")?;
    let ppl = ev.int(p.per_partition_limit.as_ref(), "[per_partition_limit]")?;
    for l in [limit, ppl].into_iter().flatten() {
        if l <= 0 {
            return Err(SimError::Invalid("LIMIT must be strictly positive".into()));
        }
    }
    let limit = limit.map_or(u32::MAX, |l| l as u32);
    let ppl = ppl.map_or(u32::MAX, |l| l as u32);
    // Aggregates count groups, and post-ordered rows are trimmed after the sort: the read
    // itself is unlimited then (Cassandra `SelectStatement.getDataLimits`).
    let (group_limit, group_ppl) = (limit, ppl);
    let (limit, ppl) = if p.aggs.is_some() || p.post_order.is_some() {
        (u32::MAX, if p.aggs.is_some() { u32::MAX } else { ppl })
    } else {
        (limit, ppl)
    };
    if p.post_order.is_some() && params.page_size.is_some_and(|n| n > 0) {
        // Cassandra `SelectStatement.execute`: post-query ordering cannot be paged.
        return Err(SimError::Invalid("Cannot page queries with both ORDER BY and a IN restriction on the partition key; you must either remove the ORDER BY or the IN and sort client side, or disable paging for this query".into()));
    }
    let resolved_ranges: Vec<Range>;
    let ranges: &[Range] = if p.keys.has_clustering_restriction() {
        resolved_ranges = where_::resolve_ranges(&p.schema, &p.keys, ev)?;
        &resolved_ranges
    } else {
        &FULL_RANGE
    };
    let mut filters = Vec::with_capacity(p.keys.filters.len() + p.keys.in_filters.len());
    for (c, op, e) in &p.keys.filters {
        filters.push(Filter {
            col: *c,
            op: *op,
            values: vec![ev.required(e, &ps.columns[*c].name)?],
        });
    }
    for (c, v) in &p.keys.in_filters {
        filters.push(Filter {
            col: *c,
            op: Op::Eq,
            values: eval_vals(ev, v, &ps.columns[*c].name)?,
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
    // Aggregates over everything answer one row; GROUP BY pages by groups.
    let pageable = p.aggs.as_ref().is_none_or(|a| a.group_ck.is_some());
    let state = match &params.paging_state {
        Some(b) if pageable => Some(
            PageState::decode(b)
                .ok_or_else(|| SimError::ProtocolError("Invalid paging state".into()))?,
        ),
        _ => None,
    };
    let page = match params.page_size {
        Some(n) if n > 0 && pageable => n as usize,
        _ => usize::MAX,
    };
    let star_cols: Vec<(SelItem, ColumnSpec)>;
    let cols: &[(SelItem, ColumnSpec)] = match &p.items {
        Some(items) => items,
        None => {
            let specs = p.selected_columns();
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
        columns: match &p.specs {
            Some(specs) => specs.clone(),
            None => cols.iter().map(|(_, c)| c.clone()).collect(),
        },
        rows: Vec::new(),
        paging_state: None,
    };
    let mut total = state.as_ref().map_or(0, |st| st.total);
    // Groups returned by earlier pages count against LIMIT.
    let groups_before = state.as_ref().map_or(0, |st| st.total);
    let mut grouper = p.aggs.as_ref().map(|a| {
        Grouper::new(
            a,
            group_ppl,
            page,
            group_limit.saturating_sub(groups_before),
        )
    });
    let mut last: Option<ReadPos<'_>> = None;
    let mut more = false;
    let resume_key = state.as_ref().map(|st| (st.token, st.key.clone()));
    // The last partition key the request names (None for a range scan).
    let mut final_key: Option<(i64, Bytes)> = None;

    let partitions = match p.keys.pk.as_deref() {
        Some([Vals::Eq(e)]) => {
            let (t, k) = where_::single_partition(&p.schema, e, ev)?;
            let found = data.get_entry(&k).map(|(k, part)| (t, k, part));
            final_key = Some((t, k));
            Either::Left(found.into_iter())
        }
        Some(pk) => {
            let keys = where_::resolve_partitions(&p.schema, pk, ev)?;
            final_key = keys.last().cloned();
            let found: Vec<(i64, &Bytes, &Partition)> = keys
                .iter()
                .filter_map(|(t, k)| data.get_entry(k).map(|(k, part)| (*t, k, part)))
                .collect();
            Either::Right(Either::Left(found.into_iter()))
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
            Either::Right(Either::Right(data.scan(start)))
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
        let split;
        let pk_parts: &[Bytes] = if s.pk.len() == 1 {
            // A one-column key is its own only part: lent, not cloned (a clone writes the
            // stored key's reference count, a cache miss per partition read).
            std::slice::from_ref(key)
        } else {
            split = split_partition_key(key, s.pk.len());
            &split
        };
        let statics = RowView::statics(pk_parts, part, now.secs);
        let select = |view: &RowView<'_>| -> Result<Vec<Option<Bytes>>, SimError> {
            let mut row = cols
                .iter()
                .map(|(item, _)| item_value(is, item, *token, view, ev))
                .collect::<Result<Vec<_>, _>>()?;
            // Post-ordering keys ride after the selected values until the sort.
            for (pos, _, _) in p.post_order.iter().flatten() {
                row.push(view.ck.get(*pos).cloned());
            }
            Ok(row)
        };
        let mut in_part = resuming.map_or(0, |st| st.in_partition);
        let mut emitted_any = in_part > 0;
        if p.distinct {
            let live = part.static_live(now.secs)
                || part.rows.iter().any(|(k, r)| part.row_live(k, r, now.secs));
            if live && passes(ps, &filters, &statics) {
                // One row per partition, aggregated when the selection aggregates.
                if !emit(
                    grouper.as_mut(),
                    &mut out,
                    page,
                    &statics,
                    key,
                    |item| item_value(ps, item, *token, &statics, ev),
                    select,
                )? {
                    more = true;
                    break 'parts;
                }
                total += 1;
                last = Some(ReadPos::partition_done(*token, key, total));
                if total >= limit {
                    break 'parts;
                }
            }
            continue;
        }
        let range_iter = if p.reversed {
            Either::Left(ranges.iter().rev())
        } else {
            Either::Right(ranges.iter())
        };
        for range in range_iter {
            let rows = part.rows.range(as_slice(&range.0), as_slice(&range.1));
            let rows = if p.reversed {
                Either::Left(rows.rev())
            } else {
                Either::Right(rows)
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
                let view = RowView {
                    pk: pk_parts,
                    ck: &row.ck,
                    part,
                    row: Some(row),
                    ck_enc,
                    now_s: now.secs,
                };
                if !passes(ps, &filters, &view) {
                    continue;
                }
                if in_part >= ppl {
                    continue 'parts;
                }
                if !emit(
                    grouper.as_mut(),
                    &mut out,
                    page,
                    &view,
                    key,
                    |item| item_value(ps, item, *token, &view, ev),
                    select,
                )? {
                    more = true;
                    break 'parts;
                }
                in_part += 1;
                total += 1;
                emitted_any = true;
                last = Some(ReadPos {
                    token: *token,
                    key,
                    ck: Some(ck_enc),
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
            && passes(ps, &filters, &statics)
        {
            if !emit(
                grouper.as_mut(),
                &mut out,
                page,
                &statics,
                key,
                |item| item_value(ps, item, *token, &statics, ev),
                select,
            )? {
                more = true;
                break 'parts;
            }
            total += 1;
            last = Some(ReadPos::partition_done(*token, key, total));
            if total >= limit {
                break 'parts;
            }
        }
    }
    if let Some(g) = grouper {
        out.rows = g.finish();
        if more {
            // Resume after the last row read: the next group starts there.
            let done = groups_before.saturating_add(out.rows.len() as u32);
            out.paging_state = last.map(|l| {
                let mut state = l.state();
                state.total = done;
                state.encode()
            });
        }
        if p.json {
            super::json::rows_to_json(&mut out);
        }
        return Ok(out);
    }
    // A full page says "more pages" even when the data ends with it, and the next request
    // gets an empty last page: the servers' pagers call a page exhausted only when it came
    // back short (Cassandra's `AbstractQueryPager` with `DataLimits.isExhausted`, ScyllaDB's
    // `query_pager`), or when the LIMIT is reached. A single partition is also exhausted once
    // its PER PARTITION LIMIT is reached or its last row had no clustering
    // (`SinglePartitionPager`); a list of partitions while a later key remains
    // (`MultiPartitionPager`), found or not.
    if !more && page != usize::MAX && out.rows.len() == page && total < limit {
        more = match &last {
            None => false,
            Some(_) if p.keys.pk.is_none() => true,
            Some(l) => {
                (l.ck.as_ref().is_some_and(|c| !c.is_empty()) && l.in_partition < ppl)
                    || final_key
                        .as_ref()
                        .is_some_and(|(t, k)| (*t, k) != (l.token, l.key))
            }
        };
    }
    if more {
        out.paging_state = last.map(|l| l.state().encode());
    }
    // Post-ordered queries are never paged: every row was read.
    if let Some(order) = &p.post_order {
        super::group_by::sort_rows(&mut out.rows, order, cols.len());
        out.rows.truncate(group_limit as usize);
    }
    if p.json {
        super::json::rows_to_json(&mut out);
    }
    Ok(out)
}

/// Every clustering row.
static FULL_RANGE: [Range; 1] = [(Bound::Unbounded, Bound::Unbounded)];
