//! The token ring of a topology: every `(token, node)` pair sorted by token, with each
//! node's data center and rack interned as small integers for replica placement.

use std::net::SocketAddr;

use uuid::Uuid;

use super::Token;
use super::sharding::Sharder;

/// What routing knows about a node (from `system.local` / `system.peers` and the node's
/// SUPPORTED options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Host id.
    pub host_id: Uuid,
    /// Address the driver connects to (after translation).
    pub address: SocketAddr,
    /// Data center.
    pub datacenter: Option<String>,
    /// Rack.
    pub rack: Option<String>,
    /// Tokens the node owns (the ends of its ranges).
    pub tokens: Vec<Token>,
    /// Scylla sharding, when the node is a Scylla node.
    pub sharder: Option<Sharder>,
}

impl NodeInfo {
    /// A node without tokens, data center, rack or sharding.
    pub fn new(host_id: Uuid, address: SocketAddr) -> Self {
        Self {
            host_id,
            address,
            datacenter: None,
            rack: None,
            tokens: Vec::new(),
            sharder: None,
        }
    }
}

/// The token ring: `(token, node index)` sorted by token, plus interned locations.
#[derive(Debug, Clone, Default)]
pub struct Ring {
    entries: Vec<(Token, u32)>,
    node_dc: Vec<u32>,
    node_rack: Vec<u32>,
    dcs: Vec<String>,
    dc_nodes: Vec<usize>,
    dc_racks: Vec<usize>,
}

impl Ring {
    /// Builds the ring of `nodes` (indexes into the slice). When two nodes claim the same
    /// token the first one keeps it.
    pub fn new(nodes: &[NodeInfo]) -> Self {
        let mut dcs: Vec<String> = Vec::new();
        let mut racks: Vec<(u32, String)> = Vec::new();
        let mut node_dc = Vec::with_capacity(nodes.len());
        let mut node_rack = Vec::with_capacity(nodes.len());
        for node in nodes {
            let dc_name = node.datacenter.as_deref().unwrap_or("");
            let dc = match dcs.iter().position(|d| d == dc_name) {
                Some(i) => i as u32,
                None => {
                    dcs.push(dc_name.to_owned());
                    (dcs.len() - 1) as u32
                }
            };
            let rack_name = node.rack.as_deref().unwrap_or("");
            let rack = match racks.iter().position(|(d, r)| *d == dc && r == rack_name) {
                Some(i) => i as u32,
                None => {
                    racks.push((dc, rack_name.to_owned()));
                    (racks.len() - 1) as u32
                }
            };
            node_dc.push(dc);
            node_rack.push(rack);
        }
        let mut dc_nodes = vec![0usize; dcs.len()];
        let mut dc_racks = vec![0usize; dcs.len()];
        for (i, node) in nodes.iter().enumerate() {
            // A node owning no token holds no data: it does not count towards a DC's size.
            if !node.tokens.is_empty() {
                dc_nodes[node_dc[i] as usize] += 1;
            }
        }
        for (rack_index, (dc, _)) in racks.iter().enumerate() {
            let owns = nodes
                .iter()
                .enumerate()
                .any(|(i, n)| node_rack[i] as usize == rack_index && !n.tokens.is_empty());
            if owns {
                dc_racks[*dc as usize] += 1;
            }
        }
        let mut entries: Vec<(Token, u32)> = nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| n.tokens.iter().map(move |t| (*t, i as u32)))
            .collect();
        entries.sort_by_key(|&(t, i)| (t, i));
        entries.dedup_by_key(|e| e.0);
        Self {
            entries,
            node_dc,
            node_rack,
            dcs,
            dc_nodes,
            dc_racks,
        }
    }

    /// `(token, node index)` sorted by token.
    pub fn entries(&self) -> &[(Token, u32)] {
        &self.entries
    }

    /// Number of nodes owning at least one token.
    pub fn node_count(&self) -> usize {
        self.dc_nodes.iter().sum()
    }

    /// Index of the ring entry whose range holds `token`: the first entry with a token
    /// `>= token`, wrapping to 0. `None` on an empty ring. (The snapshot's index answers
    /// the same per request; this is the reference its tests and the benches compare with.)
    #[cfg_attr(not(feature = "unstable"), allow(dead_code))]
    #[inline]
    pub fn range_of(&self, token: Token) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        let i = self.entries.partition_point(|&(t, _)| t < token);
        Some(if i == self.entries.len() { 0 } else { i })
    }

    /// Interned id of data center `name`.
    pub fn dc_id(&self, name: &str) -> Option<u32> {
        self.dcs.iter().position(|d| d == name).map(|i| i as u32)
    }

    /// Data center id of node `node`.
    pub fn node_dc(&self, node: u32) -> u32 {
        self.node_dc.get(node as usize).copied().unwrap_or(u32::MAX)
    }

    /// Rack id (unique across data centers) of node `node`.
    pub fn node_rack(&self, node: u32) -> u32 {
        self.node_rack
            .get(node as usize)
            .copied()
            .unwrap_or(u32::MAX)
    }

    /// Number of token-owning nodes in data center `dc`.
    pub fn dc_node_count(&self, dc: u32) -> usize {
        self.dc_nodes.get(dc as usize).copied().unwrap_or(0)
    }

    /// Number of racks with token-owning nodes in data center `dc`.
    pub fn dc_rack_count(&self, dc: u32) -> usize {
        self.dc_racks.get(dc as usize).copied().unwrap_or(0)
    }
}
