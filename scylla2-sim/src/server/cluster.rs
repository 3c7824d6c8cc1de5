//! The cluster: builder, shared state, node lifecycle (stop / start / add / remove), events,
//! statistics and the fault-injection API.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use arc_swap::ArcSwap;

use super::conn::Out;
use super::eng::Engine;
use super::faults::{FaultRule, Faults};
use super::node::{self, Node, lock};
use super::response::Event;
use super::shard::{SplitMix, gen_tokens};
use crate::model::{NodeInfo, RequestStats};

/// Why a cluster or node could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Binding a listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// An invalid configuration.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// No node with that index.
    #[error("no node {0}")]
    NoSuchNode(usize),
    /// A tablet could not be moved (unknown table, or its keyspace does not use tablets).
    #[error("cannot move the tablet: {0}")]
    Tablet(String),
    /// The TLS configuration could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] super::tls::SimTlsError),
}

/// Cluster-wide settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub shards: u32,
    pub port: u16,
    pub shard_port: u16,
    pub shard_aware: bool,
    pub max_version: u8,
    pub users: Option<Vec<(String, String)>>,
    /// `release_version` of the system tables; None: per mode (see `ClusterBuilder`).
    pub release_version: Option<String>,
    /// `cql_version` of `system.local` and SUPPORTED; None: per mode.
    pub cql_version: Option<String>,
    /// How long a trace's `duration` stays null.
    pub trace_delay: Duration,
    pub tokens_per_node: usize,
    pub seed: u64,
    pub base_ip: Ipv4Addr,
    /// TLS on the CQL and shard-aware ports.
    pub tls: Option<super::tls::SimTls>,
}

/// Builder methods that each set one field of the builder's [`Config`] to their argument.
macro_rules! config_setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty => $field:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.config.$field = value;
                self
            }
        )*
    };
}

/// Builds a [`Cluster`].
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    nodes: usize,
    datacenters: Vec<(String, usize)>,
    racks: Vec<String>,
    config: Config,
}

impl ClusterBuilder {
    /// Number of nodes (default 1).
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n;
        self
    }
    config_setters! {
        /// Shards per node (default 0 = Apache Cassandra: no SCYLLA_* keys, no shard-aware port).
        shards: u32 => shards;
        /// CQL port shared by every node (default 9042; 0 = a port free on every address).
        port: u16 => port;
        /// Shard-aware port (default 19042; 0 = pick a free one).
        shard_aware_port: u16 => shard_port;
        /// First node address; node i listens on base + i (default 127.0.0.1).
        base_ip: Ipv4Addr => base_ip;
        /// Highest protocol version offered, 4 or 5 (default 5).
        max_protocol_version: u8 => max_version;
        /// Vnode tokens per node (default 16).
        tokens_per_node: usize => tokens_per_node;
        /// Seed of tokens and host ids (default 1).
        seed: u64 => seed;
    }
    /// Neither listen on nor advertise a shard-aware port (older Scylla).
    pub fn no_shard_aware_port(mut self) -> Self {
        self.config.shard_aware = false;
        self
    }
    /// Data centers as (name, node count), assigned to nodes in order; default one
    /// `datacenter1` holding every node.
    pub fn datacenters<S: Into<String>>(
        mut self,
        dcs: impl IntoIterator<Item = (S, usize)>,
    ) -> Self {
        self.datacenters = dcs.into_iter().map(|(n, c)| (n.into(), c)).collect();
        self
    }
    /// Rack names by node index (missing ones are `rack1`).
    pub fn racks<S: Into<String>>(mut self, racks: impl IntoIterator<Item = S>) -> Self {
        self.racks = racks.into_iter().map(Into::into).collect();
        self
    }
    /// Require PasswordAuthenticator with these (user, password) pairs.
    pub fn password_auth<U: Into<String>, P: Into<String>>(
        mut self,
        users: impl IntoIterator<Item = (U, P)>,
    ) -> Self {
        self.config.users = Some(
            users
                .into_iter()
                .map(|(u, p)| (u.into(), p.into()))
                .collect(),
        );
        self
    }
    /// Serve TLS only, on the CQL port and on the shard-aware port (announced as
    /// `SCYLLA_SHARD_AWARE_PORT_SSL`, shards still chosen by client port); see
    /// [`SimTls`](super::tls::SimTls) and [`Cluster::tls_ca_pem`].
    pub fn tls(mut self, tls: super::tls::SimTls) -> Self {
        self.config.tls = Some(tls);
        self
    }
    /// `release_version` shown in system tables. Default per mode: "4.0.0" in Cassandra mode;
    /// "3.0.8" in ScyllaDB mode, the Cassandra-compatible version ScyllaDB reports there
    /// (`version::release()` keeps its own version elsewhere).
    pub fn release_version(mut self, v: impl Into<String>) -> Self {
        self.config.release_version = Some(v.into());
        self
    }
    /// CQL version of `system.local.cql_version` and SUPPORTED `CQL_VERSION`. Default per
    /// mode: "3.4.5" (Cassandra 4.0's `QueryProcessor.CQL_VERSION`), "3.3.1" (ScyllaDB's
    /// `query_processor::CQL_VERSION`).
    pub fn cql_version(mut self, v: impl Into<String>) -> Self {
        self.config.cql_version = Some(v.into());
        self
    }
    /// Keeps a trace's `system_traces.sessions.duration` null for this long after the traced
    /// request was answered, as a real node still writing the trace does (default zero).
    pub fn trace_delay(mut self, delay: Duration) -> Self {
        self.config.trace_delay = delay;
        self
    }

    /// Binds every node and starts serving.
    pub async fn start(self) -> Result<Cluster, StartError> {
        if self.nodes == 0 {
            return Err(StartError::Config("at least one node"));
        }
        if !(4..=5).contains(&self.config.max_version) {
            return Err(StartError::Config("max protocol version must be 4 or 5"));
        }
        if u32::from(self.config.base_ip)
            .checked_add(self.nodes as u32)
            .is_none()
        {
            return Err(StartError::Config("address range overflows"));
        }
        let scylla = self.config.shards > 0;
        let mut config = self.config.clone();
        let (release, cql) = if scylla {
            ("3.0.8", "3.3.1")
        } else {
            ("4.0.0", "3.4.5")
        };
        config.release_version.get_or_insert_with(|| release.into());
        config.cql_version.get_or_insert_with(|| cql.into());
        let engine = Engine::with_flavor(if scylla {
            crate::model::Flavor::Scylla
        } else {
            crate::model::Flavor::Cassandra
        });
        engine.set_scylla_mode(scylla);
        engine.set_trace_delay(config.trace_delay);
        // AuthKeyspace / CassandraRoleManager: the default superuser `cassandra` and the users.
        let roles = match &config.users {
            Some(users) => std::iter::once("cassandra".to_string())
                .chain(users.iter().map(|(u, _)| u.clone()))
                .filter({
                    let mut seen = HashSet::new();
                    move |r| seen.insert(r.clone())
                })
                .collect(),
            None => Vec::new(),
        };
        engine.set_identity(crate::engine::system_tables::Identity {
            cql_version: config.cql_version.clone().unwrap_or_default(),
            roles,
        });
        let shared = Arc::new(Shared {
            engine,
            config,
            nodes: RwLock::new(Vec::new()),
            infos: ArcSwap::from_pointee(Vec::new()),
            faults: Faults::default(),
            next_conn: AtomicU64::new(1),
            used_tokens: Mutex::new(HashSet::new()),
            ports: Mutex::new((self.config.port, self.config.shard_port)),
            nat: AtomicBool::new(false),
        });
        let mut dcs = Vec::new();
        for (name, count) in &self.datacenters {
            dcs.extend(std::iter::repeat_n(name.clone(), *count));
        }
        let mut nodes = Vec::with_capacity(self.nodes);
        for i in 0..self.nodes {
            let dc = dcs.get(i).cloned().unwrap_or_else(|| "datacenter1".into());
            let rack = self.racks.get(i).cloned().unwrap_or_else(|| "rack1".into());
            nodes.push(shared.new_node(i, dc, rack)?);
        }
        let listeners = bind_all(&shared, &nodes).await?;
        {
            let mut all = shared.nodes.write().unwrap_or_else(|p| p.into_inner());
            *all = nodes.clone();
        }
        for (n, (main, aware)) in nodes.iter().zip(listeners) {
            node::serve(&shared, n, main, aware);
        }
        shared.refresh_infos();
        Ok(Cluster { shared })
    }
}

type Listeners = Vec<(tokio::net::TcpListener, Option<tokio::net::TcpListener>)>;

/// Binds every node on one CQL port (and one shard-aware port), retrying when a port picked
/// free on the first address is taken on another.
async fn bind_all(shared: &Arc<Shared>, nodes: &[Arc<Node>]) -> Result<Listeners, StartError> {
    let (want_port, want_shard) = *lock(&shared.ports);
    let sharded = shared.wants_shard_port();
    let mut last_err = None;
    for _ in 0..50 {
        let mut out: Listeners = Vec::new();
        let (mut port, mut sport) = (want_port, want_shard);
        let mut failed = false;
        for n in nodes {
            match node::bind(n.addr, port, sharded.then_some(sport)).await {
                Ok((m, a)) => {
                    port = m.local_addr().map(|a| a.port()).unwrap_or(port);
                    if let Some(a) = &a {
                        sport = a.local_addr().map(|a| a.port()).unwrap_or(sport);
                    }
                    out.push((m, a));
                }
                Err(e) => {
                    last_err = Some(StartError::Bind {
                        addr: SocketAddr::new(n.addr, port),
                        source: e,
                    });
                    failed = true;
                    break;
                }
            }
        }
        if !failed {
            *lock(&shared.ports) = (port, if sharded { sport } else { 0 });
            return Ok(out);
        }
        if want_port != 0 && (want_shard != 0 || !sharded) {
            break;
        }
    }
    Err(last_err.unwrap_or(StartError::Config("cannot bind")))
}

/// State shared by the cluster handle, nodes and connections.
pub(crate) struct Shared {
    pub engine: Engine,
    pub config: Config,
    pub nodes: RwLock<Vec<Arc<Node>>>,
    /// Node infos for replica placement (refreshed on topology / status changes); `up` is
    /// false for stopped and paused nodes alike (consistency levels count them down).
    pub infos: ArcSwap<Vec<NodeInfo>>,
    pub faults: Faults,
    pub next_conn: AtomicU64,
    used_tokens: Mutex<HashSet<i64>>,
    /// The CQL and shard-aware ports actually bound.
    ports: Mutex<(u16, u16)>,
    /// Pretend a NAT rewrites client ports: the shard-aware port assigns shards round robin.
    pub nat: AtomicBool,
}

impl Shared {
    fn new_node(&self, index: usize, dc: String, rack: String) -> Result<Arc<Node>, StartError> {
        let addr = Ipv4Addr::from(u32::from(self.config.base_ip) + index as u32);
        let tokens = gen_tokens(
            self.config.seed,
            index,
            self.config.tokens_per_node.max(1),
            &mut lock(&self.used_tokens),
        );
        let mut rng = SplitMix(self.config.seed.wrapping_mul(31).wrapping_add(index as u64));
        let host_id = uuid::Builder::from_random_bytes(
            ((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())).to_be_bytes(),
        )
        .into_uuid();
        let tls = match &self.config.tls {
            Some(tls) => Some(tls.acceptor(IpAddr::V4(addr))?),
            None => None,
        };
        Ok(Arc::new(Node::new(
            index,
            IpAddr::V4(addr),
            (dc, rack),
            tokens,
            host_id,
            self.config.shards,
            tls,
        )))
    }

    pub(crate) fn nodes(&self) -> Vec<Arc<Node>> {
        self.nodes.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn node(&self, i: usize) -> Option<Arc<Node>> {
        self.nodes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(i)
            .cloned()
    }

    /// Whether nodes listen on a shard-aware port.
    pub(crate) fn wants_shard_port(&self) -> bool {
        self.config.shards > 0 && self.config.shard_aware
    }

    pub(crate) fn port(&self) -> u16 {
        lock(&self.ports).0
    }

    pub(crate) fn shard_port(&self) -> u16 {
        lock(&self.ports).1
    }

    pub(crate) fn node_info(&self, n: &Node) -> NodeInfo {
        n.info(
            self.port(),
            self.engine.schema_version(),
            self.config.release_version.as_deref().unwrap_or_default(),
        )
    }

    pub(crate) fn refresh_infos(&self) {
        let infos: Vec<NodeInfo> = self
            .nodes()
            .iter()
            .filter(|n| !n.removed.load(Ordering::Acquire))
            .map(|n| {
                let mut info = self.node_info(n);
                info.up &= !*n.paused.borrow();
                info
            })
            .collect();
        self.infos.store(Arc::new(infos));
    }

    pub(crate) fn request_stats(&self) -> Vec<RequestStats> {
        self.nodes()
            .iter()
            .filter(|n| !n.removed.load(Ordering::Acquire))
            .flat_map(|n| n.stats_rows())
            .collect()
    }

    /// Pushes `event` to every connection registered for it, on every node except `skip`.
    pub(crate) fn broadcast(&self, event: Event, skip: Option<usize>) {
        let bit = match event {
            Event::Topology { .. } => 1,
            Event::Status { .. } => 2,
            Event::Schema(_) => 4,
        };
        let event = Arc::new(event);
        for n in self.nodes() {
            if Some(n.index) != skip {
                n.push(bit, || Out::Event(event.clone()));
            }
        }
    }
}

/// A running simulated cluster. Dropping it stops every node.
///
/// ```no_run
/// # async fn demo() -> Result<(), scylla2_sim::StartError> {
/// use scylla2_sim::Cluster;
/// // 3 nodes × 4 shards on 127.0.0.1..=3, ports picked free (tests run in parallel).
/// let cluster = Cluster::builder()
///     .nodes(3)
///     .shards(4)
///     .port(0)
///     .shard_aware_port(0)
///     .start()
///     .await?;
/// let contact_points = cluster.contact_points();
/// # let _ = contact_points;
/// cluster.stop_node(1).await?; // connects to node 1 are now refused
/// cluster.start_node(1).await?;
/// # Ok(())
/// # }
/// ```
pub struct Cluster {
    pub(super) shared: Arc<Shared>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("nodes", &self.shared.nodes().len())
            .field("port", &self.port())
            .finish()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in self.shared.nodes() {
            drop(n.shutdown());
        }
    }
}

impl Cluster {
    /// A builder with defaults: 1 node, Cassandra mode, port 9042, 127.0.0.1, protocol v5.
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder {
            nodes: 1,
            datacenters: Vec::new(),
            racks: Vec::new(),
            config: Config {
                shards: 0,
                port: 9042,
                shard_port: 19042,
                shard_aware: true,
                max_version: 5,
                users: None,
                release_version: None,
                cql_version: None,
                trace_delay: Duration::ZERO,
                tokens_per_node: 16,
                seed: 1,
                base_ip: Ipv4Addr::new(127, 0, 0, 1),
                tls: None,
            },
        }
    }

    /// The CQL port of every node.
    pub fn port(&self) -> u16 {
        self.shared.port()
    }

    /// The shard-aware port (0 when there is none: Cassandra mode or disabled).
    pub fn shard_aware_port(&self) -> u16 {
        self.shared.shard_port()
    }

    /// The test CA certificate (PEM) clients trust, when the cluster serves TLS with a
    /// generated identity ([`SimTls::self_signed`](super::tls::SimTls::self_signed)).
    pub fn tls_ca_pem(&self) -> Option<String> {
        self.shared.config.tls.as_ref().and_then(|t| t.ca_pem())
    }

    /// A client certificate and key (PEM) signed by the test CA, for mutual TLS.
    pub fn tls_client_identity(&self, name: &str) -> Result<(String, String), StartError> {
        let tls = self
            .shared
            .config
            .tls
            .as_ref()
            .ok_or(StartError::Config("the cluster does not serve TLS"))?;
        Ok(tls.client_identity(name)?)
    }

    /// Connections node `i` accepted on its shard-aware port since the cluster started.
    pub fn shard_aware_connections(&self, i: usize) -> Result<u64, StartError> {
        Ok(self.get(i)?.shard_aware_accepted.load(Ordering::Relaxed))
    }

    /// CQL addresses of the nodes that are up.
    pub fn contact_points(&self) -> Vec<SocketAddr> {
        let port = self.port();
        self.shared
            .nodes()
            .iter()
            .filter(|n| n.up.load(Ordering::Acquire))
            .map(|n| SocketAddr::new(n.addr, port))
            .collect()
    }

    /// Number of nodes (including stopped and removed ones, which keep their index).
    pub fn node_count(&self) -> usize {
        self.shared.nodes().len()
    }

    /// The nodes as system tables show them.
    pub fn nodes(&self) -> Vec<NodeInfo> {
        self.shared
            .nodes()
            .iter()
            .map(|n| self.shared.node_info(n))
            .collect()
    }

    /// The replicas of `token` in `keyspace`, as indexes into [`Cluster::nodes`] in placement
    /// order, by the keyspace's replication strategy (empty for an unknown keyspace): what
    /// the simulator itself uses to answer consistency levels, for tests that compare a
    /// driver's routing with it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sim = scylla2_sim::Cluster::builder().nodes(3).port(0).start().await?;
    /// assert!(sim.replicas("no_such_keyspace", 0).is_empty());
    /// assert_eq!(sim.replicas("system", 42).len(), 1); // LocalStrategy: the node itself
    /// # sim.shutdown(); Ok(()) }
    /// ```
    pub fn replicas(&self, keyspace: &str, token: i64) -> Vec<usize> {
        self.shared.engine.replicas(keyspace, token, &self.nodes())
    }

    /// Request counters per node and shard.
    pub fn request_stats(&self) -> Vec<RequestStats> {
        self.shared.request_stats()
    }

    /// Zeroes every counter.
    pub fn reset_stats(&self) {
        for n in self.shared.nodes() {
            n.reset_stats();
        }
    }

    pub(super) fn get(&self, i: usize) -> Result<Arc<Node>, StartError> {
        self.shared.node(i).ok_or(StartError::NoSuchNode(i))
    }

    fn addr_of(&self, n: &Node) -> SocketAddr {
        SocketAddr::new(n.addr, self.port())
    }

    /// Stops node `i`: listeners close (connects are refused), connections drop, prepared
    /// statements are forgotten; peers get STATUS_CHANGE DOWN.
    pub async fn stop_node(&self, i: usize) -> Result<(), StartError> {
        let n = self.get(i)?;
        for t in n.shutdown() {
            let _ = t.await;
        }
        n.prepared
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        if n.up.swap(false, Ordering::AcqRel) {
            self.shared.refresh_infos();
            self.shared.broadcast(
                Event::Status {
                    change: "DOWN".into(),
                    address: self.addr_of(&n),
                },
                Some(i),
            );
        }
        Ok(())
    }

    /// Binds node `n` on the cluster's CQL port (and shard-aware port when it has one).
    async fn bind_node(
        &self,
        n: &Node,
    ) -> Result<(tokio::net::TcpListener, Option<tokio::net::TcpListener>), StartError> {
        let sharded = self.shared.wants_shard_port();
        node::bind(
            n.addr,
            self.port(),
            sharded.then_some(self.shard_aware_port()),
        )
        .await
        .map_err(|e| StartError::Bind {
            addr: self.addr_of(n),
            source: e,
        })
    }

    /// Starts a stopped node again (same address, ports, tokens and data); peers get
    /// STATUS_CHANGE UP.
    pub async fn start_node(&self, i: usize) -> Result<(), StartError> {
        let n = self.get(i)?;
        if n.up.load(Ordering::Acquire) {
            return Ok(());
        }
        let (main, aware) = self.bind_node(&n).await?;
        n.removed.store(false, Ordering::Release);
        node::serve(&self.shared, &n, main, aware);
        self.shared.refresh_infos();
        self.shared.broadcast(
            Event::Status {
                change: "UP".into(),
                address: self.addr_of(&n),
            },
            Some(i),
        );
        Ok(())
    }

    /// Stop then start node `i`.
    pub async fn restart_node(&self, i: usize) -> Result<(), StartError> {
        self.stop_node(i).await?;
        self.start_node(i).await
    }

    /// Adds a node (next address, new tokens) and announces TOPOLOGY_CHANGE NEW_NODE.
    pub async fn add_node(&self) -> Result<usize, StartError> {
        let i = self.node_count();
        if u32::from(self.shared.config.base_ip)
            .checked_add(i as u32 + 1)
            .is_none()
        {
            return Err(StartError::Config("address range overflows"));
        }
        let n = self
            .shared
            .new_node(i, "datacenter1".into(), "rack1".into())?;
        let (main, aware) = self.bind_node(&n).await?;
        self.shared
            .nodes
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(n.clone());
        node::serve(&self.shared, &n, main, aware);
        self.shared.refresh_infos();
        self.shared.broadcast(
            Event::Topology {
                change: "NEW_NODE".into(),
                address: self.addr_of(&n),
            },
            Some(i),
        );
        Ok(i)
    }

    /// Decommissions node `i`: stops it, drops it from peers, announces REMOVED_NODE.
    pub async fn remove_node(&self, i: usize) -> Result<(), StartError> {
        let n = self.get(i)?;
        for t in n.shutdown() {
            let _ = t.await;
        }
        n.up.store(false, Ordering::Release);
        n.removed.store(true, Ordering::Release);
        self.shared.refresh_infos();
        self.shared.broadcast(
            Event::Topology {
                change: "REMOVED_NODE".into(),
                address: self.addr_of(&n),
            },
            Some(i),
        );
        Ok(())
    }

    /// Pauses node `i`: connections are accepted and requests read, but nothing is answered
    /// until [`Cluster::resume_node`].
    /// Consistency levels count a paused node as down.
    pub fn pause_node(&self, i: usize) -> Result<(), StartError> {
        self.get(i)?.paused.send_replace(true);
        self.shared.refresh_infos();
        Ok(())
    }

    /// Resumes a paused node; held requests are answered.
    pub fn resume_node(&self, i: usize) -> Result<(), StartError> {
        self.get(i)?.paused.send_replace(false);
        self.shared.refresh_infos();
        Ok(())
    }

    /// Delays every response of node `i` (or of one shard of it) by `delay` (zero clears).
    pub fn set_delay(
        &self,
        i: usize,
        shard: Option<u32>,
        delay: Duration,
    ) -> Result<(), StartError> {
        let n = self.get(i)?;
        let slot = match shard {
            None => 0,
            Some(s) => 1 + s as usize,
        };
        let d = n
            .delays
            .get(slot)
            .ok_or(StartError::Config("no such shard"))?;
        d.store(
            delay.as_micros().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
        Ok(())
    }

    /// Adds a fault rule.
    pub fn inject(&self, rule: FaultRule) {
        self.shared.faults.add(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Whether some fault rule still has hits left: a test waits for it to turn false to
    /// know that every request its rules were meant for has arrived.
    pub fn faults_pending(&self) -> bool {
        self.shared.faults.is_active()
    }

    /// Closes every client connection of node `i` (the node stays up).
    pub fn drop_connections(&self, i: usize) -> Result<(), StartError> {
        self.get(i)?.drop_connections();
        Ok(())
    }

    /// Number of open client connections of node `i`.
    pub fn connection_count(&self, i: usize) -> Result<usize, StartError> {
        Ok(lock(&self.get(i)?.rt).conns.len())
    }

    /// Writes a malformed frame (bad version byte) on every connection of node `i`.
    pub fn send_malformed(&self, i: usize) -> Result<(), StartError> {
        let n = self.get(i)?;
        let rt = lock(&n.rt);
        for c in rt.conns.values() {
            let _ = c.tx.send(Out::Raw(vec![0x7f, 0, 0, 0, 0x0C, 0, 0, 0, 0]));
        }
        Ok(())
    }

    /// Simulates a NAT in front of the shard-aware port: connections to it land on shards
    /// round robin instead of by client port, as when the port is rewritten (drivers must
    /// then check SCYLLA_SHARD and fall back).
    pub fn set_shard_aware_nat(&self, on: bool) {
        self.shared.nat.store(on, Ordering::Release);
    }

    /// Pushes an arbitrary event to every connection registered for its type.
    pub fn push_event(&self, event: Event) {
        self.shared.broadcast(event, None);
    }

    /// Stops every node.
    pub fn shutdown(&self) {
        for n in self.shared.nodes() {
            drop(n.shutdown());
            n.up.store(false, Ordering::Release);
        }
    }
}
