//! Aggregation of SELECT as Cassandra 4.0 does it (`AggregationSpecification`, `GroupMaker`,
//! `ResultSetBuilder`): without GROUP BY, one row over everything read (even when nothing
//! was); with `GROUP BY` a primary key prefix, one row per group, in read order. Selectors
//! that do not aggregate show the group's first row. LIMIT counts groups (across pages);
//! PER PARTITION LIMIT counts groups per partition; GROUP BY pages by groups, a page ending
//! where the next group starts. Also the post-query ordering of IN with ORDER BY.

use bytes::Bytes;

use super::aggregate::{Acc, Agg};
use super::select::SelItem;
use super::where_::{KeyPlan, Vals};
use crate::engine::schema::{ColumnKind, TableSchema};
use crate::model::{ColumnSpec, ColumnType, SimError};

/// One output column of an aggregating SELECT.
#[derive(Debug, Clone)]
pub enum Out {
    /// A row value: the group's first.
    Item(SelItem),
    /// An aggregate over its argument (None for `count(*)`).
    Agg(Agg, Option<SelItem>),
}

/// How an aggregating SELECT groups rows.
#[derive(Debug, Clone)]
pub struct Aggregation {
    /// Output columns.
    pub cols: Vec<(Out, ColumnSpec)>,
    /// None: one group of everything; Some(n): a group per partition and first `n`
    /// clustering values.
    pub group_ck: Option<usize>,
}

/// Checks `GROUP BY` columns against the primary key (Cassandra
/// `SelectStatement.getAggregationSpecification`); returns the clustering prefix length.
pub fn plan_group_by(
    s: &TableSchema,
    keys: &KeyPlan,
    group_by: &[String],
    distinct: bool,
) -> Result<usize, SimError> {
    let invalid = |m: &str| SimError::Invalid(m.to_string());
    let order = "Group by currently only support groups of columns following their declared order in the PRIMARY KEY";
    let pk: Vec<usize> = s.pk.iter().chain(s.ck.iter()).copied().collect();
    let mut next = 0;
    let mut ck_prefix = 0;
    for name in group_by {
        let ci = s
            .by_name
            .get(name)
            .copied()
            .ok_or_else(|| s.unknown_column(name, false))?;
        let c = &s.columns[ci];
        if !matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
            return Err(SimError::Invalid(format!(
                "Group by is currently only supported on the columns of the PRIMARY KEY, got {name}"
            )));
        }
        loop {
            let Some(&k) = pk.get(next) else {
                return Err(invalid(order));
            };
            next += 1;
            let kc = &s.columns[k];
            if kc.kind == ColumnKind::Clustering {
                ck_prefix += 1;
            }
            if k == ci {
                break;
            }
            // A skipped key column must be restricted by `=`.
            let eq = match kc.kind {
                ColumnKind::PartitionKey => keys
                    .pk
                    .as_ref()
                    .and_then(|v| v.get(kc.position))
                    .is_some_and(|v| matches!(v, Vals::Eq(_))),
                _ => kc.position < keys.prefix_width(),
            };
            if !eq {
                return Err(invalid(order));
            }
        }
    }
    if pk
        .get(next)
        .is_some_and(|k| s.columns[*k].kind == ColumnKind::PartitionKey)
    {
        return Err(invalid(
            "Group by is not supported on only a part of the partition key",
        ));
    }
    if ck_prefix > 0 && distinct {
        return Err(invalid(
            "Grouping on clustering columns is not allowed for SELECT DISTINCT queries",
        ));
    }
    Ok(ck_prefix)
}

/// Builds the groups of one execution from the rows read, in order.
pub struct Grouper<'a> {
    a: &'a Aggregation,
    key: Option<(Bytes, Vec<Bytes>)>,
    accs: Vec<Acc>,
    firsts: Vec<Option<Bytes>>,
    has_row: bool,
    in_partition: u32,
    per_partition_limit: u32,
    skipping: bool,
    page: usize,
    limit: u32,
    rows: Vec<Vec<Option<Bytes>>>,
}

impl<'a> Grouper<'a> {
    /// A grouper keeping at most `per_partition_limit` groups per partition, `limit` groups
    /// in all, and `page` groups in this page.
    pub fn new(a: &'a Aggregation, per_partition_limit: u32, page: usize, limit: u32) -> Self {
        Grouper {
            a,
            key: None,
            accs: vec![Acc::default(); a.cols.len()],
            firsts: vec![None; a.cols.len()],
            has_row: false,
            in_partition: 0,
            per_partition_limit,
            skipping: false,
            page,
            limit,
            rows: Vec::new(),
        }
    }

    /// Adds one row of partition `pk` with clustering values `ck`; `value` reads a selected
    /// item of that row. False (row not taken) when the row starts a group past the page;
    /// rows past LIMIT are dropped.
    pub fn feed(
        &mut self,
        pk: &Bytes,
        ck: &[Bytes],
        value: &dyn Fn(&SelItem) -> Result<Option<Bytes>, SimError>,
    ) -> Result<bool, SimError> {
        if let Some(n) = self.a.group_ck {
            let prefix = &ck[..n.min(ck.len())];
            let same = self
                .key
                .as_ref()
                .is_some_and(|(k, c)| k == pk && c.as_slice() == prefix);
            if !same {
                let same_partition = self.key.as_ref().is_some_and(|(k, _)| k == pk);
                if self.has_row {
                    self.flush();
                }
                if self.rows.len() >= self.page && (self.rows.len() as u32) < self.limit {
                    return Ok(false);
                }
                self.in_partition = if same_partition {
                    self.in_partition + 1
                } else {
                    1
                };
                self.skipping = self.in_partition > self.per_partition_limit;
                self.key = Some((pk.clone(), prefix.to_vec()));
            }
            if self.skipping || self.rows.len() as u32 >= self.limit {
                return Ok(true);
            }
        }
        for (i, (out, _)) in self.a.cols.iter().enumerate() {
            match out {
                Out::Item(item) => {
                    if !self.has_row {
                        self.firsts[i] = value(item)?;
                    }
                }
                Out::Agg(agg, arg) => {
                    let v = match arg {
                        Some(item) => value(item)?,
                        None => None,
                    };
                    self.accs[i].feed(agg, v.as_ref());
                }
            }
        }
        self.has_row = true;
        Ok(true)
    }

    fn flush(&mut self) {
        let row = self
            .a
            .cols
            .iter()
            .enumerate()
            .map(|(i, (out, _))| match out {
                Out::Item(_) => self.firsts[i].take(),
                Out::Agg(agg, _) => self.accs[i].finish(agg),
            })
            .collect();
        self.rows.push(row);
        self.accs = vec![Acc::default(); self.a.cols.len()];
        self.has_row = false;
    }

    /// The groups' rows, at most `limit`. Without GROUP BY there is always one row.
    pub fn finish(mut self) -> Vec<Vec<Option<Bytes>>> {
        if self.has_row || (self.a.group_ck.is_none() && self.rows.is_empty()) {
            self.flush();
        }
        self.rows.truncate(self.limit as usize);
        self.rows
    }
}

/// Sorts rows of several partitions by their trailing ordering keys (stable, as Cassandra's
/// `Collections.sort`), then drops those keys.
pub fn sort_rows(
    rows: &mut [Vec<Option<Bytes>>],
    order: &[(usize, ColumnType, bool)],
    width: usize,
) {
    rows.sort_by(|a, b| {
        for (i, (_, typ, desc)) in order.iter().enumerate() {
            let (x, y) = (a.get(width + i), b.get(width + i));
            let ord = match (x, y) {
                (Some(Some(x)), Some(Some(y))) => crate::engine::types::order::compare(typ, x, y),
                (Some(None), Some(Some(_))) => std::cmp::Ordering::Less,
                (Some(Some(_)), Some(None)) => std::cmp::Ordering::Greater,
                _ => std::cmp::Ordering::Equal,
            };
            let ord = if *desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
    for r in rows {
        r.truncate(width);
    }
}
