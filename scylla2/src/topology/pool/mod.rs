//! A node's connection pool. On a Scylla node: `connections_per_shard` connections per shard,
//! opened through the shard-aware port from a local port chosen for the shard, falling back to
//! the normal port (connect until every shard is covered, close the surplus) when the node
//! has no shard-aware port or NAT rewrites the source port. On Cassandra: a configured number
//! of connections. One task per pool keeps it full, reconnecting with exponential backoff and
//! jitter; the handshakes of a round run concurrently, each with its own timeouts, and each
//! connection opened, failed or closed is published as it happens.
//!
//! Every connection tells the pool task when its health changes (it died, a request on it
//! timed out and it is suspect until a probe answers, or too many of its stream ids are held
//! by answers that never came). Plans skip suspect connections (using one only as a last
//! resort); a retiring connection is replaced: the new one is opened first and takes its
//! slot, and the old one closes when the last request holding it is done. A node with no
//! usable connection is down (NodeDown) until one is usable again (NodeUp); STATUS_CHANGE UP
//! and a new control connection wake the task at once with its backoff reset, and
//! STATUS_CHANGE DOWN probes the node's connections.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::connection::spin::SpinLock;
use crate::connection::{Connection, ConnectionConfig, ConnectionError};
use crate::events::{Events, SessionEvent};
use crate::policies::{ExponentialReconnectionPolicy, ReconnectionPolicy};
use crate::routing::{Shard, Sharder};

mod fill;
#[cfg(test)]
mod tests;

/// Pool settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Connections per shard on Scylla nodes.
    pub connections_per_shard: usize,
    /// Connections per node on nodes without shards (Cassandra).
    pub connections_per_node: usize,
    /// Use Scylla's shard-aware port when the node announces one.
    pub shard_aware_port: bool,
    /// Local ports tried for shard-aware connections.
    pub local_port_range: RangeInclusive<u16>,
    /// The wait before trying a node again after failed connection attempts (default
    /// [`ExponentialReconnectionPolicy`]: 100 ms doubling to 10 s, with jitter).
    pub reconnection: Arc<dyn ReconnectionPolicy>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            connections_per_shard: 1,
            connections_per_node: 1,
            shard_aware_port: true,
            local_port_range: crate::routing::sharding::DEFAULT_LOCAL_PORT_RANGE,
            reconnection: Arc::new(ExponentialReconnectionPolicy::default()),
        }
    }
}

/// What every pool shares.
#[derive(Debug)]
pub(crate) struct PoolContext {
    pub(crate) connection: ConnectionConfig,
    pub(crate) config: PoolConfig,
    pub(crate) keyspace: ArcSwapOption<String>,
    pub(crate) events: Arc<Events>,
    /// Signalled when a pool learns a node's sharding (the routing snapshot is rebuilt).
    pub(crate) sharding_learned: Notify,
    /// Connections replaced for their orphaned stream ids.
    pub(crate) replaced: std::sync::atomic::AtomicU64,
}

/// The connections of a pool, replaced as a whole by the pool task.
#[derive(Debug, Default, Clone)]
pub(crate) struct Conns {
    pub(crate) sharder: Option<Sharder>,
    shard_port: Option<u16>,
    per_shard: usize,
    pub(crate) slots: Vec<Option<Arc<Connection>>>,
}

impl Conns {
    /// Connections requests are routed to (open and not suspect).
    fn usable(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|c| c.is_usable())
            .count()
    }

    fn open(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|c| !c.is_closed())
            .count()
    }

    /// The shard a slot serves (`None` without sharding).
    fn shard_of_slot(&self, slot: usize) -> Option<Shard> {
        self.sharder
            .map(|_| (slot / self.per_shard.max(1)) as Shard)
    }
}

/// A shard's connection in [`NodePool::by_shard`].
type ShardConnection = SpinLock<Option<Arc<Connection>>>;

/// One node's pool.
#[derive(Debug)]
pub(crate) struct NodePool {
    pub(crate) address: SocketAddr,
    pub(crate) host_id: Uuid,
    /// Replaced only through [`Self::publish`], which keeps `by_shard` in step (private, so
    /// that nothing outside the pool can store around it; read with [`Self::conns`]).
    conns: ArcSwap<Conns>,
    /// Each shard's connection when the node has shards and one connection per shard (the
    /// common pick): copies of `conns`' slots, set by [`Self::publish`] before `conns`, so
    /// that a pick takes a spin lock (without waiting: when another thread holds it, the
    /// pick loads `conns`) and clones an `Arc` instead of loading `conns` (an `ArcSwap` load
    /// and its guard's release, and the checks of the pool's shape). Sized by
    /// the first sharding learned; shards beyond it, and every other pool shape, take
    /// `conns`. A connection found here is used only while usable, as one from `conns` is.
    by_shard: OnceLock<Box<[ShardConnection]>>,
    up: AtomicBool,
    closed: AtomicBool,
    /// Wakes the task with its backoff reset (STATUS_CHANGE UP, a new control connection).
    wake: Notify,
    /// Notified by the connections on every change of their health (see module docs).
    health: Arc<Notify>,
    next: AtomicUsize,
    /// The pool task (aborted by [`Self::close_now`]).
    task: std::sync::Mutex<Option<tokio::task::AbortHandle>>,
}

/// A pool's pick for a target: a usable connection, or a suspect one (last resort).
pub(crate) enum Pick {
    Usable(Arc<Connection>),
    Suspect(Arc<Connection>),
}

fn random_u64(salt: u64) -> u64 {
    RandomState::new().hash_one(salt)
}

impl NodePool {
    /// A pool for a node; `enabled` false (ignored nodes) opens nothing.
    pub(crate) fn new(
        address: SocketAddr,
        host_id: Uuid,
        enabled: bool,
        ctx: &Arc<PoolContext>,
    ) -> Arc<Self> {
        let pool = Arc::new(Self::without_task(address, host_id));
        if enabled {
            let task = tokio::spawn(run(pool.clone(), ctx.clone()));
            *pool
                .task
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task.abort_handle());
        }
        pool
    }

    /// The pool's connections as last published.
    pub(crate) fn conns(&self) -> arc_swap::Guard<Arc<Conns>> {
        self.conns.load()
    }

    /// A pool with no connection and no task.
    fn without_task(address: SocketAddr, host_id: Uuid) -> Self {
        Self {
            address,
            host_id,
            conns: ArcSwap::from_pointee(Conns::default()),
            by_shard: OnceLock::new(),
            up: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            wake: Notify::new(),
            health: Arc::new(Notify::new()),
            next: AtomicUsize::new(0),
            task: std::sync::Mutex::new(None),
        }
    }

    /// Stops the pool task now (its handshakes in progress with it) and closes every
    /// connection (`Session::close`).
    pub(crate) fn close_now(&self) {
        self.closed.store(true, Ordering::Release);
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            task.abort();
        }
        for c in self.conns.load().slots.iter().flatten() {
            c.close();
        }
    }

    /// Requests waiting for an answer on the pool's connections (orphaned ids left out).
    pub(crate) fn live_requests(&self) -> usize {
        let conns = self.conns.load();
        conns
            .slots
            .iter()
            .flatten()
            .map(|c| c.live_requests())
            .sum()
    }

    /// Whether the node is considered up.
    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Number of open connections.
    pub(crate) fn open_connections(&self) -> usize {
        self.conns.load().open()
    }

    /// Wakes the pool task now with its backoff reset (STATUS_CHANGE UP, a new control
    /// connection).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Probes every open connection (STATUS_CHANGE DOWN): those that do not answer within
    /// the heartbeat timeout die, and the node is down once none is usable.
    pub(crate) fn probe(&self) {
        for c in self.conns.load().slots.iter().flatten() {
            if !c.is_closed() {
                c.probe();
            }
        }
    }

    /// Stops the task and closes every connection.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// A connection for `shard`: that shard's if usable, else any usable one (rotating),
    /// else a suspect one as a last resort. Allocates nothing.
    pub(crate) fn connection(&self, shard: Option<Shard>) -> Option<Pick> {
        if let (Some(shard), Some(by_shard)) = (shard, self.by_shard.get())
            && let Some(slot) = by_shard.get(shard as usize)
        {
            // Cloned under the lock, released (and any other connection dropped) after. Held
            // by another thread (another pick, or a publication): `conns` instead, never a
            // wait behind a thread that may have been preempted while holding it.
            let conn = slot.try_lock().and_then(|held| held.clone());
            if let Some(conn) = conn.filter(|c| c.is_usable()) {
                return Some(Pick::Usable(conn));
            }
        }
        let conns = self.conns.load();
        let per = conns.per_shard.max(1);
        let mut suspect: Option<&Arc<Connection>> = None;
        if let (Some(shard), Some(_)) = (shard, conns.sharder) {
            let start = shard as usize * per;
            let pick = if per > 1 {
                self.next.fetch_add(1, Ordering::Relaxed) % per
            } else {
                0
            };
            for j in 0..per {
                if let Some(Some(c)) = conns.slots.get(start + (pick + j) % per) {
                    if c.is_usable() {
                        return Some(Pick::Usable(c.clone()));
                    }
                    if suspect.is_none() && !c.is_closed() {
                        suspect = Some(c);
                    }
                }
            }
        }
        let n = conns.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for k in 0..n {
            if let Some(Some(c)) = conns.slots.get((start + k) % n) {
                if c.is_usable() {
                    return Some(Pick::Usable(c.clone()));
                }
                // A closed connection told the pool task itself when it died.
                if suspect.is_none() && !c.is_closed() {
                    suspect = Some(c);
                }
            }
        }
        suspect.map(|c| Pick::Suspect(c.clone()))
    }

    /// Every open connection.
    pub(crate) fn all(&self) -> Vec<Arc<Connection>> {
        self.conns
            .load()
            .slots
            .iter()
            .flatten()
            .filter(|c| !c.is_closed())
            .cloned()
            .collect()
    }
}

fn shard_of(conn: &Connection) -> Option<Shard> {
    conn.info().sharding.as_ref().map(|s| s.shard)
}

/// The chosen local port is taken (bound, or the same 4-tuple is already connected):
/// try another one.
fn is_addr_in_use(e: &ConnectionError) -> bool {
    matches!(
        e,
        ConnectionError::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::AddrInUse | std::io::ErrorKind::AddrNotAvailable
            )
    )
}

/// Opens a connection to `node` through `target` (its CQL port or its shard-aware port; TLS
/// verifies `node`'s server name either way).
async fn open(
    node: SocketAddr,
    target: SocketAddr,
    local_port: Option<u16>,
    ctx: &PoolContext,
) -> Result<Connection, ConnectionError> {
    let conn = Connection::open_node(node, target, local_port, &ctx.connection).await?;
    #[cfg(feature = "tracing")]
    tracing::debug!(
        target: "scylla2",
        %node,
        %target,
        ?local_port,
        version = ?conn.protocol_version(),
        compression = ?conn.info().compression,
        shard = ?conn.info().sharding.as_ref().map(|s| s.shard),
        "handshake done"
    );
    let keyspace = ctx.keyspace.load_full();
    if let Some(ks) = keyspace.as_deref() {
        let text = format!("USE {ks}");
        if super::metadata::query(&conn, &text).await.is_err() {
            conn.close();
            return Err(ConnectionError::Closed);
        }
    }
    Ok(conn)
}

/// The pool task: fills the pool, publishes the node's state, and waits for a change of a
/// connection's health, a wake-up, or the end of the backoff.
async fn run(pool: Arc<NodePool>, ctx: Arc<PoolContext>) {
    // Failed rounds in a row (the reconnection policy's count).
    let mut failures = 0u32;
    loop {
        if pool.closed.load(Ordering::Acquire) {
            break;
        }
        let filled = fill::fill(&pool, &ctx).await;
        pool.publish_state(&ctx, filled.usable);
        let wait = if filled.complete {
            failures = 0;
            Duration::from_secs(1)
        } else if !filled.failed {
            // Progress without errors (e.g. normal-port connections landing on shards that
            // already have one): go on right away.
            failures = 0;
            Duration::ZERO
        } else {
            failures = failures.saturating_add(1);
            let delay = ctx.config.reconnection.delay(pool.address, failures);
            #[cfg(feature = "tracing")]
            tracing::debug!(
                target: "scylla2",
                node = %pool.address,
                failures,
                ?delay,
                "pool incomplete: reconnecting after the backoff"
            );
            delay
        };
        let until = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                _ = pool.wake.notified() => {
                    failures = 0;
                    break;
                }
                _ = pool.health.notified() => {
                    // During a backoff only the node's state is brought up to date (a dying
                    // connection must not cut the backoff short); otherwise fill now.
                    if !filled.failed {
                        break;
                    }
                    pool.publish_state(&ctx, pool.conns.load().usable());
                }
                _ = tokio::time::sleep_until(until) => break,
            }
        }
    }
    let conns = pool.conns.load_full();
    for c in conns.slots.iter().flatten() {
        c.close();
    }
}

impl NodePool {
    /// Replaces the pool's connections: each shard's copy in `by_shard` first (set, or
    /// emptied when the pool no longer has one connection per shard), then `conns`. Only the
    /// pool task calls it, so publications never interleave.
    fn publish(&self, conns: Conns) {
        let one_per_shard = conns.sharder.is_some() && conns.per_shard == 1;
        let by_shard = if one_per_shard {
            Some(
                self.by_shard
                    .get_or_init(|| conns.slots.iter().map(|_| SpinLock::default()).collect()),
            )
        } else {
            self.by_shard.get()
        };
        for (i, slot) in by_shard.into_iter().flatten().enumerate() {
            let conn = conns
                .slots
                .get(i)
                .filter(|_| one_per_shard)
                .cloned()
                .flatten();
            // The replaced connection is dropped after the lock is given back.
            let _replaced = std::mem::replace(&mut *slot.lock(), conn);
        }
        self.conns.store(Arc::new(conns));
    }

    /// NodeUp / NodeDown when the node's state changed: up while a connection is usable.
    fn publish_state(&self, ctx: &PoolContext, usable: usize) {
        if usable > 0 {
            if !self.up.swap(true, Ordering::AcqRel) {
                ctx.events
                    .publish(SessionEvent::NodeUp { node: self.address });
            }
        } else if self.up.swap(false, Ordering::AcqRel) {
            ctx.events
                .publish(SessionEvent::NodeDown { node: self.address });
        }
    }
}
