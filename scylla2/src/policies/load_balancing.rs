//! Load balancing as a policy: the plan of a statement (nodes and shards, in order) that a
//! routed session tries. The default is the driver's own token-, shard- and distance-aware
//! plan ([`DefaultPolicy`]); a policy may reorder or filter it ([`PreferNodes`],
//! [`FilterNodes`]) or build its own from the cluster's view. Plans live on the stack
//! (at most [`MAX_PLAN`] targets), so a custom policy allocates nothing per request either.

use std::fmt;
use std::sync::Arc;

use crate::routing::{NodeDistance, NodeInfo, RoutingInfo, Target, Token, TopologySnapshot};

/// The most targets a custom plan holds. Retries and speculative attempts rarely try more
/// than three nodes; a plan that needs more is cut here.
pub const MAX_PLAN: usize = 8;

/// What a policy sees of the cluster: the routing snapshot's nodes (address, data center,
/// rack, host id, sharding), their distances, the replicas of a token, and which nodes have
/// a usable connection now.
#[derive(Clone, Copy)]
pub struct ClusterView<'a> {
    snapshot: &'a TopologySnapshot,
    up: &'a dyn Fn(u32) -> bool,
}

impl fmt::Debug for ClusterView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterView")
            .field("nodes", &self.snapshot.nodes().len())
            .finish()
    }
}

impl<'a> ClusterView<'a> {
    /// A view of `snapshot`, with `up` telling whether a node (by index) has a usable
    /// connection.
    pub(crate) fn new(snapshot: &'a TopologySnapshot, up: &'a dyn Fn(u32) -> bool) -> Self {
        Self { snapshot, up }
    }

    /// Every known node; a [`Target::node`] is an index into this slice.
    pub fn nodes(&self) -> &'a [NodeInfo] {
        self.snapshot.nodes()
    }

    /// Node `index`.
    pub fn node(&self, index: u32) -> Option<&'a NodeInfo> {
        self.snapshot.node(index)
    }

    /// The distance of node `index` (ignored nodes are never tried by the default plan).
    pub fn distance(&self, index: u32) -> NodeDistance {
        self.snapshot.distance(index)
    }

    /// Whether node `index` has a usable connection now.
    pub fn is_up(&self, index: u32) -> bool {
        (self.up)(index)
    }

    /// The replicas of `token` in `keyspace` (indexes into [`nodes`](Self::nodes)), in
    /// placement order, local ones first; empty for an unknown keyspace. The default plan
    /// already starts with them.
    pub fn replicas(&self, keyspace: &str, token: Token) -> impl Iterator<Item = u32> + 'a {
        self.snapshot
            .replicas(keyspace, token)
            .into_iter()
            .flatten()
            .copied()
    }

    /// The routing snapshot itself (internals, with the `unstable` feature).
    #[cfg(feature = "unstable")]
    pub fn snapshot(&self) -> &'a TopologySnapshot {
        self.snapshot
    }
}

/// A plan being built: at most [`MAX_PLAN`] targets, each node and shard once.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    targets: [Target; MAX_PLAN],
    len: u8,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            targets: [Target {
                node: 0,
                shard: None,
            }; MAX_PLAN],
            len: 0,
        }
    }
}

impl Plan {
    /// An empty plan.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `target` unless it is already planned; `false` when the plan is full.
    pub fn push(&mut self, target: Target) -> bool {
        if self.targets().contains(&target) {
            return true;
        }
        if usize::from(self.len) == MAX_PLAN {
            return false;
        }
        self.targets[usize::from(self.len)] = target;
        self.len += 1;
        true
    }

    /// Appends targets until the plan is full.
    pub fn extend(&mut self, targets: impl IntoIterator<Item = Target>) {
        for target in targets {
            if !self.push(target) {
                return;
            }
        }
    }

    /// The targets, in order.
    pub fn targets(&self) -> &[Target] {
        &self.targets[..usize::from(self.len)]
    }

    /// Whether no more targets fit.
    pub fn is_full(&self) -> bool {
        usize::from(self.len) == MAX_PLAN
    }

    /// The targets, consumed in order (see [`PlanIter`]).
    pub(crate) fn into_iter_targets(self) -> PlanIter {
        PlanIter {
            plan: self,
            next: 0,
        }
    }
}

/// A built plan, consumed target by target.
#[derive(Debug, Clone)]
pub(crate) struct PlanIter {
    plan: Plan,
    next: u8,
}

impl Iterator for PlanIter {
    type Item = Target;

    fn next(&mut self) -> Option<Target> {
        let target = *self.plan.targets().get(usize::from(self.next))?;
        self.next += 1;
        Some(target)
    }
}

/// Chooses the nodes and shards a statement is tried on, in order (routed sessions; see
/// `SessionBuilder::load_balancing`).
///
/// `default` is the driver's own plan for the statement (replicas of its token first, on
/// the shard owning it, local before remote, rotated; then the other nodes), as a lazy
/// iterator: a policy that reorders or filters it reads only what it needs. A policy must not
/// block: it runs on every execution, and once more when the first attempt of an execution
/// that does not speculate fails (such an execution keeps only its first target while that
/// attempt is out; the rest of its plan is asked for again, the failed connection left out).
///
/// ```
/// use scylla2::policies::{ClusterView, LoadBalancingPolicy, Plan};
/// use scylla2::routing::{RoutingInfo, Target};
///
/// /// Never sends anything to nodes of the `analytics` data center.
/// #[derive(Debug)]
/// struct NoAnalytics;
///
/// impl LoadBalancingPolicy for NoAnalytics {
///     fn plan(
///         &self,
///         _request: &RoutingInfo<'_>,
///         cluster: &ClusterView<'_>,
///         default: &mut dyn Iterator<Item = Target>,
///         plan: &mut Plan,
///     ) {
///         plan.extend(default.filter(|t| {
///             cluster
///                 .node(t.node)
///                 .is_some_and(|n| n.datacenter.as_deref() != Some("analytics"))
///         }));
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).nodes(2).datacenters([("dc1", 1), ("analytics", 1)]).start().await?;
/// # let (dc1, uri) = (sim.contact_points()[0], sim.contact_points()[1].to_string());
/// let session = scylla2::Session::builder()
///     .contact_point(uri) // the node of `analytics`: only its metadata is read there
///     .load_balancing(std::sync::Arc::new(NoAnalytics))
///     .connect()
///     .await?;
/// for _ in 0..4 {
///     let result = session.execute("SELECT key FROM system.local", ()).await?;
///     assert_eq!(result.execution().node, Some(dc1));
/// }
/// # Ok(()) }
/// ```
pub trait LoadBalancingPolicy: Send + Sync + fmt::Debug {
    /// Fills `plan` for a statement described by `request`.
    fn plan(
        &self,
        request: &RoutingInfo<'_>,
        cluster: &ClusterView<'_>,
        default: &mut dyn Iterator<Item = Target>,
        plan: &mut Plan,
    );
}

/// The driver's own plan, unchanged (what a session uses without a policy, through a
/// faster path that skips building a [`Plan`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPolicy;

impl LoadBalancingPolicy for DefaultPolicy {
    fn plan(
        &self,
        _request: &RoutingInfo<'_>,
        _cluster: &ClusterView<'_>,
        default: &mut dyn Iterator<Item = Target>,
        plan: &mut Plan,
    ) {
        plan.extend(default);
    }
}

/// A node predicate of [`PreferNodes`] and [`FilterNodes`].
pub type NodePredicate = dyn Fn(&NodeInfo) -> bool + Send + Sync;

/// What [`PreferNodes`] and [`FilterNodes`] hold: the wrapped policy and a node predicate.
struct Wrapped {
    inner: Arc<dyn LoadBalancingPolicy>,
    predicate: Box<NodePredicate>,
}

impl Wrapped {
    fn new(
        inner: Arc<dyn LoadBalancingPolicy>,
        predicate: impl Fn(&NodeInfo) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self {
            inner,
            predicate: Box::new(predicate),
        }
    }

    /// Whether `target`'s node matches the predicate.
    fn matches(&self, cluster: &ClusterView<'_>, target: &Target) -> bool {
        cluster
            .node(target.node)
            .is_some_and(|n| (self.predicate)(n))
    }

    fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// Wraps a policy: its targets on nodes matching a predicate first (e.g. a rack, a data
/// center, a set of hosts), the others after, each group in the inner policy's order.
///
/// ```
/// use std::sync::Arc;
/// use scylla2::policies::{DefaultPolicy, PreferNodes};
///
/// let rack_a = PreferNodes::new(Arc::new(DefaultPolicy), |node| {
///     node.rack.as_deref() == Some("rack-a")
/// });
/// ```
pub struct PreferNodes(Wrapped);

impl PreferNodes {
    /// `inner`'s plan, nodes matching `prefer` first.
    pub fn new(
        inner: Arc<dyn LoadBalancingPolicy>,
        prefer: impl Fn(&NodeInfo) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self(Wrapped::new(inner, prefer))
    }
}

impl fmt::Debug for PreferNodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug("PreferNodes", f)
    }
}

impl LoadBalancingPolicy for PreferNodes {
    fn plan(
        &self,
        request: &RoutingInfo<'_>,
        cluster: &ClusterView<'_>,
        default: &mut dyn Iterator<Item = Target>,
        plan: &mut Plan,
    ) {
        let mut inner = Plan::new();
        self.0.inner.plan(request, cluster, default, &mut inner);
        let preferred = |t: &Target| self.0.matches(cluster, t);
        plan.extend(inner.targets().iter().copied().filter(preferred));
        plan.extend(inner.targets().iter().copied().filter(|t| !preferred(t)));
    }
}

/// Wraps a policy: only its targets on nodes matching a predicate (e.g. leave out nodes
/// being decommissioned, or a data center); nothing is sent to the others.
///
/// ```
/// use std::sync::Arc;
/// use scylla2::policies::{DefaultPolicy, FilterNodes};
///
/// let local_only = FilterNodes::new(Arc::new(DefaultPolicy), |node| {
///     node.datacenter.as_deref() == Some("dc1")
/// });
/// ```
pub struct FilterNodes(Wrapped);

impl FilterNodes {
    /// `inner`'s plan, without nodes not matching `keep`.
    pub fn new(
        inner: Arc<dyn LoadBalancingPolicy>,
        keep: impl Fn(&NodeInfo) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self(Wrapped::new(inner, keep))
    }
}

impl fmt::Debug for FilterNodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug("FilterNodes", f)
    }
}

impl LoadBalancingPolicy for FilterNodes {
    fn plan(
        &self,
        request: &RoutingInfo<'_>,
        cluster: &ClusterView<'_>,
        default: &mut dyn Iterator<Item = Target>,
        plan: &mut Plan,
    ) {
        // The filter reads the default plan lazily, so that a plan of kept nodes is still
        // full when the first ones are filtered out.
        let keep = |t: &Target| self.0.matches(cluster, t);
        let mut kept = default.filter(keep);
        self.0.inner.plan(request, cluster, &mut kept, plan);
        let unfiltered = *plan;
        *plan = Plan::new();
        plan.extend(unfiltered.targets().iter().copied().filter(keep));
    }
}
