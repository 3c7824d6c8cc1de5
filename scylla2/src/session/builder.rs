//! [`SessionBuilder`]: contact points, keyspace, compression, protocol bounds,
//! authentication, timeouts and execution defaults; `connect()` resolves the contact points,
//! opens the connections and applies the keyspace.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use scylla2_cql::{Consistency, ProtocolVersion, SerialConsistency};

use super::pool::{OpenError, Pools, open_connection};
use super::{Session, SessionInner, keyspace};
use crate::auth::{AuthenticatorProvider, PlainTextAuthenticator};
use crate::connection::{Compression, ConnectionConfig};
use crate::error::SessionError;
use crate::events::{Events, SessionEvent};
use crate::policies::{ExecutionPolicies, ReconnectionPolicy};
use crate::statement::ExecutionDefaults;

/// Configures and connects a [`Session`]. Every setting has a default; only a contact point
/// is required.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let uri = sim.contact_points()[0].to_string(); // e.g. "127.0.0.1:9042"
/// use std::time::Duration;
/// use scylla2::{Consistency, Session};
/// use scylla2::connection::Compression;
///
/// let session = Session::builder()
///     .contact_point(uri)
///     .compression(Some(Compression::Lz4))
///     .request_timeout(Some(Duration::from_secs(2)))
///     .default_consistency(Consistency::LocalQuorum)
///     .default_page_size(1_000)
///     .connect()
///     .await?;
/// assert_eq!(session.execute("SELECT key FROM system.local", ()).await?.rows_num(), 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SessionBuilder {
    contact_points: Vec<String>,
    keyspace: Option<String>,
    connection: ConnectionConfig,
    defaults: ExecutionDefaults,
    connections_per_node: usize,
    topology: Option<crate::topology::TopologyConfig>,
    policies: Option<ExecutionPolicies>,
    reconnection: Option<Arc<dyn ReconnectionPolicy>>,
    load_balancing: Option<Arc<dyn crate::policies::LoadBalancingPolicy>>,
    schema_metadata: bool,
    /// The session's event channels, subscribable before `connect`.
    events: Arc<Events>,
}

impl Default for SessionBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionBuilder {
    /// A builder with default settings and no contact point.
    pub fn new() -> Self {
        Self {
            contact_points: Vec::new(),
            keyspace: None,
            connection: ConnectionConfig::default(),
            defaults: ExecutionDefaults::default(),
            connections_per_node: 1,
            topology: Some(crate::topology::TopologyConfig::default()),
            policies: None,
            reconnection: None,
            load_balancing: None,
            schema_metadata: false,
            events: Arc::new(Events::new()),
        }
    }

    /// Adds a contact point, `host:port` (names are resolved at connect time).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// let session = scylla2::Session::builder().contact_point(uri).connect().await?;
    /// assert_eq!(session.nodes(), sim.contact_points());
    /// // Not `host:port`: refused before anything is resolved.
    /// let err = scylla2::Session::builder().contact_point("localhost").connect().await;
    /// assert!(matches!(err, Err(scylla2::error::SessionError::InvalidContactPoint(_))));
    /// # Ok(()) }
    /// ```
    pub fn contact_point(mut self, host_port: impl Into<String>) -> Self {
        self.contact_points.push(host_port.into());
        self
    }

    /// Adds contact points.
    pub fn contact_points<I: IntoIterator<Item = S>, S: Into<String>>(mut self, points: I) -> Self {
        self.contact_points
            .extend(points.into_iter().map(Into::into));
        self
    }

    /// The keyspace every connection uses (validated locally at connect time).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// let admin = scylla2::Session::builder().contact_point(uri.clone()).connect().await?;
    /// admin.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// let session = scylla2::Session::builder().contact_point(uri).keyspace("ks").connect().await?;
    /// session.execute("CREATE TABLE t (id int PRIMARY KEY)", ()).await?; // ks.t
    /// assert_eq!(session.keyspace().as_deref().map(String::as_str), Some("ks"));
    /// # Ok(()) }
    /// ```
    pub fn keyspace(mut self, keyspace: impl Into<String>) -> Self {
        self.keyspace = Some(keyspace.into());
        self
    }

    /// Compression, if the server offers it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// use scylla2::connection::Compression;
    ///
    /// let session = scylla2::Session::builder()
    ///     .contact_point(uri)
    ///     .compression(Some(Compression::Lz4))
    ///     .connect()
    ///     .await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY, v text)", ()).await?;
    /// let big = "x".repeat(10_000); // compressed on the wire, whole here
    /// session.execute("INSERT INTO ks.t (id, v) VALUES (1, ?)", (big.as_str(),)).await?;
    /// let (v,): (String,) = session.execute("SELECT v FROM ks.t", ()).await?.single_row()?;
    /// assert_eq!(v, big);
    /// # Ok(()) }
    /// ```
    pub fn compression(mut self, compression: Option<Compression>) -> Self {
        self.connection.compression = compression;
        self
    }

    /// How connections gather queued frames into one socket write (default
    /// [`WriteCoalescing::Yield`](crate::connection::WriteCoalescing::Yield); opt-in holds
    /// until the next read: `until_next_read`, `adaptive`).
    pub fn write_coalescing(mut self, coalescing: crate::connection::WriteCoalescing) -> Self {
        self.connection.write_coalescing = coalescing;
        self
    }

    /// Lowest and highest protocol versions to use.
    pub fn protocol_versions(mut self, min: ProtocolVersion, max: ProtocolVersion) -> Self {
        self.connection.min_protocol_version = min;
        self.connection.max_protocol_version = max;
        self
    }

    /// An authenticator for servers that require authentication.
    pub fn authenticator(mut self, provider: Arc<dyn AuthenticatorProvider>) -> Self {
        self.connection.authenticator = Some(provider);
        self
    }

    /// Username and password authentication.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).password_auth([("app", "s3cret")]).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// let session = scylla2::Session::builder()
    ///     .contact_point(uri.clone())
    ///     .user("app", "s3cret")
    ///     .connect()
    ///     .await?;
    /// assert_eq!(session.execute("SELECT key FROM system.local", ()).await?.rows_num(), 1);
    /// // A wrong password fails the connection, with the server's reason.
    /// let wrong = scylla2::Session::builder().contact_point(uri).user("app", "nope").connect().await;
    /// assert!(matches!(wrong, Err(scylla2::error::SessionError::Connect(_))));
    /// # Ok(()) }
    /// ```
    pub fn user(self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.authenticator(Arc::new(PlainTextAuthenticator::new(username, password)))
    }

    /// Client TLS for every connection of the session (control connection, node pools,
    /// ScyllaDB's shard-aware TLS port); see [`TlsContext`](crate::connection::TlsContext)
    /// for the server names nodes are verified against. Set it after
    /// [`Self::connection_config`], which replaces the whole connection configuration.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).tls(scylla2_sim::SimTls::self_signed()?).start().await?;
    /// # let (uri, ca_pem) = (sim.contact_points()[0].to_string(), sim.tls_ca_pem().ok_or("no CA")?);
    /// use scylla2::Session;
    /// use scylla2::connection::TlsContext;
    ///
    /// // The CA that signed the nodes' certificates (e.g. `std::fs::read("ca.pem")?`).
    /// let tls = TlsContext::from_pem(ca_pem.as_bytes(), None)?;
    /// let session = Session::builder().contact_point(uri).tls(tls).connect().await?;
    /// assert_eq!(session.execute("SELECT key FROM system.local", ()).await?.rows_num(), 1);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "rustls-023")]
    pub fn tls(mut self, context: crate::connection::TlsContext) -> Self {
        self.connection.tls = Some(context);
        self
    }

    /// TCP connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connection.connect_timeout = timeout;
        self
    }

    /// Handshake timeout.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.connection.handshake_timeout = timeout;
        self
    }

    /// Default request timeout (`None`: no timeout), enforced at millisecond precision (see
    /// `StatementOptions::timeout`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// use std::time::Duration;
    ///
    /// let session = scylla2::Session::builder()
    ///     .contact_point(uri)
    ///     .request_timeout(Some(Duration::from_millis(50)))
    ///     .connect()
    ///     .await?;
    /// sim.set_delay(0, None, Duration::from_millis(300))?; // a slow node
    /// let err = session.execute("SELECT key FROM system.local", ()).await.unwrap_err();
    /// assert!(matches!(err.kind(), scylla2::error::ExecutionError::Timeout(_)));
    /// # Ok(()) }
    /// ```
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.defaults.timeout = timeout;
        self
    }

    /// Default consistency.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// use scylla2::{Consistency, Query};
    ///
    /// let session = scylla2::Session::builder()
    ///     .contact_point(uri)
    ///     .default_consistency(Consistency::One)
    ///     .connect()
    ///     .await?;
    /// assert_eq!(session.defaults().consistency, Consistency::One);
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY)", ()).await?;
    /// assert!(session.execute("SELECT id FROM ks.t", ()).await.is_ok());
    /// // A statement's own consistency wins (THREE cannot be met by one replica).
    /// let three = Query::new("SELECT id FROM ks.t").with_consistency(Consistency::Three);
    /// assert!(session.execute(&three, ()).await.is_err());
    /// # Ok(()) }
    /// ```
    pub fn default_consistency(mut self, consistency: Consistency) -> Self {
        self.defaults.consistency = consistency;
        self
    }

    /// Default serial consistency.
    pub fn default_serial_consistency(mut self, consistency: Option<SerialConsistency>) -> Self {
        self.defaults.serial_consistency = consistency;
        self
    }

    /// Default page size in rows (5 000) of paged executions: `Session::execute_single_page`
    /// and `Session::execute_paged`. `Session::execute` is never paged: it returns the whole
    /// result or an error.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// let session = scylla2::Session::builder()
    ///     .contact_point(uri)
    ///     .default_page_size(2)
    ///     .connect()
    ///     .await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.t (p int, c int, PRIMARY KEY (p, c))", ()).await?;
    /// for c in 0..3i32 {
    ///     session.execute("INSERT INTO ks.t (p, c) VALUES (0, ?)", (c,)).await?;
    /// }
    /// let (page, more) = session.execute_single_page("SELECT c FROM ks.t", (), None).await?;
    /// assert_eq!((page.rows_num(), more.finished()), (2, false));
    /// // `execute` is never paged.
    /// assert_eq!(session.execute("SELECT c FROM ks.t", ()).await?.rows_num(), 3);
    /// # Ok(()) }
    /// ```
    pub fn default_page_size(mut self, rows: i32) -> Self {
        self.defaults.page_size = rows;
        self
    }

    /// The load balancing policy of routed executions: which nodes and shards a statement
    /// is tried on, in order (see [`LoadBalancingPolicy`]). Without one, the driver's own
    /// token-, shard- and distance-aware plan. Has no effect with topology disabled.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).nodes(2).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// use std::sync::Arc;
    /// use scylla2::policies::{DefaultPolicy, PreferNodes};
    ///
    /// let preferred = sim.contact_points()[1]; // e.g. the nodes of one rack
    /// let session = scylla2::Session::builder()
    ///     .contact_point(uri)
    ///     .load_balancing(Arc::new(PreferNodes::new(Arc::new(DefaultPolicy), move |node| {
    ///         node.address == preferred
    ///     })))
    ///     .connect()
    ///     .await?;
    /// let result = session.execute("SELECT key FROM system.local", ()).await?;
    /// assert_eq!(result.execution().node, Some(preferred));
    /// # Ok(()) }
    /// ```
    ///
    /// [`LoadBalancingPolicy`]: crate::policies::LoadBalancingPolicy
    pub fn load_balancing(
        mut self,
        policy: Arc<dyn crate::policies::load_balancing::LoadBalancingPolicy>,
    ) -> Self {
        self.load_balancing = Some(policy);
        self
    }

    /// The execution profile of statements without their own; `handle.map_to` re-points
    /// the session's executions at run time.
    ///
    /// ```
    /// use scylla2::policies::{ExecutionProfile, ExecutionProfileHandle};
    ///
    /// let profile = ExecutionProfileHandle::new(
    ///     ExecutionProfile::new().with_consistency(scylla2::Consistency::LocalOne),
    /// );
    /// let builder = scylla2::Session::builder()
    ///     .contact_point("127.0.0.1:9042")
    ///     .default_execution_profile(profile.clone());
    /// // Later: every execution without a profile of its own uses the new one.
    /// profile.map_to(ExecutionProfile::new().with_consistency(scylla2::Consistency::Quorum));
    /// assert_eq!(profile.profile().consistency, Some(scylla2::Consistency::Quorum));
    /// # let _ = builder;
    /// ```
    pub fn default_execution_profile(
        mut self,
        handle: crate::policies::ExecutionProfileHandle,
    ) -> Self {
        self.defaults.profile = Some(handle);
        self
    }

    /// Whether statements are idempotent unless they say otherwise.
    pub fn default_idempotent(mut self, idempotent: bool) -> Self {
        self.defaults.idempotent = idempotent;
        self
    }

    /// Connections opened to each node.
    pub fn connections_per_node(mut self, n: usize) -> Self {
        self.connections_per_node = n.max(1);
        self
    }

    /// The whole connection configuration (socket options, buffers, heartbeat, …).
    pub fn connection_config(mut self, config: ConnectionConfig) -> Self {
        self.connection = config;
        self
    }

    /// Topology discovery and token-/shard-aware routing settings; `None` disables them
    /// (requests then rotate over the contact points' connections, through the same attempt
    /// loop with the same policies).
    pub fn topology(mut self, config: Option<crate::topology::TopologyConfig>) -> Self {
        self.topology = config;
        self
    }

    /// Keep a snapshot of the cluster's schema, current after every schema change
    /// (`Session::schema`, [`SessionEvent::SchemaRefreshed`]); off by default. Needs the
    /// topology (the control connection reads it).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// let session = scylla2::Session::builder()
    ///     .contact_point(uri)
    ///     .schema_metadata(true)
    ///     .connect()
    ///     .await?;
    /// session.execute("CREATE KEYSPACE ks WITH replication = \
    ///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
    /// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY, v text)", ()).await?;
    /// let schema = session.schema().ok_or("schema metadata on, routing active")?;
    /// let table = schema.table("ks", "t").ok_or("no table ks.t")?;
    /// for column in &table.columns {
    ///     println!("{} {} ({:?})", column.name, column.cql_type, column.kind);
    /// }
    /// assert_eq!(table.columns.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn schema_metadata(mut self, on: bool) -> Self {
        self.schema_metadata = on;
        self
    }

    /// Retry and speculative execution policies of every execution, routed or not (they
    /// replace `TopologyConfig::policies`, which applies when this is not called).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use scylla2::policies::{DefaultRetryPolicy, ExecutionPolicies, SpeculativeExecutionPolicy};
    ///
    /// let policies = ExecutionPolicies::default()
    ///     .with_retry(Arc::new(DefaultRetryPolicy))
    ///     // Idempotent statements get a second attempt after 50 ms without an answer.
    ///     .with_speculative(Some(SpeculativeExecutionPolicy::constant(Duration::from_millis(50))));
    /// let session = scylla2::Session::builder()
    ///     .contact_point(uri)
    ///     .execution_policies(policies)
    ///     .connect()
    ///     .await?;
    /// assert!(session.execution_policies().speculative.is_some());
    /// # Ok(()) }
    /// ```
    pub fn execution_policies(mut self, policies: ExecutionPolicies) -> Self {
        self.policies = Some(policies);
        self
    }

    /// How long to wait before trying a node again after failed connection attempts, for
    /// every pool of the session, routed or not (default: 100 ms doubling to 10 s, with
    /// jitter; it replaces `TopologyConfig::pool.reconnection`). The control connection
    /// follows it too, never waiting more than half a second.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use scylla2::policies::ConstantReconnectionPolicy;
    ///
    /// use scylla2::events::SessionEvent;
    ///
    /// let builder = scylla2::Session::builder()
    ///     .contact_point(uri)
    ///     .reconnection_policy(Arc::new(ConstantReconnectionPolicy::new(
    ///         Duration::from_millis(20),
    ///     )));
    /// let session = builder.connect().await?;
    /// let mut events = session.session_events();
    /// sim.drop_connections(0)?; // the node closes every connection: the pools reconnect
    /// let reopened = async {
    ///     loop {
    ///         if let Ok(SessionEvent::ConnectionOpened { node, .. }) = events.recv().await {
    ///             break node;
    ///         }
    ///     }
    /// };
    /// assert_eq!(tokio::time::timeout(Duration::from_secs(5), reopened).await?, sim.contact_points()[0]);
    /// # Ok(()) }
    /// ```
    pub fn reconnection_policy(mut self, policy: Arc<dyn ReconnectionPolicy>) -> Self {
        self.reconnection = Some(policy);
        self
    }

    /// A receiver of the session's events, subscribed before `connect` so that it sees what
    /// happens while connecting too (connections opened, [`SessionEvent::RoutingUnavailable`],
    /// …). Sessions connected from clones of one builder share their event channels.
    pub fn session_events(&self) -> tokio::sync::broadcast::Receiver<SessionEvent> {
        self.events.session()
    }

    /// Resolves the contact points, opens the connections, applies the keyspace.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let uri = sim.contact_points()[0].to_string();
    /// let session = scylla2::Session::builder().contact_point(uri).connect().await?;
    /// assert_eq!(session.nodes(), sim.contact_points()); // every node was discovered
    /// // Nothing listening: every address's error is reported.
    /// let err = scylla2::Session::builder().contact_point("127.0.0.1:1").connect().await;
    /// assert!(matches!(err, Err(scylla2::error::SessionError::Connect(ref errors)) if errors.len() == 1));
    /// # Ok(()) }
    /// ```
    pub async fn connect(self) -> Result<Session, SessionError> {
        if self.contact_points.is_empty() {
            return Err(SessionError::NoContactPoints);
        }
        let keyspace = match &self.keyspace {
            Some(ks) => Some(keyspace::validate_keyspace_name(ks)?),
            None => None,
        };
        let mut addrs: Vec<SocketAddr> = Vec::new();
        #[cfg(feature = "rustls-023")]
        let mut tls_names = Vec::new();
        for point in &self.contact_points {
            if !point.contains(':') {
                return Err(SessionError::InvalidContactPoint(point.clone()));
            }
            let resolved = tokio::net::lookup_host(point.as_str())
                .await
                .map_err(|source| SessionError::Resolve {
                    host: point.clone(),
                    source,
                })?;
            for addr in resolved {
                #[cfg(feature = "rustls-023")]
                if let Some(name) = crate::connection::tls::contact_point_name(point) {
                    tls_names.push((addr.ip(), name));
                }
                if !addrs.contains(&addr) {
                    addrs.push(addr);
                }
            }
        }
        #[cfg_attr(not(feature = "rustls-023"), allow(unused_mut))]
        let mut connection = self.connection;
        // A node reached through a contact point given as a name is verified against it.
        #[cfg(feature = "rustls-023")]
        if let Some(tls) = connection.tls.take() {
            connection.tls = Some(tls.with_contact_names(tls_names));
        }
        let events = self.events;
        let policies = self
            .policies
            .or_else(|| self.topology.as_ref().map(|t| t.policies.clone()))
            .unwrap_or_default();
        // A routed session keeps its own per-node (per-shard) pools; without readable
        // metadata it falls back to connections to the contact points, unrouted, and says so.
        let mut routing_unavailable = None;
        let reconnection = self
            .reconnection
            .clone()
            .or_else(|| self.topology.as_ref().map(|t| t.pool.reconnection.clone()))
            .unwrap_or_else(|| Arc::new(crate::policies::ExponentialReconnectionPolicy::default()));
        let cluster = match self.topology {
            Some(mut config) => {
                config.pool.connections_per_node = self.connections_per_node;
                config.pool.reconnection = reconnection.clone();
                if let Some(policy) = self.load_balancing.clone() {
                    config.load_balancing = Some(policy);
                }
                config.schema_metadata |= self.schema_metadata;
                match crate::topology::Cluster::connect(
                    addrs.clone(),
                    connection.clone(),
                    config,
                    keyspace.clone(),
                    events.clone(),
                )
                .await
                {
                    Ok(cluster) => Some(cluster),
                    Err(error) => {
                        let reason = error.to_string();
                        events.publish(SessionEvent::RoutingUnavailable {
                            reason: reason.clone(),
                        });
                        routing_unavailable = Some(reason);
                        None
                    }
                }
            }
            None => None,
        };
        let mut nodes = Vec::new();
        let mut failures = Vec::new();
        for addr in addrs.into_iter().filter(|_| cluster.is_none()) {
            let mut conns = Vec::new();
            for _ in 0..self.connections_per_node {
                match open_connection(addr, &connection, keyspace.as_deref()).await {
                    Ok(conn) => conns.push(conn),
                    Err(OpenError::Use(e)) => return Err(SessionError::UseKeyspace(e)),
                    Err(OpenError::Connection(addr, e)) => {
                        failures.push((addr, e));
                        break;
                    }
                }
            }
            if !conns.is_empty() {
                nodes.push((addr, conns));
            }
        }
        if nodes.is_empty() && cluster.is_none() {
            return Err(SessionError::Connect(failures));
        }
        let pools = Pools::new(
            nodes,
            self.connections_per_node,
            connection,
            keyspace,
            events.clone(),
            reconnection,
        );
        Ok(Session {
            inner: Arc::new(SessionInner {
                pools: Arc::new(pools),
                defaults: self.defaults,
                cluster,
                events,
                policies,
                latencies: crate::policies::LatencyTracker::new(),
                routing_unavailable,
                closing: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }
}
