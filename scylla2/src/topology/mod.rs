//! Topology: the cluster as the driver sees it, kept current by a control connection.
//!
//! - `control`: one control connection at a time (failing over to the next node)
//!   REGISTERs for TOPOLOGY_CHANGE, STATUS_CHANGE and SCHEMA_CHANGE, reads `system.local`,
//!   `system.peers(_v2)` and `system_schema.keyspaces`, and refreshes on events and
//!   periodically.
//! - `pool`: per-node connection pools (one connection per shard on Scylla), configured by
//!   [`PoolConfig`].
//! - `Cluster` (internal): the current state (routing snapshot + pools, in one `ArcSwap`),
//!   learned tablets, events, schema agreement, and the query plans of the session;
//!   configured by [`TopologyConfig`].

mod control;
pub(crate) mod metadata;
pub(crate) mod pool;
pub(crate) mod schema;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use uuid::Uuid;

pub use pool::PoolConfig;
pub use schema::{
    ClusteringOrder, ColumnKind, ColumnMetadata, KeyspaceMetadata, SchemaSnapshot, TableMetadata,
    UserTypeMetadata,
};

use crate::connection::{Connection, ConnectionConfig};
use crate::error::{ExecutionError, TopologyError};
use crate::events::{Events, SessionEvent};
use crate::routing::tablets::TABLETS_ROUTING_V1;
use crate::routing::{
    DistancePolicy, NodeDistance, NodeInfo, QueryPlan, RoutingInfo, TabletStore, TopologySnapshot,
};
use metadata::Metadata;
use pool::{NodePool, Pick, PoolContext};

/// Rewrites node addresses read from system tables (e.g. private → public addresses).
pub trait AddressTranslator: Send + Sync + std::fmt::Debug {
    /// The address to connect to for `address`.
    fn translate(&self, address: SocketAddr) -> SocketAddr;
}

/// Topology and routing settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TopologyConfig {
    /// Node distances.
    pub distance: DistancePolicy,
    /// Connection pools.
    pub pool: PoolConfig,
    /// Periodic refresh of the topology and schema.
    pub refresh_interval: Duration,
    /// Optional address translation.
    pub address_translator: Option<Arc<dyn AddressTranslator>>,
    /// How often schema versions are compared while awaiting agreement.
    pub schema_agreement_interval: Duration,
    /// How long to await schema agreement.
    pub schema_agreement_timeout: Duration,
    /// Await schema agreement after every schema-changing statement.
    pub await_schema_agreement: bool,
    /// How long `connect` waits for the pools to fill.
    pub pool_fill_timeout: Duration,
    /// Retry and speculative execution policies of the session (routed or, after a fallback,
    /// unrouted), unless `SessionBuilder::execution_policies` sets them.
    pub policies: crate::policies::ExecutionPolicies,
    /// The load balancing policy (`None`: the driver's own token-, shard- and distance-aware
    /// plan, on its fastest path).
    pub load_balancing: Option<Arc<dyn crate::policies::load_balancing::LoadBalancingPolicy>>,
    /// Keep a snapshot of the schema (`Session::schema`, see [`SchemaSnapshot`]); off by default.
    pub schema_metadata: bool,
}

impl Default for TopologyConfig {
    fn default() -> Self {
        Self {
            distance: DistancePolicy::default(),
            pool: PoolConfig::default(),
            refresh_interval: Duration::from_secs(60),
            address_translator: None,
            schema_agreement_interval: Duration::from_millis(200),
            schema_agreement_timeout: Duration::from_secs(10),
            await_schema_agreement: true,
            pool_fill_timeout: Duration::from_secs(5),
            policies: crate::policies::ExecutionPolicies::default(),
            load_balancing: None,
            schema_metadata: false,
        }
    }
}

/// The routing snapshot with the pools of its nodes (same indexes), swapped as one.
#[derive(Debug)]
pub(crate) struct ClusterState {
    pub(crate) routing: TopologySnapshot,
    pub(crate) pools: Vec<Arc<NodePool>>,
}

/// The cluster: state, tablets, events and the control connection task.
#[derive(Debug)]
pub(crate) struct Cluster {
    state: ArcSwap<ClusterState>,
    pub(crate) tablets: TabletStore,
    /// Set once a tablet was learned: until then plans skip loading the tablet store.
    has_tablets: std::sync::atomic::AtomicBool,
    pub(crate) ctx: Arc<PoolContext>,
    pub(crate) config: TopologyConfig,
    last_metadata: Mutex<Option<Metadata>>,
    control: ArcSwapOption<Connection>,
    refresh: Arc<Notify>,
    /// Incremented by every applied refresh.
    generation: std::sync::atomic::AtomicU64,
    task: Mutex<Option<AbortHandle>>,
    /// The schema snapshot, when `config.schema_metadata` (see [`schema`]).
    pub(crate) schema: ArcSwapOption<schema::SchemaSnapshot>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(task) = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
        for pool in &self.state.load().pools {
            pool.close();
        }
        if let Some(c) = self.control.load_full() {
            c.close();
        }
    }
}

impl Cluster {
    /// Opens the control connection on one of `contact_points`, reads the topology, starts
    /// the pools and waits (up to `pool_fill_timeout`) for them to fill.
    pub(crate) async fn connect(
        contact_points: Vec<SocketAddr>,
        connection: ConnectionConfig,
        config: TopologyConfig,
        keyspace: Option<String>,
        events: Arc<Events>,
    ) -> Result<Arc<Self>, TopologyError> {
        let ctx = Arc::new(PoolContext {
            connection,
            config: config.pool.clone(),
            keyspace: ArcSwapOption::from(keyspace.map(Arc::new)),
            events,
            sharding_learned: Notify::new(),
            replaced: std::sync::atomic::AtomicU64::new(0),
        });
        let cluster = Arc::new(Self {
            state: ArcSwap::from_pointee(ClusterState {
                routing: TopologySnapshot::new(Vec::new(), Vec::new(), &config.distance),
                pools: Vec::new(),
            }),
            tablets: TabletStore::new(),
            has_tablets: std::sync::atomic::AtomicBool::new(false),
            ctx,
            config,
            last_metadata: Mutex::new(None),
            control: ArcSwapOption::empty(),
            refresh: Arc::new(Notify::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
            task: Mutex::new(None),
            schema: ArcSwapOption::empty(),
        });
        let (conn, events, use_v2) = control::open_first(&cluster, &contact_points).await?;
        // The session's keyspace must exist: checked once here, on the control connection.
        if let Some(ks) = cluster.ctx.keyspace.load_full()
            && let Err(e) = metadata::query(&conn, &format!("USE {ks}")).await
        {
            conn.close();
            return Err(e.into());
        }
        let task = tokio::spawn(control::run(
            Arc::downgrade(&cluster),
            cluster.refresh.clone(),
            cluster.ctx.clone(),
            contact_points,
            conn,
            events,
            use_v2,
        ));
        *cluster.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(task.abort_handle());
        cluster.await_pools(cluster.config.pool_fill_timeout).await;
        Ok(cluster)
    }

    /// Waits until every enabled pool has all its connections or found its node down, or
    /// `timeout`.
    pub(crate) async fn await_pools(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let state = self.state.load();
            let full = state.pools.iter().enumerate().all(|(i, p)| {
                // Ignored nodes have no pool to wait for; unreachable ones are down already.
                state.routing.distance(i as u32) == NodeDistance::Ignored || !p.is_up() || {
                    let conns = p.conns();
                    !conns.slots.is_empty() && conns.slots.iter().all(|c| c.is_some())
                }
            });
            if full {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The current state (no lock).
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<ClusterState>> {
        self.state.load()
    }

    /// Takes what a plan for `info` needs: the current state and the learned tablets of
    /// the request's table, as owned `Arc`s so that no `ArcSwap` guard is held while the
    /// request is in flight (guards held across awaits by many concurrent requests exhaust
    /// arc-swap's per-thread fast slots and every load takes its slow path).
    pub(crate) fn plan_source(&self, info: &RoutingInfo<'_>) -> PlanSource<'_> {
        let tablets = match (info.keyspace, info.table) {
            (Some(ks), Some(table))
                if self.has_tablets.load(std::sync::atomic::Ordering::Acquire) =>
            {
                // Short-lived guard: only the table's own `Arc` outlives this block.
                let guard = self.tablets.load();
                guard.get(ks).and_then(|tables| tables.get(table)).cloned()
            }
            _ => None,
        };
        PlanSource {
            state: self.state.load_full(),
            tablets,
            policy: self.config.load_balancing.as_deref(),
        }
    }

    /// Applies freshly read metadata: reuses pools of known nodes, opens pools for new ones,
    /// closes those of removed ones, builds and publishes a new routing snapshot.
    pub(crate) fn apply(&self, metadata: Metadata) {
        let old = self.state.load_full();
        let mut nodes = Vec::with_capacity(metadata.nodes.len());
        let mut pools = Vec::with_capacity(metadata.nodes.len());
        // Published once the new state is visible.
        let mut changes = Vec::new();
        for row in &metadata.nodes {
            let mut info = NodeInfo::new(row.host_id, row.address);
            info.datacenter = row.datacenter.clone();
            info.rack = row.rack.clone();
            info.tokens = row.tokens.clone();
            let existing = old
                .pools
                .iter()
                .find(|p| p.host_id == row.host_id && p.address == row.address);
            let pool = match existing {
                Some(p) => p.clone(),
                None => {
                    let enabled = self.config.distance.distance(&info) != NodeDistance::Ignored;
                    if !old.pools.is_empty() {
                        changes.push(SessionEvent::NodeAdded {
                            node: row.address,
                            host_id: row.host_id,
                        });
                    }
                    NodePool::new(row.address, row.host_id, enabled, &self.ctx)
                }
            };
            info.sharder = pool.conns().sharder;
            nodes.push(info);
            pools.push(pool);
        }
        for p in &old.pools {
            if !pools.iter().any(|n| Arc::ptr_eq(n, p)) {
                p.close();
                changes.push(SessionEvent::NodeRemoved {
                    node: p.address,
                    host_id: p.host_id,
                });
            }
        }
        let keyspaces = metadata.keyspaces.len();
        let routing =
            TopologySnapshot::new(nodes, metadata.keyspaces.clone(), &self.config.distance);
        let count = pools.len();
        self.state.store(Arc::new(ClusterState { routing, pools }));
        *self
            .last_metadata
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(metadata);
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        for change in changes {
            self.ctx.events.publish(change);
        }
        self.ctx.events.publish(SessionEvent::TopologyRefreshed {
            nodes: count,
            keyspaces,
        });
    }

    /// Asks the control connection for a refresh and waits (up to `timeout`) until one was
    /// applied after this call.
    pub(crate) async fn refresh_and_wait(&self, timeout: Duration) -> bool {
        use std::sync::atomic::Ordering;
        let start = self.generation.load(Ordering::Acquire);
        self.refresh.notify_one();
        let deadline = Instant::now() + timeout;
        while self.generation.load(Ordering::Acquire) == start {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Applies a refresh: rebuilds the routing snapshot only when something routing depends
    /// on changed (nodes, their locations and tokens, keyspaces' replication); otherwise the
    /// refresh is only recorded (schema versions alone changed).
    pub(crate) fn apply_if_changed(&self, metadata: Metadata) {
        let unchanged = {
            let last = self
                .last_metadata
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            last.as_ref()
                .is_some_and(|last| same_routing(last, &metadata))
        };
        if !unchanged {
            self.apply(metadata);
            return;
        }
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.ctx.events.publish(SessionEvent::TopologyRefreshed {
            nodes: metadata.nodes.len(),
            keyspaces: metadata.keyspaces.len(),
        });
    }

    /// Rebuilds the snapshot from the last metadata (a pool learned its node's sharding).
    pub(crate) fn rebuild(&self) {
        let last = self
            .last_metadata
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(metadata) = last {
            self.apply(metadata);
        }
    }

    /// Switches every pooled connection, present and future, to `keyspace` (validated).
    pub(crate) async fn use_keyspace(&self, keyspace: &str) -> Result<(), ExecutionError> {
        let text = format!("USE {keyspace}");
        let state = self.state.load_full();
        for pool in &state.pools {
            for conn in pool.all() {
                metadata::query(&conn, &text).await?;
            }
        }
        self.ctx.keyspace.store(Some(Arc::new(keyspace.to_owned())));
        Ok(())
    }

    /// Learns tablets from a result's custom payload.
    pub(crate) fn learn_tablets(
        &self,
        info: &RoutingInfo<'_>,
        payload: &[(String, Option<bytes::Bytes>)],
    ) {
        let (Some(ks), Some(table)) = (info.keyspace, info.table) else {
            return;
        };
        for (key, value) in payload {
            if let (TABLETS_ROUTING_V1, Some(value)) = (key.as_str(), value)
                && self.tablets.learn_payload(ks, table, value).is_ok()
            {
                self.has_tablets
                    .store(true, std::sync::atomic::Ordering::Release);
            }
        }
    }

    /// Replica addresses of `token` in `keyspace`, with the shard owning it on each.
    pub(crate) fn replicas(
        &self,
        keyspace: &str,
        token: crate::routing::Token,
    ) -> Vec<(SocketAddr, Option<crate::routing::Shard>)> {
        let state = self.state.load();
        state
            .routing
            .replicas(keyspace, token)
            .iter()
            .flat_map(|class| class.iter())
            .filter_map(|&i| {
                let shard = state
                    .routing
                    .node(i)
                    .and_then(|n| n.sharder)
                    .map(|s| s.shard_of(token));
                state.pools.get(i as usize).map(|p| (p.address, shard))
            })
            .collect()
    }

    /// One connection per live node in plan order for a request without a token (local
    /// nodes first, rotating).
    pub(crate) fn connections_without_token(&self) -> Vec<Arc<Connection>> {
        let info = RoutingInfo::default();
        self.plan_source(&info).plan(&info).collect()
    }

    /// Addresses of every known node.
    pub(crate) fn node_addresses(&self) -> Vec<SocketAddr> {
        self.state.load().pools.iter().map(|p| p.address).collect()
    }

    /// Stops the control task and every pool task, and closes every connection, the control
    /// connection included (`Session::close`).
    pub(crate) fn close(&self) {
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            task.abort();
        }
        for pool in &self.state.load().pools {
            pool.close_now();
        }
        if let Some(c) = self.control.swap(None) {
            c.close();
        }
    }

    /// Requests waiting for an answer on the pooled connections.
    pub(crate) fn live_requests(&self) -> usize {
        self.state
            .load()
            .pools
            .iter()
            .map(|p| p.live_requests())
            .sum()
    }

    /// The health of every pooled connection, and the replacements made so far.
    pub(crate) fn connection_stats(&self) -> crate::session::ConnectionStats {
        let mut stats = crate::session::ConnectionStats {
            replaced: self.ctx.replaced.load(std::sync::atomic::Ordering::Relaxed),
            ..Default::default()
        };
        for pool in &self.state.load().pools {
            for conn in pool.conns().slots.iter().flatten() {
                stats.add(conn);
            }
        }
        stats
    }

    /// Number of open pooled connections.
    pub(crate) fn open_connections(&self) -> usize {
        self.state
            .load()
            .pools
            .iter()
            .map(|p| p.open_connections())
            .sum()
    }

    /// Compares the schema versions of all live nodes every `schema_agreement_interval`
    /// until they agree or `schema_agreement_timeout` passes.
    pub(crate) async fn await_schema_agreement(&self) -> Result<Uuid, TopologyError> {
        let start = Instant::now();
        let timeout = self.config.schema_agreement_timeout;
        loop {
            let left = timeout.saturating_sub(start.elapsed());
            let check = tokio::time::timeout(left, self.schema_versions_agree()).await;
            if let Ok(Some(version)) = check.unwrap_or(Ok(None)) {
                self.ctx
                    .events
                    .publish(SessionEvent::SchemaAgreementReached {
                        version,
                        elapsed: start.elapsed(),
                    });
                return Ok(version);
            }
            if start.elapsed() >= timeout {
                self.ctx
                    .events
                    .publish(SessionEvent::SchemaAgreementTimedOut { timeout });
                return Err(TopologyError::SchemaAgreementTimeout(timeout));
            }
            tokio::time::sleep(self.config.schema_agreement_interval).await;
        }
    }

    /// The protocol version of the control connection (`None` while it is down).
    pub(crate) fn protocol_version(&self) -> Option<scylla2_cql::ProtocolVersion> {
        self.control.load().as_ref().map(|c| c.protocol_version())
    }

    /// One check, without waiting: the agreed schema version, or `None` while live nodes
    /// disagree.
    pub(crate) async fn check_schema_agreement(&self) -> Result<Option<Uuid>, TopologyError> {
        self.schema_versions_agree().await
    }

    async fn schema_versions_agree(&self) -> Result<Option<Uuid>, TopologyError> {
        let conn = self
            .control
            .load_full()
            .ok_or(TopologyError::ControlConnectionDown)?;
        let mut use_v2 = false;
        let rows = metadata::read_nodes(&conn, &mut use_v2, None).await?;
        let state = self.state.load();
        let mut agreed: Option<Uuid> = None;
        for (i, row) in rows.iter().enumerate() {
            // The control node (first row) is live; peers count when their pool is up.
            let live = i == 0
                || state
                    .pools
                    .iter()
                    .find(|p| p.host_id == row.host_id)
                    .is_none_or(|p| p.is_up());
            if !live {
                continue;
            }
            let Some(v) = row.schema_version else {
                continue;
            };
            match agreed {
                None => agreed = Some(v),
                Some(a) if a != v => return Ok(None),
                Some(_) => {}
            }
        }
        Ok(agreed)
    }
}

/// Whether two metadata reads route alike (schema versions aside).
fn same_routing(a: &Metadata, b: &Metadata) -> bool {
    a.keyspaces == b.keyspaces
        && a.nodes.len() == b.nodes.len()
        && a.nodes.iter().zip(&b.nodes).all(|(x, y)| {
            x.host_id == y.host_id
                && x.address == y.address
                && x.datacenter == y.datacenter
                && x.rack == y.rack
                && x.tokens == y.tokens
        })
}

/// What a plan borrows: the cluster state and the learned tablets of the request's table.
pub(crate) struct PlanSource<'c> {
    state: Arc<ClusterState>,
    tablets: Option<Arc<crate::routing::TableTablets>>,
    /// The session's load balancing policy (borrowed from the cluster's configuration).
    policy: Option<&'c dyn crate::policies::load_balancing::LoadBalancingPolicy>,
}

impl PlanSource<'_> {
    /// A plan of connections for a request (`info` as given to [`Cluster::plan_source`]):
    /// the driver's own, or the one the session's load balancing policy makes of it.
    pub(crate) fn plan<'a>(&'a self, info: &RoutingInfo<'_>) -> RoutedPlan<'a> {
        let default = || QueryPlan::new(&self.state.routing, info, self.tablets.as_deref());
        // Built where it ends up (the plan is about 100 bytes; each binding is a copy).
        RoutedPlan {
            state: &self.state,
            plan: match self.policy {
                None => Targets::Default(default()),
                Some(policy) => Targets::Policy(self.policy_plan(policy, info, default())),
            },
            last_resort: None,
        }
    }

    /// The policy's plan (on the stack), the default one given to it lazily.
    fn policy_plan(
        &self,
        policy: &dyn crate::policies::load_balancing::LoadBalancingPolicy,
        info: &RoutingInfo<'_>,
        mut default: QueryPlan<'_>,
    ) -> crate::policies::load_balancing::PlanIter {
        use crate::policies::load_balancing::{ClusterView, Plan};
        let pools = &self.state.pools;
        let up = |node: u32| pools.get(node as usize).is_some_and(|p| p.is_up());
        let view = ClusterView::new(&self.state.routing, &up);
        let mut plan = Plan::new();
        policy.plan(info, &view, &mut default, &mut plan);
        plan.into_iter_targets()
    }
}

/// The plan of an execution: routed, or the unrouted contact-point rotation (see
/// [`run_statement!`]).
pub(crate) enum EitherPlan<R, U> {
    Routed(R),
    Unrouted(U),
}

impl<R, U> Iterator for EitherPlan<R, U>
where
    R: Iterator<Item = Arc<Connection>>,
    U: Iterator<Item = Arc<Connection>>,
{
    type Item = Arc<Connection>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Routed(plan) => plan.next(),
            Self::Unrouted(plan) => plan.next(),
        }
    }
}

/// The targets of a routed plan: the driver's own, or a load balancing policy's.
enum Targets<'a> {
    Default(QueryPlan<'a>),
    Policy(crate::policies::load_balancing::PlanIter),
}

impl Iterator for Targets<'_> {
    type Item = crate::routing::Target;

    #[inline]
    fn next(&mut self) -> Option<crate::routing::Target> {
        match self {
            Self::Default(plan) => plan.next(),
            Self::Policy(plan) => plan.next(),
        }
    }
}

/// A query plan resolved to connections: for every target the pool's connection of the
/// target's shard (another of the node's usable connections when that one is missing or
/// suspect); nodes without usable connections are skipped, and the first suspect connection
/// skipped is tried last (so that a cluster whose every node timed out requests is still
/// tried). Allocates nothing.
pub(crate) struct RoutedPlan<'a> {
    state: &'a ClusterState,
    plan: Targets<'a>,
    last_resort: Option<Arc<Connection>>,
}

impl Iterator for RoutedPlan<'_> {
    type Item = Arc<Connection>;

    fn next(&mut self) -> Option<Arc<Connection>> {
        for target in self.plan.by_ref() {
            let Some(pool) = self.state.pools.get(target.node as usize) else {
                continue;
            };
            match pool.connection(target.shard) {
                Some(Pick::Usable(conn)) => return Some(conn),
                Some(Pick::Suspect(conn)) if self.last_resort.is_none() => {
                    self.last_resort = Some(conn);
                }
                _ => {}
            }
        }
        self.last_resort.take()
    }
}

impl Cluster {
    /// After a routed result: learns tablets from its custom payload.
    pub(crate) fn after_result(&self, info: &RoutingInfo<'_>, result: &crate::result::QueryResult) {
        if let Some(payload) = result.custom_payload() {
            self.learn_tablets(info, &payload.entries);
        }
    }

    /// After a schema change: awaits schema agreement (configurable) and a refresh.
    pub(crate) async fn after_schema_change(&self) {
        if self.config.await_schema_agreement {
            // A timeout is reported as a session event; the statement itself succeeded.
            let _ = self.await_schema_agreement().await;
        }
        // Route the next statements with the new schema (e.g. a new keyspace's replication).
        self.refresh_and_wait(self.config.schema_agreement_timeout)
            .await;
    }
}

/// Runs a statement through the one attempt loop ([`crate::policies`]: retry policy,
/// speculative execution, profiles, execution metadata) on the session's plan — routed when
/// the cluster (an `Option<&Cluster>`) is known, else the `unrouted` contact-point rotation
/// (evaluated only then) — then, when routed, learns tablets from the result and awaits
/// schema agreement after schema changes (configurable).
///
/// A macro expanded in the caller's `async fn` rather than an `async fn` of its own: the
/// attempt loop's future holds its first attempt in place (over a KiB), and every wrapping
/// future level copies it once more when it is created and awaited.
macro_rules! run_statement {
    (
        $cluster:expr,
        $unrouted:expr,
        $statement:expr,
        $values:expr,
        $defaults:expr,
        $paging:expr,
        $policies:expr,
        $latencies:expr $(,)?
    ) => {{
        let statement = $statement;
        let values = $values;
        // What a routed plan needs, taken before the attempts; `None`: the unrouted rotation.
        let routed = $cluster.map(|cluster| {
            let info = statement.routing_info(values);
            let source = cluster.plan_source(&info);
            (cluster, info, source)
        });
        // One expansion of the attempt loop for both plans: two would keep two sets of its
        // locals side by side in the execution's future, each request touching the lines
        // of one set and skipping the other's.
        // The result is bound only in the inner block, which ends before the rare await: a
        // local borrowed across an await stays in the future (a whole `QueryResult` in every
        // execution's future); moved into the box it does not.
        'done: {
            let after_schema_change = {
                let result = $crate::policies::run_attempts!(
                    || match &routed {
                        Some((_, info, source)) => {
                            $crate::topology::EitherPlan::Routed(source.plan(info))
                        }
                        None => $crate::topology::EitherPlan::Unrouted($unrouted),
                    },
                    statement,
                    values,
                    $defaults,
                    $paging,
                    $policies,
                    $latencies,
                );
                let Some((cluster, info, _)) = &routed else {
                    break 'done result;
                };
                let cluster: &$crate::topology::Cluster = cluster;
                // Looked at in place: the common result leaves as it came, without being
                // unpacked and packed again (each a copy of the result).
                let schema_change = match &result {
                    Ok(r) => {
                        cluster.after_result(info, r);
                        r.schema_change().is_some()
                    }
                    Err(_) => false,
                };
                if !schema_change {
                    break 'done result;
                }
                let result = match result {
                    Ok(result) => result,
                    Err(e) => break 'done Err(e),
                };
                // Boxed with the result: only after a schema change.
                Box::pin(async move {
                    cluster.after_schema_change().await;
                    result
                })
            };
            // The plan's snapshot is not held while the schema settles.
            drop(routed);
            Ok(after_schema_change.await)
        }
    }};
}
pub(crate) use run_statement;
