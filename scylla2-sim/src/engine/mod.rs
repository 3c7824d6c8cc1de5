//! The CQL engine: cluster-wide schema and data shared by every simulated node, statement
//! preparation (parse + plan, no parsing on the prepared path) and execution, system tables,
//! and the token ring.
//!
//! - [`murmur3`]: partition tokens. [`ring`]: replica placement.
//! - [`schema`]: keyspaces, tables, types. [`storage`]: partitions, rows, cells, tombstones.
//! - [`types`]: per-type validation, ordering, literals, names.
//! - [`exec`]: planning and execution. [`system`]: system tables from the [`ClusterView`].
//! - `checks`: what a statement passes before it runs (consistency, commit, batch size).
//!
//! Behaviour worth knowing:
//! - Stored values are copied out of request buffers (a slice would pin a whole frame).
//! - `system.local`/`peers.schema_version` show each [`NodeInfo::schema_version`]; a nil one
//!   stands for [`Engine::schema_version`].
//! - Plans keep the column indexes of the schema they were made with; `SELECT *` follows the
//!   current schema (see [`Engine::current_result_metadata`]). A dropped table makes its
//!   plans fail with the server's unknown-table error; the server answers UNPREPARED for
//!   prepared statements a DROP or ALTER invalidated ([`Prepared::invalidated`]).
//! - Errors are worded as the [`Flavor`] the engine was made with says.
//! - Not supported: secondary indexes, materialized views, UDFs, non-frozen UDT field
//!   updates, multi-column slices over clustering columns of mixed order, decimal
//!   arithmetic, aggregates inside expressions.

#[cfg(test)]
mod bench;
mod checks;
pub mod consistency;
pub mod exec;
pub mod murmur3;
pub mod ring;
pub mod schema;
pub mod storage;
pub mod system;
pub mod system_tables;
pub mod tablets;
#[cfg(test)]
mod tests;
pub mod traces;
pub mod types;
pub mod warnings;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use uuid::Uuid;

pub use murmur3::murmur3_token;

use crate::cql::ast::{BatchType, Statement};
use crate::model::{
    BoundValue, ClusterView, ColumnSpec, Flavor, NodeInfo, PreparedInfo, QueryParams, QueryResult,
    SimError,
};
use exec::Expr;
use exec::select::SelectPlan;
use exec::write::WritePlan;
use schema::{Schema, id16, metadata_id};

/// The kind of a BATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    /// LOGGED.
    Logged,
    /// UNLOGGED.
    Unlogged,
    /// COUNTER.
    Counter,
}

/// One statement of a BATCH message.
#[derive(Debug, Clone)]
pub enum BatchStatement {
    /// A query string with its values.
    Query {
        /// CQL.
        query: String,
        /// Values.
        values: Vec<BoundValue>,
    },
    /// A prepared statement with its values.
    Prepared {
        /// Statement.
        stmt: Arc<Prepared>,
        /// Values.
        values: Vec<BoundValue>,
    },
}

/// Per-connection state.
#[derive(Debug, Default, Clone)]
pub struct SessionState {
    /// Current keyspace (USE).
    pub keyspace: Option<String>,
}

/// The plan of a prepared statement.
#[derive(Debug)]
pub(crate) enum Plan {
    Use(String),
    Ddl(Box<Statement>, Option<String>),
    Write(Box<WritePlan>),
    Select(Box<SelectPlan>),
    Batch(BatchType, Option<Expr>, Vec<WritePlan>),
}

/// A prepared statement: what PREPARE returns plus its execution plan.
#[derive(Debug)]
pub struct Prepared {
    /// Id, bind and result metadata.
    pub info: PreparedInfo,
    pub(crate) plan: Plan,
}

/// Prepared plans of QUERY strings by (keyspace, text).
type QueryCache = HashMap<(Option<String>, String), Arc<Prepared>>;

pub(crate) struct Inner {
    pub(crate) schema: RwLock<Schema>,
    cache: Mutex<QueryCache>,
    /// ScyllaDB mode (the cluster has shards): `tablets` keyspace option, system tables.
    pub(crate) scylla: std::sync::atomic::AtomicBool,
    /// Tablet maps of the tables of tablet keyspaces.
    pub(crate) tablets: Mutex<tablets::Tablets>,
    /// CQL version and roles the system tables show.
    pub(crate) identity: RwLock<system_tables::Identity>,
    /// Traces of traced requests.
    pub(crate) traces: Mutex<traces::Traces>,
}

/// The cluster-wide engine; cheap to clone (shared state).
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

const QUERY_CACHE_LIMIT: usize = 4096;

impl Engine {
    /// A new engine with the system keyspaces, answering as Apache Cassandra.
    pub fn new() -> Self {
        Self::with_flavor(Flavor::Cassandra)
    }

    /// A new engine with the system keyspaces whose errors, warnings, LWT results and system
    /// tables follow `flavor`.
    pub fn with_flavor(flavor: Flavor) -> Self {
        let scylla = flavor == Flavor::Scylla;
        let mut schema = system::initial_schema(scylla);
        schema.flavor = flavor;
        Engine {
            inner: Arc::new(Inner {
                schema: RwLock::new(schema),
                cache: Mutex::new(HashMap::new()),
                scylla: std::sync::atomic::AtomicBool::new(scylla),
                tablets: Mutex::new(tablets::Tablets::default()),
                identity: RwLock::new(system_tables::Identity::default()),
                traces: Mutex::new(traces::Traces::default()),
            }),
        }
    }

    pub(crate) fn schema_read(&self) -> RwLockReadGuard<'_, Schema> {
        self.inner.schema.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn schema_write(&self) -> RwLockWriteGuard<'_, Schema> {
        self.inner.schema.write().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn clear_query_cache(&self) {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Parses and plans a statement.
    pub fn prepare(&self, query: &str, keyspace: Option<&str>) -> Result<Arc<Prepared>, SimError> {
        let parsed = crate::cql::parse(query).map_err(|e| SimError::SyntaxError(e.to_string()))?;
        let mut binds = exec::Binds::default();
        let (plan, pk_binds, result_columns, is_lwt) = {
            let schema = self.schema_read();
            match parsed.statement {
                Statement::Use(ks) => (Plan::Use(ks), None, Vec::new(), false),
                Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
                    let w = exec::write::plan(&schema, &parsed.statement, keyspace, &mut binds)?;
                    let pk = w.pk_binds();
                    let lwt = w.is_conditional();
                    let cols = if lwt && schema.flavor == Flavor::Scylla {
                        WritePlan::cas_result_columns(std::iter::once(&w))
                    } else {
                        Vec::new()
                    };
                    (Plan::Write(Box::new(w)), pk, cols, lwt)
                }
                Statement::Select(s) => {
                    let p = exec::select::plan(&schema, &s, keyspace, &mut binds)?;
                    let pk = p.pk_binds();
                    let cols = p.result_columns();
                    (Plan::Select(Box::new(p)), pk, cols, false)
                }
                Statement::Batch {
                    kind,
                    using,
                    statements,
                } => {
                    let mut plans = Vec::with_capacity(statements.len());
                    for st in &statements {
                        plans.push(exec::write::plan(&schema, st, keyspace, &mut binds)?);
                    }
                    let ts = match &using.timestamp {
                        Some(t) => Some(exec::write::timestamp_expr(t, &mut binds)?),
                        None => None,
                    };
                    let lwt = plans.iter().any(WritePlan::is_conditional);
                    let cols = if lwt && schema.flavor == Flavor::Scylla {
                        WritePlan::cas_result_columns(plans.iter())
                    } else {
                        Vec::new()
                    };
                    (Plan::Batch(kind, ts, plans), None, cols, lwt)
                }
                other => (
                    Plan::Ddl(Box::new(other), keyspace.map(str::to_string)),
                    None,
                    Vec::new(),
                    false,
                ),
            }
        };
        let bind_columns: Vec<ColumnSpec> = binds
            .specs
            .into_iter()
            .take(parsed.bind_count)
            .enumerate()
            .map(|(i, s)| {
                s.ok_or_else(|| {
                    SimError::Invalid(format!("Bind marker {i} is used where no value can stand"))
                })
            })
            .collect::<Result<_, _>>()?;
        if bind_columns.len() != parsed.bind_count {
            return Err(SimError::Invalid(
                "Bind marker is used where no value can stand".into(),
            ));
        }
        let mut id_src = keyspace.unwrap_or("").as_bytes().to_vec();
        id_src.push(0);
        id_src.extend_from_slice(query.as_bytes());
        let info = PreparedInfo {
            id: id16(&id_src),
            result_metadata_id: metadata_id(&result_columns),
            bind_columns,
            pk_indexes: pk_binds.unwrap_or_default(),
            result_columns,
            is_lwt,
        };
        Ok(Arc::new(Prepared { info, plan }))
    }

    /// The current result columns and metadata id of a prepared statement (`SELECT *`
    /// follows ALTER TABLE ADD).
    pub fn current_result_metadata(&self, stmt: &Prepared) -> (Bytes, Vec<ColumnSpec>) {
        match &stmt.plan {
            Plan::Select(p) if p.is_star() => {
                let cols = p.result_columns();
                (metadata_id(&cols), cols)
            }
            _ => (
                stmt.info.result_metadata_id.clone(),
                stmt.info.result_columns.clone(),
            ),
        }
    }

    /// Executes a prepared statement: first its consistency level against the live replicas
    /// ([`consistency`]), then the statement; client warnings it raises are left for
    /// [`warnings::take`].
    pub fn execute(
        &self,
        session: &mut SessionState,
        stmt: &Prepared,
        params: &QueryParams,
        cluster: &dyn ClusterView,
    ) -> Result<QueryResult, SimError> {
        let reordered;
        let values: &[BoundValue] = match &params.names {
            Some(names) => {
                reordered = reorder_named(&stmt.info.bind_columns, names, &params.values)?;
                &reordered
            }
            None => &params.values,
        };
        exec::check_values(&stmt.info.bind_columns, values)?;
        let ev = exec::Eval { values };
        let now = Now::new(params);
        // A single write borrows its one entry (no list allocated per statement).
        let single;
        let batch: Vec<(&WritePlan, &[BoundValue])>;
        let writes: &[(&WritePlan, &[BoundValue])] = match &stmt.plan {
            Plan::Write(w) => {
                single = [(&**w, values)];
                &single
            }
            Plan::Batch(_, _, plans) => {
                batch = plans.iter().map(|p| (p, values)).collect();
                &batch
            }
            _ => &[],
        };
        let cas = writes.iter().any(|(w, _)| w.is_conditional());
        if let Plan::Select(s) = &stmt.plan {
            self.check_read(s, &ev, params, cluster)?;
            if let Some((restricted, multi)) = s.aggregate_keys() {
                warnings::check_aggregate(self.schema_read().flavor, restricted, multi);
            }
        } else if !writes.is_empty() {
            self.check_writes(writes, params, cluster)?;
        }
        if let Plan::Batch(kind, _, _) = &stmt.plan
            && !cas
        {
            self.check_batch(*kind == BatchType::Logged, writes)?;
        }
        let result = self.run(session, stmt, &ev, params, &now, cluster)?;
        if cas {
            self.check_commit(writes, &result, params, cluster)?;
        }
        Ok(result)
    }

    fn run(
        &self,
        session: &mut SessionState,
        stmt: &Prepared,
        ev: &exec::Eval<'_>,
        params: &QueryParams,
        now: &Now,
        cluster: &dyn ClusterView,
    ) -> Result<QueryResult, SimError> {
        let values = ev.values;
        let now = *now;
        match &stmt.plan {
            Plan::Use(ks) => {
                // Both servers' `ClientState.setKeyspace` / `client_state::set_keyspace`.
                if !self.schema_read().keyspaces.contains_key(ks) {
                    return Err(SimError::Invalid(format!("Keyspace '{ks}' does not exist")));
                }
                session.keyspace = Some(ks.clone());
                Ok(QueryResult::SetKeyspace(ks.clone()))
            }
            Plan::Ddl(st, ks) => {
                let ks = ks.as_deref().or(session.keyspace.as_deref());
                let result = exec::ddl::execute(self, st, ks)?;
                if let QueryResult::SchemaChange(crate::model::SchemaChange {
                    target: crate::model::SchemaTarget::Keyspace(name),
                    change: crate::model::ChangeType::Created | crate::model::ChangeType::Updated,
                }) = &result
                {
                    self.warn_replication(name, cluster);
                }
                Ok(result)
            }
            Plan::Write(w) => exec::write::execute(w, ev, params.timestamp, &now),
            Plan::Select(s) => exec::select::execute(self, s, ev, params, &now, cluster),
            Plan::Batch(kind, ts, plans) => {
                let kind = match kind {
                    BatchType::Logged => BatchKind::Logged,
                    BatchType::Unlogged => BatchKind::Unlogged,
                    BatchType::Counter => BatchKind::Counter,
                };
                exec::write::check_batch_kind(kind, plans.iter())?;
                let ts = ev.bigint(ts.as_ref(), "[timestamp]")?.or(params.timestamp);
                let items: Vec<(&WritePlan, exec::Eval<'_>)> =
                    plans.iter().map(|p| (p, exec::Eval { values })).collect();
                exec::write::execute_batch(&items, ts, &now)
            }
        }
    }

    /// Parses (cached per keyspace and text) and executes a query.
    pub fn query(
        &self,
        session: &mut SessionState,
        query: &str,
        params: &QueryParams,
        cluster: &dyn ClusterView,
    ) -> Result<QueryResult, SimError> {
        let ks = params.keyspace.clone().or_else(|| session.keyspace.clone());
        let stmt = self.prepare_cached(query, ks.as_deref())?;
        if let (Some(ks), Plan::Ddl(..) | Plan::Use(_)) = (&params.keyspace, &stmt.plan) {
            let mut s = SessionState {
                keyspace: Some(ks.clone()),
            };
            return self.execute(&mut s, &stmt, params, cluster);
        }
        self.execute(session, &stmt, params, cluster)
    }

    fn prepare_cached(&self, query: &str, ks: Option<&str>) -> Result<Arc<Prepared>, SimError> {
        let key = (ks.map(str::to_string), query.to_string());
        let cached = self
            .inner
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        if let Some(p) = cached
            && p.is_current()
        {
            return Ok(p);
        }
        let p = self.prepare(query, ks)?;
        if matches!(p.plan, Plan::Write(_) | Plan::Select(_)) {
            let mut cache = self.inner.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= QUERY_CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(key, p.clone());
        }
        Ok(p)
    }

    /// Executes a BATCH message (consistency checked and warnings raised as for
    /// [`Engine::execute`]).
    pub fn batch(
        &self,
        session: &mut SessionState,
        kind: BatchKind,
        statements: &[BatchStatement],
        params: &QueryParams,
        cluster: &dyn ClusterView,
    ) -> Result<QueryResult, SimError> {
        let ks = params.keyspace.clone().or_else(|| session.keyspace.clone());
        let mut prepared: Vec<(Arc<Prepared>, &[BoundValue])> =
            Vec::with_capacity(statements.len());
        for st in statements {
            match st {
                BatchStatement::Query { query, values } => {
                    prepared.push((self.prepare_cached(query, ks.as_deref())?, values))
                }
                BatchStatement::Prepared { stmt, values } => prepared.push((stmt.clone(), values)),
            }
        }
        let mut items = Vec::with_capacity(prepared.len());
        for (p, values) in &prepared {
            let Plan::Write(w) = &p.plan else {
                return Err(SimError::Invalid(
                    "Only INSERT, UPDATE and DELETE statements are allowed in a batch".into(),
                ));
            };
            exec::check_values(&p.info.bind_columns, values)?;
            items.push((&**w, exec::Eval { values }));
        }
        exec::write::check_batch_kind(kind, items.iter().map(|(w, _)| *w))?;
        let writes: Vec<(&WritePlan, &[BoundValue])> =
            items.iter().map(|(w, ev)| (*w, ev.values)).collect();
        self.check_writes(&writes, params, cluster)?;
        if !writes.iter().any(|(w, _)| w.is_conditional()) {
            self.check_batch(kind == BatchKind::Logged, &writes)?;
        }
        let result = exec::write::execute_batch(&items, params.timestamp, &Now::new(params))?;
        if writes.iter().any(|(w, _)| w.is_conditional()) {
            self.check_commit(&writes, &result, params, cluster)?;
        }
        Ok(result)
    }

    /// Cassandra's warning for a keyspace replicated to more nodes than there are
    /// (`SimpleStrategy` / `NetworkTopologyStrategy.maybeWarnOnOptions`, per data center).
    fn warn_replication(&self, keyspace: &str, cluster: &dyn ClusterView) {
        if self.schema_read().flavor != Flavor::Cassandra {
            return;
        }
        let Some(repl) = self.replication(keyspace) else {
            return;
        };
        let (nodes, _) = cluster.placement();
        match repl {
            ring::Replication::Simple(rf) if rf > nodes.len() && !nodes.is_empty() => {
                warnings::warn(format!(
                    "Your replication factor {rf} for keyspace {keyspace} is higher than the number of nodes {}",
                    nodes.len()
                ));
            }
            ring::Replication::NetworkTopology(dcs) => {
                for (dc, rf) in dcs.iter().filter(|(d, _)| d != "*") {
                    let count = nodes.iter().filter(|n| n.datacenter == *dc).count();
                    if *rf > count && count != 0 {
                        warnings::warn(format!(
                            "Your replication factor {rf} for keyspace {keyspace} is higher than the number of nodes {count} for datacenter {dc}"
                        ));
                    }
                }
            }
            _ => {}
        }
    }

    /// The replication of `keyspace`, None for an unknown one (executing reports it).
    fn replication(&self, keyspace: &str) -> Option<ring::Replication> {
        self.replication_and_flavor(keyspace).map(|(r, _)| r)
    }

    /// [`Self::replication`] and the flavor, read under one lock of the schema (each
    /// request's consistency check needs both; every lock writes memory the threads serving
    /// requests share).
    fn replication_and_flavor(&self, keyspace: &str) -> Option<(ring::Replication, Flavor)> {
        let schema = self.schema_read();
        let ks = schema.keyspaces.get(keyspace)?;
        Some((ks.replication.clone(), schema.flavor))
    }

    /// (keyspace, token) a prepared statement targets with these values, when its whole
    /// partition key is bound.
    pub fn routing_token<'s>(
        &self,
        stmt: &'s Prepared,
        params: &QueryParams,
    ) -> Option<(&'s str, i64)> {
        if stmt.info.pk_indexes.is_empty() || params.names.is_some() {
            return None;
        }
        let ks = match &stmt.plan {
            Plan::Write(w) => w.keyspace(),
            Plan::Select(s) => s.keyspace(),
            _ => return None,
        };
        if let [i] = stmt.info.pk_indexes[..] {
            // A one-column key is the value itself: hashed in place, no copy or clone.
            return match params.values.get(usize::from(i))? {
                BoundValue::Set(b) => Some((ks, murmur3_token(b))),
                _ => None,
            };
        }
        let mut parts: Vec<Bytes> = Vec::with_capacity(stmt.info.pk_indexes.len());
        for i in &stmt.info.pk_indexes {
            match params.values.get(usize::from(*i))? {
                BoundValue::Set(b) => parts.push(b.clone()),
                _ => return None,
            }
        }
        let key = exec::where_::partition_key(&parts);
        Some((ks, murmur3_token(&key)))
    }

    /// (keyspace, table, token) a prepared statement targets with these values, when its
    /// whole partition key is bound (ScyllaDB's `_may_use_token_aware_routing`).
    pub fn routing_target<'s>(
        &self,
        stmt: &'s Prepared,
        params: &QueryParams,
    ) -> Option<(&'s str, &'s str, i64)> {
        let table = match &stmt.plan {
            Plan::Write(w) => w.table_name(),
            Plan::Select(s) => s.table_name(),
            _ => return None,
        };
        let (ks, token) = self.routing_token(stmt, params)?;
        Some((ks, table, token))
    }

    /// Replica node indexes of `token` in `keyspace` among `nodes`.
    pub fn replicas(&self, keyspace: &str, token: i64, nodes: &[NodeInfo]) -> Vec<usize> {
        let Some(replication) = self.replication(keyspace) else {
            return Vec::new();
        };
        ring::replicas(&replication, token, nodes)
    }

    /// The current schema version.
    pub fn schema_version(&self) -> Uuid {
        self.schema_read().version
    }

    /// What the system tables report about the server (CQL version, roles).
    pub fn identity(&self) -> system_tables::Identity {
        self.inner
            .identity
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sets what the system tables report about the server.
    pub fn set_identity(&self, identity: system_tables::Identity) {
        *self
            .inner
            .identity
            .write()
            .unwrap_or_else(|p| p.into_inner()) = identity;
    }
}

impl Prepared {
    /// Whether a DROP of its table or keyspace, or an ALTER of its table, invalidated this
    /// prepared statement: both servers then forget it and answer UNPREPARED, so drivers
    /// prepare it again (Cassandra's `QueryProcessor.MigrationSubscriber`, ScyllaDB's
    /// `query_processor::migration_subscriber`).
    pub fn invalidated(&self) -> bool {
        match &self.plan {
            Plan::Write(w) => w.is_invalidated(),
            Plan::Select(s) => s.is_invalidated(),
            Plan::Batch(_, _, plans) => plans.iter().any(WritePlan::is_invalidated),
            _ => false,
        }
    }

    /// Whether the plan still refers to live tables.
    fn is_current(&self) -> bool {
        match &self.plan {
            Plan::Write(w) => !w.is_dropped(),
            Plan::Select(s) => !s.is_dropped(),
            _ => true,
        }
    }
}

fn reorder_named(
    specs: &[ColumnSpec],
    names: &[String],
    values: &[BoundValue],
) -> Result<Vec<BoundValue>, SimError> {
    let mut out = vec![BoundValue::Unset; specs.len()];
    let mut seen = vec![false; specs.len()];
    for (name, v) in names.iter().zip(values) {
        let lname = name.to_ascii_lowercase();
        let pos = specs
            .iter()
            .enumerate()
            .position(|(i, s)| !seen[i] && (s.name == *name || s.name == lname))
            .ok_or_else(|| SimError::Invalid(format!("Invalid named bind variable {name}")))?;
        seen[pos] = true;
        out[pos] = v.clone();
    }
    Ok(out)
}

/// The time of one execution.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// Seconds since epoch (TTL expiry).
    pub secs: i64,
}

impl Now {
    fn new(params: &QueryParams) -> Self {
        let secs = match params.now_in_seconds {
            Some(s) => i64::from(s),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        };
        Now { secs }
    }
}
