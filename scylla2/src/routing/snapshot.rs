//! An immutable snapshot of the topology for routing: nodes with their distance class, the
//! token ring, and — computed once when the snapshot is built — for every distinct
//! replication strategy and every ring range the replicas split by distance class, shared by
//! all keyspaces with that strategy. Requests read it through an `ArcSwap` without locking.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use ahash::AHashMap;
use uuid::Uuid;

use super::Token;
use super::distance::{CLASS_IGNORED, DistancePolicy, NodeDistance, PLAN_CLASSES};
use super::replication::ReplicationStrategy;
use super::ring::{NodeInfo, Ring};
use super::sharding::Sharder;

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
    /// Each node's sharding, densely packed for plans.
    sharders: Vec<Option<Sharder>>,
    /// The ring's tokens with an index by their top bits, for `range_of` in O(1).
    tokens: TokenIndex,
    /// This snapshot's number (never 0), for the [`KeyspaceSlot`]s that memo its keyspaces.
    generation: u32,
}

/// Snapshot numbers: one per snapshot built in this process.
static GENERATIONS: AtomicU32 = AtomicU32::new(1);

fn next_generation() -> u32 {
    loop {
        // Wraps after 2^32 snapshots; 0 is the empty slot's.
        let g = GENERATIONS.fetch_add(1, Ordering::Relaxed);
        if g != 0 {
            return g;
        }
    }
}

/// A statement's memo of its keyspace's replica table in the latest snapshot that routed it:
/// the keyspace's name is looked up (a hash of the name and a comparison) only when the
/// snapshot changed since; the memo saved 76 to 91 instructions per request (callgrind,
/// prepared single-row statements, when it was added). Prepared
/// statements keep one and pass it in [`RoutingInfo::keyspace_slot`](super::RoutingInfo).
///
/// ```
/// use scylla2::routing::KeyspaceSlot;
///
/// let slot = KeyspaceSlot::default(); // empty: the first lookup fills it
/// # let _ = slot;
/// ```
#[derive(Debug, Default)]
pub struct KeyspaceSlot(AtomicU64);

impl KeyspaceSlot {
    /// The table index memoized for the snapshot numbered `generation`.
    #[inline]
    fn get(&self, generation: u32) -> Option<u32> {
        let v = self.0.load(Ordering::Relaxed);
        ((v >> 32) as u32 == generation).then_some(v as u32)
    }

    #[inline]
    fn set(&self, generation: u32, table: u32) {
        self.0.store(
            u64::from(generation) << 32 | u64::from(table),
            Ordering::Relaxed,
        );
    }
}

/// The ring's tokens (sorted) and, for each of `2^bits` equal slices of the token space, the
/// first ring index whose token falls in that slice or after: a lookup reads its slice's
/// bounds and searches the (usually 0 or 1) tokens between them.
#[derive(Debug, Default)]
struct TokenIndex {
    tokens: Vec<i64>,
    /// `starts[b]` = first index with `biased(token) >> shift >= b`; `2^bits + 1` entries.
    starts: Vec<u32>,
    shift: u32,
}

/// The token as an unsigned value in the same order.
#[inline]
fn biased(token: i64) -> u64 {
    (token as u64) ^ (1 << 63)
}

impl TokenIndex {
    fn new(ring: &Ring) -> Self {
        let tokens: Vec<i64> = ring.entries().iter().map(|(t, _)| t.0).collect();
        // About one slice per token (at least 2, at most 2^20 slices).
        let bits = tokens
            .len()
            .next_power_of_two()
            .trailing_zeros()
            .clamp(1, 20);
        let shift = 64 - bits;
        let slices = 1usize << bits;
        let mut starts = Vec::with_capacity(slices + 1);
        let mut i = 0usize;
        for b in 0..=slices {
            while i < tokens.len() && ((biased(tokens[i]) >> shift) as usize) < b {
                i += 1;
            }
            starts.push(i as u32);
        }
        Self {
            tokens,
            starts,
            shift,
        }
    }

    /// Like [`Ring::range_of`]: the first index with a token `>= token`, wrapping to 0.
    #[inline]
    fn range_of(&self, token: Token) -> Option<usize> {
        if self.tokens.is_empty() {
            return None;
        }
        let b = (biased(token.0) >> self.shift) as usize;
        let lo = *self.starts.get(b)? as usize;
        let hi = *self.starts.get(b + 1)? as usize;
        let within = self.tokens.get(lo..hi)?;
        let i = lo + within.partition_point(|&t| t < token.0);
        Some(if i == self.tokens.len() { 0 } else { i })
    }
}

// Some accessors serve only the tests and benches (the `unstable` feature).
#[cfg_attr(not(feature = "unstable"), allow(dead_code))]
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
        let sharders = nodes.iter().map(|n| n.sharder).collect();
        let tokens = TokenIndex::new(&ring);
        let mut snapshot = Self {
            nodes,
            class,
            ring,
            by_host,
            class_nodes,
            class_ends,
            tables: Vec::new(),
            keyspaces: AHashMap::new(),
            sharders,
            tokens,
            generation: next_generation(),
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
        let (flat, ends) = self.replica_range(keyspace, token);
        let slice = |a: u16, b: u16| flat.get(usize::from(a)..usize::from(b)).unwrap_or_default();
        [
            slice(0, ends[0]),
            slice(ends[0], ends[1]),
            slice(ends[1], ends[2]),
        ]
    }

    /// The replicas of `token` in `keyspace` as one slice, classes in plan order, class `c`
    /// ending at `ends[c]` (empty when the keyspace or ring is unknown).
    #[inline]
    pub(crate) fn replica_range(
        &self,
        keyspace: &str,
        token: Token,
    ) -> (&[u32], [u16; PLAN_CLASSES]) {
        self.replica_range_with(keyspace, None, token)
    }

    /// [`Self::replica_range`], the keyspace's table read from `slot` when it holds this
    /// snapshot's (and written there otherwise).
    #[inline]
    pub(crate) fn replica_range_with(
        &self,
        keyspace: &str,
        slot: Option<&KeyspaceSlot>,
        token: Token,
    ) -> (&[u32], [u16; PLAN_CLASSES]) {
        const EMPTY: (&[u32], [u16; PLAN_CLASSES]) = (&[], [0; PLAN_CLASSES]);
        let memo = slot.and_then(|s| s.get(self.generation));
        let table = match memo {
            Some(table) => table,
            None => {
                let Some(&table) = self.keyspaces.get(keyspace) else {
                    return EMPTY;
                };
                if let Some(slot) = slot {
                    slot.set(self.generation, table);
                }
                table
            }
        };
        let (Some(table), Some(range)) =
            (self.tables.get(table as usize), self.tokens.range_of(token))
        else {
            return EMPTY;
        };
        let Some(r) = table.ranges.get(range) else {
            return EMPTY;
        };
        let start = r.start as usize;
        let end = start + usize::from(r.ends[PLAN_CLASSES - 1]);
        match table.flat.get(start..end) {
            Some(flat) => (flat, r.ends),
            None => EMPTY,
        }
    }

    /// Every non-ignored node grouped by class, class `c` ending at `ends[c]`.
    #[inline]
    pub(crate) fn class_nodes_all(&self) -> (&[u32], &[usize; PLAN_CLASSES]) {
        (&self.class_nodes, &self.class_ends)
    }

    /// Plan class of node `index`.
    #[inline]
    pub(crate) fn class_of(&self, index: u32) -> u8 {
        self.class
            .get(index as usize)
            .copied()
            .unwrap_or(CLASS_IGNORED)
    }

    /// Sharding of node `index` (Scylla nodes).
    #[inline]
    pub(crate) fn sharder(&self, index: u32) -> Option<Sharder> {
        self.sharders.get(index as usize).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};

    use uuid::Uuid;

    use super::*;

    fn ring_of(tokens: &[&[i64]]) -> Ring {
        let nodes: Vec<NodeInfo> = tokens
            .iter()
            .enumerate()
            .map(|(i, ts)| {
                let addr = SocketAddr::from((Ipv4Addr::new(127, 0, 0, i as u8 + 1), 9042));
                let mut n = NodeInfo::new(Uuid::from_u128(i as u128 + 1), addr);
                n.tokens = ts.iter().map(|&t| Token(t)).collect();
                n
            })
            .collect();
        Ring::new(&nodes)
    }

    /// Every probe agrees with the ring's binary search.
    fn check(ring: &Ring, probes: impl IntoIterator<Item = i64>) {
        let index = TokenIndex::new(ring);
        for p in probes {
            assert_eq!(
                index.range_of(Token(p)),
                ring.range_of(Token(p)),
                "token {p} on {:?}",
                ring.entries()
            );
        }
    }

    #[test]
    fn token_index_matches_the_ring() {
        let edges = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
        check(&ring_of(&[]), edges);
        check(&ring_of(&[&[0]]), edges);
        check(&ring_of(&[&[i64::MIN], &[i64::MAX]]), edges);
        // Clustered tokens: many in one slice of the index.
        let clustered: Vec<i64> = (0..100).map(|i| 1000 + i * 3).collect();
        let ring = ring_of(&[&clustered, &[-5, 7]]);
        check(&ring, edges.into_iter().chain(990..1320));
        // Spread tokens (a pseudo-random sequence), probed on and around each.
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut spread = Vec::new();
        for _ in 0..700 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            spread.push(x as i64);
        }
        let (a, b) = spread.split_at(350);
        let ring = ring_of(&[a, b]);
        let probes: Vec<i64> = spread
            .iter()
            .flat_map(|&t| [t.saturating_sub(1), t, t.saturating_add(1)])
            .chain(edges)
            .collect();
        check(&ring, probes);
    }
}
