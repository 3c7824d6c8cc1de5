//! The contact points' connections of unrouted sessions (topology disabled or unreadable),
//! and the round-robin [`Plan`] over them that the one attempt loop
//! ([`crate::policies`]) walks exactly like a routed plan. Building and walking a plan
//! allocates nothing.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use arc_swap::ArcSwapOption;
use scylla2_cql::request::{Query, QueryParameters};

use crate::connection::{Connection, ConnectionConfig};
use crate::error::ExecutionError;
use crate::execution::{Decoded, decode};
use crate::policies::ReconnectionPolicy;

/// One node's connections.
#[derive(Debug)]
pub(crate) struct NodePool {
    pub(crate) addr: SocketAddr,
    slots: Box<[Slot]>,
}

#[derive(Debug, Default)]
struct Slot {
    conn: ArcSwapOption<Connection>,
    reconnecting: AtomicBool,
    /// Failed reconnections in a row (for the backoff).
    failures: AtomicU32,
}

/// Everything a connection needs to be (re)opened.
#[derive(Debug)]
pub(crate) struct Pools {
    pub(crate) nodes: Vec<NodePool>,
    next: AtomicUsize,
    pub(crate) connection_config: ConnectionConfig,
    pub(crate) keyspace: ArcSwapOption<String>,
    events: Arc<crate::events::Events>,
    /// Connections replaced for their orphaned stream ids.
    replaced: AtomicU64,
    /// The wait before reopening a connection after failed attempts.
    reconnection: Arc<dyn ReconnectionPolicy>,
    /// Set by `Session::close`: nothing is reopened any more.
    closed: AtomicBool,
    /// Ends the reconnection tasks' backoff waits when the session closes.
    shutdown: Arc<tokio::sync::Notify>,
}

/// Opens a connection and switches it to `keyspace`.
pub(crate) async fn open_connection(
    addr: SocketAddr,
    config: &ConnectionConfig,
    keyspace: Option<&str>,
) -> Result<Connection, OpenError> {
    let conn = Connection::open(addr, None, config)
        .await
        .map_err(|e| OpenError::Connection(addr, e))?;
    if let Some(ks) = keyspace {
        use_keyspace_on(&conn, ks).await.map_err(OpenError::Use)?;
    }
    Ok(conn)
}

/// Why opening a connection failed.
#[derive(Debug)]
pub(crate) enum OpenError {
    Connection(SocketAddr, crate::error::ConnectionError),
    Use(ExecutionError),
}

/// Sends `USE <keyspace>` (already validated) on `conn`.
pub(crate) async fn use_keyspace_on(
    conn: &Connection,
    keyspace: &str,
) -> Result<(), ExecutionError> {
    let text = format!("USE {keyspace}");
    let request = Query {
        query: &text,
        params: QueryParameters::new(scylla2_cql::Consistency::One, &()),
    };
    let envelope = conn.send(&request, Default::default()).await?;
    match decode(conn, envelope, None)? {
        Decoded::Result(r) if r.set_keyspace().is_some() => Ok(()),
        _ => Err(ExecutionError::UnexpectedResponse(
            scylla2_cql::frame::Opcode::Result,
        )),
    }
}

impl Pools {
    pub(crate) fn new(
        nodes: Vec<(SocketAddr, Vec<Connection>)>,
        per_node: usize,
        connection_config: ConnectionConfig,
        keyspace: Option<String>,
        events: Arc<crate::events::Events>,
        reconnection: Arc<dyn ReconnectionPolicy>,
    ) -> Self {
        let nodes = nodes
            .into_iter()
            .map(|(addr, conns)| {
                let slots: Box<[Slot]> = (0..per_node.max(1)).map(|_| Slot::default()).collect();
                for (slot, conn) in slots.iter().zip(conns) {
                    #[cfg(feature = "metrics")]
                    conn.set_metrics(events.metrics.node(addr));
                    slot.conn.store(Some(Arc::new(conn)));
                }
                NodePool { addr, slots }
            })
            .collect();
        Self {
            nodes,
            next: AtomicUsize::new(0),
            connection_config,
            keyspace: ArcSwapOption::from(keyspace.map(Arc::new)),
            events,
            replaced: AtomicU64::new(0),
            reconnection,
            closed: AtomicBool::new(false),
            shutdown: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Requests waiting for an answer on the connections (orphaned stream ids left out).
    pub(crate) fn live_requests(&self) -> usize {
        self.all().map(|c| c.live_requests()).sum()
    }

    /// Closes every connection and stops reopening them (`Session::close`).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.shutdown.notify_waiters();
        for slot in self.nodes.iter().flat_map(|n| n.slots.iter()) {
            if let Some(conn) = slot.conn.swap(None) {
                conn.close();
            }
        }
    }

    /// The health of every connection, and the replacements made so far.
    pub(crate) fn connection_stats(&self) -> super::ConnectionStats {
        let mut stats = super::ConnectionStats {
            replaced: self.replaced.load(Ordering::Relaxed),
            ..Default::default()
        };
        for conn in self.nodes.iter().flat_map(|n| n.slots.iter()) {
            if let Some(c) = conn.conn.load_full() {
                stats.add(&c);
            }
        }
        stats
    }

    /// Every open connection.
    pub(crate) fn all(&self) -> impl Iterator<Item = Arc<Connection>> + '_ {
        self.nodes
            .iter()
            .flat_map(|n| n.slots.iter())
            .filter_map(|s| s.conn.load_full())
            .filter(|c| !c.is_closed())
    }

    /// A round-robin plan over every connection of every node, starting at the next one;
    /// dead or missing connections are skipped and their reconnection started.
    pub(crate) fn plan(self: &Arc<Self>) -> Plan<'_> {
        let total = self.nodes.iter().map(|n| n.slots.len()).sum::<usize>();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        Plan {
            pools: self,
            total,
            start,
            offset: 0,
            last_resort: None,
        }
    }

    fn slot(&self, mut index: usize) -> Option<(&NodePool, usize)> {
        for node in &self.nodes {
            if index < node.slots.len() {
                return Some((node, index));
            }
            index -= node.slots.len();
        }
        None
    }

    fn reconnect(self: &Arc<Self>, node: &NodePool, slot: usize) {
        let Some(s) = node.slots.get(slot) else {
            return;
        };
        if self.closed.load(Ordering::Acquire) || s.reconnecting.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak: Weak<Self> = Arc::downgrade(self);
        let shutdown = self.shutdown.clone();
        let addr = node.addr;
        tokio::spawn(async move {
            // Registered before the pools' `closed` flag is read below, so that a close
            // after that read still ends the backoff wait.
            let closing = shutdown.notified();
            tokio::pin!(closing);
            closing.as_mut().enable();
            // Holds the pools only while connecting, so that a dropped session ends the task.
            let delay = {
                let Some(pools) = weak.upgrade() else {
                    return;
                };
                let keyspace = pools.keyspace.load_full();
                let opened = open_connection(
                    addr,
                    &pools.connection_config,
                    keyspace.as_deref().map(|s| s.as_str()),
                )
                .await;
                let node = pools.nodes.iter().find(|n| n.addr == addr);
                let Some(s) = node.and_then(|n| n.slots.get(slot)) else {
                    return;
                };
                match opened {
                    Ok(conn) if pools.closed.load(Ordering::Acquire) => {
                        conn.close();
                        return;
                    }
                    Ok(conn) => {
                        #[cfg(feature = "metrics")]
                        conn.set_metrics(pools.events.metrics.node(addr));
                        // The old connection, if it was retiring, closes when the requests
                        // still holding it are done.
                        let old = s.conn.swap(Some(Arc::new(conn)));
                        if let Some(old) = old.filter(|c| c.is_retiring() && !c.is_closed()) {
                            pools.replaced.fetch_add(1, Ordering::Relaxed);
                            pools
                                .events
                                .publish(crate::events::SessionEvent::ConnectionReplaced {
                                    node: addr,
                                    shard: None,
                                    orphaned_streams: old.orphaned_streams(),
                                });
                        }
                        s.failures.store(0, Ordering::Relaxed);
                        s.reconnecting.store(false, Ordering::Release);
                        return;
                    }
                    Err(_) if pools.closed.load(Ordering::Acquire) => return,
                    Err(_) => {
                        let failures = s.failures.fetch_add(1, Ordering::Relaxed);
                        pools.reconnection.delay(addr, failures.saturating_add(1))
                    }
                }
            };
            // Failed: no new attempt for this slot until the backoff has passed (or the
            // session closes).
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = closing => return,
            }
            if let Some(pools) = weak.upgrade() {
                let node = pools.nodes.iter().find(|n| n.addr == addr);
                if let Some(s) = node.and_then(|n| n.slots.get(slot)) {
                    s.reconnecting.store(false, Ordering::Release);
                }
            }
        });
    }
}

/// A query plan: connections to try in order (each knows its node). Suspect connections (a
/// request on them timed out and their probe is not answered yet) are skipped, the first
/// one being tried last; a retiring connection (too many orphaned stream ids) is used while
/// its replacement is opened.
pub(crate) struct Plan<'a> {
    pools: &'a Arc<Pools>,
    total: usize,
    start: usize,
    offset: usize,
    last_resort: Option<Arc<Connection>>,
}

impl Iterator for Plan<'_> {
    type Item = Arc<Connection>;

    fn next(&mut self) -> Option<Self::Item> {
        let in_runtime = || tokio::runtime::Handle::try_current().is_ok();
        while self.offset < self.total {
            let index = (self.start + self.offset) % self.total;
            self.offset += 1;
            let (node, slot) = self.pools.slot(index)?;
            match node.slots[slot].conn.load_full() {
                Some(conn) if !conn.is_closed() => {
                    if conn.is_retiring() && in_runtime() {
                        // The new connection replaces it in the slot; the old one closes
                        // when the requests holding it are done.
                        self.pools.reconnect(node, slot);
                    }
                    if conn.is_usable() {
                        return Some(conn);
                    }
                    if self.last_resort.is_none() {
                        self.last_resort = Some(conn);
                    }
                }
                _ => {
                    if in_runtime() {
                        self.pools.reconnect(node, slot);
                    }
                }
            }
        }
        self.last_resort.take()
    }
}
