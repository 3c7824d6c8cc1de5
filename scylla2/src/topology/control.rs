//! The control connection: one node at a time (failing over to the next known node, then the
//! contact points), REGISTERed for TOPOLOGY_CHANGE, STATUS_CHANGE and SCHEMA_CHANGE. Events
//! are published as they arrive and trigger a (coalesced) refresh; the topology is also
//! refreshed periodically and whenever a pool learns a node's sharding.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use scylla2_cql::frame::Opcode;
use scylla2_cql::request::Register;
use scylla2_cql::response::SchemaChangeTarget;
use scylla2_cql::response::{Event, Response, StatusChange};
use tokio::sync::{Notify, broadcast};

use super::pool::PoolContext;
use super::{Cluster, metadata};
use crate::connection::{Connection, ConnectionError, Envelope};
use crate::error::ExecutionError;
use crate::error::TopologyError;
use crate::events::SessionEvent;

/// Delay coalescing refreshes triggered by bursts of events.
const REFRESH_DELAY: Duration = Duration::from_millis(50);
/// How often the control connection's health is checked.
const HEALTH_INTERVAL: Duration = Duration::from_millis(250);
/// Longest pause between two rounds of control connection attempts. Short, because a new
/// control connection is also how a restarted single-node cluster is noticed (it wakes every
/// pool with its backoff reset), and an attempt on a node that refuses connections costs
/// one refused TCP handshake.
const CONTROL_RECONNECT_MAX: Duration = Duration::from_millis(500);

type Opened = (Arc<Connection>, broadcast::Receiver<Envelope>);

async fn register(conn: &Connection) -> Result<(), ExecutionError> {
    let request = Register {
        events: &[
            Register::TOPOLOGY_CHANGE,
            Register::STATUS_CHANGE,
            Register::SCHEMA_CHANGE,
        ],
    };
    let envelope = conn.send(&request, Default::default()).await?;
    match envelope.header.opcode {
        Opcode::Ready => Ok(()),
        _ => match crate::execution::decode(conn, envelope, None) {
            Err(e) => Err(e),
            Ok(_) => Err(ExecutionError::UnexpectedResponse(Opcode::Result)),
        },
    }
}

/// Opens a control connection to `addr`, registers, reads the metadata and applies it.
async fn open_control(
    cluster: &Cluster,
    addr: SocketAddr,
    use_v2: &mut bool,
) -> Result<Opened, TopologyError> {
    let conn = Connection::open(addr, None, &cluster.ctx.connection)
        .await
        .map_err(|e| TopologyError::NoControlConnection(vec![(addr, e)]))?;
    let conn = Arc::new(conn);
    let events = conn.events();
    register(&conn).await?;
    let translator = cluster.config.address_translator.as_deref();
    let meta = metadata::read_metadata(&conn, use_v2, translator).await?;
    cluster.control.store(Some(conn.clone()));
    super::schema::refresh(cluster, &conn).await;
    cluster.apply(meta);
    // A node that answers a control connection is reachable: pools waiting out a backoff
    // (e.g. after the node restarted) reconnect at once.
    for pool in &cluster.load().pools {
        pool.wake();
    }
    cluster
        .ctx
        .events
        .publish(SessionEvent::ControlConnectionChanged { node: addr });
    Ok((conn, events))
}

/// The first control connection, tried on each contact point in turn.
pub(super) async fn open_first(
    cluster: &Cluster,
    contact_points: &[SocketAddr],
) -> Result<(Arc<Connection>, broadcast::Receiver<Envelope>, bool), TopologyError> {
    let mut use_v2 = true;
    let mut failures: Vec<(SocketAddr, ConnectionError)> = Vec::new();
    let mut last = None;
    for &addr in contact_points {
        match open_control(cluster, addr, &mut use_v2).await {
            Ok((conn, events)) => return Ok((conn, events, use_v2)),
            Err(TopologyError::NoControlConnection(f)) => failures.extend(f),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) if failures.is_empty() => e,
        _ => TopologyError::NoControlConnection(failures),
    })
}

/// Refreshes the metadata over `conn`; false when the connection failed.
async fn refresh(weak: &Weak<Cluster>, conn: &Connection, use_v2: &mut bool) -> bool {
    let Some(cluster) = weak.upgrade() else {
        return false;
    };
    let translator = cluster.config.address_translator.clone();
    match metadata::read_metadata(conn, use_v2, translator.as_deref()).await {
        Ok(meta) => {
            super::schema::refresh(&cluster, conn).await;
            cluster.apply_if_changed(meta);
            true
        }
        Err(_) => !conn.is_closed(),
    }
}

/// Handles one pushed envelope; returns whether a refresh is needed.
fn handle(weak: &Weak<Cluster>, conn: &Connection, envelope: Envelope) -> bool {
    let Some(cluster) = weak.upgrade() else {
        return false;
    };
    let h = envelope.header;
    let ctx = &conn.info().response_context;
    let Ok(decoded) = Response::decode(h.opcode, h.flags, h.version, envelope.body, ctx) else {
        return false;
    };
    let Response::Event(event) = decoded.response else {
        return false;
    };
    let refresh = match &event {
        Event::StatusChange { change, address } => {
            let state = cluster.load();
            let pools = state
                .pools
                .iter()
                .filter(|p| p.address.ip() == address.ip());
            for pool in pools {
                match change {
                    // Reconnect at once, backoff reset.
                    StatusChange::Up => pool.wake(),
                    // Probe now: connections that do not answer die, and the node is
                    // routed around once none is usable.
                    StatusChange::Down => pool.probe(),
                    _ => {}
                }
            }
            false
        }
        Event::SchemaChange(change) => {
            if let SchemaChangeTarget::Keyspace { keyspace } = &change.target {
                cluster.tablets.forget_keyspace(keyspace);
            }
            true
        }
        Event::TopologyChange { .. } => true,
        _ => false,
    };
    cluster.ctx.events.publish_database(event);
    refresh
}

/// Serves the control connection until it breaks (or the cluster is gone).
async fn serve(
    weak: &Weak<Cluster>,
    refresh_now: &Notify,
    ctx: &PoolContext,
    conn: &Connection,
    events: &mut broadcast::Receiver<Envelope>,
    use_v2: &mut bool,
) {
    let interval = match weak.upgrade() {
        Some(c) => c.config.refresh_interval,
        None => return,
    };
    let mut next_periodic = Instant::now() + interval;
    let mut due: Option<Instant> = None;
    let mut health = tokio::time::interval(HEALTH_INTERVAL);
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(envelope) => {
                    if handle(weak, conn, envelope) && due.is_none() {
                        due = Some(Instant::now() + REFRESH_DELAY);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => due = Some(Instant::now()),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = refresh_now.notified() => due = Some(Instant::now()),
            _ = tokio::time::sleep_until(due.unwrap_or(next_periodic).into()) => {}
            _ = ctx.sharding_learned.notified() => {
                match weak.upgrade() {
                    Some(c) => c.rebuild(),
                    None => return,
                }
            }
            _ = health.tick() => {
                if conn.is_closed() || weak.strong_count() == 0 {
                    return;
                }
            }
        }
        let now = Instant::now();
        if due.is_some_and(|d| d <= now) || now >= next_periodic {
            due = None;
            next_periodic = now + interval;
            if !refresh(weak, conn, use_v2).await {
                return;
            }
        }
    }
}

/// The control connection task.
pub(super) async fn run(
    weak: Weak<Cluster>,
    refresh_now: Arc<Notify>,
    ctx: Arc<PoolContext>,
    contact_points: Vec<SocketAddr>,
    conn: Arc<Connection>,
    events: broadcast::Receiver<Envelope>,
    mut use_v2: bool,
) {
    let mut conn = conn;
    let mut events = events;
    let mut failures = 0u32;
    loop {
        serve(&weak, &refresh_now, &ctx, &conn, &mut events, &mut use_v2).await;
        #[cfg(feature = "tracing")]
        tracing::warn!(
            target: "scylla2",
            node = %conn.peer_addr(),
            error = conn.error().map(|e| e.to_string()),
            "control connection lost: failing over"
        );
        conn.close();
        'failover: loop {
            let candidates: Vec<SocketAddr> = {
                let Some(cluster) = weak.upgrade() else {
                    return;
                };
                cluster.control.store(None);
                let state = cluster.load();
                let mut up: Vec<SocketAddr> = Vec::new();
                let mut down: Vec<SocketAddr> = Vec::new();
                for p in &state.pools {
                    if p.address == conn.peer_addr() {
                        continue;
                    }
                    if p.is_up() {
                        up.push(p.address)
                    } else {
                        down.push(p.address)
                    }
                }
                up.into_iter()
                    .chain(down)
                    .chain(contact_points.iter().copied())
                    .chain(std::iter::once(conn.peer_addr()))
                    .collect()
            };
            for addr in candidates {
                let Some(cluster) = weak.upgrade() else {
                    return;
                };
                if let Ok((c, e)) = open_control(&cluster, addr, &mut use_v2).await {
                    conn = c;
                    events = e;
                    failures = 0;
                    break 'failover;
                }
            }
            failures = failures.saturating_add(1);
            let policy = &ctx.config.reconnection;
            let wait = policy.delay(conn.peer_addr(), failures);
            #[cfg(feature = "tracing")]
            tracing::warn!(
                target: "scylla2",
                failures,
                wait = ?wait.min(CONTROL_RECONNECT_MAX),
                "no node accepted a control connection"
            );
            tokio::time::sleep(wait.min(CONTROL_RECONNECT_MAX)).await;
        }
    }
}
