//! Lightweight transactions: evaluating IF [NOT] EXISTS / IF col op v under the table lock
//! and shaping the `[applied]` result like Cassandra (the existing row or the condition
//! columns when not applied).

use std::sync::Arc;

use bytes::Bytes;

use super::apply::apply;
use super::{Cond, Resolved, RowTarget, WritePlan};
use crate::cql::ast::Op;
use crate::engine::Now;
use crate::engine::exec::select::{cell_bytes, row_values};
use crate::engine::exec::{Eval, Val};
use crate::engine::schema::{ColumnKind, TableSchema};
use crate::engine::storage::Partition;
use crate::engine::types::order;
use crate::model::{ColumnSpec, ColumnType, Flavor, QueryResult, Rows, SimError};

/// (applied, extra result columns, their values).
type CheckResult = (bool, Vec<ColumnSpec>, Vec<Option<Bytes>>);

pub(super) fn execute_conditional(
    items: &[(&WritePlan, Eval<'_>)],
    resolved: &[Resolved<'_>],
    now: &Now,
) -> Result<QueryResult, SimError> {
    let first = resolved[0].0;
    let (token, key) = match resolved[0].1.as_slice() {
        [one] => one.clone(),
        _ => {
            return Err(SimError::Invalid(
                "IN on the partition key is not supported with conditional updates".into(),
            ));
        }
    };
    for (p, parts, _, _) in resolved {
        if !Arc::ptr_eq(&p.table, &first.table) || parts.as_slice() != [(token, key.clone())] {
            return Err(SimError::Invalid(
                "Batch with conditions cannot span multiple tables or partitions".into(),
            ));
        }
    }
    let s = &*first.schema;
    let applied_spec = s.spec("[applied]", ColumnType::Boolean);
    let mut data = first.table.data.write().unwrap_or_else(|e| e.into_inner());
    // ScyllaDB: the fixed columns, filled from the row as it was before the update
    // (`cas_request::build_cas_result_set`; nulls when there was no row).
    let scylla = (s.flavor == Flavor::Scylla).then(|| {
        let columns = WritePlan::cas_result_columns(items.iter().map(|(p, _)| *p));
        let idxs: Vec<usize> = columns[1..]
            .iter()
            .filter_map(|c| s.by_name.get(&c.name).copied())
            .collect();
        let old = old_values(s, &idxs, data.get(&key), &key, &resolved[0].2, now);
        (columns, old)
    });
    let mut columns = vec![applied_spec];
    let mut row: Vec<Option<Bytes>> = vec![None];
    let mut applied = true;
    for ((p, ev), (_, _, target, _)) in items.iter().zip(resolved) {
        let (ok, cols, vals) = check(p, ev, data.get(&key), &key, target, now)?;
        if !ok {
            applied = false;
            for (c, v) in cols.into_iter().zip(vals) {
                if !columns.iter().any(|x| x.name == c.name) {
                    columns.push(c);
                    row.push(v);
                }
            }
        }
    }
    if applied {
        for ((p, ev), (_, _, target, ctx)) in items.iter().zip(resolved) {
            apply(p, ev, &mut data, token, &key, target, ctx)?;
        }
        columns.truncate(1);
        row.truncate(1);
    }
    row[0] = Some(Bytes::from_static(if applied { &[1] } else { &[0] }));
    if let Some((scylla_columns, old)) = scylla {
        columns = scylla_columns;
        row.truncate(1);
        row.extend(old);
    }
    Ok(QueryResult::Rows(Rows {
        columns: columns.into(),
        rows: vec![row],
        paging_state: None,
    }))
}

/// The values of columns `idxs` in the target row as stored (nulls when it does not exist).
fn old_values(
    s: &TableSchema,
    idxs: &[usize],
    part: Option<&Partition>,
    key: &Bytes,
    target: &RowTarget,
    now: &Now,
) -> Vec<Option<Bytes>> {
    let (ck_enc, ck_vals) = match target {
        RowTarget::Rows(rows) if rows.len() == 1 => (rows[0].0.clone(), rows[0].1.clone()),
        _ => (Vec::new(), Vec::new()),
    };
    let Some(pt) = part else {
        return vec![None; idxs.len()];
    };
    let row = pt.rows.get(&ck_enc);
    let live = row.is_some_and(|r| pt.row_live(&ck_enc, r, now.secs)) || pt.static_live(now.secs);
    if !live {
        return vec![None; idxs.len()];
    }
    row_values(s, idxs, key, &ck_vals, pt, row, &ck_enc, now.secs)
}

/// Evaluates a statement's condition: (applied, extra columns, their values).
fn check(
    p: &WritePlan,
    ev: &Eval<'_>,
    part: Option<&Partition>,
    key: &Bytes,
    target: &RowTarget,
    now: &Now,
) -> Result<CheckResult, SimError> {
    let s = &*p.schema;
    let (ck_enc, ck_vals) = match target {
        RowTarget::Rows(rows) if rows.len() == 1 => (rows[0].0.clone(), rows[0].1.clone()),
        RowTarget::Partition | RowTarget::NoClustering => (Vec::new(), Vec::new()),
        _ => {
            return Err(SimError::Invalid(
                "IN on the clustering key columns is not supported with conditional updates".into(),
            ));
        }
    };
    let row = part.and_then(|pt| pt.rows.get(&ck_enc));
    let static_target = s.ck.is_empty() || matches!(target, RowTarget::Partition);
    let live = match (part, row) {
        (Some(pt), Some(r)) => pt.row_live(&ck_enc, r, now.secs),
        (Some(pt), None) if static_target && !s.ck.is_empty() => pt.static_live(now.secs),
        _ => false,
    };
    let star = |s: &TableSchema| -> (Vec<ColumnSpec>, Vec<Option<Bytes>>) {
        let vals = match part {
            Some(pt) => row_values(s, &s.star, key, &ck_vals, pt, row, &ck_enc, now.secs),
            None => vec![None; s.star.len()],
        };
        (s.star_specs.clone(), vals)
    };
    Ok(match &p.cond {
        Cond::None => (true, Vec::new(), Vec::new()),
        Cond::Exists => (live, Vec::new(), Vec::new()),
        Cond::NotExists => {
            if live {
                let current = p.table.schema();
                let (c, v) = star(&current);
                (false, c, v)
            } else {
                (true, Vec::new(), Vec::new())
            }
        }
        Cond::Columns(conds) => {
            let mut ok = true;
            let mut cols = Vec::new();
            let mut vals = Vec::new();
            for (ci, op, e) in conds {
                let column = &s.columns[*ci];
                let current = match part {
                    Some(pt) => {
                        let r = if column.kind == ColumnKind::Static {
                            Some(pt.statics())
                        } else {
                            row
                        };
                        r.and_then(|r| {
                            let shadow = if column.kind == ColumnKind::Static {
                                pt.deleted_at
                            } else {
                                pt.row_shadow(&ck_enc, r)
                            };
                            cell_bytes(column, r, shadow, now.secs)
                        })
                    }
                    None => None,
                };
                let expected = match ev.eval(e)? {
                    Val::Set(b) => Some(b),
                    _ => None,
                };
                let holds = match (op, &current, &expected) {
                    (Op::Eq, a, b) => a == b,
                    (Op::Ne, a, b) => a != b,
                    (_, Some(a), Some(b)) => {
                        let ord = order::compare(&column.typ, a, b);
                        match op {
                            Op::Lt => ord.is_lt(),
                            Op::Le => ord.is_le(),
                            Op::Gt => ord.is_gt(),
                            _ => ord.is_ge(),
                        }
                    }
                    _ => false,
                };
                ok &= holds;
                if !cols.iter().any(|c: &ColumnSpec| c.name == column.name) {
                    cols.push(s.spec(&column.name, column.typ.clone()));
                    vals.push(current);
                }
            }
            let statics_only = conds
                .iter()
                .all(|(ci, _, _)| s.columns[*ci].kind == ColumnKind::Static);
            let exists = live || (statics_only && part.is_some_and(|pt| pt.static_live(now.secs)));
            if ok {
                (true, Vec::new(), Vec::new())
            } else if !exists {
                // Like Cassandra: no current row, only `[applied] = false`.
                (false, Vec::new(), Vec::new())
            } else {
                (false, cols, vals)
            }
        }
    })
}
