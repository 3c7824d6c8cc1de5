//! Events: database events exactly as servers pushed them (topology, status and schema
//! changes), and session events (connections, node state, topology refreshes, schema
//! agreement). Both are `tokio::sync::broadcast` channels: a lagging receiver loses the oldest
//! events and never blocks the driver.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::broadcast;
use uuid::Uuid;

pub use scylla2_cql::response::Event as DatabaseEvent;
pub use scylla2_cql::response::{SchemaChange, SchemaChangeTarget, SchemaChangeType};
pub use scylla2_cql::response::{StatusChange, TopologyChange};

use crate::routing::Shard;

/// Capacity of each event channel.
pub const EVENT_CAPACITY: usize = 1024;

/// Something the session did or saw. Subscribe with
/// [`SessionBuilder::session_events`](crate::SessionBuilder::session_events) (from before
/// `connect`) or [`Session::session_events`](crate::Session::session_events).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let uri = sim.contact_points()[0].to_string();
/// use scylla2::events::SessionEvent;
///
/// let builder = scylla2::Session::builder().contact_point(uri);
/// let mut events = builder.session_events(); // sees what `connect` does
/// let session = builder.connect().await?;
/// let mut opened = Vec::new();
/// while let Ok(event) = events.try_recv() {
///     if let SessionEvent::ConnectionOpened { node, .. } = event {
///         opened.push(node);
///     }
/// }
/// assert!(opened.contains(&sim.contact_points()[0]));
/// # drop(session);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A connection to a node was opened (its shard on Scylla nodes).
    ConnectionOpened {
        /// The node's address.
        node: SocketAddr,
        /// The shard the connection landed on.
        shard: Option<Shard>,
    },
    /// Opening a connection failed.
    ConnectionFailed {
        /// The node's address.
        node: SocketAddr,
        /// The shard the connection was meant for.
        shard: Option<Shard>,
        /// Why (display form of the connection error).
        error: String,
    },
    /// An open connection closed or died.
    ConnectionClosed {
        /// The node's address.
        node: SocketAddr,
        /// Its shard.
        shard: Option<Shard>,
    },
    /// A connection was replaced because too many of its stream ids were held by answers
    /// that never came (see `ConnectionConfig::max_orphaned_streams`): the new connection
    /// took its place, and the old one closes when the requests still on it are done.
    ConnectionReplaced {
        /// The node's address.
        node: SocketAddr,
        /// The shard of both connections.
        shard: Option<Shard>,
        /// Stream ids the old connection held for answers that never came.
        orphaned_streams: usize,
    },
    /// A node is usable again (one of its connections opened or answered its probe).
    NodeUp {
        /// The node's address.
        node: SocketAddr,
    },
    /// No connection to a node is usable (every one failed, or timed out requests and has
    /// not answered its probe yet): plans skip the node until it comes back.
    NodeDown {
        /// The node's address.
        node: SocketAddr,
    },
    /// A node joined the cluster (found by a topology refresh).
    NodeAdded {
        /// The node's address.
        node: SocketAddr,
        /// Its host id.
        host_id: Uuid,
    },
    /// A node left the cluster.
    NodeRemoved {
        /// The node's address.
        node: SocketAddr,
        /// Its host id.
        host_id: Uuid,
    },
    /// The topology and schema were read again and a new routing snapshot is in use.
    TopologyRefreshed {
        /// Number of nodes.
        nodes: usize,
        /// Number of keyspaces.
        keyspaces: usize,
    },
    /// The control connection moved to another node.
    ControlConnectionChanged {
        /// The node it is connected to now.
        node: SocketAddr,
    },
    /// Every live node reported the same schema version.
    SchemaAgreementReached {
        /// The agreed version.
        version: Uuid,
        /// How long it took.
        elapsed: Duration,
    },
    /// Schema agreement was not reached in time.
    SchemaAgreementTimedOut {
        /// The timeout.
        timeout: Duration,
    },
    /// Topology was enabled but could not be read at connect time: the session runs
    /// unrouted, rotating over the contact points' connections (retry and speculative
    /// policies still apply). Subscribe with `SessionBuilder::session_events` to see it.
    RoutingUnavailable {
        /// Why (display form of the topology error).
        reason: String,
    },
    /// The schema snapshot (`Session::schema`, opt-in) changed: a new one is in use.
    SchemaRefreshed {
        /// Number of keyspaces.
        keyspaces: usize,
        /// Number of tables, all keyspaces together.
        tables: usize,
    },
    /// Reading the schema failed; the last snapshot stays in use.
    SchemaRefreshFailed {
        /// Why (display form of the schema error).
        reason: String,
    },
}

/// The two event channels of a session.
#[derive(Debug)]
pub struct Events {
    database: broadcast::Sender<DatabaseEvent>,
    session: broadcast::Sender<SessionEvent>,
    /// The session's metrics (feature `metrics`): connection events are counted here.
    #[cfg(feature = "metrics")]
    pub(crate) metrics: crate::metrics::Metrics,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    /// Channels with [`EVENT_CAPACITY`] slots.
    pub fn new() -> Self {
        Self {
            database: broadcast::channel(EVENT_CAPACITY).0,
            session: broadcast::channel(EVENT_CAPACITY).0,
            #[cfg(feature = "metrics")]
            metrics: crate::metrics::Metrics::default(),
        }
    }

    /// A receiver of database events.
    pub fn database(&self) -> broadcast::Receiver<DatabaseEvent> {
        self.database.subscribe()
    }

    /// A receiver of session events.
    pub fn session(&self) -> broadcast::Receiver<SessionEvent> {
        self.session.subscribe()
    }

    /// Publishes a database event (dropped when nobody listens).
    pub fn publish_database(&self, event: DatabaseEvent) {
        let _ = self.database.send(event);
    }

    /// Publishes a session event (dropped when nobody listens), and logs it through
    /// `tracing` with the `tracing` feature.
    pub fn publish(&self, event: SessionEvent) {
        #[cfg(feature = "tracing")]
        log(&event);
        #[cfg(feature = "metrics")]
        self.metrics.event(&event);
        let _ = self.session.send(event);
    }
}

/// Logs a session event at the level an operator needs it: failures and lost capacity at
/// `warn`, changes of the cluster and of the session's connections at `info`, routine
/// refreshes at `debug`.
#[cfg(feature = "tracing")]
fn log(event: &SessionEvent) {
    use tracing::{debug, info, warn};
    match event {
        SessionEvent::ConnectionOpened { node, shard } => {
            debug!(target: "scylla2", %node, ?shard, "connection opened");
        }
        SessionEvent::ConnectionFailed { node, shard, error } => {
            warn!(target: "scylla2", %node, ?shard, %error, "connection failed");
        }
        SessionEvent::ConnectionClosed { node, shard } => {
            info!(target: "scylla2", %node, ?shard, "connection closed");
        }
        SessionEvent::ConnectionReplaced {
            node,
            shard,
            orphaned_streams,
        } => {
            warn!(
                target: "scylla2",
                %node,
                ?shard,
                orphaned_streams,
                "connection replaced: too many requests never answered"
            );
        }
        SessionEvent::NodeUp { node } => info!(target: "scylla2", %node, "node up"),
        SessionEvent::NodeDown { node } => {
            warn!(target: "scylla2", %node, "node down: no usable connection");
        }
        SessionEvent::NodeAdded { node, host_id } => {
            info!(target: "scylla2", %node, %host_id, "node added");
        }
        SessionEvent::NodeRemoved { node, host_id } => {
            info!(target: "scylla2", %node, %host_id, "node removed");
        }
        SessionEvent::TopologyRefreshed { nodes, keyspaces } => {
            debug!(target: "scylla2", nodes, keyspaces, "topology refreshed");
        }
        SessionEvent::ControlConnectionChanged { node } => {
            info!(target: "scylla2", %node, "control connection opened");
        }
        SessionEvent::SchemaAgreementReached { version, elapsed } => {
            debug!(target: "scylla2", %version, ?elapsed, "schema agreement reached");
        }
        SessionEvent::SchemaAgreementTimedOut { timeout } => {
            warn!(target: "scylla2", ?timeout, "schema agreement not reached");
        }
        SessionEvent::RoutingUnavailable { reason } => {
            warn!(target: "scylla2", %reason, "topology unreadable: running unrouted");
        }
        SessionEvent::SchemaRefreshed { keyspaces, tables } => {
            debug!(target: "scylla2", keyspaces, tables, "schema refreshed");
        }
        SessionEvent::SchemaRefreshFailed { reason } => {
            warn!(target: "scylla2", %reason, "schema unreadable: keeping the last snapshot");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lagging_receiver_loses_old_events_and_never_blocks() {
        let events = Events::new();
        let mut slow = events.session();
        // Publishing never waits for receivers.
        for nodes in 0..EVENT_CAPACITY + 10 {
            events.publish(SessionEvent::TopologyRefreshed {
                nodes,
                keyspaces: 0,
            });
        }
        assert!(matches!(
            slow.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(10))
        ));
        // The oldest kept event is the 11th.
        assert_eq!(
            slow.try_recv(),
            Ok(SessionEvent::TopologyRefreshed {
                nodes: 10,
                keyspaces: 0
            })
        );
        // Without receivers, publishing is a no-op.
        let lonely = Events::new();
        lonely.publish(SessionEvent::NodeUp {
            node: "127.0.0.1:9042".parse().unwrap(),
        });
    }
}
