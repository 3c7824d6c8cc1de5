//! The token ring: replica placement for SimpleStrategy and NetworkTopologyStrategy (per-DC
//! factors, distinct racks first, like Cassandra's `NetworkTopologyStrategy`).

use crate::model::NodeInfo;

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

/// The ring: every (token, node index) pair sorted by token.
fn ring(nodes: &[NodeInfo]) -> Vec<(i64, usize)> {
    let mut ring: Vec<(i64, usize)> = nodes
        .iter()
        .enumerate()
        .flat_map(|(pos, n)| n.tokens.iter().map(move |t| (*t, pos)))
        .collect();
    ring.sort_unstable();
    ring
}

/// Replica positions (indexes into `nodes`, reported as each node's `index`) owning `token`.
pub fn replicas(replication: &Replication, token: i64, nodes: &[NodeInfo]) -> Vec<usize> {
    let ring = ring(nodes);
    if ring.is_empty() {
        return Vec::new();
    }
    // First vnode whose token is >= the key's token owns it (wrapping around).
    let start = ring.partition_point(|(t, _)| *t < token) % ring.len();
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
}
