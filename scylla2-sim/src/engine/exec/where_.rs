//! WHERE clauses: planning relations into partition key values, clustering prefixes and
//! slices, token ranges and filters; resolving them at execution into serialized partition
//! keys and encoded clustering ranges.

use std::ops::Bound;

use bytes::Bytes;

use super::{Binds, Eval, Expr, compile_value};
use crate::cql::ast::{InValues, Op, Relation, Term};
use crate::engine::murmur3::murmur3_token;
use crate::engine::schema::{ColumnKind, TableSchema};
use crate::engine::types::normalize::normalize;
use crate::engine::types::order::{encode_component, prefix_successor};
use crate::engine::types::{split_items, split_value};
use crate::model::{ColumnType, SimError};

/// Values of one key column (or a group of clustering columns for multi-column relations).
#[derive(Debug, Clone)]
pub enum Vals {
    /// `= x`.
    Eq(Expr),
    /// `IN (a, b)`.
    In(Vec<Expr>),
    /// `IN ?` (a serialized list).
    InBind(Expr),
}

/// One part of a clustering prefix.
#[derive(Debug, Clone)]
pub struct PrefixPart {
    /// Number of clustering columns covered (1, or more for multi-column relations).
    pub width: usize,
    /// Values (tuples when width > 1).
    pub vals: Vals,
}

/// One side of a clustering slice: values for consecutive columns, inclusive or not.
#[derive(Debug, Clone)]
pub struct SliceBound {
    /// Tuple or single value.
    pub value: Expr,
    /// Number of columns.
    pub width: usize,
    /// Inclusive.
    pub inclusive: bool,
}

/// One side of a token restriction: value and inclusiveness.
pub type TokenBound = Option<(Expr, bool)>;

/// A clustering prefix: encoded key bytes and the component values.
pub type Prefix = (Vec<u8>, Vec<Bytes>);

/// A planned WHERE clause.
#[derive(Debug, Clone, Default)]
pub struct KeyPlan {
    /// Partition key values per pk column, when every pk column has `=` or `IN`.
    pub pk: Option<Vec<Vals>>,
    /// Clustering prefix restrictions.
    pub prefix: Vec<PrefixPart>,
    /// Clustering slice after the prefix: (lower, upper).
    pub slice: (Option<SliceBound>, Option<SliceBound>),
    /// Token range: (lower, upper) with inclusiveness.
    pub token: (TokenBound, TokenBound),
    /// Restrictions evaluated per row: (column index, op, value).
    pub filters: Vec<(usize, Op, Expr)>,
    /// `IN` filters evaluated per row: (column index, values).
    pub in_filters: Vec<(usize, Vals)>,
}

impl KeyPlan {
    /// Number of clustering columns fixed by the prefix.
    pub fn prefix_width(&self) -> usize {
        self.prefix.iter().map(|p| p.width).sum()
    }

    /// Whether rows are restricted by clustering at all.
    pub fn has_clustering_restriction(&self) -> bool {
        !self.prefix.is_empty() || self.slice.0.is_some() || self.slice.1.is_some()
    }
}

fn col_idx(schema: &TableSchema, name: &str) -> Result<usize, SimError> {
    schema
        .by_name
        .get(name)
        .copied()
        .ok_or_else(|| schema.unknown_column(name, false))
}

fn in_vals(
    v: &InValues,
    typ: &ColumnType,
    name: &str,
    schema: &TableSchema,
    binds: &mut Binds,
) -> Result<Vals, SimError> {
    Ok(match v {
        InValues::List(items) => Vals::In(
            items
                .iter()
                .map(|t| compile_value(t, typ, name, schema, binds))
                .collect::<Result<_, _>>()?,
        ),
        InValues::Bind(m) => {
            let lt = ColumnType::List(Box::new(typ.clone()), false);
            let spec_name = format!("in({name})");
            compile_value(&Term::Bind(m.clone()), &lt, &spec_name, schema, binds)
                .map(Vals::InBind)?
        }
    })
}

fn tuple_type(schema: &TableSchema, cols: &[usize]) -> ColumnType {
    ColumnType::Tuple(
        cols.iter()
            .map(|c| schema.columns[*c].typ.clone())
            .collect(),
    )
}

/// Plans WHERE relations of a table.
pub fn plan(
    schema: &TableSchema,
    rels: &[Relation],
    binds: &mut Binds,
) -> Result<KeyPlan, SimError> {
    let mut plan = KeyPlan::default();
    let mut pk: Vec<Option<Vals>> = vec![None; schema.pk.len()];
    // Clustering restrictions by position: Eq/In parts, and slices.
    let mut ck_eq: Vec<Option<PrefixPart>> = vec![None; schema.ck.len()];
    let mut ck_slice: Vec<(Option<SliceBound>, Option<SliceBound>)> =
        vec![(None, None); schema.ck.len()];
    for rel in rels {
        match rel {
            Relation::Compare(name, op, term) => {
                let ci = col_idx(schema, name)?;
                let col = &schema.columns[ci];
                let e = compile_value(term, &col.typ, name, schema, binds)?;
                match (col.kind, op) {
                    (ColumnKind::PartitionKey, Op::Eq) => pk[col.position] = Some(Vals::Eq(e)),
                    (ColumnKind::Clustering, Op::Eq) => {
                        ck_eq[col.position] = Some(PrefixPart {
                            width: 1,
                            vals: Vals::Eq(e),
                        })
                    }
                    (ColumnKind::Clustering, Op::Lt | Op::Le | Op::Gt | Op::Ge) => {
                        let b = SliceBound {
                            value: e,
                            width: 1,
                            inclusive: matches!(op, Op::Le | Op::Ge),
                        };
                        // Logical sides (CQL order); DESC is handled when resolving ranges.
                        let s = &mut ck_slice[col.position];
                        if matches!(op, Op::Gt | Op::Ge) {
                            s.0 = Some(b)
                        } else {
                            s.1 = Some(b)
                        }
                    }
                    _ => plan.filters.push((ci, *op, e)),
                }
            }
            Relation::In(name, values) => {
                let ci = col_idx(schema, name)?;
                let col = &schema.columns[ci];
                let v = in_vals(values, &col.typ, name, schema, binds)?;
                match col.kind {
                    ColumnKind::PartitionKey => pk[col.position] = Some(v),
                    ColumnKind::Clustering => {
                        ck_eq[col.position] = Some(PrefixPart { width: 1, vals: v })
                    }
                    _ => plan.in_filters.push((ci, v)),
                }
            }
            Relation::MultiCompare(names, op, term) => {
                let (cols, first, tt) = multi_columns(schema, names)?;
                let e = compile_value(term, &tt, &format!("({})", names.join(",")), schema, binds)?;
                match op {
                    Op::Eq => {
                        ck_eq[first] = Some(PrefixPart {
                            width: cols.len(),
                            vals: Vals::Eq(e),
                        })
                    }
                    Op::Ne => return Err(SimError::Invalid("Unsupported \"!=\" relation".into())),
                    _ => {
                        let desc = schema.columns[cols[0]].desc;
                        if cols.iter().any(|c| schema.columns[*c].desc != desc) {
                            return Err(SimError::Invalid(
                                "Multi-column slices over clustering columns of mixed order are not supported by the simulator".into(),
                            ));
                        }
                        let b = SliceBound {
                            value: e,
                            width: cols.len(),
                            inclusive: matches!(op, Op::Le | Op::Ge),
                        };
                        let s = &mut ck_slice[first];
                        if matches!(op, Op::Gt | Op::Ge) {
                            s.0 = Some(b)
                        } else {
                            s.1 = Some(b)
                        }
                    }
                }
            }
            Relation::MultiIn(names, values) => {
                let (cols, first, tt) = multi_columns(schema, names)?;
                let v = in_vals(
                    values,
                    &tt,
                    &format!("({})", names.join(",")),
                    schema,
                    binds,
                )?;
                ck_eq[first] = Some(PrefixPart {
                    width: cols.len(),
                    vals: v,
                });
            }
            Relation::Token(names, op, term) => {
                let e = compile_value(
                    term,
                    &ColumnType::BigInt,
                    "partition key token",
                    schema,
                    binds,
                )?;
                let _ = names;
                match op {
                    Op::Gt | Op::Ge => plan.token.0 = Some((e, *op == Op::Ge)),
                    Op::Lt | Op::Le => plan.token.1 = Some((e, *op == Op::Le)),
                    Op::Eq => {
                        plan.token.0 = Some((e.clone(), true));
                        plan.token.1 = Some((e, true));
                    }
                    Op::Ne => {
                        return Err(SimError::Invalid(
                            "Unsupported \"!=\" relation on token".into(),
                        ));
                    }
                }
            }
            Relation::Contains(name, _) => {
                return Err(SimError::Invalid(format!(
                    "CONTAINS on {name} is not supported by the simulator"
                )));
            }
        }
    }
    if pk.iter().all(Option::is_some) {
        plan.pk = Some(pk.into_iter().flatten().collect());
    } else {
        for (pos, v) in pk.into_iter().enumerate() {
            match v {
                Some(Vals::Eq(e)) => plan.filters.push((schema.pk[pos], Op::Eq, e)),
                Some(v) => plan.in_filters.push((schema.pk[pos], v)),
                None => {}
            }
        }
    }
    // Clustering: a prefix of Eq/In parts, then at most one slice.
    let mut pos = 0;
    while pos < ck_eq.len() {
        match ck_eq[pos].take() {
            Some(part) => {
                pos += part.width;
                plan.prefix.push(part);
            }
            None => break,
        }
    }
    if pos < ck_slice.len() {
        plan.slice = std::mem::take(&mut ck_slice[pos]);
    }
    // Anything else on clustering columns becomes a filter.
    for (p, part) in ck_eq.into_iter().enumerate() {
        if let Some(part) = part {
            if part.width != 1 {
                return Err(SimError::Invalid(
                    "Clustering column relations must form a prefix of the clustering key".into(),
                ));
            }
            match part.vals {
                Vals::Eq(e) => plan.filters.push((schema.ck[p], Op::Eq, e)),
                v => plan.in_filters.push((schema.ck[p], v)),
            }
        }
    }
    for (p, (lo, hi)) in ck_slice.into_iter().enumerate() {
        for (b, op) in [(lo, true), (hi, false)] {
            if let Some(b) = b {
                if b.width != 1 {
                    return Err(SimError::Invalid(
                        "Multi-column slice must follow the clustering prefix".into(),
                    ));
                }
                let op = match (op, b.inclusive) {
                    (true, true) => Op::Ge,
                    (true, false) => Op::Gt,
                    (false, true) => Op::Le,
                    (false, false) => Op::Lt,
                };
                plan.filters.push((schema.ck[p], op, b.value));
            }
        }
    }
    Ok(plan)
}

/// The columns of a multi-column relation: their indexes, the position of the first one and
/// their tuple type.
fn multi_columns(
    schema: &TableSchema,
    names: &[String],
) -> Result<(Vec<usize>, usize, ColumnType), SimError> {
    let cols: Vec<usize> = names
        .iter()
        .map(|n| col_idx(schema, n))
        .collect::<Result<_, _>>()?;
    let first = multi_first(schema, &cols)?;
    let tt = tuple_type(schema, &cols);
    Ok((cols, first, tt))
}

fn multi_first(schema: &TableSchema, cols: &[usize]) -> Result<usize, SimError> {
    let first = schema.columns[cols[0]].position;
    for (i, c) in cols.iter().enumerate() {
        let col = &schema.columns[*c];
        if col.kind != ColumnKind::Clustering || col.position != first + i {
            return Err(SimError::Invalid(format!(
                "Multi-column relations can only be applied to clustering columns in order, got {}",
                col.name
            )));
        }
    }
    Ok(first)
}

/// Values of one `Vals` (each a full value; tuples stay serialized).
pub fn eval_vals(ev: &Eval<'_>, v: &Vals, what: &str) -> Result<Vec<Bytes>, SimError> {
    match v {
        Vals::Eq(e) => Ok(vec![ev.required(e, what)?]),
        Vals::In(es) => es.iter().map(|e| ev.required(e, what)).collect(),
        Vals::InBind(e) => {
            let list = ev.required(e, what)?;
            let items = split_items(&list, 1)
                .ok_or_else(|| SimError::Invalid(format!("Invalid IN list for {what}")))?;
            items
                .into_iter()
                .map(|i| {
                    i.map(|b| list.slice_ref(b)).ok_or_else(|| {
                        SimError::Invalid(format!("Invalid null value in IN for {what}"))
                    })
                })
                .collect()
        }
    }
}

/// Splits a serialized tuple into `n` component values.
pub fn tuple_parts(t: &Bytes, n: usize) -> Result<Vec<Bytes>, SimError> {
    let mut rest = &t[..];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (v, r) =
            split_value(rest).ok_or_else(|| SimError::Invalid("Invalid tuple value".into()))?;
        out.push(
            t.slice_ref(v.ok_or_else(|| SimError::Invalid("Invalid null value in tuple".into()))?),
        );
        rest = r;
    }
    Ok(out)
}

/// Serializes partition key components (single: as is; composite: `[short len][bytes][0]`).
pub fn partition_key(parts: &[Bytes]) -> Bytes {
    if parts.len() == 1 {
        return parts[0].clone();
    }
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 3).sum());
    for p in parts {
        out.extend_from_slice(&(p.len() as u16).to_be_bytes());
        out.extend_from_slice(p);
        out.push(0);
    }
    Bytes::from(out)
}

/// Splits a serialized partition key into its components.
pub fn split_partition_key(key: &Bytes, n: usize) -> Vec<Bytes> {
    if n == 1 {
        return vec![key.clone()];
    }
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n && i + 2 <= key.len() {
        let len = usize::from(u16::from_be_bytes([key[i], key[i + 1]]));
        let end = (i + 2 + len).min(key.len());
        out.push(key.slice(i + 2..end));
        i = end + 1;
    }
    out
}

fn check_key_len(len: usize) -> Result<(), SimError> {
    if len > usize::from(u16::MAX) {
        return Err(SimError::Invalid(format!(
            "Key length of {len} is longer than maximum of 65535"
        )));
    }
    Ok(())
}

/// (token, key) of a single-column partition key restricted by `=`.
pub fn single_partition(
    schema: &TableSchema,
    e: &Expr,
    ev: &Eval<'_>,
) -> Result<(i64, Bytes), SimError> {
    let col = &schema.columns[schema.pk[0]];
    let k = normalize(&col.typ, &ev.required(e, &col.name)?);
    check_key_len(k.len())?;
    Ok((murmur3_token(&k), k))
}

/// The tokens of the partitions a request names: one for a key restricted by `=` (no
/// allocation: every single-partition request's consistency check asks for it), else a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionTokens {
    /// One partition.
    One(i64),
    /// Any number, sorted.
    Many(Vec<i64>),
}

impl PartitionTokens {
    /// The tokens.
    pub fn as_slice(&self) -> &[i64] {
        match self {
            PartitionTokens::One(t) => std::slice::from_ref(t),
            PartitionTokens::Many(ts) => ts,
        }
    }
}

/// The tokens of [`resolve_partitions`]' partitions (the same errors), without building
/// the keys' list for a one-column key restricted by `=`.
pub fn partition_tokens(
    schema: &TableSchema,
    pk: &[Vals],
    ev: &Eval<'_>,
) -> Result<PartitionTokens, SimError> {
    if let [Vals::Eq(e)] = pk {
        return Ok(PartitionTokens::One(single_partition(schema, e, ev)?.0));
    }
    let parts = resolve_partitions(schema, pk, ev)?;
    Ok(PartitionTokens::Many(
        parts.into_iter().map(|(t, _)| t).collect(),
    ))
}

/// Resolves the partition keys: (token, serialized key), sorted by token then key.
pub fn resolve_partitions(
    schema: &TableSchema,
    pk: &[Vals],
    ev: &Eval<'_>,
) -> Result<Vec<(i64, Bytes)>, SimError> {
    if pk.len() == 1
        && let Vals::Eq(e) = &pk[0]
    {
        return Ok(vec![single_partition(schema, e, ev)?]);
    }
    let mut combos: Vec<Vec<Bytes>> = vec![Vec::new()];
    for (pos, v) in pk.iter().enumerate() {
        let col = &schema.columns[schema.pk[pos]];
        let vals: Vec<Bytes> = eval_vals(ev, v, &col.name)?
            .iter()
            .map(|v| normalize(&col.typ, v))
            .collect();
        for v in &vals {
            check_key_len(v.len())?;
        }
        combos = combos
            .into_iter()
            .flat_map(|c| {
                vals.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    let mut out: Vec<(i64, Bytes)> = combos
        .iter()
        .map(|c| {
            let k = partition_key(c);
            (murmur3_token(&k), k)
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Clustering prefixes: (encoded key prefix, values) for every combination of the prefix.
pub fn resolve_prefixes(
    schema: &TableSchema,
    plan: &KeyPlan,
    ev: &Eval<'_>,
) -> Result<Vec<Prefix>, SimError> {
    let mut combos: Vec<(Vec<u8>, Vec<Bytes>)> = vec![(Vec::new(), Vec::new())];
    let mut pos = 0;
    for part in &plan.prefix {
        let name = &schema.columns[schema.ck[pos]].name;
        let vals = eval_vals(ev, &part.vals, name)?;
        let mut next = Vec::with_capacity(combos.len() * vals.len());
        for (enc, vs) in &combos {
            for v in &vals {
                let comps = if part.width == 1 {
                    vec![v.clone()]
                } else {
                    tuple_parts(v, part.width)?
                };
                let mut enc = enc.clone();
                let mut vs = vs.clone();
                for (i, c) in comps.into_iter().enumerate() {
                    let col = &schema.columns[schema.ck[pos + i]];
                    crate::engine::types::validate::validate(&col.typ, &c)
                        .map_err(SimError::Invalid)?;
                    let c = normalize(&col.typ, &c);
                    encode_component(&col.typ, col.desc, &c, &mut enc);
                    vs.push(c);
                }
                next.push((enc, vs));
            }
        }
        combos = next;
        pos += part.width;
    }
    combos.sort_by(|a, b| a.0.cmp(&b.0));
    combos.dedup_by(|a, b| a.0 == b.0);
    Ok(combos)
}

/// An encoded clustering range.
pub type Range = (Bound<Vec<u8>>, Bound<Vec<u8>>);

fn after(key: &[u8]) -> Bound<Vec<u8>> {
    prefix_successor(key).map_or(Bound::Unbounded, Bound::Included)
}

/// Encoded clustering ranges, ascending in storage order.
pub fn resolve_ranges(
    schema: &TableSchema,
    plan: &KeyPlan,
    ev: &Eval<'_>,
) -> Result<Vec<Range>, SimError> {
    let prefixes = resolve_prefixes(schema, plan, ev)?;
    let width = plan.prefix_width();
    let mut out = Vec::with_capacity(prefixes.len());
    for (p, _) in prefixes {
        let mut start = if p.is_empty() {
            Bound::Unbounded
        } else {
            Bound::Included(p.clone())
        };
        let mut end = if p.is_empty() {
            Bound::Unbounded
        } else {
            prefix_successor(&p).map_or(Bound::Unbounded, Bound::Excluded)
        };
        for (bound, is_lower) in [(&plan.slice.0, true), (&plan.slice.1, false)] {
            let Some(b) = bound else { continue };
            let v = ev.required(&b.value, "clustering bound")?;
            let comps = if b.width == 1 {
                vec![v]
            } else {
                tuple_parts(&v, b.width)?
            };
            let mut key = p.clone();
            for (i, c) in comps.iter().enumerate() {
                let col = schema
                    .ck
                    .get(width + i)
                    .map(|ci| &schema.columns[*ci])
                    .ok_or_else(|| SimError::Invalid("Too many clustering values".into()))?;
                encode_component(&col.typ, col.desc, c, &mut key);
            }
            let desc = schema.columns[schema.ck[width]].desc;
            // In storage order a DESC column flips which side the bound limits.
            let storage_lower = is_lower != desc;
            if storage_lower {
                start = if b.inclusive {
                    Bound::Included(key)
                } else {
                    after(&key)
                };
            } else {
                end = if b.inclusive {
                    prefix_successor(&key).map_or(Bound::Unbounded, Bound::Excluded)
                } else {
                    Bound::Excluded(key)
                };
            }
        }
        out.push((start, end));
    }
    Ok(out)
}
