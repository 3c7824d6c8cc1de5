//! The token ring: replica placement for SimpleStrategy and NetworkTopologyStrategy (per-DC
//! factors, distinct racks first, like Cassandra's `NetworkTopologyStrategy`).

use std::cell::RefCell;
use std::sync::Arc;

use crate::model::{NodeInfo, SimError};

/// A keyspace's replication strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replication {
    /// SimpleStrategy with a replication factor.
    Simple(usize),
    /// NetworkTopologyStrategy: replication factor per data center.
    NetworkTopology(Vec<(String, usize)>),
    /// LocalStrategy (system keyspaces): the local node only.
    Local,
}

/// A node list snapshot and its ring.
type Sorted = (Arc<Vec<NodeInfo>>, Ring);

/// The ring of a node list: every (token, node position) pair, sorted by token; an index of
/// where each token range starts in it ([`Self::start`]); and what was worked out once from
/// the same node list ([`Self::recall`]).
#[derive(Debug, Default)]
pub struct Ring(Vec<(i64, usize)>, Memo, Vec<u32>);

/// Token ranges of the ring's index: 2^`INDEX_BITS` of equal width.
const INDEX_BITS: u32 = 10;

/// The index range of `token`: its top bits, with the order of tokens kept (sign flipped).
fn range_of(token: i64) -> usize {
    (((token as u64) ^ (1 << 63)) >> (64 - INDEX_BITS)) as usize
}

/// Verdicts that depend only on a node list snapshot and their key (a consistency check while
/// every node is up), kept with the snapshot's ring: a few entries, cleared when full.
type Memo = RefCell<Vec<(MemoKey, Result<(), SimError>)>>;

/// What a remembered verdict was asked about, beside the node list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoKey {
    /// The question, as its asker tells questions apart.
    pub question: u32,
    /// The coordinator.
    pub local: usize,
    /// The keyspace's replication.
    pub replication: Replication,
}

/// Remembered verdicts per ring at most.
const MEMO_ENTRIES: usize = 16;

impl Ring {
    /// Sorts the tokens of `nodes`.
    pub fn new(nodes: &[NodeInfo]) -> Self {
        let mut ring: Vec<(i64, usize)> = nodes
            .iter()
            .enumerate()
            .flat_map(|(pos, n)| n.tokens.iter().map(move |t| (*t, pos)))
            .collect();
        ring.sort_unstable();
        // index[r]: the first entry of range r or after it; index[2^bits]: the end.
        let ranges = 1usize << INDEX_BITS;
        let mut index = Vec::with_capacity(ranges + 1);
        let mut at = 0;
        for r in 0..=ranges {
            while at < ring.len() && range_of(ring[at].0) < r {
                at += 1;
            }
            index.push(at as u32);
        }
        Self(ring, Memo::default(), index)
    }

    /// The position of the first entry whose token is `token` or above (the ring's length
    /// when none is): a binary search over the entries of `token`'s index range only (with
    /// 768 tokens, about one), instead of over the whole ring.
    pub fn start(&self, token: i64) -> usize {
        let r = range_of(token);
        let (Some(&lo), Some(&hi)) = (self.2.get(r), self.2.get(r + 1)) else {
            return self.0.partition_point(|(t, _)| *t < token);
        };
        let (lo, hi) = (lo as usize, hi as usize);
        match self.0.get(lo..hi) {
            Some(entries) => lo + entries.partition_point(|(t, _)| *t < token),
            None => self.0.partition_point(|(t, _)| *t < token),
        }
    }

    /// The verdict remembered for `key` on this ring's node list.
    pub fn recall(&self, key: &MemoKey) -> Option<Result<(), SimError>> {
        let memo = self.1.try_borrow().ok()?;
        memo.iter()
            .find(|(k, _)| k == key)
            .map(|(_, verdict)| verdict.clone())
    }

    /// Remembers `verdict` for `key` on this ring's node list: only for verdicts that follow
    /// from the node list and `key` alone.
    pub fn keep(&self, key: MemoKey, verdict: &Result<(), SimError>) {
        if let Ok(mut memo) = self.1.try_borrow_mut() {
            if memo.len() >= MEMO_ENTRIES {
                memo.clear();
            }
            memo.push((key, verdict.clone()));
        }
    }

    /// Calls `f` with the ring of a node list snapshot, sorted once per snapshot and thread
    /// instead of on every request (with 256 tokens a node, sorting was about a third of the
    /// server's CPU time per request). A snapshot never changes (a new node list is a new
    /// `Arc`), and the cache keeps the `Arc` it sorted, so that its address cannot be reused
    /// by another list while cached: a pointer match is the same list. The ring is lent, not
    /// shared through a reference count, so that threads serving requests write nothing in
    /// common to find it.
    pub fn with<R>(nodes: &Arc<Vec<NodeInfo>>, f: impl FnOnce(&Ring) -> R) -> R {
        thread_local! {
            static LAST: RefCell<Option<Sorted>> = const { RefCell::new(None) };
        }
        LAST.with(|last| {
            // Never a panic, whatever `f` calls: a nested call on a hit shares this borrow,
            // and none is held while `f` runs after a miss (`try_` for good measure).
            if let Ok(cached) = last.try_borrow()
                && let Some((list, ring)) = cached.as_ref()
                && Arc::ptr_eq(list, nodes)
            {
                return f(ring);
            }
            let ring = Ring::new(nodes);
            let out = f(&ring);
            if let Ok(mut cached) = last.try_borrow_mut() {
                *cached = Some((nodes.clone(), ring));
            }
            out
        })
    }
}

/// Whether the node at position `pos` of `nodes` is a replica of `token`: the answer of
/// [`replicas_in`] without building its list for LocalStrategy and SimpleStrategy up to
/// [`SMALL_RF`] (every request's statistics ask this).
pub fn is_replica_in(
    replication: &Replication,
    token: i64,
    nodes: &[NodeInfo],
    ring: &Ring,
    pos: usize,
) -> bool {
    let entries = &ring.0;
    if entries.is_empty() {
        return false;
    }
    let start = ring.start(token) % entries.len();
    let walk = || (0..entries.len()).map(|i| entries[(start + i) % entries.len()].1);
    match replication {
        Replication::Local => walk().next() == Some(pos),
        Replication::Simple(rf) if *rf <= SMALL_RF => {
            // The first `rf` distinct nodes of the walk, as `replicas_in` collects them.
            let mut seen = [0usize; SMALL_RF];
            let mut n = 0;
            for p in walk() {
                if n >= *rf {
                    break;
                }
                if !seen[..n].contains(&p) {
                    if p == pos {
                        return true;
                    }
                    seen[n] = p;
                    n += 1;
                }
            }
            false
        }
        _ => replicas_in(replication, token, nodes, ring).contains(&pos),
    }
}

/// Whether the node with index `node` is among the replicas of `token` (as [`replicas`]
/// places them) in a node list snapshot: [`is_replica_in`] with the snapshot's ring sorted
/// once ([`Ring::with`]).
pub fn is_replica(
    replication: &Replication,
    token: i64,
    nodes: &Arc<Vec<NodeInfo>>,
    node: usize,
) -> bool {
    let Some(pos) = nodes.iter().position(|n| n.index == node) else {
        return false;
    };
    Ring::with(nodes, |r| is_replica_in(replication, token, nodes, r, pos))
}

/// The largest SimpleStrategy factor [`is_replica_in`] answers without a list.
pub const SMALL_RF: usize = 16;

/// Replica positions (indexes into `nodes`, reported as each node's `index`) owning `token`.
pub fn replicas(replication: &Replication, token: i64, nodes: &[NodeInfo]) -> Vec<usize> {
    replicas_in(replication, token, nodes, &Ring::new(nodes))
}

/// [`replicas`] with the ring of `nodes` at hand ([`Ring::with`]).
pub fn replicas_in(
    replication: &Replication,
    token: i64,
    nodes: &[NodeInfo],
    ring: &Ring,
) -> Vec<usize> {
    let start = ring.start(token);
    let ring = &ring.0;
    if ring.is_empty() {
        return Vec::new();
    }
    // First vnode whose token is >= the key's token owns it (wrapping around).
    let start = start % ring.len();
    let walk = || (0..ring.len()).map(|i| ring[(start + i) % ring.len()].1);
    let mut out: Vec<usize> = Vec::new();
    match replication {
        Replication::Local => {
            out.push(walk().next().unwrap_or(0));
        }
        Replication::Simple(rf) => {
            for pos in walk() {
                if out.len() >= *rf {
                    break;
                }
                if !out.contains(&pos) {
                    out.push(pos);
                }
            }
        }
        Replication::NetworkTopology(dcs) => {
            // A bare replication_factor ("*") applies to every DC not listed explicitly.
            let mut expanded: Vec<(String, usize)> =
                dcs.iter().filter(|(d, _)| d != "*").cloned().collect();
            if let Some((_, rf)) = dcs.iter().find(|(d, _)| d == "*") {
                for n in nodes {
                    if !expanded.iter().any(|(d, _)| *d == n.datacenter) {
                        expanded.push((n.datacenter.clone(), *rf));
                    }
                }
            }
            for (dc, rf) in &expanded {
                let dc_nodes: Vec<usize> = walk().filter(|p| nodes[*p].datacenter == *dc).fold(
                    Vec::new(),
                    |mut acc, p| {
                        if !acc.contains(&p) {
                            acc.push(p);
                        }
                        acc
                    },
                );
                let racks = {
                    let mut r: Vec<&str> =
                        dc_nodes.iter().map(|p| nodes[*p].rack.as_str()).collect();
                    r.sort_unstable();
                    r.dedup();
                    r.len()
                };
                let rf = (*rf).min(dc_nodes.len());
                let mut chosen: Vec<usize> = Vec::new();
                let mut seen_racks: Vec<&str> = Vec::new();
                let mut skipped: Vec<usize> = Vec::new();
                for p in dc_nodes {
                    if chosen.len() >= rf {
                        break;
                    }
                    let rack = nodes[p].rack.as_str();
                    if seen_racks.len() < racks && seen_racks.contains(&rack) {
                        skipped.push(p);
                        continue;
                    }
                    if !seen_racks.contains(&rack) {
                        seen_racks.push(rack);
                    }
                    chosen.push(p);
                    if seen_racks.len() == racks {
                        // Every rack has a replica: fill from the skipped ones, in ring order.
                        while chosen.len() < rf && !skipped.is_empty() {
                            chosen.push(skipped.remove(0));
                        }
                    }
                }
                out.extend(chosen);
            }
        }
    }
    out.into_iter().map(|p| nodes[p].index).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};
    use uuid::Uuid;

    fn node(index: usize, dc: &str, rack: &str, tokens: Vec<i64>) -> NodeInfo {
        NodeInfo {
            index,
            address: IpAddr::V4(Ipv4Addr::new(127, 0, 0, index as u8 + 1)),
            port: 9042,
            datacenter: dc.into(),
            rack: rack.into(),
            tokens,
            host_id: Uuid::nil(),
            release_version: "3.0.8".into(),
            schema_version: Uuid::nil(),
            up: true,
            shards: 0,
        }
    }

    /// The indexed start of a token's walk is the binary search over the whole ring: rings
    /// of 0-1 000 random tokens, rings packed into one index range or spread to both ends,
    /// tokens on, beside and between the ring's and at both extremes.
    #[test]
    fn the_indexed_start_is_the_whole_ring_search() {
        let mut g = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            g ^= g >> 12;
            g ^= g << 25;
            g ^= g >> 27;
            g.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        for round in 0..300 {
            let n = (next() % 1_001) as usize;
            let tokens: Vec<i64> = (0..n)
                .map(|_| match round % 3 {
                    // Anywhere.
                    0 => next() as i64,
                    // All in one index range (the same top bits).
                    1 => 0x0123_0000_0000_0000 + (next() % 1_000) as i64,
                    // Near the extremes.
                    _ if next() % 2 == 0 => i64::MIN + (next() % 1_000) as i64,
                    _ => i64::MAX - (next() % 1_000) as i64,
                })
                .collect();
            let ring = Ring::new(&[node(0, "dc1", "r1", tokens.clone())]);
            let mut probes = vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
            for t in tokens.iter().take(200) {
                probes.extend([t.saturating_sub(1), *t, t.saturating_add(1)]);
            }
            probes.extend((0..200).map(|_| next() as i64));
            for token in probes {
                assert_eq!(
                    ring.start(token),
                    ring.0.partition_point(|(t, _)| *t < token),
                    "round {round}, token {token}"
                );
            }
        }
    }

    #[test]
    fn is_replica_answers_as_the_replica_list() {
        // A small generator (xorshift64*): clusters of 1-6 nodes in 1-2 DCs with 0-3 tokens
        // each, every strategy, tokens around and on the ring's.
        let mut g = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            g ^= g >> 12;
            g ^= g << 25;
            g ^= g >> 27;
            g.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
        };
        let mut checked = 0;
        for _ in 0..2_000 {
            let count = 1 + next(6) as usize;
            let nodes: Vec<NodeInfo> = (0..count)
                .map(|i| {
                    let dc = if next(2) == 0 { "dc1" } else { "dc2" };
                    let tokens = (0..next(4)).map(|_| next(21) as i64 * 10 - 100).collect();
                    node(i, dc, "r1", tokens)
                })
                .collect();
            let ring = Ring::new(&nodes);
            let replication = match next(4) {
                0 => Replication::Local,
                1 => Replication::NetworkTopology(vec![("dc1".into(), next(3) as usize)]),
                2 => Replication::Simple(SMALL_RF + 1),
                _ => Replication::Simple(next(6) as usize),
            };
            for token in (-110..=110).step_by(5) {
                let list = replicas_in(&replication, token, &nodes, &ring);
                for pos in 0..count + 1 {
                    assert_eq!(
                        is_replica_in(&replication, token, &nodes, &ring, pos),
                        list.contains(&pos),
                        "{replication:?} token {token} pos {pos} nodes {:?}",
                        nodes.iter().map(|n| &n.tokens).collect::<Vec<_>>()
                    );
                    checked += usize::from(list.contains(&pos));
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn simple_strategy_walks_the_ring() {
        let nodes = vec![
            node(0, "dc1", "r1", vec![-100, 200]),
            node(1, "dc1", "r1", vec![0]),
            node(2, "dc1", "r1", vec![100]),
        ];
        assert_eq!(replicas(&Replication::Simple(1), -150, &nodes), vec![0]);
        assert_eq!(replicas(&Replication::Simple(2), -100, &nodes), vec![0, 1]);
        assert_eq!(replicas(&Replication::Simple(2), 50, &nodes), vec![2, 0]);
        assert_eq!(
            replicas(&Replication::Simple(3), 150, &nodes),
            vec![0, 1, 2]
        );
        // Wraps around past the last token.
        assert_eq!(replicas(&Replication::Simple(2), 300, &nodes), vec![0, 1]);
        // RF larger than the cluster: every node once.
        assert_eq!(replicas(&Replication::Simple(5), 0, &nodes), vec![1, 2, 0]);
    }

    #[test]
    fn nts_prefers_distinct_racks_per_dc() {
        let nodes = vec![
            node(0, "dc1", "r1", vec![0]),
            node(1, "dc1", "r1", vec![10]),
            node(2, "dc1", "r2", vec![20]),
            node(3, "dc2", "r1", vec![30]),
            node(4, "dc2", "r1", vec![40]),
        ];
        let nts = Replication::NetworkTopology(vec![("dc1".into(), 2), ("dc2".into(), 1)]);
        // From token 0: node0 (r1), node1 skipped (r1 already), node2 (r2).
        assert_eq!(replicas(&nts, 0, &nodes), vec![0, 2, 3]);
        // From token 15: node2 (r2), node0 (r1); dc2: node3 is next after 15.
        assert_eq!(replicas(&nts, 15, &nodes), vec![2, 0, 3]);
        let nts3 = Replication::NetworkTopology(vec![("dc1".into(), 3)]);
        // Racks exhausted after node0+node2: skipped node1 fills the third slot.
        assert_eq!(replicas(&nts3, 0, &nodes), vec![0, 2, 1]);
        let unknown = Replication::NetworkTopology(vec![("nope".into(), 3)]);
        assert!(replicas(&unknown, 0, &nodes).is_empty());
    }

    #[test]
    fn a_cached_ring_follows_each_node_list_snapshot() {
        let address = |ring: &Ring| ring.0.as_ptr() as usize;
        let first = Arc::new(vec![
            node(0, "dc1", "r1", vec![-100, 200]),
            node(1, "dc1", "r1", vec![0]),
        ]);
        let cached = Ring::with(&first, address);
        assert_eq!(
            Ring::with(&first, address),
            cached,
            "sorted once per snapshot"
        );
        assert_eq!(
            Ring::with(&first, |r| replicas_in(
                &Replication::Simple(1),
                100,
                &first,
                r
            )),
            vec![0]
        );
        // A call from inside another (no panic over the cache's borrow) lends the same ring.
        let nested = Ring::with(&first, |_| Ring::with(&first, address));
        assert_eq!(nested, cached);
        // A new snapshot (node 1 moved to token 150): a new ring, never the cached one,
        // even when the old list is gone and its address could be reused.
        drop(first);
        let second = Arc::new(vec![
            node(0, "dc1", "r1", vec![-100, 200]),
            node(1, "dc1", "r1", vec![150]),
        ]);
        assert_eq!(
            Ring::with(&second, |r| replicas_in(
                &Replication::Simple(1),
                100,
                &second,
                r
            )),
            vec![1]
        );
        // Every strategy answers alike with the cached ring and a freshly sorted one.
        let nts = Replication::NetworkTopology(vec![("dc1".into(), 2)]);
        for token in [-200, -100, 0, 100, 150, 199, 200, 300] {
            for repl in [Replication::Simple(1), Replication::Simple(2), nts.clone()] {
                assert_eq!(
                    Ring::with(&second, |r| replicas_in(&repl, token, &second, r)),
                    replicas(&repl, token, &second)
                );
            }
        }
    }
}
