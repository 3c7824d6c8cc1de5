//! Metrics (feature `metrics`): per node, a lock-free latency histogram (the `histogram`
//! crate's atomic one: one relaxed `fetch_add` per sample, no lock) and counters of
//! requests, errors by kind, timeouts, retries and speculative attempts, recorded by the
//! attempt loop on the connection's node block (one pointer the pool attached to the
//! connection when it opened it); per session, counters of connection events, counted where
//! the session's events are published. [`Session::metrics`](crate::Session::metrics) reads
//! them into a [`MetricsSnapshot`] with percentiles; the gauges (in flight, open, orphaned
//! stream ids) are read from the connections then, so they cost the request path nothing.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use histogram::{AtomicHistogram, Histogram};

use crate::error::ConnectionError;
use crate::error::ExecutionError;
use crate::events::SessionEvent;

/// Histogram resolution: 2^6 sub-buckets per power of two (values within 1/64, 1.6 %).
const GROUPING_POWER: u8 = 6;
/// Largest latency recorded: 2^36 µs (19 hours); longer ones count in the last bucket.
const MAX_VALUE_POWER: u8 = 36;

fn new_histogram() -> AtomicHistogram {
    // Both powers are constants within the crate's limits.
    match AtomicHistogram::new(GROUPING_POWER, MAX_VALUE_POWER) {
        Ok(h) => h,
        Err(_) => unreachable!("valid histogram parameters"),
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros())
        .unwrap_or(u64::MAX)
        .min((1u64 << MAX_VALUE_POWER) - 1)
}

/// The counters of one node.
pub(crate) struct NodeMetrics {
    node: SocketAddr,
    requests: AtomicU64,
    errors: [AtomicU64; 4],
    timeouts: AtomicU64,
    retries: AtomicU64,
    speculative: AtomicU64,
    latency: AtomicHistogram,
}

impl std::fmt::Debug for NodeMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeMetrics")
            .field("node", &self.node)
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

/// Index of an error's kind in [`NodeMetrics::errors`].
fn kind(error: &ExecutionError) -> usize {
    match error {
        ExecutionError::Db { .. } => 0,
        ExecutionError::Connection(ConnectionError::DeadlinePassed)
        | ExecutionError::Timeout(_) => 2,
        ExecutionError::Connection(_) | ExecutionError::NoConnection => 1,
        _ => 3,
    }
}

impl NodeMetrics {
    fn new(node: SocketAddr) -> Self {
        Self {
            node,
            requests: AtomicU64::new(0),
            errors: Default::default(),
            timeouts: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            speculative: AtomicU64::new(0),
            latency: new_histogram(),
        }
    }

    /// An execution answered by this node after `latency`.
    pub(crate) fn success(&self, latency: Duration) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        // In range by construction (`micros` clamps).
        let _ = self.latency.increment(micros(latency));
    }

    /// An attempt on this node failed with `error`.
    pub(crate) fn error(&self, error: &ExecutionError) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let k = kind(error);
        self.errors[k].fetch_add(1, Ordering::Relaxed);
        if k == 2 {
            self.timeouts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A retry was sent to this node.
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// A speculative attempt was sent to this node.
    pub(crate) fn speculative(&self) {
        self.speculative.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> (NodeMetricsSnapshot, Histogram) {
        let histogram = self.latency.load();
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let errors = ErrorCounts {
            server: load(&self.errors[0]),
            connection: load(&self.errors[1]),
            timeout: load(&self.errors[2]),
            other: load(&self.errors[3]),
        };
        let snapshot = NodeMetricsSnapshot {
            node: self.node,
            requests: load(&self.requests),
            errors,
            timeouts: load(&self.timeouts),
            retries: load(&self.retries),
            speculative: load(&self.speculative),
            latency: Latency::of(&histogram),
        };
        (snapshot, histogram)
    }
}

/// A session's metrics.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    nodes: Mutex<Vec<Arc<NodeMetrics>>>,
    connections_opened: AtomicU64,
    connections_closed: AtomicU64,
    connection_failures: AtomicU64,
    replaced: AtomicU64,
}

impl Metrics {
    /// The counters of `node` (created on its first connection; kept while the session
    /// lives, so that a reconnecting node keeps its history).
    pub(crate) fn node(&self, node: SocketAddr) -> Arc<NodeMetrics> {
        let mut nodes = self.nodes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(m) = nodes.iter().find(|m| m.node == node) {
            return m.clone();
        }
        let m = Arc::new(NodeMetrics::new(node));
        nodes.push(m.clone());
        m
    }

    /// Counts a session event.
    pub(crate) fn event(&self, event: &SessionEvent) {
        let counter = match event {
            SessionEvent::ConnectionOpened { .. } => &self.connections_opened,
            SessionEvent::ConnectionClosed { .. } => &self.connections_closed,
            SessionEvent::ConnectionFailed { .. } => &self.connection_failures,
            SessionEvent::ConnectionReplaced { .. } => &self.replaced,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Everything now, with the gauges read from the connections by the caller.
    pub(crate) fn snapshot(
        &self,
        in_flight: usize,
        connections: crate::session::ConnectionStats,
    ) -> MetricsSnapshot {
        let nodes: Vec<Arc<NodeMetrics>> = self
            .nodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut per_node = Vec::with_capacity(nodes.len());
        let mut total: Option<Histogram> = None;
        for n in &nodes {
            let (snapshot, histogram) = n.snapshot();
            total = Some(match total {
                None => histogram,
                Some(t) => t.wrapping_add(&histogram).unwrap_or(t),
            });
            per_node.push(snapshot);
        }
        let sum = |f: fn(&NodeMetricsSnapshot) -> u64| per_node.iter().map(f).sum::<u64>();
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            requests: sum(|n| n.requests),
            errors: ErrorCounts {
                server: sum(|n| n.errors.server),
                connection: sum(|n| n.errors.connection),
                timeout: sum(|n| n.errors.timeout),
                other: sum(|n| n.errors.other),
            },
            timeouts: sum(|n| n.timeouts),
            retries: sum(|n| n.retries),
            speculative: sum(|n| n.speculative),
            in_flight,
            latency: total.as_ref().map(Latency::of).unwrap_or_default(),
            connections_open: connections.open,
            connections_opened: load(&self.connections_opened),
            connections_closed: load(&self.connections_closed),
            reconnect_attempts_failed: load(&self.connection_failures),
            connections_replaced: load(&self.replaced),
            orphaned_streams: connections.orphaned_streams,
            per_node,
        }
    }
}

/// Errors of attempts, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorCounts {
    /// The server answered with an ERROR.
    pub server: u64,
    /// The connection failed or none was available.
    pub connection: u64,
    /// The request timed out.
    pub timeout: u64,
    /// Anything else (malformed response, bad values, …).
    pub other: u64,
}

/// Latency percentiles of successful executions (from the first attempt to the answer),
/// each the upper bound of its histogram bucket (within 1.6 %).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Latency {
    /// Executions recorded.
    pub count: u64,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
    /// Largest.
    pub max: Duration,
}

impl Latency {
    fn of(h: &Histogram) -> Self {
        let q = |quantile: f64| {
            h.quantile_bucket(quantile)
                .ok()
                .flatten()
                .map_or(Duration::ZERO, |b| Duration::from_micros(b.end()))
        };
        Self {
            count: h.as_slice().iter().sum(),
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            max: q(1.0),
        }
    }
}

/// One node's metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeMetricsSnapshot {
    /// The node.
    pub node: SocketAddr,
    /// Attempts answered or failed on the node.
    pub requests: u64,
    /// Failed attempts, by kind.
    pub errors: ErrorCounts,
    /// Attempts that timed out.
    pub timeouts: u64,
    /// Retries sent to the node.
    pub retries: u64,
    /// Speculative attempts sent to the node.
    pub speculative: u64,
    /// Latency of the executions it answered.
    pub latency: Latency,
}

/// A session's metrics at one moment: counters since the session started, gauges now.
///
/// ```
/// # fn demo(session: &scylla2::Session) {
/// let m = session.metrics();
/// println!("{} requests, p99 {:?}, {} in flight", m.requests, m.latency.p99, m.in_flight);
/// for node in &m.per_node {
///     println!("{}: {} requests, {} timeouts", node.node, node.requests, node.timeouts);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Attempts answered or failed.
    pub requests: u64,
    /// Failed attempts, by kind.
    pub errors: ErrorCounts,
    /// Attempts that timed out.
    pub timeouts: u64,
    /// Retries sent.
    pub retries: u64,
    /// Speculative attempts sent.
    pub speculative: u64,
    /// Requests waiting for an answer now.
    pub in_flight: usize,
    /// Latency of successful executions, every node together.
    pub latency: Latency,
    /// Open connections now.
    pub connections_open: usize,
    /// Connections opened since the session started.
    pub connections_opened: u64,
    /// Connections closed (or died) since the session started.
    pub connections_closed: u64,
    /// Failed attempts to open a connection.
    pub reconnect_attempts_failed: u64,
    /// Connections replaced for their orphaned stream ids.
    pub connections_replaced: u64,
    /// Stream ids held now by requests whose answers never came.
    pub orphaned_streams: usize,
    /// Each node's.
    pub per_node: Vec<NodeMetricsSnapshot>,
}
