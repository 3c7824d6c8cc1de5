//! An immutable snapshot of the topology for routing: nodes with their distance class, the
//! token ring, and — computed once when the snapshot is built — for every distinct
//! replication strategy and every ring range the replicas split by distance class, shared by
//! all keyspaces with that strategy. Requests read it through an `ArcSwap` without locking.

use std::sync::atomic::{AtomicUsize, Ordering};

use ahash::AHashMap;
use uuid::Uuid;

use super::Token;
use super::distance::{CLASS_IGNORED, DistancePolicy, NodeDistance, PLAN_CLASSES};
use super::replication::ReplicationStrategy;
use super::ring::{NodeInfo, Ring};

/// Replicas of one ring range: `flat[start..]` split into classes ending at `ends`.
#[derive(Debug, Clone, Copy)]
struct RangeReplicas {
    start: u32,
    ends: [u16; PLAN_CLASSES],
}

/// Replicas per ring range for one strategy.
#[derive(Debug)]
struct ReplicaTable {
    strategy: ReplicationStrategy,
    ranges: Vec<RangeReplicas>,
    flat: Vec<u32>,
}

/// A routing snapshot of the cluster. Build a new one on every topology or schema change.
#[derive(Debug)]
pub struct TopologySnapshot {
    nodes: Vec<NodeInfo>,
    class: Vec<u8>,
    ring: Ring,
    by_host: AHashMap<Uuid, u32>,
    /// Non-ignored nodes grouped by class, each group in node order.
    class_nodes: Vec<u32>,
    class_ends: [usize; PLAN_CLASSES],
    tables: Vec<ReplicaTable>,
    keyspaces: AHashMap<String, u32>,
    rotation: AtomicUsize,
}

impl TopologySnapshot {
    /// Builds a snapshot of `nodes` with keyspaces and their strategies, classifying nodes
    /// with `policy`, and precomputes the replicas of every ring range for every distinct
    /// strategy.
    pub fn new<I>(nodes: Vec<NodeInfo>, keyspaces: I, policy: &DistancePolicy) -> Self
    where
        I: IntoIterator<Item = (String, ReplicationStrategy)>,
    {
        let ring = Ring::new(&nodes);
        let class: Vec<u8> = nodes.iter().map(|n| policy.class(n)).collect();
        let by_host = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.host_id, i as u32))
            .collect();
        let mut class_nodes = Vec::with_capacity(nodes.len());
        let mut class_ends = [0; PLAN_CLASSES];
        for (c, end) in class_ends.iter_mut().enumerate() {
            class_nodes.extend((0..nodes.len() as u32).filter(|&i| class[i as usize] == c as u8));
            *end = class_nodes.len();
        }
        let mut snapshot = Self {
            nodes,
            class,
            ring,
            by_host,
            class_nodes,
            class_ends,
            tables: Vec::new(),
            keyspaces: AHashMap::new(),
            rotation: AtomicUsize::new(0),
        };
        let mut placed = Vec::new();
        for (name, strategy) in keyspaces {
            let index = match snapshot.tables.iter().position(|t| t.strategy == strategy) {
                Some(i) => i,
                None => {
                    let table = snapshot.build_table(strategy, &mut placed);
                    snapshot.tables.push(table);
                    snapshot.tables.len() - 1
                }
            };
            snapshot.keyspaces.insert(name, index as u32);
        }
        snapshot
    }

    fn build_table(&self, strategy: ReplicationStrategy, placed: &mut Vec<u32>) -> ReplicaTable {
        let n = self.ring.entries().len();
        let mut ranges = Vec::with_capacity(n);
        let mut flat = Vec::new();
        for i in 0..n {
            strategy.place(&self.ring, i, placed);
            let start = flat.len() as u32;
            let mut ends = [0u16; PLAN_CLASSES];
            for (c, end) in ends.iter_mut().enumerate() {
                flat.extend(
                    placed
                        .iter()
                        .copied()
                        .filter(|&node| self.class[node as usize] == c as u8),
                );
                *end = (flat.len() as u32 - start) as u16;
            }
            ranges.push(RangeReplicas { start, ends });
        }
        ReplicaTable {
            strategy,
            ranges,
            flat,
        }
    }

    /// The nodes; plan targets index into this slice.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// Node `index`.
    pub fn node(&self, index: u32) -> Option<&NodeInfo> {
        self.nodes.get(index as usize)
    }

    /// Index of the node with `host_id`.
    pub fn node_by_host_id(&self, host_id: &Uuid) -> Option<u32> {
        self.by_host.get(host_id).copied()
    }

    /// The distance of node `index`.
    pub fn distance(&self, index: u32) -> NodeDistance {
        match self.class_of(index) {
            0 | 1 => NodeDistance::Local,
            2 => NodeDistance::Remote,
            _ => NodeDistance::Ignored,
        }
    }

    /// The token ring.
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// The replication strategy of `keyspace`, if known.
    pub fn keyspace_strategy(&self, keyspace: &str) -> Option<&ReplicationStrategy> {
        let t = *self.keyspaces.get(keyspace)?;
        self.tables.get(t as usize).map(|t| &t.strategy)
    }

    /// Number of distinct replica tables (one per distinct strategy).
    pub fn replica_table_count(&self) -> usize {
        self.tables.len()
    }

    /// The replicas of `token` in `keyspace` (not ignored ones), split by class
    /// (preferred-rack local, local, remote), each in placement order. Empty slices when the
    /// keyspace or ring is unknown. Allocates nothing.
    pub fn replicas(&self, keyspace: &str, token: Token) -> [&[u32]; PLAN_CLASSES] {
        const EMPTY: [&[u32]; PLAN_CLASSES] = [&[], &[], &[]];
        let Some(&table) = self.keyspaces.get(keyspace) else {
            return EMPTY;
        };
        let (Some(table), Some(range)) =
            (self.tables.get(table as usize), self.ring.range_of(token))
        else {
            return EMPTY;
        };
        let Some(r) = table.ranges.get(range) else {
            return EMPTY;
        };
        let start = r.start as usize;
        let slice = |a: u16, b: u16| {
            table
                .flat
                .get(start + usize::from(a)..start + usize::from(b))
                .unwrap_or_default()
        };
        [
            slice(0, r.ends[0]),
            slice(r.ends[0], r.ends[1]),
            slice(r.ends[1], r.ends[2]),
        ]
    }

    /// Plan class of node `index`.
    #[inline]
    pub(crate) fn class_of(&self, index: u32) -> u8 {
        self.class
            .get(index as usize)
            .copied()
            .unwrap_or(CLASS_IGNORED)
    }

    /// Non-ignored nodes of class `c`.
    #[inline]
    pub(crate) fn class_nodes(&self, c: usize) -> &[u32] {
        let start = if c == 0 { 0 } else { self.class_ends[c - 1] };
        self.class_nodes
            .get(start..self.class_ends[c])
            .unwrap_or_default()
    }

    /// Advances the rotation counter.
    #[inline]
    pub(crate) fn next_rotation(&self) -> usize {
        self.rotation.fetch_add(1, Ordering::Relaxed)
    }
}
