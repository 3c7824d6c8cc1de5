//! Replication strategies as read from `system_schema.keyspaces.replication`, and replica
//! placement on a token ring: SimpleStrategy, NetworkTopologyStrategy (per-DC factors,
//! rack-aware as Cassandra places them), LocalStrategy and EverywhereStrategy.

use super::ring::Ring;

/// A keyspace's replication strategy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplicationStrategy {
    /// `SimpleStrategy`: the next `replication_factor` distinct nodes of the ring.
    Simple {
        /// Replication factor.
        replication_factor: usize,
    },
    /// `NetworkTopologyStrategy`: per data center factors, rack-aware.
    NetworkTopology {
        /// `(data center, replication factor)`, sorted by data center name.
        datacenters: Vec<(String, usize)>,
    },
    /// `LocalStrategy`: every node keeps its own copy (system keyspaces); no token routing.
    Local,
    /// `EverywhereStrategy` (Scylla): every node is a replica.
    Everywhere,
    /// A strategy this driver does not know: no token routing.
    Other {
        /// The class name as read.
        class: String,
    },
}

/// Parses a replication factor (`"3"`, or `"3/1"` with transient replicas: the full count).
fn parse_factor(v: &str) -> Option<usize> {
    let full = v.split('/').next()?.trim();
    full.parse().ok()
}

impl ReplicationStrategy {
    /// Parses a `replication` map (`class` plus options) from `system_schema.keyspaces`.
    /// Unknown classes become [`ReplicationStrategy::Other`]; unparsable factors count as 0.
    pub fn from_map<'a, I>(entries: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let entries: Vec<(&str, &str)> = entries.into_iter().collect();
        let class = entries
            .iter()
            .find(|(k, _)| *k == "class")
            .map(|(_, v)| *v)
            .unwrap_or_default();
        let short = class.rsplit('.').next().unwrap_or(class);
        match short {
            "SimpleStrategy" => Self::Simple {
                replication_factor: entries
                    .iter()
                    .find(|(k, _)| *k == "replication_factor")
                    .and_then(|(_, v)| parse_factor(v))
                    .unwrap_or(0),
            },
            "NetworkTopologyStrategy" => {
                let mut datacenters: Vec<(String, usize)> = entries
                    .iter()
                    .filter(|(k, _)| *k != "class" && *k != "replication_factor")
                    .map(|(k, v)| ((*k).to_owned(), parse_factor(v).unwrap_or(0)))
                    .collect();
                datacenters.sort();
                Self::NetworkTopology { datacenters }
            }
            "LocalStrategy" => Self::Local,
            "EverywhereStrategy" => Self::Everywhere,
            other => Self::Other {
                class: other.to_owned(),
            },
        }
    }

    unstable_pub_fn! {
    /// Appends to `out` the replicas (node indexes of `ring`) of the token range ending at
    /// ring entry `start`, in placement order (primary first). Used when a topology snapshot
    /// is built, never per request.
    fn place(&self, ring: &Ring, start: usize, out: &mut Vec<u32>) {
        out.clear();
        let entries = ring.entries();
        if entries.is_empty() {
            return;
        }
        let n = entries.len();
        let walk = (0..n).map(|k| entries[(start + k) % n].1);
        match self {
            Self::Simple { replication_factor } => {
                let want = (*replication_factor).min(ring.node_count());
                for node in walk {
                    if out.len() >= want {
                        break;
                    }
                    if !out.contains(&node) {
                        out.push(node);
                    }
                }
            }
            Self::Everywhere => {
                for node in walk {
                    if !out.contains(&node) {
                        out.push(node);
                    }
                }
            }
            Self::NetworkTopology { datacenters } => {
                for (dc, rf) in datacenters {
                    if let Some(dc) = ring.dc_id(dc) {
                        place_in_dc(ring, start, dc, *rf, out);
                    }
                }
            }
            Self::Local | Self::Other { .. } => {}
        }
    }
    }
}

/// NetworkTopologyStrategy in one data center: walking the ring from `start`, take nodes on
/// racks not seen yet; nodes on an already seen rack are skipped (remembered in order) until
/// every rack of the DC has a replica, then the skipped ones fill the remaining slots in
/// order, and later nodes are taken as they come.
fn place_in_dc(ring: &Ring, start: usize, dc: u32, rf: usize, out: &mut Vec<u32>) {
    let want = rf.min(ring.dc_node_count(dc));
    let racks_in_dc = ring.dc_rack_count(dc);
    let entries = ring.entries();
    let n = entries.len();
    let mut placed = 0usize;
    let mut seen_racks: Vec<u32> = Vec::new();
    let mut skipped: Vec<u32> = Vec::new();
    for k in 0..n {
        if placed >= want {
            break;
        }
        let node = entries[(start + k) % n].1;
        if ring.node_dc(node) != dc || out.contains(&node) || skipped.contains(&node) {
            continue;
        }
        let rack = ring.node_rack(node);
        let all_seen = seen_racks.len() >= racks_in_dc;
        if !all_seen && seen_racks.contains(&rack) {
            skipped.push(node);
            continue;
        }
        out.push(node);
        placed += 1;
        if !all_seen {
            seen_racks.push(rack);
            if seen_racks.len() >= racks_in_dc {
                for &s in &skipped {
                    if placed >= want {
                        break;
                    }
                    out.push(s);
                    placed += 1;
                }
                skipped.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_replication_maps() {
        let simple = ReplicationStrategy::from_map([
            ("class", "org.apache.cassandra.locator.SimpleStrategy"),
            ("replication_factor", "3"),
        ]);
        assert_eq!(
            simple,
            ReplicationStrategy::Simple {
                replication_factor: 3
            }
        );
        let nts = ReplicationStrategy::from_map([
            ("class", "NetworkTopologyStrategy"),
            ("dc2", "2/1"),
            ("dc1", "3"),
        ]);
        assert_eq!(
            nts,
            ReplicationStrategy::NetworkTopology {
                datacenters: vec![("dc1".into(), 3), ("dc2".into(), 2)]
            }
        );
        assert_eq!(
            ReplicationStrategy::from_map([(
                "class",
                "org.apache.cassandra.locator.LocalStrategy"
            )]),
            ReplicationStrategy::Local
        );
        assert_eq!(
            ReplicationStrategy::from_map([(
                "class",
                "org.apache.cassandra.locator.EverywhereStrategy"
            )]),
            ReplicationStrategy::Everywhere
        );
        assert!(matches!(
            ReplicationStrategy::from_map([("class", "Weird")]),
            ReplicationStrategy::Other { .. }
        ));
    }
}
