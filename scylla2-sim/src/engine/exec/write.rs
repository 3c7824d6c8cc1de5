//! INSERT, UPDATE, DELETE and BATCH: planning, last-write-wins application, collections,
//! counters, TTLs, tombstones and lightweight transactions (`[applied]` results).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::select::{cell_bytes, row_values};
use super::where_::{self, KeyPlan, Range, Vals};
use super::{Binds, Eval, Expr, Val, compile_value};
use crate::cql::ast::{Assignment, Conditions, Deletion, Op, QualifiedName, Statement, Term};
use crate::engine::Now;
use crate::engine::schema::{ColumnKind, Schema, Table, TableSchema};
use crate::engine::storage::{Partition, Row, TableData, WriteCtx, list_key, now_micros};
use crate::engine::types::{order, split_items};
use crate::model::{ColumnSpec, ColumnType, QueryResult, Rows, SimError};

/// One SET operation of an UPDATE.
#[derive(Debug, Clone)]
pub enum UpOp {
    /// `c = v`.
    Set(Expr),
    /// `c = c + v`.
    Add(Expr),
    /// `c = v + c`.
    Prepend(Expr),
    /// `c = c - v`.
    Remove(Expr),
    /// `c[k] = v`.
    SetElem(Expr, Expr),
    /// DELETE c.
    Delete,
    /// DELETE c[k].
    DeleteElem(Expr),
}

/// A statement's condition.
#[derive(Debug, Clone)]
pub enum Cond {
    /// None.
    None,
    /// IF EXISTS.
    Exists,
    /// IF NOT EXISTS.
    NotExists,
    /// IF col op v AND ...
    Columns(Vec<(usize, Op, Expr)>),
}

/// What a write does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// INSERT (sets the row marker).
    Insert,
    /// UPDATE.
    Update,
    /// DELETE.
    Delete,
}

/// A planned INSERT, UPDATE or DELETE.
#[derive(Debug)]
pub struct WritePlan {
    table: Arc<Table>,
    schema: Arc<TableSchema>,
    keys: KeyPlan,
    kind: WriteKind,
    ops: Vec<(usize, UpOp)>,
    cond: Cond,
    ttl: Option<Expr>,
    timestamp: Option<Expr>,
}

/// Resolves the table of a statement.
pub fn resolve_table(
    schema: &Schema,
    name: &QualifiedName,
    keyspace: Option<&str>,
) -> Result<Arc<Table>, SimError> {
    let ks = name.keyspace.as_deref().or(keyspace).ok_or_else(|| {
        SimError::Invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename".into())
    })?;
    schema.table(ks, &name.name)
}

/// Plans the `USING TIMESTAMP` term.
pub fn timestamp_expr(t: &Term, binds: &mut Binds) -> Result<Expr, SimError> {
    let dummy = TableSchema::new(Arc::from(""), String::new(), Vec::new());
    compile_value(t, &ColumnType::BigInt, "[timestamp]", &dummy, binds)
}

fn col(schema: &TableSchema, name: &str) -> Result<usize, SimError> {
    schema
        .by_name
        .get(name)
        .copied()
        .ok_or_else(|| SimError::Invalid(format!("Undefined column name {name}")))
}

fn element_types(typ: &ColumnType) -> Option<(ColumnType, ColumnType)> {
    match typ {
        ColumnType::Map(k, v, false) => Some(((**k).clone(), (**v).clone())),
        ColumnType::List(v, false) => Some((ColumnType::Int, (**v).clone())),
        _ => None,
    }
}

/// Plans a write statement.
pub fn plan(
    schema: &Schema,
    st: &Statement,
    keyspace: Option<&str>,
    binds: &mut Binds,
) -> Result<WritePlan, SimError> {
    let (name, using) = match st {
        Statement::Insert(i) => (&i.table, &i.using),
        Statement::Update(u) => (&u.table, &u.using),
        Statement::Delete(d) => (&d.table, &d.using),
        _ => {
            return Err(SimError::Invalid(
                "Only INSERT, UPDATE and DELETE statements are allowed in a batch".into(),
            ));
        }
    };
    let table = resolve_table(schema, name, keyspace)?;
    if table.system.is_some() {
        return Err(SimError::Unauthorized(format!(
            "{} keyspace is not user-modifiable.",
            table.schema().keyspace
        )));
    }
    let ts_schema = table.schema();
    let s = &*ts_schema;
    let mut ops = Vec::new();
    let mut cond = Cond::None;
    let (kind, keys) = match st {
        Statement::Insert(ins) => {
            if ins.columns.len() != ins.values.len() {
                return Err(SimError::Invalid("Unmatched column names/values".into()));
            }
            let mut rels = Vec::new();
            for (c, v) in ins.columns.iter().zip(&ins.values) {
                let ci = col(s, c)?;
                let column = &s.columns[ci];
                match column.kind {
                    ColumnKind::PartitionKey | ColumnKind::Clustering => rels.push(
                        crate::cql::ast::Relation::Compare(c.clone(), Op::Eq, v.clone()),
                    ),
                    _ => {
                        if column.typ == ColumnType::Counter {
                            return Err(SimError::Invalid("INSERT statements are not allowed on counter tables, use UPDATE instead".into()));
                        }
                        ops.push((ci, UpOp::Set(compile_value(v, &column.typ, c, s, binds)?)));
                    }
                }
            }
            let keys = where_::plan(s, &rels, binds)?;
            check_full_key(s, &keys, true)?;
            if ins.if_not_exists {
                cond = Cond::NotExists;
            }
            (WriteKind::Insert, keys)
        }
        Statement::Update(up) => {
            for a in &up.assignments {
                let (c, op) = match a {
                    Assignment::Set(c, t) => {
                        let column = &s.columns[col(s, c)?];
                        (c, UpOp::Set(compile_value(t, &column.typ, c, s, binds)?))
                    }
                    Assignment::Add(c, t)
                    | Assignment::Remove(c, t)
                    | Assignment::Prepend(c, t) => {
                        let column = &s.columns[col(s, c)?];
                        let typ = match (&column.typ, a) {
                            (ColumnType::Counter, _) => ColumnType::Counter,
                            (ColumnType::Map(k, _, false), Assignment::Remove(..)) => {
                                ColumnType::Set(k.clone(), false)
                            }
                            (
                                ColumnType::List(..) | ColumnType::Set(..) | ColumnType::Map(..),
                                _,
                            ) if !frozen(&column.typ) => column.typ.clone(),
                            _ => {
                                return Err(SimError::Invalid(format!(
                                    "Invalid operation ({c} = {c} + ?) for non counter column {c}"
                                )));
                            }
                        };
                        let e = compile_value(t, &typ, c, s, binds)?;
                        (
                            c,
                            match a {
                                Assignment::Add(..) => UpOp::Add(e),
                                Assignment::Remove(..) => UpOp::Remove(e),
                                _ => UpOp::Prepend(e),
                            },
                        )
                    }
                    Assignment::SetElement(c, k, v) => {
                        let column = &s.columns[col(s, c)?];
                        let (kt, vt) = element_types(&column.typ).ok_or_else(|| {
                            SimError::Invalid(format!(
                                "Invalid operation ({c}[?] = ?) for non collection column {c}"
                            ))
                        })?;
                        let ke = compile_value(k, &kt, &format!("key({c})"), s, binds)?;
                        let ve = compile_value(v, &vt, &format!("value({c})"), s, binds)?;
                        (c, UpOp::SetElem(ke, ve))
                    }
                };
                let ci = col(s, c)?;
                if matches!(
                    s.columns[ci].kind,
                    ColumnKind::PartitionKey | ColumnKind::Clustering
                ) {
                    return Err(SimError::Invalid(format!(
                        "PRIMARY KEY part {c} found in SET part"
                    )));
                }
                ops.push((ci, op));
            }
            let keys = where_::plan(s, &up.where_, binds)?;
            let only_static = ops
                .iter()
                .all(|(c, _)| s.columns[*c].kind == ColumnKind::Static);
            check_full_key(s, &keys, !only_static || keys.has_clustering_restriction())?;
            cond = plan_cond(s, &up.conditions, binds)?;
            (WriteKind::Update, keys)
        }
        Statement::Delete(del) => {
            for d in &del.columns {
                match d {
                    Deletion::Column(c) => {
                        let ci = col(s, c)?;
                        if matches!(
                            s.columns[ci].kind,
                            ColumnKind::PartitionKey | ColumnKind::Clustering
                        ) {
                            return Err(SimError::Invalid(format!(
                                "Invalid identifier {c} for deletion (should not be a PRIMARY KEY part)"
                            )));
                        }
                        ops.push((ci, UpOp::Delete));
                    }
                    Deletion::Element(c, k) => {
                        let ci = col(s, c)?;
                        let (kt, _) = match &s.columns[ci].typ {
                            ColumnType::Set(e, false) => ((**e).clone(), ColumnType::Boolean),
                            t => element_types(t).ok_or_else(|| {
                                SimError::Invalid(format!(
                                    "Invalid element deletion of non collection column {c}"
                                ))
                            })?,
                        };
                        ops.push((
                            ci,
                            UpOp::DeleteElem(compile_value(
                                k,
                                &kt,
                                &format!("key({c})"),
                                s,
                                binds,
                            )?),
                        ));
                    }
                }
            }
            let keys = where_::plan(s, &del.where_, binds)?;
            if keys.pk.is_none() {
                return Err(SimError::Invalid(missing_pk(s)));
            }
            if !ops.is_empty()
                && ops
                    .iter()
                    .any(|(c, _)| s.columns[*c].kind == ColumnKind::Regular)
            {
                check_full_key(s, &keys, true)?;
            }
            cond = plan_cond(s, &del.conditions, binds)?;
            (WriteKind::Delete, keys)
        }
        _ => {
            return Err(SimError::Invalid(
                "Only INSERT, UPDATE and DELETE statements are allowed in a batch".into(),
            ));
        }
    };
    if !keys.filters.is_empty()
        || !keys.in_filters.is_empty()
        || keys.token.0.is_some()
        || keys.token.1.is_some()
    {
        return Err(SimError::Invalid(
            "Non PRIMARY KEY columns found in where clause".into(),
        ));
    }
    let ttl = match &using.ttl {
        Some(t) => Some(compile_value(t, &ColumnType::Int, "[ttl]", s, binds)?),
        None => None,
    };
    let timestamp = match &using.timestamp {
        Some(t) => Some(compile_value(
            t,
            &ColumnType::BigInt,
            "[timestamp]",
            s,
            binds,
        )?),
        None => None,
    };
    if timestamp.is_some() && !matches!(cond, Cond::None) {
        return Err(SimError::Invalid(
            "Cannot provide custom timestamp for conditional updates".into(),
        ));
    }
    Ok(WritePlan {
        table: table.clone(),
        schema: ts_schema.clone(),
        keys,
        kind,
        ops,
        cond,
        ttl,
        timestamp,
    })
}

fn frozen(t: &ColumnType) -> bool {
    matches!(
        t,
        ColumnType::List(_, true) | ColumnType::Set(_, true) | ColumnType::Map(_, _, true)
    )
}

fn missing_pk(s: &TableSchema) -> String {
    let names: Vec<&str> = s.pk.iter().map(|i| s.columns[*i].name.as_str()).collect();
    format!("Some partition key parts are missing: {}", names.join(", "))
}

fn check_full_key(s: &TableSchema, keys: &KeyPlan, need_ck: bool) -> Result<(), SimError> {
    if keys.pk.is_none() {
        return Err(SimError::Invalid(missing_pk(s)));
    }
    let w = keys.prefix_width();
    if need_ck && (w < s.ck.len() || keys.slice.0.is_some() || keys.slice.1.is_some()) {
        let missing: Vec<&str> = s.ck[w.min(s.ck.len())..]
            .iter()
            .map(|i| s.columns[*i].name.as_str())
            .collect();
        return Err(SimError::Invalid(format!(
            "Some clustering keys are missing: {}",
            missing.join(", ")
        )));
    }
    Ok(())
}

fn plan_cond(s: &TableSchema, c: &Conditions, binds: &mut Binds) -> Result<Cond, SimError> {
    Ok(match c {
        Conditions::None => Cond::None,
        Conditions::Exists => Cond::Exists,
        Conditions::NotExists => Cond::NotExists,
        Conditions::Columns(list) => {
            let mut out = Vec::with_capacity(list.len());
            for (name, op, t) in list {
                let ci = col(s, name)?;
                if matches!(
                    s.columns[ci].kind,
                    ColumnKind::PartitionKey | ColumnKind::Clustering
                ) {
                    return Err(SimError::Invalid(format!(
                        "PRIMARY KEY column '{name}' cannot have IF conditions"
                    )));
                }
                out.push((
                    ci,
                    *op,
                    compile_value(t, &s.columns[ci].typ, name, s, binds)?,
                ));
            }
            Cond::Columns(out)
        }
    })
}

impl WritePlan {
    /// Marker indexes of the partition key columns when each is a plain `= ?`.
    pub fn pk_binds(&self) -> Option<Vec<u16>> {
        pk_binds(self.keys.pk.as_deref())
    }

    /// A conditional statement.
    pub fn is_conditional(&self) -> bool {
        !matches!(self.cond, Cond::None)
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

/// Marker indexes of `= ?` partition key restrictions, in key order.
pub fn pk_binds(pk: Option<&[Vals]>) -> Option<Vec<u16>> {
    pk?.iter()
        .map(|v| match v {
            Vals::Eq(Expr::Bind(i)) => u16::try_from(*i).ok(),
            _ => None,
        })
        .collect()
}

/// Where a write lands inside a partition.
enum RowTarget {
    /// Full clustering keys (encoded, values).
    Rows(Vec<(Vec<u8>, Vec<Bytes>)>),
    /// Static row only / whole partition (no clustering given).
    Partition,
    /// Clustering ranges (DELETE).
    Ranges(Vec<Range>),
}

fn row_target(p: &WritePlan, ev: &Eval<'_>) -> Result<RowTarget, SimError> {
    let s = &*p.schema;
    let w = p.keys.prefix_width();
    let sliced = p.keys.slice.0.is_some() || p.keys.slice.1.is_some();
    if s.ck.is_empty() || (w == s.ck.len() && !sliced) {
        return Ok(RowTarget::Rows(where_::resolve_prefixes(s, &p.keys, ev)?));
    }
    if w == 0 && !sliced {
        return Ok(RowTarget::Partition);
    }
    Ok(RowTarget::Ranges(where_::resolve_ranges(s, &p.keys, ev)?))
}

fn write_ctx(
    p: &WritePlan,
    ev: &Eval<'_>,
    ts: Option<i64>,
    now: &Now,
) -> Result<WriteCtx, SimError> {
    let ttl = ev.int(p.ttl.as_ref(), "[ttl]")?.unwrap_or(0);
    if ttl < 0 {
        return Err(SimError::Invalid(format!(
            "A TTL must be greater or equal to 0, but was {ttl}"
        )));
    }
    if ttl > 630_720_000 {
        return Err(SimError::Invalid(format!(
            "ttl is too large. requested ({ttl}) maximum (630720000)"
        )));
    }
    let ts = match ev.bigint(p.timestamp.as_ref(), "[timestamp]")? {
        Some(t) => t,
        None => ts.unwrap_or_else(now_micros),
    };
    Ok(WriteCtx {
        ts,
        ttl,
        now_s: now.secs,
    })
}

/// Executes one write.
pub fn execute(
    p: &WritePlan,
    ev: &Eval<'_>,
    client_ts: Option<i64>,
    now: &Now,
) -> Result<QueryResult, SimError> {
    execute_batch(&[(p, Eval { values: ev.values })], client_ts, now)
}

type Resolved<'p> = (&'p WritePlan, Vec<(i64, Bytes)>, RowTarget, WriteCtx);

/// Executes writes (one statement or a batch) with a shared default timestamp.
pub fn execute_batch(
    items: &[(&WritePlan, Eval<'_>)],
    client_ts: Option<i64>,
    now: &Now,
) -> Result<QueryResult, SimError> {
    let batch_ts = client_ts.unwrap_or_else(now_micros);
    let mut resolved: Vec<Resolved<'_>> = Vec::with_capacity(items.len());
    for (p, ev) in items {
        if p.is_dropped() {
            return Err(SimError::Invalid(format!(
                "unconfigured table {}",
                p.schema.name
            )));
        }
        let parts =
            where_::resolve_partitions(&p.schema, p.keys.pk.as_deref().unwrap_or_default(), ev)?;
        for (_, k) in &parts {
            if k.is_empty() {
                return Err(SimError::Invalid("Key may not be empty".into()));
            }
        }
        let target = row_target(p, ev)?;
        let ctx = write_ctx(p, ev, Some(batch_ts), now)?;
        resolved.push((p, parts, target, ctx));
    }
    if items.iter().any(|(p, _)| p.is_conditional()) {
        return execute_conditional(items, &resolved, now);
    }
    for ((p, ev), (_, parts, target, ctx)) in items.iter().zip(&resolved) {
        let mut data = p.table.data.write().unwrap_or_else(|e| e.into_inner());
        for (token, key) in parts {
            apply(p, ev, &mut data, *token, key, target, ctx)?;
        }
    }
    Ok(QueryResult::Void)
}

fn execute_conditional(
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
    let mut columns = vec![applied_spec];
    let mut row: Vec<Option<Bytes>> = vec![None];
    let mut applied = true;
    for ((p, ev), (_, _, target, _)) in items.iter().zip(resolved) {
        let (ok, cols, vals) = check(
            p,
            ev,
            data.partitions.get(&(token, key.clone())),
            &key,
            target,
            now,
        )?;
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
    Ok(QueryResult::Rows(Rows {
        columns,
        rows: vec![row],
        paging_state: None,
    }))
}

/// Evaluates a statement's condition: (applied, extra columns, their values).
fn check(
    p: &WritePlan,
    ev: &Eval<'_>,
    part: Option<&Partition>,
    key: &Bytes,
    target: &RowTarget,
    now: &Now,
) -> Result<(bool, Vec<ColumnSpec>, Vec<Option<Bytes>>), SimError> {
    let s = &*p.schema;
    let (ck_enc, ck_vals) = match target {
        RowTarget::Rows(rows) if rows.len() == 1 => (rows[0].0.clone(), rows[0].1.clone()),
        RowTarget::Partition => (Vec::new(), Vec::new()),
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
                            Some(&pt.statics)
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
            if ok {
                (true, Vec::new(), Vec::new())
            } else {
                (false, cols, vals)
            }
        }
    })
}

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
fn elements(
    typ: &ColumnType,
    v: &Bytes,
    prepend: bool,
) -> Result<Vec<(Vec<u8>, Bytes, Option<Bytes>)>, SimError> {
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

/// Applies one statement to one partition.
fn apply(
    p: &WritePlan,
    ev: &Eval<'_>,
    data: &mut TableData,
    token: i64,
    key: &Bytes,
    target: &RowTarget,
    ctx: &WriteCtx,
) -> Result<(), SimError> {
    let s = &*p.schema;
    // Evaluate values before touching storage so a bad value changes nothing.
    let mut values: Vec<(usize, &UpOp, Val, Option<Val>)> = Vec::with_capacity(p.ops.len());
    for (ci, op) in &p.ops {
        let (a, b) = match op {
            UpOp::Set(e)
            | UpOp::Add(e)
            | UpOp::Prepend(e)
            | UpOp::Remove(e)
            | UpOp::DeleteElem(e) => (ev.eval(e)?, None),
            UpOp::SetElem(k, v) => (ev.eval(k)?, Some(ev.eval(v)?)),
            UpOp::Delete => (Val::Null, None),
        };
        values.push((*ci, op, a, b));
    }
    let part = data.partitions.entry((token, key.clone())).or_default();
    if p.kind == WriteKind::Delete && p.ops.is_empty() {
        match target {
            RowTarget::Partition => part.delete(ctx.ts),
            RowTarget::Rows(rows) => {
                for (enc, ck) in rows {
                    part.row_mut(enc.clone(), ck).delete(ctx.ts);
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
    let rows: Vec<(Vec<u8>, Vec<Bytes>)> = match target {
        RowTarget::Rows(r) => r.clone(),
        RowTarget::Partition => Vec::new(),
        RowTarget::Ranges(_) => {
            return Err(SimError::Invalid(
                "Range deletions are not supported for specific columns".into(),
            ));
        }
    };
    // Static cells.
    for (ci, op, a, b) in &values {
        let column = &s.columns[*ci];
        if column.kind == ColumnKind::Static {
            let shadow = part.deleted_at;
            apply_op(
                &mut part.statics,
                column.slot,
                &column.typ,
                op,
                a,
                b.as_ref(),
                shadow,
                ctx,
            )?;
        }
    }
    for (enc, ck) in &rows {
        let shadow_base = part.deleted_at;
        let row = part.row_mut(enc.clone(), ck);
        let shadow = shadow_base.max(row.deleted_at.unwrap_or(i64::MIN));
        if p.kind == WriteKind::Insert {
            row.mark(ctx);
        }
        for (ci, op, a, b) in &values {
            let column = &s.columns[*ci];
            if column.kind == ColumnKind::Regular {
                apply_op(
                    row,
                    column.slot,
                    &column.typ,
                    op,
                    a,
                    b.as_ref(),
                    shadow,
                    ctx,
                )?;
            }
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
                row.write(slot, a.bytes().cloned(), ctx);
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
                    let dead: Vec<(Vec<u8>, Bytes, Option<Bytes>)> = row
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

/// Checks that counter statements only appear in COUNTER batches and vice versa.
pub fn check_batch_kind<'a>(
    kind: crate::engine::BatchKind,
    plans: impl Iterator<Item = &'a WritePlan>,
) -> Result<(), SimError> {
    for p in plans {
        let counter = p.schema.is_counter && p.kind != WriteKind::Delete;
        match kind {
            crate::engine::BatchKind::Counter if !counter => {
                return Err(SimError::Invalid(
                    "Cannot include non-counter statement in a counter batch".into(),
                ));
            }
            crate::engine::BatchKind::Logged | crate::engine::BatchKind::Unlogged if counter => {
                return Err(SimError::Invalid(
                    "Cannot include a counter statement in a logged batch".into(),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}
