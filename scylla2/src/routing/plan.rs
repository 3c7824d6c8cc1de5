//! Query plans: the nodes (and shards) to try for one request, in order.
//!
//! With a token: the replicas from the snapshot's precomputed table (or the table's tablet),
//! class by class (preferred-rack local, local, remote), rotated within each class by a
//! shared atomic counter — or in placement order for LWT statements — then every other
//! non-ignored node as fallback, class by class. Without a token: non-ignored nodes, local
//! ones first, rotated. Building and iterating a plan allocates nothing and takes no lock.

use super::Token;
use super::distance::PLAN_CLASSES;
use super::sharding::Shard;
use super::snapshot::TopologySnapshot;
use super::tablets::{TableTablets, TabletReplica};

/// What a request tells routing about itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoutingInfo<'a> {
    /// Token of the partition key, when known.
    pub token: Option<Token>,
    /// Keyspace of the statement, when known.
    pub keyspace: Option<&'a str>,
    /// Table of the statement, when known (tablets are kept per table).
    pub table: Option<&'a str>,
    /// Whether the statement is a conditional (LWT) one: replicas in placement order.
    pub is_lwt: bool,
}

/// One step of a plan: a node (index into [`TopologySnapshot::nodes`]) and, when known, the
/// shard the request should go to on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Node index in the snapshot.
    pub node: u32,
    /// Shard owning the token on that node (Scylla nodes with a token only).
    pub shard: Option<Shard>,
}

#[derive(Debug, Clone, Copy)]
enum Replicas<'a> {
    Ring([&'a [u32]; PLAN_CLASSES]),
    Tablet(&'a [TabletReplica]),
}

/// A query plan, see the module documentation.
#[derive(Debug, Clone)]
pub struct QueryPlan<'a> {
    snap: &'a TopologySnapshot,
    replicas: Replicas<'a>,
    token: Option<Token>,
    rotation: usize,
    lwt: bool,
    /// 0..3: replica classes; 3..6: fallback classes; 6: done.
    stage: usize,
    index: usize,
    len: Option<usize>,
}

const STAGES: usize = 2 * PLAN_CLASSES;

impl<'a> QueryPlan<'a> {
    /// A plan over `snap` for a request; `tablets` are the learned tablets of the request's
    /// table, if any (used when one holds the token).
    pub fn new(
        snap: &'a TopologySnapshot,
        info: &RoutingInfo<'_>,
        tablets: Option<&'a TableTablets>,
    ) -> Self {
        let tablet = info
            .token
            .and_then(|t| tablets.and_then(|tabs| tabs.find(t)));
        let replicas = match (tablet, info.token, info.keyspace) {
            (Some(tablet), _, _) => Replicas::Tablet(&tablet.replicas),
            (None, Some(token), Some(ks)) => Replicas::Ring(snap.replicas(ks, token)),
            _ => Replicas::Ring([&[], &[], &[]]),
        };
        Self {
            snap,
            replicas,
            token: info.token,
            rotation: snap.next_rotation(),
            lwt: info.is_lwt,
            stage: 0,
            index: 0,
            len: None,
        }
    }

    fn stage_len(&self) -> usize {
        if self.stage < PLAN_CLASSES {
            match self.replicas {
                Replicas::Ring(r) => r[self.stage].len(),
                Replicas::Tablet(t) => t
                    .iter()
                    .filter(|r| self.tablet_class(r) == Some(self.stage))
                    .count(),
            }
        } else {
            self.snap.class_nodes(self.stage - PLAN_CLASSES).len()
        }
    }

    fn tablet_class(&self, r: &TabletReplica) -> Option<usize> {
        let node = self.snap.node_by_host_id(&r.host_id)?;
        Some(usize::from(self.snap.class_of(node)))
    }

    fn is_replica(&self, node: u32) -> bool {
        match self.replicas {
            Replicas::Ring(r) => r.iter().any(|class| class.contains(&node)),
            Replicas::Tablet(t) => t
                .iter()
                .any(|r| self.snap.node_by_host_id(&r.host_id) == Some(node)),
        }
    }

    fn token_shard(&self, node: u32) -> Option<Shard> {
        let token = self.token?;
        let sharder = self.snap.node(node)?.sharder?;
        Some(sharder.shard_of(token))
    }

    /// The `k`-th replica of class `self.stage`.
    fn replica(&self, k: usize) -> Option<Target> {
        match self.replicas {
            Replicas::Ring(r) => {
                let node = *r[self.stage].get(k)?;
                Some(Target {
                    node,
                    shard: self.token_shard(node),
                })
            }
            Replicas::Tablet(t) => {
                let r = t
                    .iter()
                    .filter(|r| self.tablet_class(r) == Some(self.stage))
                    .nth(k)?;
                let node = self.snap.node_by_host_id(&r.host_id)?;
                Some(Target {
                    node,
                    shard: Some(r.shard),
                })
            }
        }
    }
}

impl Iterator for QueryPlan<'_> {
    type Item = Target;

    fn next(&mut self) -> Option<Target> {
        while self.stage < STAGES {
            let len = match self.len {
                Some(len) => len,
                None => {
                    let len = self.stage_len();
                    self.len = Some(len);
                    len
                }
            };
            if self.index >= len {
                self.stage += 1;
                self.index = 0;
                self.len = None;
                continue;
            }
            let replica_stage = self.stage < PLAN_CLASSES;
            let k = if replica_stage && self.lwt {
                self.index
            } else {
                (self.rotation.wrapping_add(self.index)) % len
            };
            self.index += 1;
            if replica_stage {
                if let Some(target) = self.replica(k) {
                    return Some(target);
                }
            } else {
                let class = self.snap.class_nodes(self.stage - PLAN_CLASSES);
                let Some(&node) = class.get(k) else {
                    continue;
                };
                if !self.is_replica(node) {
                    return Some(Target {
                        node,
                        shard: self.token_shard(node),
                    });
                }
            }
        }
        None
    }
}
