//! A node's connection pool. On a Scylla node: `connections_per_shard` connections per shard,
//! opened through the shard-aware port from a local port chosen for the shard, falling back to
//! the normal port (connect until every shard is covered, close the surplus) when the node
//! has no shard-aware port or NAT rewrites the source port. On Cassandra: a configured number
//! of connections. One task per pool keeps it full, reconnecting with exponential backoff and
//! jitter; when every connection fails the node is down until a reconnection succeeds (or
//! STATUS_CHANGE UP wakes the task early).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::connection::{Connection, ConnectionConfig, ConnectionError};
use crate::events::{Events, SessionEvent};
use crate::routing::{Shard, Sharder};

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
    /// First reconnection delay.
    pub reconnect_base: Duration,
    /// Largest reconnection delay.
    pub reconnect_max: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            connections_per_shard: 1,
            connections_per_node: 1,
            shard_aware_port: true,
            local_port_range: crate::routing::sharding::DEFAULT_LOCAL_PORT_RANGE,
            reconnect_base: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(10),
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
    fn alive(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|c| !c.is_closed())
            .count()
    }
}

/// One node's pool.
#[derive(Debug)]
pub(crate) struct NodePool {
    pub(crate) address: SocketAddr,
    pub(crate) host_id: Uuid,
    pub(crate) conns: ArcSwap<Conns>,
    up: AtomicBool,
    closed: AtomicBool,
    wake: Notify,
    next: AtomicUsize,
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
        let pool = Arc::new(Self {
            address,
            host_id,
            conns: ArcSwap::from_pointee(Conns::default()),
            up: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            wake: Notify::new(),
            next: AtomicUsize::new(0),
        });
        if enabled {
            tokio::spawn(run(pool.clone(), ctx.clone()));
        }
        pool
    }

    /// Whether the node is considered up.
    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Number of open connections.
    pub(crate) fn open_connections(&self) -> usize {
        self.conns.load().alive()
    }

    /// Wakes the pool task (a connection died, or STATUS_CHANGE UP).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops the task and closes every connection.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// A connection for `shard` (that shard's if open, else any open one, rotating).
    /// Allocates nothing.
    pub(crate) fn connection(&self, shard: Option<Shard>) -> Option<Arc<Connection>> {
        let conns = self.conns.load();
        let per = conns.per_shard.max(1);
        if let (Some(shard), Some(_)) = (shard, conns.sharder) {
            let start = shard as usize * per;
            let pick = if per > 1 {
                self.next.fetch_add(1, Ordering::Relaxed) % per
            } else {
                0
            };
            for j in 0..per {
                if let Some(Some(c)) = conns.slots.get(start + (pick + j) % per)
                    && !c.is_closed()
                {
                    return Some(c.clone());
                }
            }
        }
        let n = conns.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for k in 0..n {
            if let Some(Some(c)) = conns.slots.get((start + k) % n) {
                if !c.is_closed() {
                    return Some(c.clone());
                }
                self.wake.notify_one();
            }
        }
        None
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

async fn open(
    addr: SocketAddr,
    local_port: Option<u16>,
    ctx: &PoolContext,
) -> Result<Connection, ConnectionError> {
    let conn = Connection::open(addr, local_port, &ctx.connection).await?;
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

/// Outcome of one fill round.
struct Filled {
    complete: bool,
    alive: usize,
    failed: bool,
}

async fn fill(pool: &NodePool, ctx: &PoolContext) -> Filled {
    {
        // The common case, checked every round: every slot holds an open connection.
        // Nothing to change, so nothing is cloned or stored (no allocation per round).
        let current = pool.conns.load();
        let full = !current.slots.is_empty()
            && current
                .slots
                .iter()
                .all(|slot| slot.as_ref().is_some_and(|c| !c.is_closed()));
        if full {
            return Filled {
                complete: true,
                alive: current.alive(),
                failed: false,
            };
        }
    }
    let mut conns: Conns = (**pool.conns.load()).clone();
    // Opened / closed events, published once the new connections are visible.
    let mut visible = Vec::new();
    for slot in conns.slots.iter_mut() {
        if slot.as_ref().is_some_and(|c| c.is_closed()) {
            let shard = slot.as_deref().and_then(shard_of);
            *slot = None;
            visible.push(SessionEvent::ConnectionClosed {
                node: pool.address,
                shard,
            });
        }
    }
    let publish_failed = |shard: Option<Shard>, e: &ConnectionError| {
        ctx.events.publish(SessionEvent::ConnectionFailed {
            node: pool.address,
            shard,
            error: e.to_string(),
        });
    };
    let mut placed = 0usize;
    // The routing snapshot is rebuilt from the published pools: it must hear of the sharding
    // only once `pool.conns` holds it (below), or it rebuilds without it and the session
    // stays unaware of shards until its next topology refresh.
    let mut learned_sharding = false;
    if conns.slots.is_empty() {
        // First connection, through the normal port: learn the node's sharding.
        match open(pool.address, None, ctx).await {
            Ok(conn) => {
                let sharding = conn.info().sharding.clone();
                match sharding.as_ref().and_then(|s| {
                    let n = u16::try_from(s.nr_shards).ok().and_then(NonZeroU16::new)?;
                    Some((Sharder::new(n, s.ignore_msb), s.shard, s.shard_aware_port))
                }) {
                    Some((sharder, shard, port)) => {
                        let per = ctx.config.connections_per_shard.max(1);
                        conns.sharder = Some(sharder);
                        conns.shard_port = port.filter(|_| ctx.config.shard_aware_port);
                        conns.per_shard = per;
                        conns.slots = vec![None; usize::from(sharder.nr_shards().get()) * per];
                        learned_sharding = true;
                        place(
                            &mut conns,
                            Arc::new(conn),
                            Some(shard),
                            pool.address,
                            &mut visible,
                        );
                        placed += 1;
                    }
                    None => {
                        conns.per_shard = 1;
                        conns.slots = vec![None; ctx.config.connections_per_node.max(1)];
                        place(&mut conns, Arc::new(conn), None, pool.address, &mut visible);
                        placed += 1;
                    }
                }
            }
            Err(e) => {
                publish_failed(None, &e);
                return Filled {
                    complete: false,
                    alive: 0,
                    failed: true,
                };
            }
        }
    }
    let mut failures = 0usize;
    let missing: Vec<usize> = (0..conns.slots.len())
        .filter(|&i| conns.slots[i].is_none())
        .collect();
    for slot in missing {
        if conns.slots[slot].is_some() || failures > 2 {
            continue;
        }
        let per = conns.per_shard.max(1);
        match (conns.sharder, conns.shard_port) {
            (Some(sharder), Some(port)) => {
                let shard = (slot / per) as Shard;
                let hint = random_u64(slot as u64) as u16;
                let target = SocketAddr::new(pool.address.ip(), port);
                let ports =
                    sharder.ports_for_shard(shard, ctx.config.local_port_range.clone(), hint);
                for local in ports.take(8) {
                    match open(target, Some(local), ctx).await {
                        Ok(conn) => {
                            let landed = shard_of(&conn);
                            if landed != Some(shard) {
                                // NAT rewrote the port: use the normal port from now on.
                                conns.shard_port = None;
                            }
                            if place(
                                &mut conns,
                                Arc::new(conn),
                                landed,
                                pool.address,
                                &mut visible,
                            ) {
                                placed += 1;
                            }
                            break;
                        }
                        Err(e) if is_addr_in_use(&e) => continue,
                        Err(e) => {
                            publish_failed(Some(shard), &e);
                            failures += 1;
                            break;
                        }
                    }
                }
            }
            (sharder, _) => {
                // Normal port: the server picks the shard; keep it if that shard lacks one.
                match open(pool.address, None, ctx).await {
                    Ok(conn) => {
                        let landed = shard_of(&conn).filter(|_| sharder.is_some());
                        if place(
                            &mut conns,
                            Arc::new(conn),
                            landed,
                            pool.address,
                            &mut visible,
                        ) {
                            placed += 1;
                        }
                    }
                    Err(e) => {
                        publish_failed(None, &e);
                        failures += 1;
                    }
                }
            }
        }
    }
    let alive = conns.alive();
    let complete = conns.slots.iter().all(Option::is_some);
    pool.conns.store(Arc::new(conns));
    if learned_sharding {
        ctx.sharding_learned.notify_one();
    }
    for event in visible {
        ctx.events.publish(event);
    }
    Filled {
        complete,
        alive,
        // No new connection kept in a round is a failure too (backoff, no busy loop).
        failed: failures > 0 || (placed == 0 && !complete),
    }
}

/// Puts `conn` in a free slot of `shard` (any free slot without sharding); closes it when
/// that shard is already full.
fn place(
    conns: &mut Conns,
    conn: Arc<Connection>,
    shard: Option<Shard>,
    node: SocketAddr,
    visible: &mut Vec<SessionEvent>,
) -> bool {
    let per = conns.per_shard.max(1);
    let range = match (shard, conns.sharder) {
        (Some(s), Some(_)) => s as usize * per..(s as usize + 1) * per,
        _ => 0..conns.slots.len(),
    };
    let free = range
        .clone()
        .find(|&i| conns.slots.get(i).is_some_and(Option::is_none));
    match free {
        Some(i) => {
            visible.push(SessionEvent::ConnectionOpened { node, shard });
            conns.slots[i] = Some(conn);
            true
        }
        None => {
            conn.close();
            false
        }
    }
}

/// The pool task.
async fn run(pool: Arc<NodePool>, ctx: Arc<PoolContext>) {
    let base = ctx.config.reconnect_base;
    let mut delay = base;
    loop {
        if pool.closed.load(Ordering::Acquire) {
            break;
        }
        let filled = fill(&pool, &ctx).await;
        if filled.alive > 0 {
            if !pool.up.swap(true, Ordering::AcqRel) {
                ctx.events
                    .publish(SessionEvent::NodeUp { node: pool.address });
            }
        } else if pool.up.swap(false, Ordering::AcqRel) {
            ctx.events
                .publish(SessionEvent::NodeDown { node: pool.address });
        }
        let wait = if filled.complete {
            delay = base;
            Duration::from_secs(1)
        } else if !filled.failed {
            // Progress without errors (e.g. normal-port connections landing on shards that
            // already have one): go on right away.
            delay = base;
            Duration::ZERO
        } else {
            let jitter = random_u64(delay.as_nanos() as u64) % (delay.as_millis() as u64 / 2 + 1);
            let wait = delay + Duration::from_millis(jitter);
            delay = (delay * 2).min(ctx.config.reconnect_max);
            wait
        };
        tokio::select! {
            _ = pool.wake.notified() => delay = base,
            _ = tokio::time::sleep(wait) => {}
        }
    }
    let conns = pool.conns.load_full();
    for c in conns.slots.iter().flatten() {
        c.close();
    }
}
