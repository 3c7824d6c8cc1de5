//! The checks a statement passes before it runs: its consistency level against the live
//! replicas of the partitions it reads or writes ([`super::consistency`], with the node list
//! snapshot's ring), a conditional update's commit, and a batch's size limits and warnings.

use super::consistency::{self, Access, Placement, Tokens};
use super::exec::select::SelectPlan;
use super::exec::write::WritePlan;
use super::{Engine, exec, ring, warnings};
use crate::model::{BoundValue, ClusterView, Flavor, QueryParams, QueryResult, SimError};

impl Engine {
    /// A batch's size failure and warnings ([`warnings::check_batch`]).
    pub(super) fn check_batch(
        &self,
        logged: bool,
        writes: &[(&WritePlan, &[BoundValue])],
    ) -> Result<(), SimError> {
        let mut f = warnings::BatchFootprint::default();
        let mut counted: Vec<*const BoundValue> = Vec::new();
        for (w, values) in writes {
            w.add_footprint(&exec::Eval { values }, &mut f);
            // A BATCH string's statements share one list of values: count it once.
            if !counted.contains(&values.as_ptr()) {
                counted.push(values.as_ptr());
                f.size += values
                    .iter()
                    .map(|v| match v {
                        BoundValue::Set(b) => b.len() + 16,
                        _ => 16,
                    })
                    .sum::<usize>();
            }
        }
        warnings::check_batch(self.schema_read().flavor, logged, &f)
    }

    /// Calls `f` with the cluster as the consistency checks see it.
    fn with_placement<T>(
        &self,
        cluster: &dyn ClusterView,
        flavor: Flavor,
        f: impl FnOnce(&Placement<'_>) -> T,
    ) -> T {
        let (nodes, local) = cluster.placement();
        ring::Ring::with(&nodes, |ring| {
            f(&Placement {
                nodes: &nodes,
                ring: Some(ring),
                local,
                flavor,
            })
        })
    }

    /// A SELECT's consistency level against the live replicas of what it reads.
    pub(super) fn check_read(
        &self,
        s: &SelectPlan,
        ev: &exec::Eval<'_>,
        params: &QueryParams,
        cluster: &dyn ClusterView,
    ) -> Result<(), SimError> {
        if s.is_system() {
            return Ok(());
        }
        let Some((repl, flavor)) = self.replication_and_flavor(s.keyspace()) else {
            return Ok(());
        };
        let owned;
        let tokens = match s.tokens(ev) {
            None => Tokens::All,
            Some(Some(ts)) => {
                owned = ts;
                Tokens::Some(owned.as_slice())
            }
            Some(None) => return Ok(()),
        };
        self.with_placement(cluster, flavor, |p| {
            consistency::check(Access::Read, params.consistency, &repl, tokens, p)
        })
    }

    /// Writes' (or a conditional update's) consistency levels against the live replicas of
    /// the partitions they touch.
    pub(super) fn check_writes(
        &self,
        writes: &[(&WritePlan, &[BoundValue])],
        params: &QueryParams,
        cluster: &dyn ClusterView,
    ) -> Result<(), SimError> {
        let cas = writes.iter().any(|(w, _)| w.is_conditional());
        for (w, values) in writes {
            // Both servers' `validateCounterForWrite` / `validate_counter_for_write`.
            if let Some(table) = w.counter_table()
                && params.consistency == consistency::ANY
            {
                return Err(SimError::Invalid(format!(
                    "Consistency level ANY is not yet supported for counter table {table}"
                )));
            }
            let Some((repl, flavor)) = self.replication_and_flavor(w.keyspace()) else {
                continue;
            };
            let Some(tokens) = w.tokens(&exec::Eval { values }) else {
                continue;
            };
            self.with_placement(cluster, flavor, |p| {
                if cas {
                    let serial = params.serial_consistency.unwrap_or(consistency::SERIAL);
                    consistency::check_cas(
                        params.consistency,
                        serial,
                        &repl,
                        Tokens::Some(tokens.as_slice()),
                        p,
                    )
                } else {
                    consistency::check(
                        Access::Write,
                        params.consistency,
                        &repl,
                        Tokens::Some(tokens.as_slice()),
                        p,
                    )
                }
            })?;
        }
        Ok(())
    }

    /// The commit of a conditional update that applied: its consistency level against the
    /// live replicas (Cassandra's `commitPaxos`); the update stays applied, as when a real
    /// commit fails after its proposal was accepted.
    pub(super) fn check_commit(
        &self,
        writes: &[(&WritePlan, &[BoundValue])],
        result: &QueryResult,
        params: &QueryParams,
        cluster: &dyn ClusterView,
    ) -> Result<(), SimError> {
        let applied = matches!(result, QueryResult::Rows(r)
            if r.rows.first().and_then(|row| row.first()).is_some_and(|c| c.as_deref() == Some(&[1][..])));
        if !applied {
            return Ok(());
        }
        for (w, values) in writes {
            let (Some((repl, flavor)), Some(tokens)) = (
                self.replication_and_flavor(w.keyspace()),
                w.tokens(&exec::Eval { values }),
            ) else {
                continue;
            };
            self.with_placement(cluster, flavor, |p| {
                consistency::check_commit(
                    params.consistency,
                    &repl,
                    Tokens::Some(tokens.as_slice()),
                    p,
                )
            })?;
        }
        Ok(())
    }
}
