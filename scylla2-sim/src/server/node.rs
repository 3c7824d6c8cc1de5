//! One simulated node: its identity, listeners, live connections, prepared statement cache,
//! per-shard statistics and per-node fault knobs (pause, delays).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle};

use super::cluster::Shared;
use super::conn::{self, Out};
use super::eng::Prepared;
use crate::model::{ClusterView, NodeInfo, RequestStats};

/// A prepared statement as a node caches it.
pub(crate) struct PreparedEntry {
    pub stmt: Arc<Prepared>,
    pub query: Arc<str>,
}

/// Counters of one shard, on a cache line of their own: the shards of a node are served by
/// different threads, each bumping its own counters on every request.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct ShardStats {
    pub received: AtomicU64,
    pub owned: AtomicU64,
    pub with_token: AtomicU64,
    pub prepared: AtomicU64,
}

/// A live connection as the node tracks it.
pub(crate) struct ConnHandle {
    pub tx: mpsc::UnboundedSender<Out>,
    /// Bit mask of registered events (1 topology, 2 status, 4 schema).
    pub events: Arc<AtomicU8>,
    pub abort: AbortHandle,
}

#[derive(Default)]
pub(crate) struct Runtime {
    pub accept: Vec<JoinHandle<()>>,
    pub conns: HashMap<u64, ConnHandle>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A node of the cluster.
pub(crate) struct Node {
    pub index: usize,
    pub addr: IpAddr,
    pub datacenter: String,
    pub rack: String,
    pub tokens: Vec<i64>,
    pub host_id: uuid::Uuid,
    pub shards: u32,
    pub up: AtomicBool,
    pub removed: AtomicBool,
    pub rt: Mutex<Runtime>,
    pub prepared: RwLock<HashMap<Bytes, Arc<PreparedEntry>>>,
    pub stats: Box<[ShardStats]>,
    pub paused: watch::Sender<bool>,
    /// Response delay in microseconds: index 0 the whole node, 1 + s shard s.
    pub delays: Box<[AtomicU64]>,
    pub round_robin: AtomicU32,
    /// TLS on the node's ports.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Connections accepted on the shard-aware port.
    pub shard_aware_accepted: AtomicU64,
}

impl Node {
    pub(crate) fn new(
        index: usize,
        addr: IpAddr,
        (datacenter, rack): (String, String),
        tokens: Vec<i64>,
        host_id: uuid::Uuid,
        shards: u32,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Self {
        let n = shards.max(1) as usize;
        Node {
            index,
            addr,
            datacenter,
            rack,
            tokens,
            host_id,
            shards,
            up: AtomicBool::new(false),
            removed: AtomicBool::new(false),
            rt: Mutex::new(Runtime::default()),
            prepared: RwLock::new(HashMap::new()),
            stats: (0..n).map(|_| ShardStats::default()).collect(),
            paused: watch::channel(false).0,
            delays: (0..=n).map(|_| AtomicU64::new(0)).collect(),
            round_robin: AtomicU32::new(0),
            tls,
            shard_aware_accepted: AtomicU64::new(0),
        }
    }

    /// The response delay for connections of `shard`.
    pub(crate) fn delay(&self, shard: u32) -> Option<Duration> {
        let node = self.delays[0].load(Ordering::Relaxed);
        let shard = self
            .delays
            .get(1 + shard as usize)
            .map_or(0, |d| d.load(Ordering::Relaxed));
        let us = node.max(shard);
        (us > 0).then(|| Duration::from_micros(us))
    }

    pub(crate) fn info(&self, port: u16, schema_version: uuid::Uuid, release: &str) -> NodeInfo {
        NodeInfo {
            index: self.index,
            address: self.addr,
            port,
            datacenter: self.datacenter.clone(),
            rack: self.rack.clone(),
            tokens: self.tokens.clone(),
            host_id: self.host_id,
            release_version: release.to_string(),
            schema_version,
            up: self.up.load(Ordering::Acquire),
            shards: self.shards,
        }
    }

    pub(crate) fn stats_rows(&self) -> Vec<RequestStats> {
        self.stats
            .iter()
            .enumerate()
            .map(|(s, st)| RequestStats {
                node: self.index,
                shard: s as u32,
                received: st.received.load(Ordering::Relaxed),
                owned: st.owned.load(Ordering::Relaxed),
                with_token: st.with_token.load(Ordering::Relaxed),
                prepared: st.prepared.load(Ordering::Relaxed),
            })
            .collect()
    }

    pub(crate) fn reset_stats(&self) {
        for s in self.stats.iter() {
            s.received.store(0, Ordering::Relaxed);
            s.owned.store(0, Ordering::Relaxed);
            s.with_token.store(0, Ordering::Relaxed);
            s.prepared.store(0, Ordering::Relaxed);
        }
    }

    /// Closes every connection and stops the listeners; returns the accept tasks, whose end
    /// (awaited) means the listening sockets are closed.
    pub(crate) fn shutdown(&self) -> Vec<JoinHandle<()>> {
        // Take everything out under the lock, abort outside it (a cancelled connection's
        // drop guard takes the same lock).
        let (accept, conns) = {
            let mut rt = lock(&self.rt);
            let accept: Vec<JoinHandle<()>> = rt.accept.drain(..).collect();
            let conns: Vec<ConnHandle> = rt.conns.drain().map(|(_, c)| c).collect();
            (accept, conns)
        };
        for t in &accept {
            t.abort();
        }
        for c in conns {
            c.abort.abort();
        }
        accept
    }

    /// Closes every connection, keeping the listeners.
    pub(crate) fn drop_connections(&self) {
        let conns: Vec<ConnHandle> = lock(&self.rt).conns.drain().map(|(_, c)| c).collect();
        for c in conns {
            c.abort.abort();
        }
    }

    /// Sends `out` to every connection whose event mask has `bit`.
    pub(crate) fn push(&self, bit: u8, out: impl Fn() -> Out) {
        let rt = lock(&self.rt);
        for c in rt.conns.values() {
            if c.events.load(Ordering::Acquire) & bit != 0 {
                let _ = c.tx.send(out());
            }
        }
    }
}

/// The engine's view of the cluster from one node.
#[derive(Clone)]
pub(crate) struct NodeView {
    pub shared: Arc<Shared>,
    pub node: Arc<Node>,
}

impl ClusterView for NodeView {
    fn local(&self) -> NodeInfo {
        self.shared.node_info(&self.node)
    }
    fn peers(&self) -> Vec<NodeInfo> {
        let nodes = self.shared.nodes();
        nodes
            .iter()
            .filter(|n| n.index != self.node.index && !n.removed.load(Ordering::Acquire))
            .map(|n| self.shared.node_info(n))
            .collect()
    }
    fn request_stats(&self) -> Vec<RequestStats> {
        self.shared.request_stats()
    }
    fn placement(&self) -> (arc_swap::Guard<Arc<Vec<NodeInfo>>>, usize) {
        // A guard, not a clone of the `Arc`: no reference count shared by every thread
        // serving requests is written per request.
        (self.shared.infos.load(), self.node.index)
    }
}

/// Binds the node's listeners (CQL port and, with shards, the shard-aware port).
pub(crate) async fn bind(
    addr: IpAddr,
    port: u16,
    shard_port: Option<u16>,
) -> std::io::Result<(TcpListener, Option<TcpListener>)> {
    let main = bind_one(SocketAddr::new(addr, port)).await?;
    let aware = match shard_port {
        Some(p) => Some(bind_one(SocketAddr::new(addr, p)).await?),
        None => None,
    };
    Ok((main, aware))
}

/// Binds one listener; a fixed port still held by a just-closed listener is retried briefly.
async fn bind_one(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let mut tries = 0;
    loop {
        match TcpListener::bind(addr).await {
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse && addr.port() != 0 && tries < 20 =>
            {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            r => return r,
        }
    }
}

/// Starts the accept loops of `node` on bound listeners and marks it up.
pub(crate) fn serve(
    shared: &Arc<Shared>,
    node: &Arc<Node>,
    main: TcpListener,
    aware: Option<TcpListener>,
) {
    let mut rt = lock(&node.rt);
    rt.accept.push(tokio::spawn(accept_loop(
        shared.clone(),
        node.clone(),
        main,
        false,
    )));
    if let Some(a) = aware {
        rt.accept.push(tokio::spawn(accept_loop(
            shared.clone(),
            node.clone(),
            a,
            true,
        )));
    }
    node.up.store(true, Ordering::Release);
}

async fn accept_loop(shared: Arc<Shared>, node: Arc<Node>, listener: TcpListener, aware: bool) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        if aware {
            node.shard_aware_accepted.fetch_add(1, Ordering::Relaxed);
        }
        let shard = if node.shards == 0 {
            0
        } else if aware && !shared.nat.load(Ordering::Acquire) {
            u32::from(peer.port()) % node.shards
        } else {
            node.round_robin.fetch_add(1, Ordering::Relaxed) % node.shards
        };
        spawn_connection(&shared, &node, stream, shard);
    }
}

fn spawn_connection(shared: &Arc<Shared>, node: &Arc<Node>, stream: TcpStream, shard: u32) {
    let _ = stream.set_nodelay(true);
    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::unbounded_channel();
    let events = Arc::new(AtomicU8::new(0));
    let view = NodeView {
        shared: shared.clone(),
        node: node.clone(),
    };
    // Hold the lock across the spawn so the task's own removal cannot run first.
    let mut rt = lock(&node.rt);
    let task = tokio::spawn(conn::run(
        view,
        (stream, node.tls.clone()),
        shard,
        id,
        (tx.clone(), rx, events.clone()),
    ));
    rt.conns.insert(
        id,
        ConnHandle {
            tx,
            events,
            abort: task.abort_handle(),
        },
    );
}
