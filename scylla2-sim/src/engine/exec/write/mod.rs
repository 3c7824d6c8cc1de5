//! INSERT, UPDATE, DELETE and BATCH: planning and execution. Applying mutations to storage
//! lives in `apply`, conditions (lightweight transactions) in `lwt`.

mod apply;
mod lwt;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::where_::{self, KeyPlan, Range, Vals};
use super::{Binds, Eval, Expr, compile_opt, compile_value};
use crate::cql::ast::{Assignment, Conditions, Deletion, Op, QualifiedName, Statement, Term};
use crate::engine::Now;
use crate::engine::schema::{ColumnKind, Schema, Table, TableSchema, unknown_table};
use crate::engine::storage::{WriteCtx, now_micros};
use crate::model::{ColumnSpec, ColumnType, Flavor, QueryResult, SimError};

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
    /// `DELETE c`.
    Delete,
    /// `DELETE c[k]`.
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
        .ok_or_else(|| schema.unknown_column(name, true))
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
    if let Statement::Insert(ins) = st
        && let Some((json, default_unset)) = &ins.json
    {
        // INSERT JSON: every column of the table takes its value from the JSON map
        // (Cassandra `UpdateStatement.ParsedInsertJson`); absent keys are null, or unset with
        // DEFAULT UNSET.
        let table = resolve_table(schema, &ins.table, keyspace)?;
        let mut expanded = ins.clone();
        expanded.json = None;
        for c in &table.schema().columns {
            expanded.columns.push(c.name.clone());
            expanded.values.push(Term::JsonField {
                json: Box::new(json.clone()),
                column: c.name.clone(),
                default_unset: *default_unset,
            });
        }
        return plan(schema, &Statement::Insert(expanded), keyspace, binds);
    }
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
            // Only static columns and no clustering value: a static-only insert.
            let static_only = !ops.is_empty()
                && ops
                    .iter()
                    .all(|(c, _)| s.columns[*c].kind == ColumnKind::Static)
                && !keys.has_clustering_restriction();
            check_full_key(s, &keys, !static_only)?;
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
    let ttl = compile_opt(using.ttl.as_ref(), &ColumnType::Int, "[ttl]", s, binds)?;
    let timestamp = compile_opt(
        using.timestamp.as_ref(),
        &ColumnType::BigInt,
        "[timestamp]",
        s,
        binds,
    )?;
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

/// Cassandra's `StatementRestrictions` wording, or ScyllaDB's (`modification_statement.cc`,
/// which names one missing column).
fn missing_pk(s: &TableSchema) -> String {
    let names: Vec<&str> = s.pk.iter().map(|i| s.columns[*i].name.as_str()).collect();
    match s.flavor {
        Flavor::Cassandra => format!("Some partition key parts are missing: {}", names.join(", ")),
        Flavor::Scylla => format!(
            "Missing mandatory PRIMARY KEY part {}",
            names.first().copied().unwrap_or_default()
        ),
    }
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
    pub fn keyspace(&self) -> &str {
        &self.schema.keyspace
    }

    /// The table's name.
    pub fn table_name(&self) -> &str {
        &self.schema.name
    }

    /// The tokens of the partitions this write touches with these values (None when they
    /// cannot be evaluated: executing reports why).
    pub fn tokens(&self, ev: &Eval<'_>) -> Option<where_::PartitionTokens> {
        let pk = self.keys.pk.as_deref()?;
        where_::partition_tokens(&self.schema, pk, ev).ok()
    }

    /// The table's name when it is a counter table.
    pub fn counter_table(&self) -> Option<&str> {
        self.schema.is_counter.then_some(self.schema.name.as_str())
    }

    /// The partitions and table this write adds to a batch's footprint with these values
    /// (no partitions when they cannot be evaluated: executing reports why).
    pub fn add_footprint(&self, ev: &Eval<'_>, f: &mut crate::engine::warnings::BatchFootprint) {
        if let Some(pk) = self.keys.pk.as_deref()
            && let Ok(parts) = where_::resolve_partitions(&self.schema, pk, ev)
        {
            for p in parts {
                if !f.partitions.contains(&p) {
                    f.partitions.push(p);
                }
            }
        }
        let table = format!("{}.{}", self.schema.keyspace, self.schema.name);
        if !f.tables.contains(&table) {
            f.tables.push(table);
        }
    }

    /// ScyllaDB's columns of this conditional update's result besides `[applied]`
    /// (`modification_statement::build_cas_result_set_metadata`): every column for
    /// IF \[NOT\] EXISTS, else the condition's columns, in the table's order.
    pub fn cas_columns(&self) -> Vec<usize> {
        let s = &self.schema;
        match &self.cond {
            Cond::None => Vec::new(),
            Cond::Exists | Cond::NotExists => s.star.clone(),
            Cond::Columns(c) => s
                .star
                .iter()
                .copied()
                .filter(|i| c.iter().any(|(ci, _, _)| ci == i))
                .collect(),
        }
    }

    /// ScyllaDB's fixed result columns of conditional updates on one table, `[applied]`
    /// first: the same whether the update applied or not, so they are in the PREPARED
    /// answer and SKIP_METADATA holds for them.
    pub fn cas_result_columns<'a>(plans: impl Iterator<Item = &'a WritePlan>) -> Vec<ColumnSpec> {
        let mut idxs: Vec<usize> = Vec::new();
        let mut first: Option<&WritePlan> = None;
        for p in plans.filter(|p| p.is_conditional()) {
            first.get_or_insert(p);
            idxs.extend(p.cas_columns());
        }
        let Some(first) = first else {
            return Vec::new();
        };
        let s = &first.schema;
        let mut out = vec![s.spec("[applied]", ColumnType::Boolean)];
        out.extend(
            s.star
                .iter()
                .filter(|i| idxs.contains(i))
                .map(|i| s.spec(&s.columns[*i].name, s.columns[*i].typ.clone())),
        );
        out
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
    /// The single row of a table without clustering columns.
    NoClustering,
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
    if s.ck.is_empty() {
        return Ok(RowTarget::NoClustering);
    }
    if w == s.ck.len() && !sliced {
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
    let ttl = match ev.int(p.ttl.as_ref(), "[ttl]")? {
        Some(t) => t,
        None => p.table.default_ttl.load(Ordering::Relaxed),
    };
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
    let pk = p.keys.pk.as_deref().unwrap_or_default();
    let single = match pk {
        [Vals::Eq(e)] if !p.is_conditional() => Some(e),
        _ => None,
    };
    let Some(e) = single else {
        return execute_batch(&[(p, Eval { values: ev.values })], client_ts, now);
    };
    // The common case, one partition by a single-column key: no intermediate collections.
    if p.is_dropped() {
        return Err(unknown_table(p.schema.flavor, &p.schema.name));
    }
    let (token, key) = where_::single_partition(&p.schema, e, ev)?;
    if key.is_empty() {
        return Err(SimError::Invalid("Key may not be empty".into()));
    }
    let target = row_target(p, ev)?;
    let ctx = write_ctx(p, ev, client_ts, now)?;
    let mut data = p.table.data.write().unwrap_or_else(|e| e.into_inner());
    apply::apply(p, ev, &mut data, token, &key, &target, &ctx)?;
    Ok(QueryResult::Void)
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
            return Err(unknown_table(p.schema.flavor, &p.schema.name));
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
        return lwt::execute_conditional(items, &resolved, now);
    }
    for ((p, ev), (_, parts, target, ctx)) in items.iter().zip(&resolved) {
        let mut data = p.table.data.write().unwrap_or_else(|e| e.into_inner());
        for (token, key) in parts {
            apply::apply(p, ev, &mut data, *token, key, target, ctx)?;
        }
    }
    Ok(QueryResult::Void)
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
