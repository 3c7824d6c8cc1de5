//! One fill round of a node pool: drops the closed connections, opens the first connection
//! (which tells the node's sharding), then opens every missing connection and a replacement
//! for every retiring one *concurrently*, each handshake with its own timeouts. Every event
//! (connection closed, failed, opened, replaced) is published as it happens; an opened
//! connection is published once the pool holds it, so that a listener can use it at once.

use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::task::JoinSet;

use super::{Conns, NodePool, PoolContext, is_addr_in_use, open, random_u64, shard_of};
use crate::connection::{Connection, ConnectionError};
use crate::events::SessionEvent;
use crate::routing::{Shard, Sharder};

/// Local ports tried for one shard-aware connection before giving up for this round.
const PORT_TRIES: usize = 8;

/// Outcome of one fill round.
pub(super) struct Filled {
    /// Every slot holds an open connection that is not retiring.
    pub(super) complete: bool,
    /// Connections requests are routed to.
    pub(super) usable: usize,
    /// Opening failed, or nothing could be kept: back off.
    pub(super) failed: bool,
}

/// What one concurrent open produced.
struct Opened {
    slot: usize,
    /// The slot held a retiring connection that this one replaces.
    replacing: bool,
    /// The shard the connection was meant for.
    shard: Option<Shard>,
    /// The connection, and whether NAT sent it to another shard than its local port chose.
    result: Result<(Connection, bool), ConnectionError>,
}

fn is_settled(slot: &Option<Arc<Connection>>) -> bool {
    slot.as_ref()
        .is_some_and(|c| !c.is_closed() && !c.is_retiring())
}

pub(super) async fn fill(pool: &Arc<NodePool>, ctx: &Arc<PoolContext>) -> Filled {
    {
        // The common case, checked every round: every slot holds an open connection that is
        // not retiring. Nothing to change, so nothing is cloned or stored.
        let current = pool.conns.load();
        if !current.slots.is_empty() && current.slots.iter().all(is_settled) {
            return Filled {
                complete: true,
                usable: current.usable(),
                failed: false,
            };
        }
    }
    drop_closed(pool, ctx);
    if pool.conns.load().slots.is_empty()
        && let Err(e) = open_first(pool, ctx).await
    {
        publish_failed(pool, ctx, None, &e);
        return Filled {
            complete: false,
            usable: 0,
            failed: true,
        };
    }
    let mut set = JoinSet::new();
    // Slots this round opened a connection for (each is tried once per round).
    let mut tried = vec![false; pool.conns.load().slots.len()];
    let (mut failures, mut placed) = (0usize, 0usize);
    loop {
        spawn_opens(pool, ctx, &mut set, &mut tried);
        let joined = tokio::select! {
            joined = set.join_next() => match joined {
                Some(joined) => joined,
                None => break,
            },
            // A connection died or changed health while handshakes run: publish it now,
            // and open a replacement in this round.
            _ = pool.health.notified() => {
                drop_closed(pool, ctx);
                pool.publish_state(ctx, pool.conns.load().usable());
                continue;
            }
        };
        if pool.closed.load(Ordering::Acquire) {
            // Dropping the set aborts the handshakes still running.
            break;
        }
        let Ok(opened) = joined else {
            failures += 1;
            continue;
        };
        match opened.result {
            Err(e) => {
                publish_failed(pool, ctx, opened.shard, &e);
                failures += 1;
            }
            Ok((conn, nat)) => {
                conn.watch(pool.health.clone());
                #[cfg(feature = "metrics")]
                conn.set_metrics(ctx.events.metrics.node(pool.address));
                let mut conns: Conns = (**pool.conns.load()).clone();
                if nat {
                    // NAT rewrote the port: use the normal port from now on.
                    conns.shard_port = None;
                }
                let mut events = Vec::new();
                let slot = (opened.slot, opened.replacing);
                if accept(pool.address, &mut conns, slot, Arc::new(conn), &mut events) {
                    placed += 1;
                }
                let replaced = events
                    .iter()
                    .filter(|e| matches!(e, SessionEvent::ConnectionReplaced { .. }))
                    .count();
                ctx.replaced.fetch_add(replaced as u64, Ordering::Relaxed);
                pool.publish(conns);
                for event in events {
                    ctx.events.publish(event);
                }
                pool.publish_state(ctx, pool.conns.load().usable());
            }
        }
    }
    let now = pool.conns.load();
    let complete = now.slots.iter().all(is_settled);
    Filled {
        complete,
        usable: now.usable(),
        // No new connection kept in a round is a failure too (backoff, no busy loop).
        failed: failures > 0 || (placed == 0 && !complete),
    }
}

/// Starts a handshake for every slot that is empty or holds a retiring connection and was
/// not tried yet in this round.
fn spawn_opens(
    pool: &NodePool,
    ctx: &Arc<PoolContext>,
    set: &mut JoinSet<Opened>,
    tried: &mut [bool],
) {
    let current = pool.conns.load();
    for (slot, held) in current.slots.iter().enumerate() {
        let replacing = match held {
            None => false,
            Some(c) if c.is_retiring() && !c.is_closed() => true,
            Some(_) => continue,
        };
        match tried.get_mut(slot) {
            Some(t) if !*t => *t = true,
            _ => continue,
        }
        let shard = current.shard_of_slot(slot);
        let route = (current.sharder, current.shard_port);
        let (address, ctx) = (pool.address, ctx.clone());
        set.spawn(async move {
            let result = open_for(address, slot, shard, route, &ctx).await;
            Opened {
                slot,
                replacing,
                shard,
                result,
            }
        });
    }
}

fn publish_failed(pool: &NodePool, ctx: &PoolContext, shard: Option<Shard>, e: &ConnectionError) {
    ctx.events.publish(SessionEvent::ConnectionFailed {
        node: pool.address,
        shard,
        error: e.to_string(),
    });
}

/// Empties the slots of closed connections, publishing each closure.
fn drop_closed(pool: &NodePool, ctx: &PoolContext) {
    let current = pool.conns.load();
    if !current.slots.iter().flatten().any(|c| c.is_closed()) {
        return;
    }
    let mut conns: Conns = (**current).clone();
    drop(current);
    let mut closed = Vec::new();
    for slot in conns.slots.iter_mut() {
        if slot.as_ref().is_some_and(|c| c.is_closed()) {
            closed.push(slot.as_deref().and_then(shard_of));
            *slot = None;
        }
    }
    pool.publish(conns);
    for shard in closed {
        ctx.events.publish(SessionEvent::ConnectionClosed {
            node: pool.address,
            shard,
        });
    }
}

/// The first connection, through the normal port: it tells the node's sharding, which sizes
/// the pool. The routing snapshot is rebuilt from the published pools, so it hears of the
/// sharding only once `pool.conns` holds it.
async fn open_first(pool: &NodePool, ctx: &PoolContext) -> Result<(), ConnectionError> {
    let conn = open(pool.address, pool.address, None, ctx).await?;
    conn.watch(pool.health.clone());
    #[cfg(feature = "metrics")]
    conn.set_metrics(ctx.events.metrics.node(pool.address));
    let mut conns: Conns = (**pool.conns.load()).clone();
    let sharding = conn.info().sharding.as_ref().and_then(|s| {
        let n = u16::try_from(s.nr_shards).ok().and_then(NonZeroU16::new)?;
        // With TLS, ScyllaDB's TLS shard-aware port (SCYLLA_SHARD_AWARE_PORT_SSL).
        let port = s.shard_aware_port_for(ctx.connection.uses_tls());
        Some((Sharder::new(n, s.ignore_msb), s.shard, port))
    });
    let mut events = Vec::new();
    let shard = match sharding {
        Some((sharder, shard, port)) => {
            let per = ctx.config.connections_per_shard.max(1);
            conns.sharder = Some(sharder);
            conns.shard_port = port.filter(|_| ctx.config.shard_aware_port);
            conns.per_shard = per;
            conns.slots = vec![None; usize::from(sharder.nr_shards().get()) * per];
            Some(shard)
        }
        None => {
            conns.per_shard = 1;
            conns.slots = vec![None; ctx.config.connections_per_node.max(1)];
            None
        }
    };
    place(&mut conns, Arc::new(conn), shard, pool.address, &mut events);
    pool.publish(conns);
    if sharding.is_some() {
        ctx.sharding_learned.notify_one();
    }
    for event in events {
        ctx.events.publish(event);
    }
    Ok(())
}

/// Opens a connection for `slot`: through the shard-aware port from a local port chosen
/// for its shard when the node has one, else through the normal port (the server picks the
/// shard).
async fn open_for(
    address: SocketAddr,
    slot: usize,
    shard: Option<Shard>,
    (sharder, shard_port): (Option<Sharder>, Option<u16>),
    ctx: &PoolContext,
) -> Result<(Connection, bool), ConnectionError> {
    let (Some(sharder), Some(port), Some(shard)) = (sharder, shard_port, shard) else {
        return open(address, address, None, ctx).await.map(|c| (c, false));
    };
    let hint = random_u64(slot as u64) as u16;
    let target = SocketAddr::new(address.ip(), port);
    let ports = sharder.ports_for_shard(shard, ctx.config.local_port_range.clone(), hint);
    let mut last = None;
    for local in ports.take(PORT_TRIES) {
        match open(address, target, Some(local), ctx).await {
            Ok(conn) => {
                let nat = shard_of(&conn) != Some(shard);
                return Ok((conn, nat));
            }
            Err(e) if is_addr_in_use(&e) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::from(std::io::ErrorKind::AddrInUse).into()))
}

/// Takes a new connection for `slot`: into that slot when it replaces the slot's retiring
/// connection and landed on the slot's shard (the old one closes when the requests holding
/// it are done), else into a free slot of the shard it landed on; closed when there is none.
fn accept(
    node: SocketAddr,
    conns: &mut Conns,
    (slot, replacing): (usize, bool),
    conn: Arc<Connection>,
    events: &mut Vec<SessionEvent>,
) -> bool {
    let landed = shard_of(&conn).filter(|_| conns.sharder.is_some());
    if replacing
        && landed == conns.shard_of_slot(slot)
        && let Some(held) = conns.slots.get_mut(slot)
    {
        if let Some(old) = held.replace(conn) {
            events.push(SessionEvent::ConnectionReplaced {
                node,
                shard: landed,
                orphaned_streams: old.orphaned_streams(),
            });
        }
        events.push(SessionEvent::ConnectionOpened {
            node,
            shard: landed,
        });
        return true;
    }
    place(conns, conn, landed, node, events)
}

/// Puts `conn` in a free slot of `shard` (any free slot without sharding); closes it when
/// that shard is already full.
fn place(
    conns: &mut Conns,
    conn: Arc<Connection>,
    shard: Option<Shard>,
    node: SocketAddr,
    events: &mut Vec<SessionEvent>,
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
            events.push(SessionEvent::ConnectionOpened { node, shard });
            conns.slots[i] = Some(conn);
            true
        }
        None => {
            conn.close();
            false
        }
    }
}
