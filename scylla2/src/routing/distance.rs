//! Node distance: a policy classifies every node as [`NodeDistance::Local`],
//! [`NodeDistance::Remote`] or [`NodeDistance::Ignored`] (local data center, optional rack
//! preference, allow / deny lists). Ignored nodes get no connections and appear in no plan.

use std::net::IpAddr;

use super::ring::NodeInfo;

/// How far a node is from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeDistance {
    /// In the local data center (or every node when no local data center is set).
    Local,
    /// In another data center: used after local nodes.
    Remote,
    /// Never used: no connections, never in a plan.
    Ignored,
}

/// Plan classes, in the order plans use them.
pub(crate) const CLASS_PREFERRED: u8 = 0;
pub(crate) const CLASS_LOCAL: u8 = 1;
pub(crate) const CLASS_REMOTE: u8 = 2;
pub(crate) const CLASS_IGNORED: u8 = 3;
/// Number of classes used in plans (ignored nodes excluded).
pub(crate) const PLAN_CLASSES: usize = 3;

/// The distance policy.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DistancePolicy {
    /// The local data center; `None` makes every node local.
    pub local_datacenter: Option<String>,
    /// A rack of the local data center whose nodes are tried before other local nodes.
    pub preferred_rack: Option<String>,
    /// When set, only nodes with these addresses are used.
    pub allowed: Option<Vec<IpAddr>>,
    /// Nodes with these addresses are never used.
    pub denied: Vec<IpAddr>,
    /// Whether nodes of other data centers are used at all (after local ones).
    pub use_remote_nodes: bool,
}

impl Default for DistancePolicy {
    fn default() -> Self {
        Self {
            local_datacenter: None,
            preferred_rack: None,
            allowed: None,
            denied: Vec::new(),
            use_remote_nodes: true,
        }
    }
}

impl DistancePolicy {
    /// A policy preferring `dc`.
    pub fn local_dc(dc: impl Into<String>) -> Self {
        Self {
            local_datacenter: Some(dc.into()),
            ..Self::default()
        }
    }

    /// With a preferred rack in the local data center.
    pub fn with_preferred_rack(mut self, rack: impl Into<String>) -> Self {
        self.preferred_rack = Some(rack.into());
        self
    }

    /// Only use nodes with these addresses.
    pub fn with_allowed(mut self, allowed: Vec<IpAddr>) -> Self {
        self.allowed = Some(allowed);
        self
    }

    /// Never use nodes with these addresses.
    pub fn with_denied(mut self, denied: Vec<IpAddr>) -> Self {
        self.denied = denied;
        self
    }

    /// Whether remote data centers are used.
    pub fn with_remote_nodes(mut self, use_them: bool) -> Self {
        self.use_remote_nodes = use_them;
        self
    }

    /// The distance of `node`.
    pub fn distance(&self, node: &NodeInfo) -> NodeDistance {
        match self.class(node) {
            CLASS_PREFERRED | CLASS_LOCAL => NodeDistance::Local,
            CLASS_REMOTE => NodeDistance::Remote,
            _ => NodeDistance::Ignored,
        }
    }

    /// The plan class of `node`.
    pub(crate) fn class(&self, node: &NodeInfo) -> u8 {
        let ip = node.address.ip();
        if self.denied.contains(&ip) {
            return CLASS_IGNORED;
        }
        if let Some(allowed) = &self.allowed
            && !allowed.contains(&ip)
        {
            return CLASS_IGNORED;
        }
        let local = match &self.local_datacenter {
            None => true,
            Some(dc) => node.datacenter.as_deref() == Some(dc.as_str()),
        };
        if !local {
            return if self.use_remote_nodes {
                CLASS_REMOTE
            } else {
                CLASS_IGNORED
            };
        }
        match &self.preferred_rack {
            Some(rack) if node.rack.as_deref() == Some(rack.as_str()) => CLASS_PREFERRED,
            _ => CLASS_LOCAL,
        }
    }
}
